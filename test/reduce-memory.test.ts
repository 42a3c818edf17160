import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { CreateBucketCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { s3ClientFor } from '../lib/local-moto.ts';
import { s3Store } from '../lib/s3-store.ts';
import { runReduce } from '../lib/job-reduce.ts';
import { DEFAULT_PREFIXES, jobKeys } from '../lib/job-keys.ts';
import { DEFAULT_SPEC, standardizedColumns } from '../lib/feature-spec.ts';
import type { JobPlan } from '../lib/job-plan.ts';
import type { ShardDone } from '../lib/job-embed.ts';
import { measureMemory } from './helpers/memory.ts';

const MiB = 1024 * 1024;
let s3: S3Client;
beforeAll(() => {
  s3 = s3ClientFor(inject('s3Endpoint'));
});
afterAll(() => s3?.destroy());

describe('the reducer', () => {
  it('stitches 17 shards (≥ 200 MB of vectors) with memory far below the output size', { timeout: 180_000 }, async () => {
    const bucket = 'reduce-memory';
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const put = (Key: string, Body: Uint8Array | string) => s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body }));
    const { ETag } = await put('incoming/big.parquet', 'stands in for the input; only its ETag matters here');
    const jobId = 'reduce-memory-job';
    const keys = jobKeys(jobId);
    const shardCount = 17;
    const rowsPerShard = Math.floor((12 * MiB) / 56);
    const shards = Array.from({ length: shardCount }, (_, i) => ({
      index: i,
      startRow: i * rowsPerShard,
      rows: rowsPerShard,
      segments: [{ rowGroup: i, offset: 0, rows: rowsPerShard }],
    }));
    for (const s of shards) {
      const vectors = new Uint8Array(rowsPerShard * 56).fill(s.index);
      // Distinct sorted hashes: shard i holds i, i + 17, i + 34, ...
      const hashes = BigUint64Array.from({ length: rowsPerShard }, (_, r) => BigInt(r * shardCount + s.index));
      const ids = `${s.index > 0 ? ', ' : ''}"id-${s.index}": ${s.startRow}`;
      await put(keys.vectors(s.index), vectors);
      await put(keys.hashes(s.index), new Uint8Array(hashes.buffer));
      await put(keys.ids(s.index), ids);
      const done: ShardDone = { shard: s.index, rows: s.rows, vectorBytes: vectors.length, idBytes: Buffer.byteLength(ids) };
      await put(keys.done(s.index), JSON.stringify(done));
    }
    const rows = rowsPerShard * shardCount;
    const plan: JobPlan = {
      version: 1, jobId, bucket, key: 'incoming/big.parquet', etag: ETag!, bytes: 1, name: 'big', rows, rowGroups: shardCount,
      createdBy: null, spec: DEFAULT_SPEC, scaler: { columns: standardizedColumns(DEFAULT_SPEC), count: new Array(11).fill(rows), mean: new Array(11).fill(0), variance: new Array(11).fill(1), scale: new Array(11).fill(1) },
      shardRows: rowsPerShard, shards, createdAt: new Date().toISOString(), timingsMs: {},
    };
    await put(keys.plan, JSON.stringify(plan));
    const outputBytes = 128 + rows * 56;
    expect(outputBytes).toBeGreaterThan(200e6);

    const growth = await measureMemory(() => runReduce(s3Store(s3, bucket), jobId, DEFAULT_PREFIXES, async () => {}));
    console.log(`reduce of ${(outputBytes / MiB).toFixed(0)} MiB: peak growth rss ${(growth.rss / MiB).toFixed(1)} MiB, heap+buffers ${(growth.js / MiB).toFixed(1)} MiB`);

    expect(growth.result.status).toBe('published');
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'embeddings/big/spotify_vectors_14d.npy' }));
    expect(head.ContentLength).toBe(outputBytes);
    expect(growth.js).toBeLessThan(64 * MiB);
    expect(growth.rss).toBeLessThan(64 * MiB);
  });
});
