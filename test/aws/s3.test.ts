import { createHash } from 'node:crypto';
import {
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  PutObjectCommand,
  type S3Client,
  type ServiceInputTypes,
  type ServiceOutputTypes,
} from '@aws-sdk/client-s3';
import type { FinalizeRequestMiddleware } from '@smithy/types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { s3Endpoint } from '../helpers/s3.ts';
import { InvalidInputError, SourceError } from '../../lib/errors.ts';
import { exists, getBytes, listKeys, putIfAbsent } from '../../lib/aws/s3-objects.ts';
import { s3Store } from '../../lib/aws/s3-store.ts';
import { JobStore } from '../../lib/pipeline/job-store.ts';
import { DEFAULT_PREFIXES } from '../../lib/pipeline/keys.ts';
import type { JobPlan } from '../../lib/pipeline/records.ts';
import { openS3Source } from '../../lib/aws/s3-source.ts';
import { stitchObjects } from '../../lib/aws/s3-stitch.ts';
import { MIN_PART_SIZE } from '../../lib/aws/multipart-plan.ts';
import { s3ClientFor } from '../../lib/emulators/moto.ts';
import { measureMemory } from '../helpers/memory.ts';
import type { StitchSegment } from '../../lib/pipeline/object-store.ts';

const KiB = 1024;
const MiB = 1024 * KiB;

let client: S3Client;

beforeAll(() => {
  client = s3ClientFor(s3Endpoint());
});

afterAll(() => {
  client?.destroy();
});

let buckets = 0;
async function newBucket(): Promise<string> {
  const bucket = `s3-test-${process.pid}-${++buckets}`;
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  return bucket;
}

/** Deterministic bytes that differ per seed and per position, so a misplaced range shows. */
function pattern(seed: number, start: number, length: number): Uint8Array {
  const firstWord = Math.floor(start / 4);
  const words = new Uint32Array(Math.ceil((start + length) / 4) - firstWord + 1);
  for (let w = 0; w < words.length; w++) words[w] = Math.imul(firstWord + w + 1, 0x9e3779b1) ^ Math.imul(seed, 0x85ebca6b);
  const offset = start - firstWord * 4;
  return new Uint8Array(words.buffer, offset, length);
}

