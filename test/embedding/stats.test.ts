import { describe, expect, it } from 'vitest';
import {
  DeviationsAccumulator,
  blockMoments,
  emptyMoments,
  fitScaler,
  fittedMeans,
  mergeAll,
  mergeDeviations,
  momentsFromBytes,
  momentsToBytes,
} from '../../lib/embedding/stats.ts';
import { pairwiseSum } from '../../lib/embedding/pairwise-sum.ts';

const col = (...xs: number[]) => new Float64Array(xs);

/** Both passes over whole columns, as one piece. */
function fit(columns: Float64Array[]) {
  const m = blockMoments(columns);
  const d = new DeviationsAccumulator(fittedMeans(m), columns[0]!.length, 0, columns[0]!.length);
  d.push(columns);
  return fitScaler(m, d.result());
}

/** Both passes over one column in pieces of `size` rows, merged. */
function fitInPieces(x: Float64Array, size: number) {
  const pieces: [number, Float64Array][] = [];
  for (let lo = 0; lo < x.length; lo += size) pieces.push([lo, x.subarray(lo, lo + size)]);
  const m = mergeAll(
    1,
    pieces.map(([lo, p]) => blockMoments([p], lo, x.length)),
  );
  const means = fittedMeans(m);
  const d = mergeDeviations(
    pieces.map(([lo, p]) => {
      const acc = new DeviationsAccumulator(means, x.length, lo, p.length);
      acc.push([p]);
      return acc.result();
    }),
  );
  return fitScaler(m, d);
}

describe('statistics', () => {
  it('computes population mean and variance like StandardScaler', () => {
    const s = fit([col(1, 2, 3, 4)]);
    expect(s.mean[0]).toBe(2.5);
    expect(s.variance[0]).toBe(1.25);
    expect(s.scale[0]).toBe(Math.sqrt(1.25));
  });

  it('leaves NaN (null) cells out of their own column only', () => {
    const s = fit([col(1, NaN, 3), col(1, 2, 3)]);
    expect(s.count).toEqual([2, 3]);
    expect(s.mean).toEqual([2, 2]);
    expect(s.variance[0]).toBe(1);
  });

  it('gives scale 1 to a constant column and to a near-constant one by sklearn’s rule', () => {
    expect(fit([col(0.25, 0.25, 0.25)]).scale[0]).toBe(1);
    expect(fit([col(120, 120 * (1 + 2 ** -52), 120)]).scale[0]).toBe(1);
    expect(fit([col(120, 120.001, 120)]).scale[0]).not.toBe(1);
  });

  it('gives NaN mean and scale to a column with no values', () => {
    const s = fit([col(NaN, NaN)]);
    expect(s.mean[0]).toBeNaN();
    expect(s.scale[0]).toBeNaN();
  });

  it.each([[1], [2], [7], [100], [999]])('gives the same bits from pieces of %i rows as from the whole column', (size) => {
    const xs = Float64Array.from({ length: 1000 }, (_, i) => Math.sin(i) * 1e3 + 1e6);
    const whole = fit([xs]);
    const pieces = fitInPieces(xs, size);
    expect(pieces.mean).toEqual(whole.mean);
    expect(pieces.variance).toEqual(whole.variance);
    expect(pieces.count).toEqual([1000]);
  });

  it('takes the mean from numpy’s pairwise sum, not the exactly rounded one', () => {
    const xs = new Float64Array(1_000_001).fill(1e-16);
    xs[0] = 1;
    const exact = (1 + 1_000_000 * 1e-16) / 1_000_001;
    const numpy = pairwiseSum(xs) / 1_000_001;
    expect(fitInPieces(xs, 65_536).mean[0]).toBe(numpy);
    expect(fit([xs]).mean[0]).toBe(numpy);
    expect(numpy).not.toBe(exact);
  });

  it('treats moments with no rows as the identity of a merge', () => {
    const a = blockMoments([col(1, 2, 3)]);
    expect(mergeAll(1, [a, emptyMoments(1)])).toEqual(a);
    expect(mergeAll(1, [emptyMoments(1), a])).toEqual(a);
  });

  it('round-trips moments through bytes exactly, NaN and -0 included (the format of stats parts)', () => {
    const list = [
      blockMoments([col(0.1, 0.2, 0.3), col(NaN, NaN, -0)]),
      blockMoments([col(1e308, -1e308), col(-0, 5)], 0, 300, [8192, undefined]),
    ];
    const back = momentsFromBytes(momentsToBytes(list, 2), 2);
    expect(back).toEqual(list);
    expect(() => momentsFromBytes(new Uint8Array(24), 2)).toThrow(RangeError);
  });
});
