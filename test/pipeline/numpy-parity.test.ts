/** The adversarial parity fixtures through the pipeline's steps (see test/embedding/numpy-parity.test.ts). */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Manifest } from '../../lib/outputs/manifest.ts';
import { MemoryJob } from '../helpers/memory-job.ts';
import { fixture } from '../helpers/tmp.ts';
import { bitsOf, fromFloatHex } from '../helpers/float-hex.ts';
import { ADVERSARIAL as names, expectedFor as expected, sha256, vectorsDigest } from '../helpers/adversarial.ts';

describe('bit-identical to the notebook on adversarial files, through the pipeline', () => {
  it.each(names)('%s: the pipeline, in shards, with the statistics in one invocation and fanned out in parts', async (name) => {
    const want = expected(name);
    const body = readFileSync(fixture('adversarial', `${name}.parquet`));
    const job = await MemoryJob.create({ shardRows: 700 });
    const parts = await MemoryJob.create({ shardRows: 700, statsPartRows: 1000 });
    await Promise.all([job, parts].map((j) => j.upload(`incoming/${name}.parquet`, body)));
    await Promise.all([job.close(), parts.close()]);
    expect([...job.executions.values(), ...parts.executions.values()].map((e) => e.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);

    expect(vectorsDigest(job.output(name, 'spotify_vectors_14d.npy')!)).toBe(want.vectorsSha256);
    expect(sha256(job.output(name, 'id_to_index.json')!)).toBe(want.mappingSha256);
    // The statistics fanned out in parts: the same bits.
    expect(vectorsDigest(parts.output(name, 'spotify_vectors_14d.npy')!)).toBe(want.vectorsSha256);
    const manifest = JSON.parse(Buffer.from(parts.output(name, 'manifest.json')!).toString('utf8')) as Manifest;
    // Files of more than one part's rows really were split.
    expect(manifest.timingsMs.statsParts ?? 1).toBe(Math.ceil(manifest.input.rows / 1000));
    expect(manifest.scaler.scale.map((v) => bitsOf(v ?? NaN))).toEqual(want.scale.map((h) => bitsOf(fromFloatHex(h))));
  });
});
