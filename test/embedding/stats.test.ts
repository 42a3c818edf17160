import { describe, expect, it } from 'vitest';
import {
  blockMoments,
  emptyMoments,
  fitScaler,
  mergeAll,
  mergeMoments,
  momentsFromBytes,
  momentsToBytes,
} from '../../lib/embedding/stats.ts';
import { pairwiseSum } from '../../lib/embedding/pairwise-sum.ts';

const col = (...xs: number[]) => new Float64Array(xs);

describe('statistics', () => {
  it('computes population mean and variance like StandardScaler', () => {
    const s = fitScaler(blockMoments([col(1, 2, 3, 4)]));
    expect(s.mean[0]).toBe(2.5);
    expect(s.variance[0]).toBe(1.25);
    expect(s.scale[0]).toBe(Math.sqrt(1.25));
  });

  it('leaves NaN (null) cells out of their own column only', () => {
    const s = fitScaler(blockMoments([col(1, NaN, 3), col(1, 2, 3)]));
    expect(s.count).toEqual([2, 3]);
    expect(s.mean).toEqual([2, 2]);
    expect(s.variance[0]).toBe(1);
  });

  it('gives scale 1 to a constant column and to a near-constant one by sklearn’s rule', () => {
    const constant = fitScaler(blockMoments([col(0.25, 0.25, 0.25)]));
    expect(constant.scale[0]).toBe(1);
    const near = fitScaler(blockMoments([col(120, 120 * (1 + 2 ** -52), 120)]));
    expect(near.scale[0]).toBe(1);
    const varying = fitScaler(blockMoments([col(120, 120.001, 120)]));
    expect(varying.scale[0]).not.toBe(1);
  });

  it('gives NaN mean and scale to a column with no values', () => {
    const s = fitScaler(blockMoments([col(NaN, NaN)]));
    expect(s.mean[0]).toBeNaN();
    expect(s.scale[0]).toBeNaN();
  });

  it.each([[1], [2], [7], [100], [999]])('merges blocks of %i rows to the same moments as one block (Chan)', (size) => {
    const xs = Float64Array.from({ length: 1000 }, (_, i) => Math.sin(i) * 1e3 + 1e6);
    const parts = [];
    for (let i = 0; i < xs.length; i += size) parts.push(blockMoments([xs.subarray(i, i + size)], i, xs.length));
    const merged = mergeAll(1, parts);
    const whole = blockMoments([xs]);
    expect(merged.count).toEqual(whole.count);
    expect(fitScaler(merged).mean[0]).toBe(fitScaler(whole).mean[0]);
    expect(Math.abs(merged.m2[0]! / whole.m2[0]! - 1)).toBeLessThan(1e-12);
  });

  it('takes the mean from numpy’s pairwise sum, not the exactly rounded one, in any split', () => {
    const xs = new Float64Array(1_000_001).fill(1e-16);
    xs[0] = 1;
    const exact = (1 + 1_000_000 * 1e-16) / 1_000_001;
    const numpy = pairwiseSum(xs) / 1_000_001;
    const whole = fitScaler(blockMoments([xs])).mean[0]!;
    const parts = fitScaler(mergeAll(1, [blockMoments([xs.subarray(0, 5)], 0, xs.length), blockMoments([xs.subarray(5)], 5, xs.length)]))
      .mean[0]!;
    expect(whole).toBe(numpy);
    expect(parts).toBe(numpy);
    expect(numpy).not.toBe(exact);
  });

  it('treats an empty side of a merge as the identity', () => {
    const a = blockMoments([col(1, 2, 3)]);
    const empty = emptyMoments(1);
    expect(mergeMoments(a, empty)).toEqual(a);
    expect(mergeMoments(empty, a)).toEqual(a);
  });

  it('round-trips moments through bytes exactly, NaN and -0 included (the format of stats parts)', () => {
    const list = [blockMoments([col(0.1, 0.2, 0.3), col(NaN, NaN)]), blockMoments([col(1e308, -1e308), col(-0)])];
    list[1]!.sumErr[1] = -0;
    const back = momentsFromBytes(momentsToBytes(list, 2), 2);
    expect(back).toEqual(list);
    expect(Object.is(back[1]!.sumErr[1], -0)).toBe(true);
    expect(() => momentsFromBytes(new Uint8Array(24), 2)).toThrow(RangeError);
  });
});
