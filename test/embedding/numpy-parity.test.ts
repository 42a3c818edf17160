/**
 * 100 % bit-identical to the notebook on files built to break parity (test/fixtures/make_adversarial.py):
 * constant and near-constant columns of non-binary values, an outlier in a constant column, 99 %
 * nulls, an all-null column, values near 1e15, negative zeros, a float32 feature group, row counts
 * around numpy's pairwise-sum split points and many small row groups. Each is embedded by the
 * command line in several shard and worker splits, and by the pipeline's steps; the values must
 * hash to the reference's, and the mapping too.
 */
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runLocal } from '../../lib/local/runner.ts';
import type { Manifest } from '../../lib/outputs/manifest.ts';
import { MemoryJob } from '../helpers/memory-job.ts';
import { fixture, useTmp } from '../helpers/tmp.ts';
import { bitsOf, fromFloatHex } from '../helpers/float-hex.ts';

interface Expected {
  vectorsSha256: string;
  mappingSha256: string;
  mean: string[];
  scale: string[];
}

const names = readdirSync(fixture('adversarial'))
  .filter((f) => f.endsWith('.parquet'))
  .map((f) => f.replace(/\.parquet$/, ''));
const expected = (name: string) => JSON.parse(readFileSync(fixture('adversarial', `${name}.expected.json`), 'utf8')) as Expected;
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** The digest of an .npy's values: everything after its header (ours is C-ordered). */
function vectorsDigest(npy: Uint8Array): string {
  const headerLength = 10 + (npy[8]! | (npy[9]! << 8));
  return sha256(npy.subarray(headerLength));
}

describe('bit-identical to the notebook on adversarial files', () => {
  const tmp = useTmp();

  it('has the fixtures', () => {
    expect(names.length).toBeGreaterThanOrEqual(14);
  });

  it.each(names)('%s: the command line, in every shard and worker split', async (name) => {
    const want = expected(name);
    const input = fixture('adversarial', `${name}.parquet`);
    for (const [shardRows, workers] of [
      [undefined, 1],
      [97, 1],
      [1000, 2],
    ] as const) {
      const r = await runLocal({ input, outDir: tmp(), shardRows, workers });
      expect(
        r.manifest.scaler.mean.map((v) => bitsOf(v ?? NaN)),
        `${name}: the fitted means`,
      ).toEqual(want.mean.map((h) => bitsOf(fromFloatHex(h))));
      expect(
        r.manifest.scaler.scale.map((v) => bitsOf(v ?? NaN)),
        `${name}: the fitted scales`,
      ).toEqual(want.scale.map((h) => bitsOf(fromFloatHex(h))));
      expect(vectorsDigest(readFileSync(r.vectorsPath)), `${name}, shards of ${shardRows ?? 'default'}`).toBe(want.vectorsSha256);
      expect(sha256(readFileSync(r.mappingPath))).toBe(want.mappingSha256);
    }
  });

  it.each(names)('%s: the pipeline, in shards, with the statistics in one invocation and fanned out in parts', async (name) => {
    const want = expected(name);
    const body = readFileSync(fixture('adversarial', `${name}.parquet`));
    const job = new MemoryJob({ shardRows: 700 });
    await job.upload(`incoming/${name}.parquet`, body);
    await job.drain();
    expect(vectorsDigest(job.output(name, 'spotify_vectors_14d.npy')!)).toBe(want.vectorsSha256);
    expect(sha256(job.output(name, 'id_to_index.json')!)).toBe(want.mappingSha256);
    // The statistics fanned out in parts: the same bits.
    const parts = new MemoryJob({ shardRows: 700, statsPartRows: 1000 });
    await parts.upload(`incoming/${name}.parquet`, body);
    await parts.drain();
    expect(vectorsDigest(parts.output(name, 'spotify_vectors_14d.npy')!)).toBe(want.vectorsSha256);
    const manifest = JSON.parse(Buffer.from(parts.output(name, 'manifest.json')!).toString('utf8')) as Manifest;
    expect(manifest.scaler.scale.map((v) => bitsOf(v ?? NaN))).toEqual(want.scale.map((h) => bitsOf(fromFloatHex(h))));
  });
});
