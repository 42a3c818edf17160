/**
 * Column statistics with scikit-learn StandardScaler's semantics, mergeable in any grouping.
 *
 * The mean is numpy's bit for bit: the column sum is numpy's pairwise sum over the whole column
 * (pairwise-sum.ts), carried across pieces as the tree nodes each piece covers, then divided by
 * the count. Where x ≈ mean the standardised value is all cancellation, so a mean one ulp off
 * would move float32 outputs. The variance comes from per-block moments by the corrected
 * two-pass method merged with Chan–Golub–LeVeque, around block means from compensated
 * (Neumaier) sums.
 */
import { compact, rootSum, PairwiseAccumulator, type PairwisePartial } from './pairwise-sum.ts';
import type { MatrixDtype } from './dtypes.ts';

/** Partial statistics of k columns: count of non-NaN values, their sum, and sum of squared deviations. */
export interface Moments {
  count: number[];
  sum: number[];
  /** The rounding error of `sum`: the exact sum is sum + sumErr to about 2^-100 relative. */
  sumErr: number[];
  m2: number[];
  /** numpy's pairwise sum of each column, as far as these rows know it. */
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

const zeros = (k: number) => new Array<number>(k).fill(0);

/** Moments with no rows. */
export function emptyMoments(k: number): Moments {
  return { count: zeros(k), sum: zeros(k), sumErr: zeros(k), m2: zeros(k), tree: Array.from({ length: k }, emptyTree) };
}

const emptyTree = (): PairwisePartial => ({ total: 0, nodes: [], cuts: [] });

const meanOf = (m: Moments, c: number) => (m.sum[c]! + m.sumErr[c]!) / m.count[c]!;

/**
 * Moments of one block of columns, rows [lo, lo + length) of columns of `total` rows; NaN cells
 * (nulls) are left out of their column only.
 */
export function blockMoments(
  columns: readonly Float64Array[],
  lo = 0,
  total = columns[0]?.length ?? 0,
  chunks: readonly (number | undefined)[] = [],
): Moments {
  const out = emptyMoments(columns.length);
  columns.forEach((x, c) => {
    const acc = new PairwiseAccumulator(total, lo, x.length, chunks[c]);
    acc.push(x);
    out.tree[c] = acc.result();
    let n = 0;
    let sum = 0;
    let err = 0;
    for (let i = 0; i < x.length; i++) {
      const v = x[i]!;
      if (v !== v) continue;
      const t = sum + v;
      err += Math.abs(sum) >= Math.abs(v) ? sum - t + v : v - t + sum;
      sum = t;
      n++;
    }
    if (n === 0) return;
    const mean = (sum + err) / n;
    let corr = 0;
    let corrErr = 0;
    let sq = 0;
    let sqErr = 0;
    for (let i = 0; i < x.length; i++) {
      const d = x[i]! - mean;
      if (d !== d) continue;
      let t = corr + d;
      corrErr += Math.abs(corr) >= Math.abs(d) ? corr - t + d : d - t + corr;
      corr = t;
      const d2 = d * d;
      t = sq + d2;
      sqErr += sq >= d2 ? sq - t + d2 : d2 - t + sq;
      sq = t;
    }
    const correction = corr + corrErr;
    out.count[c] = n;
    out.sum[c] = sum;
    out.sumErr[c] = err;
    out.m2[c] = sq + sqErr - (correction * correction) / n;
  });
  return out;
}

/** Chan's parallel update: the moments of the concatenation of a and b. */
export function mergeMoments(a: Moments, b: Moments): Moments {
  const out = mergeCounts(a, b);
  out.tree = a.tree.map((t, c) => compact([t, b.tree[c]!]));
  return out;
}

/** Chan's update of everything but the pairwise trees (left empty). */
function mergeCounts(a: Moments, b: Moments): Moments {
  const out = emptyMoments(a.count.length);
  for (let c = 0; c < a.count.length; c++) {
    const na = a.count[c]!;
    const nb = b.count[c]!;
    const n = na + nb;
    // TwoSum: s + e is exactly a.sum + b.sum.
    const s = a.sum[c]! + b.sum[c]!;
    const bv = s - a.sum[c]!;
    const e = a.sum[c]! - (s - bv) + (b.sum[c]! - bv);
    out.count[c] = n;
    out.sum[c] = s;
    out.sumErr[c] = a.sumErr[c]! + b.sumErr[c]! + e;
    if (na === 0 || nb === 0) {
      out.m2[c] = a.m2[c]! + b.m2[c]!;
    } else {
      const delta = meanOf(b, c) - meanOf(a, c);
      out.m2[c] = a.m2[c]! + b.m2[c]! + (delta * delta * na * nb) / n;
    }
  }
  return out;
}

/**
 * Merges partials left to right; the same sequence always gives the same bits. The pairwise trees
 * are compacted once over all the parts (merging them two at a time would redo the growing
 * result per part: quadratic in the number of parts).
 */
export function mergeAll(k: number, parts: readonly Moments[]): Moments {
  const out = parts.reduce((a, b) => mergeCounts(a, b), emptyMoments(k));
  out.tree = Array.from({ length: k }, (_, c) => compact(parts.map((p) => p.tree[c]!)));
  return out;
}

/**
 * The sums of scikit-learn's variance pass (`_incremental_mean_and_var`), around the fitted means
 * T: Σ(x − T) (its correction term) and Σ(x − T)², each numpy's pairwise sum over the column, NaN
 * counted as 0. Mergeable like the column sums.
 */
export interface Deviations {
  dev: PairwisePartial[];
  sq: PairwisePartial[];
}

/** The deviations of rows [lo, lo + length) of columns of `total` rows from `means`. */
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

/** Deviations of several pieces, merged (any grouping gives the same bits). */
export function mergeDeviations(parts: readonly Deviations[]): Deviations {
  const k = parts[0]?.dev.length ?? 0;
  return {
    dev: Array.from({ length: k }, (_, c) => compact(parts.map((p) => p.dev[c]!))),
    sq: Array.from({ length: k }, (_, c) => compact(parts.map((p) => p.sq[c]!))),
  };
}

/** The means the deviations are taken around: numpy's, NaN for a column with no values. */
export function fittedMeans(m: Moments): number[] {
  return m.count.map((n, c) => (n === 0 ? NaN : rootSum(m.tree[c]!) / n));
}

const EPS = 2 ** -52;

/**
 * Fits the scaler like StandardScaler: population variance; scale 1 for a (near-)constant
 * column by sklearn's `_is_constant_feature` rule; a column with no values gets NaN. With the
 * deviations around `fittedMeans(m)`, the variance is scikit-learn's bit for bit,
 * `(Σ(x−T)² − (Σ(x−T))² / n) / n`; without, it is Chan's merge of per-block moments (a few ulps
 * away at most: enough to move a float32 output now and then).
 */
export function fitScaler(m: Moments, d?: Deviations, dtype?: MatrixDtype[]): Scaler {
  const k = m.count.length;
  const out: Scaler = { count: [...m.count], mean: new Array(k), variance: new Array(k), scale: new Array(k), ...(dtype && { dtype }) };
  for (let c = 0; c < k; c++) {
    const n = m.count[c]!;
    // numpy's mean: its pairwise sum, divided by the count.
    const mean = n === 0 ? NaN : rootSum(m.tree[c]!) / n;
    let variance = n === 0 ? NaN : m.m2[c]! / n;
    if (d && n > 0) {
      const correction = rootSum(d.dev[c]!);
      variance = (rootSum(d.sq[c]!) - (correction * correction) / n) / n;
    }
    const bound = n * EPS * variance + (n * mean * EPS) ** 2;
    out.mean[c] = mean;
    out.variance[c] = variance;
    out.scale[c] = variance <= bound ? 1 : Math.sqrt(variance);
  }
  return out;
}

const FIELDS = ['count', 'sum', 'sumErr', 'm2'] as const;

/**
 * A list of moments of k columns as bytes (float64, little-endian): exact, NaN and -0 included.
 * Per moments: the four fields of each column, then each column's tree: total, node count, nodes
 * (start, length, sum), cut count, cuts (start, length, values).
 */
export function momentsToBytes(list: readonly Moments[], k: number): Uint8Array {
  const out: number[] = [];
  for (const m of list) {
    for (const f of FIELDS) for (let c = 0; c < k; c++) out.push(m[f][c]!);
    for (let c = 0; c < k; c++) {
      const t = m.tree[c]!;
      out.push(t.total, t.chunk ?? 0, t.nodes.length);
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
    for (const f of FIELDS) for (let c = 0; c < k; c++) m[f][c] = next();
    for (let c = 0; c < k; c++) {
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
