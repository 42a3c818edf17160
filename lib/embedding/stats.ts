/**
 * Column statistics as scikit-learn's StandardScaler computes them, bit for bit, mergeable in
 * any grouping. Two passes, as `_incremental_mean_and_var` makes them:
 *
 * 1. `Moments`: each column's count of non-NaN values and its sum, numpy's pairwise sum over the
 *    whole column (pairwise-sum.ts), carried across pieces as the tree nodes each piece covers.
 *    The mean is sum / count. Where x ≈ mean the standardised value is all cancellation, so a
 *    mean one ulp off would move float32 outputs.
 * 2. `Deviations`, around those means T: Σ(x − T) and Σ(x − T)², pairwise too; the variance is
 *    `(Σ(x−T)² − (Σ(x−T))² / n) / n`.
 */
import { compact, rootSum, PairwiseAccumulator, type PairwisePartial } from './pairwise-sum.ts';
import type { MatrixDtype } from './dtypes.ts';

/** The first pass over k columns, as far as some rows know it. */
export interface Moments {
  /** Non-NaN values per column. */
  count: number[];
  /** numpy's pairwise sum of each column, NaN as 0. */
  tree: PairwisePartial[];
}

/** The fitted scaler: what `(x - mean) / scale` uses, plus what the manifest reports. */
export interface Scaler {
  count: number[];
  /** The dtype of each column's matrix in the notebook (see dtypes.ts); float64 when absent. */
  dtype?: MatrixDtype[];
  mean: number[];
  variance: number[];
  scale: number[];
}

const emptyTree = (): PairwisePartial => ({ total: 0, nodes: [], cuts: [] });

/** Moments with no rows. */
export function emptyMoments(k: number): Moments {
  return { count: new Array<number>(k).fill(0), tree: Array.from({ length: k }, emptyTree) };
}

/**
 * The first pass over rows [lo, lo + count) of k columns of `total` rows, fed batch by batch;
 * `chunks[c]` is numpy's cast-buffer chunking of column c's sum (float32 matrices), if any.
 */
export class MomentsAccumulator {
  private readonly sums: PairwiseAccumulator[];
  private readonly count: number[];

  constructor(k: number, total: number, lo: number, count: number, chunks: readonly (number | undefined)[] = []) {
    this.sums = Array.from({ length: k }, (_, c) => new PairwiseAccumulator(total, lo, count, chunks[c]));
    this.count = new Array<number>(k).fill(0);
  }

  /** The next rows of each column, in row order; NaN cells (nulls) are left out of their column only. */
  push(columns: readonly Float64Array[]): void {
    columns.forEach((x, c) => {
      let nan = 0;
      for (let i = 0; i < x.length; i++) if (x[i] !== x[i]) nan++;
      this.count[c]! += x.length - nan;
      this.sums[c]!.push(x);
    });
  }

  result(): Moments {
    return { count: this.count, tree: this.sums.map((s) => s.result()) };
  }
}

/** The moments of whole columns (rows [lo, lo + length) of `total`); one batch of `MomentsAccumulator`. */
export function blockMoments(
  columns: readonly Float64Array[],
  lo = 0,
  total = columns[0]?.length ?? 0,
  chunks: readonly (number | undefined)[] = [],
): Moments {
  const acc = new MomentsAccumulator(columns.length, total, lo, columns[0]?.length ?? 0, chunks);
  acc.push(columns);
  return acc.result();
}

/** Merges moments of disjoint rows (any order, any grouping: the same bits). The trees are compacted once. */
export function mergeAll(k: number, parts: readonly Moments[]): Moments {
  return {
    count: Array.from({ length: k }, (_, c) => parts.reduce((n, p) => n + p.count[c]!, 0)),
    tree: Array.from({ length: k }, (_, c) => compact(parts.map((p) => p.tree[c]!))),
  };
}

/** The means the second pass takes its deviations around: numpy's, NaN for a column with no values. */
export function fittedMeans(m: Moments): number[] {
  return m.count.map((n, c) => (n === 0 ? NaN : rootSum(m.tree[c]!) / n));
}

/**
 * The second pass: Σ(x − T) (scikit-learn's correction term) and Σ(x − T)² of each column around
 * the fitted means T, numpy's pairwise sums, NaN as 0.
 */
export interface Deviations {
  dev: PairwisePartial[];
  sq: PairwisePartial[];
}

/** The deviations of rows [lo, lo + count) of columns of `total` rows from `means`, fed batch by batch. */
export class DeviationsAccumulator {
  private readonly dev: PairwiseAccumulator[];
  private readonly sq: PairwiseAccumulator[];
  private scratch = new Float64Array(0);

