/**
 * An exact, deterministic 2-D projection of the embedding: principal component analysis of the
 * rows' covariance, by cyclic Jacobi rotations of the dims × dims matrix (no random start, no
 * iteration count that depends on timing), each component's sign fixed so that its largest
 * entry is positive. The same vectors give the same bits on every run and machine.
 */

/** The fitted projection: the rows' mean and the two leading components, with their variances. */
export interface Pca {
  dims: number;
  mean: Float64Array;
  /** components[c * dims + d]: component c (0, 1), dimension d; unit length, largest entry positive. */
  components: Float64Array;
  /** The variance along each component (the covariance's two largest eigenvalues). */
  variances: [number, number];
  /** Every eigenvalue, largest first (their sum is the total variance). */
  eigenvalues: Float64Array;
}

/**
 * Each dimension's mean over its non-NaN values, then the covariance (divided by n − 1) of the
 * rows with a NaN treated as the mean (it then adds nothing): a null feature neither moves a
 * track nor the axes. Sums in row order, in float64.
 */
export function covariance(vectors: Float32Array, dims: number): { mean: Float64Array; cov: Float64Array } {
  const rows = vectors.length / dims;
  const sum = new Float64Array(dims);
  const count = new Float64Array(dims);
  for (let b = 0; b < vectors.length; b += dims)
    for (let d = 0; d < dims; d++) {
      const v = vectors[b + d]!;
      if (v === v) {
        sum[d]! += v;
        count[d]! += 1;
      }
    }
  const mean = sum.map((s, d) => (count[d]! > 0 ? s / count[d]! : 0));
  const cov = new Float64Array(dims * dims);
  const x = new Float64Array(dims);
  for (let b = 0; b < vectors.length; b += dims) {
    for (let d = 0; d < dims; d++) {
      const v = vectors[b + d]!;
      x[d] = v === v ? v - mean[d]! : 0;
    }
    for (let i = 0; i < dims; i++) {
      const xi = x[i]!;
      if (xi === 0) continue;
      for (let j = i; j < dims; j++) cov[i * dims + j]! += xi * x[j]!;
    }
  }
  const n = Math.max(1, rows - 1);
  for (let i = 0; i < dims; i++)
    for (let j = i; j < dims; j++) {
      cov[i * dims + j]! /= n;
      cov[j * dims + i] = cov[i * dims + j]!;
    }
  return { mean, cov };
}

/**
 * The eigenvalues and eigenvectors of a symmetric matrix (row-major, n × n) by cyclic Jacobi:
 * sweeps of rotations in a fixed order until the off-diagonal part is negligible. Returns them
 * sorted by eigenvalue, largest first (ties: the lower original index first); vectors[k * n + d]
 * is eigenvector k, normalised to unit length with its largest-magnitude entry positive.
 */
export function symmetricEigen(matrix: Float64Array, n: number): { values: Float64Array; vectors: Float64Array } {
  const a = Float64Array.from(matrix);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  let scale = 0;
  for (let i = 0; i < n * n; i++) scale += a[i]! * a[i]!;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += a[p * n + q]! * a[p * n + q]!;
    if (off <= scale * 1e-32 || off === 0) break;
    for (let p = 0; p < n; p++)
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q]!;
        if (apq === 0) continue;
        const app = a[p * n + p]!;
        const aqq = a[q * n + q]!;
        // The rotation that zeroes a[p][q] (Numerical Recipes' stable form: |t| ≤ 1).
        const theta = (aqq - app) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p]!;
          const akq = a[k * n + q]!;
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k]!;
          const aqk = a[q * n + k]!;
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p]!;
          const vkq = v[k * n + q]!;
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => a[j * n + j]! - a[i * n + i]! || i - j);
  const values = new Float64Array(n);
  const vectors = new Float64Array(n * n);
  order.forEach((col, k) => {
    values[k] = a[col * n + col]!;
    let norm = 0;
    let big = 0;
    for (let d = 0; d < n; d++) {
      const x = v[d * n + col]!;
      norm += x * x;
      if (Math.abs(x) > Math.abs(v[big * n + col]!)) big = d;
    }
    const sign = v[big * n + col]! < 0 ? -1 : 1;
    const inv = sign / Math.sqrt(norm);
    for (let d = 0; d < n; d++) vectors[k * n + d] = v[d * n + col]! * inv;
  });
  return { values, vectors };
}

/** Fits the 2-D PCA of row-major `vectors` (rows × dims). */
export function fitPca(vectors: Float32Array, dims: number): Pca {
  const { mean, cov } = covariance(vectors, dims);
  const { values, vectors: eig } = symmetricEigen(cov, dims);
  const components = eig.slice(0, 2 * dims);
  if (dims < 2) components.fill(0, dims);
  return { dims, mean, components, variances: [values[0] ?? 0, values[1] ?? 0], eigenvalues: values };
}

/** The 2-D coordinates (x, y interleaved, float32) of the given rows under `pca`; a NaN dimension counts as the mean. */
export function project(pca: Pca, vectors: Float32Array, rows: Int32Array): Float32Array {
  const { dims, mean, components } = pca;
  const out = new Float32Array(rows.length * 2);
  for (let i = 0; i < rows.length; i++) {
    const b = rows[i]! * dims;
    let x = 0;
    let y = 0;
    for (let d = 0; d < dims; d++) {
      const v = vectors[b + d]!;
      if (v !== v) continue;
      const c = v - mean[d]!;
      x += c * components[d]!;
      y += c * components[dims + d]!;
    }
    out[2 * i] = x;
    out[2 * i + 1] = y;
  }
  return out;
}

/**
 * The rows the map shows: every row up to `limit`, else an even, deterministic stride through
 * them (row ⌊i · rows / limit⌋ for i < limit), so a 10M-row folder draws 250k points.
 */
export function mapRows(rows: number, limit: number): Int32Array {
  const n = Math.min(rows, limit);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = n === rows ? i : Math.floor((i * rows) / n);
  return out;
}
