import { describe, expect, it } from 'vitest';
import { firstInfinite } from '../../lib/embedding/finite.ts';
import type { CompiledFeature } from '../../lib/embedding/kernel.ts';

const dims = 4;
const features = Array.from({ length: dims }, (_, d) => ({ column: `c${d}`, standardize: d !== 2 }) as CompiledFeature);
const standardized = (f: CompiledFeature) => f.standardize;

type At = [row: number, dim: number, value: number];

/** A batch of `rows` rows of finite values, with the values `set` written in. */
function batch(rows: number, ...set: At[]): Float32Array {
  const out = new Float32Array(rows * dims).map((_, k) => Math.sin(k) * 1e30);
  for (const [row, dim, value] of set) out[row * dims + dim] = value;
  return out;
}

/** firstInfinite over every row of such a batch. */
const find = (rows: number, ...set: At[]) => firstInfinite(features, batch(rows, ...set), rows);

describe('firstInfinite', () => {
  it('finds none in finite values, NaN (a missing value) or the largest float32s', () => {
    expect(find(1000)).toBeNull();
    expect(find(1000, [3, 0, NaN], [999, 3, NaN])).toBeNull();
    expect(find(10, [1, 1, 3.4028234663852886e38], [2, 1, -3.4028234663852886e38])).toBeNull();
  });

  it('gives the first one dimension by dimension, as the statistics pass checks columns', () => {
    expect(find(1000, [900, 0, Infinity], [5, 3, -Infinity], [7, 1, NaN], [8, 1, -Infinity])).toEqual({ dim: 0, row: 900 });
    expect(find(1000, [5, 3, -Infinity], [8, 1, Infinity])).toEqual({ dim: 1, row: 8 });
  });

  it('looks only in the rows given and the dimensions chosen', () => {
    expect(firstInfinite(features, batch(100, [50, 0, Infinity]), 50)).toBeNull();
    expect(firstInfinite(features, batch(100, [10, 2, Infinity]), 100, standardized)).toBeNull();
    expect(firstInfinite(features, batch(100, [10, 2, Infinity], [20, 3, Infinity]), 100, standardized)).toEqual({ dim: 3, row: 20 });
  });

  it('reads a batch that is a view into a larger matrix', () => {
    const matrix = batch(300, [250, 1, Infinity]);
    const view = matrix.subarray(200 * dims, 300 * dims);
    expect(firstInfinite(features, view, 100)).toEqual({ dim: 1, row: 50 });
  });
});