  constructor(
    private readonly means: readonly number[],
    total: number,
    lo: number,
    count: number,
  ) {
    this.dev = means.map(() => new PairwiseAccumulator(total, lo, count));
    this.sq = means.map(() => new PairwiseAccumulator(total, lo, count));
  }

  /** The next rows of each column, in row order. */
  push(columns: readonly Float64Array[]): void {
    columns.forEach((x, c) => {
      if (this.scratch.length < x.length) this.scratch = new Float64Array(x.length);
      const t = this.scratch.subarray(0, x.length);
      const mean = this.means[c]!;
      for (let i = 0; i < x.length; i++) t[i] = x[i]! - mean;
      this.dev[c]!.push(t);
      // `temp **= 2`, in place, as scikit-learn does.
      for (let i = 0; i < t.length; i++) t[i] = t[i]! * t[i]!;
      this.sq[c]!.push(t);
    });
  }

  result(): Deviations {
    return { dev: this.dev.map((a) => a.result()), sq: this.sq.map((a) => a.result()) };
  }
}

/** Deviations of disjoint rows, merged (any grouping gives the same bits). */
export function mergeDeviations(parts: readonly Deviations[]): Deviations {
  const k = parts[0]?.dev.length ?? 0;
  return {
    dev: Array.from({ length: k }, (_, c) => compact(parts.map((p) => p.dev[c]!))),
    sq: Array.from({ length: k }, (_, c) => compact(parts.map((p) => p.sq[c]!))),
  };
}

const EPS = 2 ** -52;

/**
 * Fits the scaler like StandardScaler: population variance from the two passes; scale 1 for a
 * (near-)constant column by scikit-learn's `_is_constant_feature` rule; a column with no values
 * gets NaN.
 */
export function fitScaler(m: Moments, d: Deviations, dtype?: MatrixDtype[]): Scaler {
  const k = m.count.length;
  const mean = fittedMeans(m);
  const out: Scaler = { count: [...m.count], mean, variance: new Array(k), scale: new Array(k), ...(dtype && { dtype }) };
  for (let c = 0; c < k; c++) {
    const n = m.count[c]!;
    const correction = n === 0 ? NaN : rootSum(d.dev[c]!);
    const variance = n === 0 ? NaN : (rootSum(d.sq[c]!) - (correction * correction) / n) / n;
    const bound = n * EPS * variance + (n * mean[c]! * EPS) ** 2;
    out.variance[c] = variance;
    out.scale[c] = variance <= bound ? 1 : Math.sqrt(variance);
  }
  return out;
}

/**
 * A list of moments of k columns as bytes (float64, little-endian): exact, NaN and -0 included.
 * Per moments and column: the count, then the tree: total, chunk (0: none), node count, nodes
 * (start, length, sum), cut count, cuts (start, length, values).
 */
export function momentsToBytes(list: readonly Moments[], k: number): Uint8Array {
  const out: number[] = [];
  for (const m of list) {
    for (let c = 0; c < k; c++) {
      const t = m.tree[c]!;
      out.push(m.count[c]!, t.total, t.chunk ?? 0, t.nodes.length);
      for (const node of t.nodes) out.push(...node);
      out.push(t.cuts.length);
      for (const [lo, values] of t.cuts) out.push(lo, values.length, ...values);
    }
  }
  return new Uint8Array(Float64Array.from(out).buffer);
}

/** The inverse of `momentsToBytes`. */
export function momentsFromBytes(bytes: Uint8Array, k: number): Moments[] {
  if (bytes.byteLength % 8 !== 0) throw new RangeError(`${bytes.byteLength} bytes are not a whole number of float64 values`);
  const values = new Float64Array(bytes.slice().buffer);
  let at = 0;
  const next = () => {
    if (at >= values.length) throw new RangeError(`moments of ${k} columns end early, at value ${at}`);
    return values[at++]!;
  };
  const out: Moments[] = [];
  while (at < values.length) {
    const m = emptyMoments(k);
    for (let c = 0; c < k; c++) {
      m.count[c] = next();
      const t: PairwisePartial = { total: next(), nodes: [], cuts: [] };
      const chunk = next();
      if (chunk > 0) t.chunk = chunk;
      for (let n = next(); n > 0; n--) t.nodes.push([next(), next(), next()]);
      for (let n = next(); n > 0; n--) {
        const lo = next();
        const len = next();
        if (at + len > values.length) throw new RangeError(`moments of ${k} columns end early, in a cut of ${len} values`);
        t.cuts.push([lo, values.slice(at, (at += len))]);
      }
      m.tree[c] = t;
    }
    out.push(m);
  }
  return out;
}
