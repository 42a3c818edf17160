/**
 * 100 % bit-identical to the notebook on files built to break parity (test/fixtures/make_adversarial.py):
 * constant and near-constant columns of non-binary values, an outlier in a constant column, 99 %
 * nulls, an all-null column, values near 1e15, negative zeros, a float32 feature group, row counts
 * around numpy's pairwise-sum split points and many small row groups. Each is embedded by the
 * command line in several shard and worker splits (test/pipeline/numpy-parity.test.ts: by the
 * pipeline's steps); the values must hash to the reference's, and the mapping too.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runLocal } from '../../lib/local/runner.ts';
import { fixture, useTmp } from '../helpers/tmp.ts';
import { ADVERSARIAL as names, expectedFor as expected, sha256, vectorsDigest } from '../helpers/adversarial.ts';
import { bitsOf, fromFloatHex } from '../helpers/float-hex.ts';

describe('bit-identical to the notebook on adversarial files', () => {
  const tmp = useTmp();

  it('has the fixtures', () => {
    expect(names.length).toBeGreaterThanOrEqual(14);
  });

  it.each(names)('%s: the command line, in one shard and in many', async (name) => {
    const want = expected(name);
    const input = fixture('adversarial', `${name}.parquet`);
    // Worker threads cost a start-up each: three fixtures also run in two of them (where a task
    // runs changes no byte: test/local/golden.test.ts checks that on every split).
    const inWorkers = ['float32-group', 'rows-65537', 'many-small-groups'].includes(name);
    for (const [shardRows, workers] of [
      [undefined, 1],
      [name === 'rows-65537' ? 9_999 : 97, inWorkers ? 2 : 1],
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
});