async function put(bucket: string, key: string, body: Uint8Array | string): Promise<string> {
  const out = await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  return out.ETag ?? '';
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

/** Fails with the first differing offset rather than a multi-megabyte diff. */
function expectSameBytes(actual: Uint8Array, expected: Uint8Array): void {
  expect(actual.byteLength).toBe(expected.byteLength);
  const i = actual.findIndex((b, k) => b !== expected[k]);
  expect(i, `first difference at byte ${i}`).toBe(-1);
}

describe('openS3Source', () => {
  const size = 100_003;
  const data = pattern(1, 0, size);
  let bucket: string;
  beforeAll(async () => {
    bucket = await newBucket();
    await put(bucket, 'dir/data.bin', data);
  });

  it('names the object s3://bucket/key and reports its size and ETag', async () => {
    const etag = await put(bucket, 'etag.bin', data);
    const source = await openS3Source(client, { bucket, key: 'etag.bin' });
    expect(source).toMatchObject({ name: `s3://${bucket}/etag.bin`, size, etag });
  });

  it.each([
    ['the first byte', 0, 1],
    ['the whole object', 0, size],
    ['the last byte', size - 1, 1],
    ['a range ending at the last byte', size - 4096, 4096],
    ['a range in the middle', 40_000, 12_345],
    ['nothing', 500, 0],
  ])('reads %s exactly', async (_what, offset, length) => {
    const source = await openS3Source(client, { bucket, key: 'dir/data.bin' });
    const bytes = await source.read(offset, length);
    expectSameBytes(bytes, data.subarray(offset, offset + length));
  });

  it('serves many concurrent reads with at most 8 requests in flight', async () => {
    let inFlight = 0;
    let peak = 0;
    const counting = {
      send: async (command: Parameters<S3Client['send']>[0]) => {
        peak = Math.max(peak, ++inFlight);
        try {
          return await client.send(command);
        } finally {
          inFlight--;
        }
      },
    } as unknown as S3Client;
    const source = await openS3Source(counting, { bucket, key: 'dir/data.bin' });
    const offsets = Array.from({ length: 40 }, (_, i) => i * 2_000);
    const reads = await Promise.all(offsets.map((o) => source.read(o, 1_000)));
    reads.forEach((bytes, i) => expectSameBytes(bytes, data.subarray(offsets[i], (offsets[i] ?? 0) + 1_000)));
    expect(peak).toBeGreaterThan(1);
    expect(peak).toBeLessThanOrEqual(8);
  });

  it('fails a read with SourceError once the object has been overwritten', async () => {
    await put(bucket, 'moving.bin', data);
    const source = await openS3Source(client, { bucket, key: 'moving.bin' });
    await put(bucket, 'moving.bin', pattern(2, 0, size));
    const read = source.read(0, 10);
    await expect(read).rejects.toThrow(SourceError);
    await expect(read).rejects.toThrow(`s3://${bucket}/moving.bin changed while it was being read`);
  });

  it('refuses to open when the object no longer has the expected ETag', async () => {
    await put(bucket, 'stale.bin', data);
    const open = openS3Source(client, { bucket, key: 'stale.bin', etag: '"0123456789abcdef0123456789abcdef"' });
    await expect(open).rejects.toThrow(SourceError);
  });

  it('reports a missing object as InvalidInputError', async () => {
    const open = openS3Source(client, { bucket, key: 'missing.parquet' });
    await expect(open).rejects.toThrow(InvalidInputError);
    await expect(open).rejects.toThrow(`s3://${bucket}/missing.parquet: no such object`);
  });

  it('rejects a read past the end with SourceError', async () => {
    const source = await openS3Source(client, { bucket, key: 'dir/data.bin' });
    await expect(source.read(size - 1, 2)).rejects.toThrow(SourceError);
  });
});

describe('s3-objects', () => {
  let bucket: string;
  beforeAll(async () => {
    bucket = await newBucket();
  });

  it('putIfAbsent lets exactly one of two concurrent writers win', async () => {
    const results = await Promise.all([
      putIfAbsent(client, bucket, 'claim', 'first', 'text/plain'),
      putIfAbsent(client, bucket, 'claim', 'second', 'text/plain'),
    ]);
    expect(results.filter(Boolean)).toHaveLength(1);
    const winner = results[0] ? 'first' : 'second';
    expect(new TextDecoder().decode(await getBytes(client, bucket, 'claim'))).toBe(winner);
    expect(await putIfAbsent(client, bucket, 'claim', 'late')).toBe(false);
  });

  it('the job store reads a missing record as null and round-trips a written one', async () => {
    const jobs = new JobStore(s3Store(client, bucket), DEFAULT_PREFIXES);
    expect(await jobs.readPlan('j1')).toBeNull();
    const plan = { jobId: 'j1', shards: [1, 2], name: 'x', writer: 'w' } as unknown as JobPlan & { writer: string };
    await jobs.writePlan(plan);
    expect(await jobs.readPlan('j1')).toEqual(plan);
  });

  it('the job store names the object when a record is not JSON', async () => {
    await put(bucket, 'jobs/broken/plan.json', '{not json');
    const jobs = new JobStore(s3Store(client, bucket), DEFAULT_PREFIXES);
    await expect(jobs.readPlan('broken')).rejects.toThrow(`s3://${bucket}/jobs/broken/plan.json: not valid JSON`);
  });

  it('the object store answers with the ETag S3 gives: put, stitch, and a versioned read', async () => {
    const store = s3Store(client, bucket);
    const etag = await store.put('versioned', 'one');
    const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: 'versioned' }));
    expect(etag).toBe(head.ETag);
    expect(await store.getVersioned('versioned')).toEqual({ body: new TextEncoder().encode('one'), etag });
    expect(await store.getVersioned('not-versioned')).toBeNull();
    const stitched = await store.stitch('stitched', [lit('a'), { key: 'versioned', size: 3 }]);
    expect(stitched).toBe((await client.send(new HeadObjectCommand({ Bucket: bucket, Key: 'stitched' }))).ETag);
  });

  it('replaceIfMatch and deleteIfMatch act only on the version named, and say whether they did', async () => {
    const store = s3Store(client, bucket);
    const v1 = await store.put('lock', 'v1');
    expect(await store.replaceIfMatch('lock', v1, 'v2')).toBe(true);
    // v1 is gone: neither a replace nor a delete of it applies.
    expect(await store.replaceIfMatch('lock', v1, 'v3')).toBe(false);
    expect(await store.deleteIfMatch('lock', v1)).toBe(false);
    const v2 = (await store.getVersioned('lock'))!;
    expect(new TextDecoder().decode(v2.body)).toBe('v2');
    expect(await store.deleteIfMatch('lock', v2.etag)).toBe(true);
    expect(await store.exists('lock')).toBe(false);
    expect(await store.replaceIfMatch('lock', v2.etag, 'v4')).toBe(false);
    expect(await store.exists('lock')).toBe(false);
  });

  it('two jobs taking a stale publish lock at once: exactly one gets it', async () => {
    const jobs = new JobStore(s3Store(client, bucket), DEFAULT_PREFIXES);
    expect(await jobs.takePublishLock('contended', 'old', 0, 1)).toEqual({ held: true });
    const takers = await Promise.all(['a', 'b', 'c'].map((j) => jobs.takePublishLock('contended', j, 10, 1000)));
    expect(takers.filter((t) => t.held)).toHaveLength(1);
    const winner = ['a', 'b', 'c'][takers.findIndex((t) => t.held)];
    expect(await jobs.publishLockHolder('contended')).toEqual({ jobId: winner, until: 1010 });
  });

  it('abortUploads aborts the unfinished multipart uploads under a prefix only', async () => {
    const store = s3Store(client, bucket);
    const started = await Promise.all(
      ['out/a/x', 'out/a/y', 'out/b/z'].map((Key) => client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key }))),
    );
    expect(started.every((s) => s.UploadId)).toBe(true);
    expect(await store.abortUploads('out/a/')).toBe(2);
    const left = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
    expect((left.Uploads ?? []).map((u) => u.Key)).toEqual(['out/b/z']);
    expect(await store.abortUploads('out/a/')).toBe(0);
  });

  it('signs a checksummed upload without hashing its body, and still sends the checksum', async () => {
    const bucket = await newBucket();
    const sent: Record<string, string>[] = [];
    const spy = s3ClientFor(s3Endpoint());
    const record: FinalizeRequestMiddleware<ServiceInputTypes, ServiceOutputTypes> = (next) => async (args) => {
      sent.push({ ...(args.request as { headers: Record<string, string> }).headers });
      return next(args);
    };
    spy.middlewareStack.addRelativeTo(record, { name: 'spy', relation: 'after', toMiddleware: 'httpSigningMiddleware' });
    const body = pattern(7, 0, 64 * KiB);
    await spy.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: body }));
    expect(sent[0]!['x-amz-content-sha256']).toBe('UNSIGNED-PAYLOAD');
    expect(sent[0]!['x-amz-checksum-crc32']).toMatch(/^[A-Za-z0-9+/]{6}==$/);
    expect(Buffer.compare(Buffer.from(await getBytes(spy, bucket, 'k')), Buffer.from(body))).toBe(0);
    // A request with no checksum (a GET) keeps its payload in the signature.
    expect(sent[1]!['x-amz-content-sha256']).toBe(createHash('sha256').update('').digest('hex'));
    spy.destroy();
  });

  it('exists tells present from missing', async () => {
    await put(bucket, 'here', 'x');
    expect([await exists(client, bucket, 'here'), await exists(client, bucket, 'not-here')]).toEqual([true, false]);
  });

  it('listKeys follows continuation tokens past a full page', async () => {
    // Pages of 7 keys: the same continuation-token path as S3's pages of 1,000, at 1 % of the puts.
    const keys = Array.from({ length: 50 }, (_, i) => `many/${String(i).padStart(4, '0')}`);
    await Promise.all(keys.map((k) => put(bucket, k, '')));
    await put(bucket, 'manyother', 'outside the prefix');
    const listed = await listKeys(client, bucket, 'many/', 7);
    expect(listed.sort()).toEqual(keys);
    expect(await listKeys(client, bucket, 'many/')).toHaveLength(50);
  });
});

