import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compact, leavesIn, pairwiseSum, rootSum, PairwiseAccumulator, type PairwisePartial } from '../../lib/embedding/pairwise-sum.ts';
import { fixture } from '../helpers/tmp.ts';
import { fromFloatHex } from '../helpers/float-hex.ts';

/** numpy's sums of deterministic columns (test/fixtures/pairwise/make_sums.py, run with the reference venv). */
const { scales, cases } = JSON.parse(readFileSync(fixture('pairwise', 'numpy-sums.json'), 'utf8')) as {
  scales: number[];
  cases: { n: number; seed: number; nanEvery: number; sum: string }[];
};

function column(n: number, seed: number, nanEvery: number): Float64Array {
  const x = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    const u = Number((BigInt(j) * 2654435761n + BigInt(seed)) % 2n ** 32n) / 2 ** 32;
    x[j] = nanEvery > 0 && (j + seed) % nanEvery === 0 ? NaN : (u - 0.5) * scales[j % 5]!;
  }
  return x;
}

/** The column summed in pieces of `sizes` (cycled), each piece fed in batches of `batch`. */
function inPieces(x: Float64Array, sizes: readonly number[], batch: number): PairwisePartial[] {
  const parts: PairwisePartial[] = [];
  for (let lo = 0, k = 0; lo < x.length; k++) {
    const count = Math.min(sizes[k % sizes.length]!, x.length - lo);
    const acc = new PairwiseAccumulator(x.length, lo, count);
    for (let at = 0; at < count; at += batch) acc.push(x.subarray(lo + at, lo + Math.min(count, at + batch)));
    parts.push(acc.result());
    lo += count;
  }
  return parts;
}

describe("numpy's pairwise sum", () => {
  it('covers the split points and both kinds of column', () => {
    expect(cases.length).toBeGreaterThanOrEqual(40);
  });

  it.each(cases)('n = $n, seed $seed, NaN every $nanEvery: the whole column gives numpy’s bits', ({ n, seed, nanEvery, sum }) => {
    expect(Object.is(pairwiseSum(column(n, seed, nanEvery).map((v) => (v !== v ? 0 : v))), fromFloatHex(sum))).toBe(true);
  });

  it.each(cases.filter((c) => c.n >= 100))(
    'n = $n, seed $seed: numpy’s bits for any split into pieces and batches, merged in any order',
    (c) => {
      const x = column(c.n, c.seed, c.nanEvery);
      const expected = fromFloatHex(c.sum);
      for (const [sizes, batch] of [
        [[1], 1],
        [[97], 13],
        [[1000, 3, 65536], 4096],
        [[c.n], 65536],
      ] as const) {
        if (sizes[0] === 1 && c.n > 2000) continue; // one-row pieces: covered by the smaller columns
        const parts = inPieces(x, sizes, batch);
        expect(rootSum(compact(parts)), `pieces of ${sizes.join(',')}`).toBe(expected);
        // Merged in another grouping: pairs from the end, then the rest.
        const reversed = [...parts].reverse();
        let acc = compact([]);
        for (const p of reversed) acc = compact([p, acc]);
        expect(rootSum(acc)).toBe(expected);
      }
    },
  );

  it('keeps at most the nodes of two tree paths and two cut leaves for a piece', () => {
    const total = 10_000_019;
    const acc = new PairwiseAccumulator(total, 3_333_337, 1_048_576);
    const x = new Float64Array(1_048_576).fill(0.1);
    for (let at = 0; at < x.length; at += 65_536) acc.push(x.subarray(at, at + 65_536));
    const p = acc.result();
    expect(p.nodes.length).toBeLessThanOrEqual(2 * Math.ceil(Math.log2(total / 64)));
    expect(p.cuts.length).toBeLessThanOrEqual(2);
    expect(p.cuts.every(([, v]) => v.length < 128)).toBe(true);
  });

  it('splits like numpy: leaves of at most 128, at n/2 rounded down to a multiple of 8', () => {
    expect(leavesIn(128, 0, 128)).toEqual([[0, 128]]);
    expect(leavesIn(129, 0, 129)).toEqual([
      [0, 64],
      [64, 65],
    ]);
    // 300 → 144 + 156 (150 rounded down to 144); 144 → 72 + 72; 156 → 72 + 84 (78 → 72).
    expect(leavesIn(300, 0, 300)).toEqual([
      [0, 72],
      [72, 72],
      [144, 72],
      [216, 84],
    ]);
    expect(leavesIn(300, 100, 160)).toEqual([
      [72, 72],
      [144, 72],
    ]);
  });

  it('sums a column of negative zeros to +0, as numpy does', () => {
    const x = new Float64Array(300).fill(-0);
    expect(Object.is(rootSum(compact(inPieces(x, [77], 10))), 0)).toBe(true);
  });

  it('refuses to give a sum for partials that do not cover the column', () => {
    const x = column(1000, 1, 0);
    const parts = inPieces(x, [100], 100);
    expect(() => rootSum(compact(parts.slice(1)))).toThrow(/do not cover/);
  });
});
