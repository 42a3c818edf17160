import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { s3Endpoint } from '../helpers/s3.ts';
import { CreateBucketCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { s3ClientFor } from '../../lib/emulators/moto.ts';
import { JobStore } from '../../lib/pipeline/job-store.ts';
import { s3Store } from '../../lib/aws/s3-store.ts';
import { runReduce } from '../../lib/pipeline/reduce-step.ts';
import { DEFAULT_PREFIXES } from '../../lib/pipeline/keys.ts';
import { measureMemory } from '../helpers/memory.ts';
import { writeSyntheticJob } from '../helpers/synthetic-job.ts';

const MiB = 1024 * 1024;
let s3: S3Client;
beforeAll(() => {
  s3 = s3ClientFor(s3Endpoint());
});
afterAll(() => s3?.destroy());

describe('the reducer', () => {
  it('stitches 17 shards (≥ 200 MB of vectors) with memory far below the output size', { timeout: 180_000 }, async () => {
    const bucket = 'reduce-memory';
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const job = await writeSyntheticJob(s3, { bucket, jobId: 'big', shards: 17, rowsPerShard: Math.floor((12 * MiB) / 56) });
    expect(job.vectorBytes).toBeGreaterThan(200e6);

    const growth = await measureMemory(() => runReduce(new JobStore(s3Store(s3, bucket), DEFAULT_PREFIXES), job.jobId));
    console.log(
      `reduce of ${(job.vectorBytes / MiB).toFixed(0)} MiB: peak growth rss ${(growth.rss / MiB).toFixed(1)} MiB, heap+buffers ${(growth.js / MiB).toFixed(1)} MiB`,
    );

    expect(growth.result.status).toBe('published');
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'embeddings/big/spotify_vectors_14d.npy' }));
    expect(head.ContentLength).toBe(job.vectorBytes);
    expect(growth.js).toBeLessThan(64 * MiB);
    expect(growth.rss).toBeLessThan(64 * MiB);
  });
});