const lit = (s: string): StitchSegment => ({ bytes: new TextEncoder().encode(s) });
const obj = (key: string, size: number): StitchSegment => ({ key, size });
const header = { bytes: new Uint8Array(128) };

describe('stitchObjects', () => {
  it.each<[string, number, number, boolean]>([
    ['header + 3 objects of 6 MiB + "}"', 3, 6 * MiB, true],
    ['50 objects of 200 KiB with literals between', 50, 200 * KiB, false],
    ['a total below 5 MiB', 2, MiB, false],
  ])('writes %s byte for byte', async (_what, count, size, literalsBetween) => {
    const bucket = await newBucket();
    const expected: Uint8Array[] = [header.bytes];
    const segments: StitchSegment[] = [header];
    for (let i = 0; i < count; i++) {
      const bytes = pattern(100 + i, 0, size);
      await put(bucket, `shards/${i}.f32`, bytes);
      segments.push(obj(`shards/${i}.f32`, size));
      expected.push(bytes);
      if (literalsBetween) {
        const sep = lit(`,${i}`) as { bytes: Uint8Array };
        segments.push(sep);
        expected.push(sep.bytes);
      }
    }
    segments.push(lit('}'));
    expected.push(new TextEncoder().encode('}'));

    const result = await stitchObjects(client, { bucket, key: 'out/all.bin', segments, contentType: 'application/octet-stream' });

    const want = concat(expected);
    expectSameBytes(await getBytes(client, bucket, 'out/all.bin'), want);
    expect(result.bytes).toBe(want.byteLength);
    if (want.byteLength < MIN_PART_SIZE) expect(result.parts).toBe(1);
    else expect(result.parts).toBeGreaterThanOrEqual(2);
    if (count === 3) expect(result.copiedParts).toBeGreaterThan(0);
    else expect(result.copiedParts).toBe(0);
  });

  it('aborts the multipart upload and writes nothing when a source object is missing', async () => {
    const bucket = await newBucket();
    await put(bucket, 'a', pattern(7, 0, 6 * MiB));
    const stitch = stitchObjects(client, {
      bucket,
      key: 'out.bin',
      segments: [header, obj('a', 6 * MiB), obj('gone', 6 * MiB)],
    });
    await expect(stitch).rejects.toThrow(/part \d+ \(copy of bytes .* of gone\) failed/);
    const uploads = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
    expect(uploads.Uploads ?? []).toEqual([]);
    expect(await exists(client, bucket, 'out.bin')).toBe(false);
  });

  // Streaming holds up to 4 workers × 8 MiB part buffers, plus socket chunks V8 has not collected
  // yet (it waits for tens of MiB of external garbage); either way far below the 200 MB output.
  it.each([
    ['17 shards of 12 MiB (mostly copied)', 17, 12 * MiB, 64 * MiB],
    ['50 shards of 4 MiB (all streamed)', 50, 4 * MiB, 96 * MiB],
  ])('keeps memory flat while stitching %s', { timeout: 180_000 }, async (what, count, size, peakLimit) => {
    const bucket = await newBucket();
    const segments: StitchSegment[] = [header];
    for (let i = 0; i < count; i++) {
      await put(bucket, `shards/${i}.f32`, pattern(i, 0, size));
      segments.push(obj(`shards/${i}.f32`, size));
    }
    const outputSize = 128 + count * size;
    expect(outputSize).toBeGreaterThanOrEqual(200 * 1e6);

    const started = performance.now();
    const { result, ...growth } = await measureMemory(() => stitchObjects(client, { bucket, key: 'out/vectors.npy', segments }));
    const seconds = (performance.now() - started) / 1000;
    const retained = growth.retained;
    const mib = (n: number) => `${(n / MiB).toFixed(1)} MiB`;
    console.log(
      `${what}: ${mib(outputSize)} in ${seconds.toFixed(1)} s, ${result.parts} parts (${result.copiedParts} copied); ` +
        `peak growth rss ${mib(growth.rss)}, heapUsed+arrayBuffers ${mib(growth.js)}; retained after GC ${mib(retained)}`,
    );

    expect(result.bytes).toBe(outputSize);
    // Shard 0 tops up the header's part, then every shard's rest is a server-side copy.
    expect(result.copiedParts).toBe(size >= 2 * MIN_PART_SIZE ? count : 0);
    expect(growth.rss).toBeLessThan(peakLimit);
    expect(growth.js).toBeLessThan(peakLimit);
    expect(retained).toBeLessThan(8 * MiB);

    // The whole output, hashed as it streams, against the same bytes generated shard by shard.
    const want = createHash('sha256').update(header.bytes);
    for (let i = 0; i < count; i++) want.update(pattern(i, 0, size));
    const got = createHash('sha256');
    const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: 'out/vectors.npy' }));
    for await (const chunk of out.Body as AsyncIterable<Uint8Array>) got.update(chunk);
    expect(got.digest('hex')).toBe(want.digest('hex'));
    const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: 'out/vectors.npy' }));
    expect(head.ContentLength).toBe(outputSize);
  });
});
