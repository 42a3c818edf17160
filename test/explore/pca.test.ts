/** The map's projection: an exact eigen-decomposition, the same bits every run, signs fixed, NaN as the mean; the map's sample. */
import { describe, expect, it } from 'vitest';
import { covariance, fitPca, mapRows, project, symmetricEigen } from '../../lib/explore/pca.ts';
import { Rng } from '../../lib/generate/random.ts';

/** `rows` × `dims` float32 rows: independent normals with standard deviation `sd[d]`, then rotated by a fixed orthogonal matrix. */
function rotatedGaussian(rows: number, sd: number[], seed = 7): { vectors: Float32Array; basis: Float64Array } {
  const dims = sd.length;
  // A fixed orthonormal basis from Gram–Schmidt on seeded random vectors.
  const rng = new Rng(seed);
  const basis = new Float64Array(dims * dims);
  for (let k = 0; k < dims; k++) {
    const v = Array.from({ length: dims }, () => rng.normal(0, 1));
    for (let j = 0; j < k; j++) {
      const dot = v.reduce((s, x, d) => s + x * basis[j * dims + d]!, 0);
      for (let d = 0; d < dims; d++) v[d]! -= dot * basis[j * dims + d]!;
    }
    const norm = Math.hypot(...v);
    for (let d = 0; d < dims; d++) basis[k * dims + d] = v[d]! / norm;
  }
  const vectors = new Float32Array(rows * dims);
  for (let r = 0; r < rows; r++)
    for (let k = 0; k < dims; k++) {
      const z = rng.normal(0, sd[k]!);
      for (let d = 0; d < dims; d++) vectors[r * dims + d]! += z * basis[k * dims + d]!;
    }
  return { vectors, basis };
}

describe('symmetricEigen', () => {
  it('decomposes a 14 × 14 covariance exactly: A v = λ v, orthonormal, sorted, trace kept', () => {
    const { vectors } = rotatedGaussian(4000, [5, 3, 2, 1.5, 1.2, 1, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2]);
    const { cov } = covariance(vectors, 14);
    const { values, vectors: v } = symmetricEigen(cov, 14);
    for (let k = 0; k < 14; k++) {
      for (let i = 0; i < 14; i++) {
        let av = 0;
        for (let j = 0; j < 14; j++) av += cov[i * 14 + j]! * v[k * 14 + j]!;
        expect(Math.abs(av - values[k]! * v[k * 14 + i]!)).toBeLessThan(1e-10);
      }
      for (let m = 0; m < 14; m++) {
        const dot = Array.from({ length: 14 }, (_, d) => v[k * 14 + d]! * v[m * 14 + d]!).reduce((a, b) => a + b);
        expect(dot).toBeCloseTo(k === m ? 1 : 0, 12);
      }
      if (k > 0) expect(values[k]!).toBeLessThanOrEqual(values[k - 1]!);
    }
    const trace = Array.from({ length: 14 }, (_, d) => cov[d * 15]!).reduce((a, b) => a + b);
    expect(values.reduce((a, b) => a + b)).toBeCloseTo(trace, 10);
  });

  it('gives a diagonal matrix back in order, each axis with a positive sign', () => {
    const m = new Float64Array([1, 0, 0, 0, 3, 0, 0, 0, 2]);
    const { values, vectors } = symmetricEigen(m, 3);
    expect([...values]).toEqual([3, 2, 1]);
    expect([...vectors]).toEqual([0, 1, 0, 0, 0, 1, 1, 0, 0]);
  });
});

describe('fitPca', () => {
  it('finds the axes the data was spread along (up to the fixed sign)', () => {
    const { vectors, basis } = rotatedGaussian(20_000, [6, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]);
    const pca = fitPca(vectors, 14);
    for (const c of [0, 1]) {
      const dot = Array.from({ length: 14 }, (_, d) => pca.components[c * 14 + d]! * basis[c * 14 + d]!).reduce((a, b) => a + b);
      expect(Math.abs(dot)).toBeGreaterThan(0.995);
    }
    expect(pca.variances[0]).toBeCloseTo(36, -1);
    expect(pca.variances[1]).toBeCloseTo(9, -0.5);
  });

  it('is deterministic and sign-normalised: the same bits twice, and for the mirrored data', () => {
    const { vectors } = rotatedGaussian(3000, [4, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1], 3);
    const a = fitPca(vectors, 14);
    const b = fitPca(Float32Array.from(vectors), 14);
    expect(Buffer.from(a.components.buffer).equals(Buffer.from(b.components.buffer))).toBe(true);
    const mirrored = fitPca(
      vectors.map((x) => -x),
      14,
    );
    for (let i = 0; i < 28; i++) expect(mirrored.components[i]).toBeCloseTo(a.components[i]!, 12);
    for (const c of [0, 1]) {
      const comp = Array.from(a.components.subarray(c * 14, (c + 1) * 14));
      const big = comp.reduce((m, x) => (Math.abs(x) > Math.abs(m) ? x : m), 0);
      expect(big).toBeGreaterThan(0);
    }
  });

  it('treats a NaN (null feature) as the mean: it moves neither the axes nor the point', () => {
    const { vectors } = rotatedGaussian(2000, [3, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1], 5);
    const pca = fitPca(vectors, 14);
    const withNaN = Float32Array.from(vectors);
    const mean0 = pca.mean[0]!;
    withNaN[0] = NaN; // row 0, dim 0
    const row0 = Float32Array.from(vectors.subarray(0, 14));
    row0[0] = Math.fround(mean0);
    const [x, y] = project(pca, withNaN, Int32Array.of(0));
    const [ex, ey] = project(pca, row0, Int32Array.of(0));
    expect(x).toBeCloseTo(ex!, 5);
    expect(y).toBeCloseTo(ey!, 5);
    expect(Number.isFinite(fitPca(withNaN, 14).components[0])).toBe(true);
  });
});

describe('mapRows', () => {
  it.each([
    [10, 20, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]],
    [10, 4, [0, 2, 5, 7]],
    [0, 5, []],
  ])('%i rows, limit %i → %j', (rows, limit, expected) => {
    expect([...mapRows(rows, limit)]).toEqual(expected);
  });

  it('samples 10M rows to the limit evenly, first row first, ascending', () => {
    const rows = mapRows(10_000_000, 250_000);
    expect(rows.length).toBe(250_000);
    expect(rows[0]).toBe(0);
    expect(rows[1]).toBe(40);
    expect(rows.at(-1)).toBe(9_999_960);
  });
});
