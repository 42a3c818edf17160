import { describe, expect, it } from 'vitest';
import { compileSpec, embedRows } from '../../lib/embedding/kernel.ts';
import { DEFAULT_SPEC, parseSpec, requiredColumns, standardizedColumns } from '../../lib/embedding/spec.ts';
import { SpecError } from '../../lib/errors.ts';

describe('embedRows', () => {
  const spec = parseSpec({
    features: [
      { column: 'a', standardize: true, weight: 1.2 },
      { column: 'b' },
      { column: 'a', standardize: true },
      { column: 'b', weight: 0.7 },
    ],
  });
  const scaler = { count: [3], mean: [2], variance: [2 / 3], scale: [Math.sqrt(2 / 3)] };
  const features = compileSpec(spec, scaler);

  it('standardises in float64, rounds once to float32, then multiplies by the float32 weight in float32', () => {
    const out = new Float32Array(3 * 4);
    embedRows(
      features,
      [new Float64Array([1, 2, 3]), new Float64Array([5, NaN, 7]), new Float64Array([1, 2, 3]), new Float64Array([5, NaN, 7])],
      3,
      out,
    );
    const z = (1 - 2) / Math.sqrt(2 / 3);
    expect(out[0]).toBe(Math.fround(Math.fround(z) * Math.fround(1.2)));
    expect(out[1]).toBe(5);
    expect(out[2]).toBe(Math.fround(z));
    expect(out[3]).toBe(Math.fround(5 * Math.fround(0.7)));
    expect(out[5]).toBeNaN();
    expect(out[4]).toBe(0);
  });

  it('writes at the given output row, leaving the rows before untouched', () => {
    const out = new Float32Array(2 * 4).fill(-1);
    embedRows(features, [new Float64Array([2]), new Float64Array([1]), new Float64Array([2]), new Float64Array([1])], 1, out, 1);
    expect(Array.from(out.subarray(0, 4))).toEqual([-1, -1, -1, -1]);
    expect(out[4]).toBe(0);
  });
});

describe('feature spec', () => {
  it('defaults to the notebook’s 14 dimensions and 11 standardised columns', () => {
    expect(DEFAULT_SPEC.features).toHaveLength(14);
    expect(standardizedColumns(DEFAULT_SPEC)).toHaveLength(11);
    expect(requiredColumns(DEFAULT_SPEC)).toHaveLength(15);
  });

  it.each([
    [[], /expected a JSON object/],
    [{ features: [] }, /'features' must be a non-empty array/],
    [{ features: [{ column: '' }] }, /features\[0\]\.column/],
    [{ features: [{ column: 'a', weight: 'x' }] }, /features\[0\]\.weight/],
    [{ features: [{ column: 'a', standardise: true }] }, /unknown key\(s\) standardise/],
    [{ id: 'a', features: [{ column: 'a' }] }, /cannot also be a feature/],
  ])('refuses %j with a message naming the problem', (json, message) => {
    expect(() => parseSpec(json, 'spec.json')).toThrow(SpecError);
    expect(() => parseSpec(json, 'spec.json')).toThrow(message);
  });
});

describe('int64 columns', () => {
  it('convert to float64 exactly as Number() does, small and huge, signed and unsigned', async () => {
    const { makeData, makeVector, Int64, Uint64 } = await import('apache-arrow');
    const { toFloat64 } = await import('../../lib/embedding/columns.ts');
    const signed = [0n, 1n, -1n, 2020n, -(2n ** 53n) + 1n, 2n ** 53n - 1n, 2n ** 53n + 1n, -(2n ** 62n) - 3n, 2n ** 63n - 1n, -(2n ** 63n)];
    const v = makeVector(makeData({ type: new Int64(), length: signed.length, data: BigInt64Array.from(signed) }));
    expect(Array.from(toFloat64(v))).toEqual(signed.map(Number));
    const unsigned = [0n, 2n ** 53n + 1n, 2n ** 64n - 1n, 4294967296n];
    const u = makeVector(makeData({ type: new Uint64(), length: unsigned.length, data: BigUint64Array.from(unsigned) }));
    expect(Array.from(toFloat64(u))).toEqual(unsigned.map(Number));
  });
});
