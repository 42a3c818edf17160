/**
 * Column statistics with scikit-learn StandardScaler's semantics, mergeable in any grouping:
 * per-block moments by the corrected two-pass method, merged with Chan–Golub–LeVeque.
 *
 * Sums are compensated (Neumaier) and the column sum is carried as an unevaluated pair across
 * merges, so the fitted mean is fl(sum) / n with the sum correctly rounded, as numpy's
 * pairwise sum nearly always gives. Where x ≈ mean, the standardised value is all
 * cancellation, and a mean a few ulps off would move float32 outputs.
 */

/** Partial statistics of k columns: count of non-NaN values, their sum (hi + lo), and sum of squared deviations. */
export interface Moments {
  count: number[];
  sum: number[];
  /** The rounding error of `sum`: the exact sum is sum + sumErr to about 2^-100 relative. */
  sumErr: number[];
  m2: number[];
}

/** The fitted scaler: what `(x - mean) / scale` uses, plus what the manifest reports. */
export interface Scaler {
  count: number[];
  mean: number[];
  variance: number[];
  scale: number[];
}

const zeros = (k: number) => new Array<number>(k).fill(0);

/** Moments with no rows. */
export function emptyMoments(k: number): Moments {
  return { count: zeros(k), sum: zeros(k), sumErr: zeros(k), m2: zeros(k) };
}

const meanOf = (m: Moments, c: number) => (m.sum[c]! + m.sumErr[c]!) / m.count[c]!;

/** Moments of one block of columns; NaN cells (nulls) are left out of their column only. */
export function blockMoments(columns: readonly Float64Array[]): Moments {
  const out = emptyMoments(columns.length);
  columns.forEach((x, c) => {
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

/** Merges partials left to right; the same sequence always gives the same bits. */
export function mergeAll(k: number, parts: readonly Moments[]): Moments {
  return parts.reduce(mergeMoments, emptyMoments(k));
}

const EPS = 2 ** -52;

/**
 * Fits the scaler like StandardScaler: population variance; scale 1 for a (near-)constant
 * column by sklearn's `_is_constant_feature` rule; a column with no values gets NaN.
 */
export function fitScaler(m: Moments): Scaler {
  const k = m.count.length;
  const out: Scaler = { count: [...m.count], mean: new Array(k), variance: new Array(k), scale: new Array(k) };
  for (let c = 0; c < k; c++) {
    const n = m.count[c]!;
    // numpy's mean is fl(sum) / n: round the sum once, then divide.
    const mean = n === 0 ? NaN : (m.sum[c]! + m.sumErr[c]!) / n;
    const variance = n === 0 ? NaN : m.m2[c]! / n;
    const bound = n * EPS * variance + (n * mean * EPS) ** 2;
    out.mean[c] = mean;
    out.variance[c] = variance;
    out.scale[c] = variance <= bound ? 1 : Math.sqrt(variance);
  }
  return out;
}

const FIELDS = ['count', 'sum', 'sumErr', 'm2'] as const;

/** A list of moments of k columns as bytes (float64, little-endian): exact, NaN and -0 included. */
export function momentsToBytes(list: readonly Moments[], k: number): Uint8Array {
  const out = new Float64Array(list.length * FIELDS.length * k);
  let at = 0;
  for (const m of list) for (const f of FIELDS) for (let c = 0; c < k; c++) out[at++] = m[f][c]!;
  return new Uint8Array(out.buffer);
}

/** The inverse of `momentsToBytes`. */
export function momentsFromBytes(bytes: Uint8Array, k: number): Moments[] {
  const per = FIELDS.length * k;
  if (bytes.byteLength % (8 * per) !== 0)
    throw new RangeError(`${bytes.byteLength} bytes are not a whole number of moments of ${k} columns`);
  const values = new Float64Array(bytes.slice().buffer);
  const out: Moments[] = [];
  for (let at = 0; at < values.length;) {
    const m = emptyMoments(k);
    for (const f of FIELDS) for (let c = 0; c < k; c++) m[f][c] = values[at++]!;
    out.push(m);
  }
  return out;
}
