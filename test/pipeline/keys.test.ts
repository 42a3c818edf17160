import { describe, expect, it } from 'vitest';
import { jobIdFor, jobKeys, outputKeys, outputName } from '../../lib/pipeline/keys.ts';
import { decodeEventKey, encodeEventKey, s3PutEvent, uploadsOf } from '../../lib/aws/s3-event.ts';
import { PipelineError } from '../../lib/errors.ts';
import { ConfigError, readConfig, readPrefixes } from '../../lib/aws/config.ts';

describe('S3 event keys and the job layout', () => {
  it.each([
    ['incoming/My+Song+%2B+Mix.parquet', 'incoming/My Song + Mix.parquet'],
    ['incoming/caf%C3%A9/%E4%B8%AD%E6%96%87+%F0%9F%8E%B5.parquet', 'incoming/café/中文 🎵.parquet'],
    ['incoming/a%25b.parquet', 'incoming/a%b.parquet'],
  ])('decodes %s as S3 encodes it: + is a space, then percent-decoding', (raw, key) => {
    expect(decodeEventKey(raw)).toBe(key);
  });

  it('names outputs after the key below the input prefix, nested folders kept', () => {
    expect(outputName('incoming/nested/dir/My Song.parquet')).toBe('nested/dir/My Song');
    expect(outputKeys('nested/dir/My Song').manifest).toBe('embeddings/nested/dir/My Song/manifest.json');
  });

  it('gives one job per version of an object', () => {
    const a = jobIdFor('b', 'incoming/x.parquet', '"e1"');
    expect(jobIdFor('b', 'incoming/x.parquet', '"e1"')).toBe(a);
    expect(jobIdFor('b', 'incoming/x.parquet', '"e2"')).not.toBe(a);
    expect(jobIdFor('c', 'incoming/x.parquet', '"e1"')).not.toBe(a);
    expect(jobKeys(a).vectors(3)).toBe(`jobs/${a}/shards/3.f32`);
  });
});

describe('configuration', () => {
  it('names every missing or malformed variable in one error', () => {
    expect(() => readConfig({ SHARD_ROWS: 'many', OUTPUT_PREFIX: 'out' })).toThrow(ConfigError);
    expect(() => readConfig({ SHARD_ROWS: 'many', OUTPUT_PREFIX: 'out' })).toThrow(
      "invalid configuration: STATS_FUNCTION_NAME is not set; EMBED_FUNCTION_NAME is not set; REDUCE_FUNCTION_NAME is not set; SHARD_ROWS must be a positive integer, got 'many'; OUTPUT_PREFIX must end with '/', got 'out'",
    );
  });

  it('reads the stats part size and refuses a bad one', () => {
    const names = { STATS_FUNCTION_NAME: 's', EMBED_FUNCTION_NAME: 'e', REDUCE_FUNCTION_NAME: 'r' };
    expect(readConfig({ ...names, STATS_PART_ROWS: '2000' }).statsPartRows).toBe(2000);
    expect(() => readConfig({ ...names, STATS_PART_ROWS: '0' })).toThrow("STATS_PART_ROWS must be a positive integer, got '0'");
  });

  it('reads the prefixes alone for tools that only read a job, with the same checks', () => {
    expect(readPrefixes({ OUTPUT_PREFIX: 'out/' })).toEqual({ input: 'incoming/', jobs: 'jobs/', output: 'out/' });
    expect(() => readPrefixes({ JOBS_PREFIX: 'j' })).toThrow("invalid configuration: JOBS_PREFIX must end with '/', got 'j'");
  });

  it('has defaults for everything but the function names', () => {
    expect(readConfig({ STATS_FUNCTION_NAME: 's', EMBED_FUNCTION_NAME: 'e', REDUCE_FUNCTION_NAME: 'r' })).toEqual({
      statsFunction: 's',
      embedFunction: 'e',
      reduceFunction: 'r',
      shardRows: 1 << 20,
      statsPartRows: 1 << 24,
      prefixes: { input: 'incoming/', jobs: 'jobs/', output: 'embeddings/' },
    });
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

  it.each([
    [{}, /not an S3 event: no Records array/],
    [{ Records: [{ s3: { bucket: { name: 'b' } } }] }, /record 0: missing s3\.bucket\.name or s3\.object\.key/],
  ])('refuses %j', (event, message) => {
    expect(() => uploadsOf(event)).toThrow(PipelineError);
    expect(() => uploadsOf(event)).toThrow(message);
  });
});
