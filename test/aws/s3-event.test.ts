import { describe, expect, it } from 'vitest';
import { decodeEventKey, encodeEventKey, eventBridgeObjectCreated, s3PutEvent, uploadsOf } from '../../lib/aws/s3-event.ts';
import { PipelineError } from '../../lib/errors.ts';

describe('S3 event keys, decoded', () => {
  it.each([
    ['incoming/My+Song+%2B+Mix.parquet', 'incoming/My Song + Mix.parquet'],
    ['incoming/caf%C3%A9/%E4%B8%AD%E6%96%87+%F0%9F%8E%B5.parquet', 'incoming/café/中文 🎵.parquet'],
    ['incoming/a%25b.parquet', 'incoming/a%b.parquet'],
  ])('decodes %s as S3 encodes it: + is a space, then percent-decoding', (raw, key) => {
    expect(decodeEventKey(raw)).toBe(key);
  });
});

describe('S3 event keys, encoded', () => {
  it.each(['incoming/My Song + Mix.parquet', 'incoming/nested/dir/café 中文 🎵.parquet', 'incoming/a%b.parquet'])(
    'round-trips %s as S3 writes it',
    (key) => {
      expect(decodeEventKey(encodeEventKey(key))).toBe(key);
      expect(encodeEventKey(key)).not.toContain(' ');
      expect(s3PutEvent('b', key, '"abc"').Records[0]!.s3.object).toEqual({ key: encodeEventKey(key), eTag: 'abc' });
    },
  );
});

describe('uploads of an S3 event', () => {
  it('decodes every record, quotes ETags and leaves a missing ETag null', () => {
    const event = {
      Records: [
        ...s3PutEvent('b', 'incoming/a b.parquet', '"e1"').Records,
        { s3: { bucket: { name: 'c' }, object: { key: 'incoming/x.parquet' } } },
      ],
    };
    expect(uploadsOf(event)).toEqual([
      { bucket: 'b', key: 'incoming/a b.parquet', etag: '"e1"' },
      { bucket: 'c', key: 'incoming/x.parquet', etag: null },
    ]);
  });

  it('reads an EventBridge "Object Created" event: the key as it is (not URL-encoded), the ETag quoted', () => {
    const event = eventBridgeObjectCreated('b', 'incoming/My Song + Mix %41 café.parquet', '"e1"');
    expect(uploadsOf(event)).toEqual([{ bucket: 'b', key: 'incoming/My Song + Mix %41 café.parquet', etag: '"e1"' }]);
    const { etag: _etag, ...noEtag } = event.detail.object;
    expect(uploadsOf({ ...event, detail: { ...event.detail, object: noEtag } })).toEqual([
      { bucket: 'b', key: 'incoming/My Song + Mix %41 café.parquet', etag: null },
    ]);
  });

  it.each([
    [{}, /^not an S3 event: neither a Records array nor an EventBridge event from aws\.s3$/],
    [{ source: 'aws.ec2', detail: {} }, /^not an S3 event/],
    [{ Records: [{ s3: { bucket: { name: 'b' } } }] }, /^record 0: missing s3\.bucket\.name or s3\.object\.key$/],
    [
      { source: 'aws.s3', detail: { bucket: { name: 'b' } } },
      /^EventBridge S3 event: missing detail\.bucket\.name or detail\.object\.key$/,
    ],
  ])('refuses %j', (event, message) => {
    expect(() => uploadsOf(event)).toThrow(PipelineError);
    expect(() => uploadsOf(event)).toThrow(message);
  });
});
