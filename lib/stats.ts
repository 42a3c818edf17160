/**
 * Column statistics with scikit-learn StandardScaler's semantics, mergeable in any grouping:
 * per-block count/mean/M2 by the corrected two-pass method, merged with Chan–Golub–LeVeque.
 */

/** Partial statistics of k columns: count of non-NaN values, mean, and sum of squared deviations. */
export interface Moments {
  count: number[];
  mean: number[];
  m2: number[];
}

/** The fitted scaler: what `(x - mean) / scale` uses, plus what the manifest reports. */
export interface Scaler {
  count: number[];
  mean: number[];
  variance: number[];
  scale: number[];
}

/** Moments with no rows. */
export function emptyMoments(k: number): Moments {
  return { count: new Array<number>(k).fill(0), mean: new Array<number>(k).fill(0), m2: new Array<number>(k).fill(0) };
}

/** Moments of one block of columns; NaN cells (nulls) are left out of their column only. */
export function blockMoments(columns: readonly Float64Array[]): Moments {
  const out = emptyMoments(columns.length);
  columns.forEach((x, c) => {
    let n = 0;
    let sum = 0;
    for (let i = 0; i < x.length; i++) {
      const v = x[i]!;
      if (v === v) {
        sum += v;
        n++;
      }
    }
    if (n === 0) return;
    const mean = sum / n;
    let correction = 0;
    let sq = 0;
    for (let i = 0; i < x.length; i++) {
      const d = x[i]! - mean;
      if (d === d) {
        correction += d;
        sq += d * d;
      }
    }
    out.count[c] = n;
    out.mean[c] = mean;
    out.m2[c] = sq - (correction * correction) / n;
  });
  return out;
}

/** Chan's parallel update: the moments of the concatenation of a and b. */
export function mergeMoments(a: Moments, b: Moments): Moments {
  const out = emptyMoments(a.count.length);
  for (let c = 0; c < a.count.length; c++) {
    const na = a.count[c]!;
    const nb = b.count[c]!;
    if (nb === 0) {
      out.count[c] = na;
      out.mean[c] = a.mean[c]!;
      out.m2[c] = a.m2[c]!;
    } else if (na === 0) {
      out.count[c] = nb;
      out.mean[c] = b.mean[c]!;
      out.m2[c] = b.m2[c]!;
    } else {
      const n = na + nb;
      const delta = b.mean[c]! - a.mean[c]!;
      out.count[c] = n;
      out.mean[c] = a.mean[c]! + (delta * nb) / n;
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
    const mean = n === 0 ? NaN : m.mean[c]!;
    const variance = n === 0 ? NaN : m.m2[c]! / n;
    const bound = n * EPS * variance + (n * mean * EPS) ** 2;
    out.mean[c] = mean;
    out.variance[c] = variance;
    out.scale[c] = variance <= bound ? 1 : Math.sqrt(variance);
  }
  return out;
}
