/** Pass 2: a spec compiled against the fitted scaler, and the float64 → float32 kernel that turns columns into rows. */
import type { FeatureSpec } from './spec.ts';
import type { Scaler } from './stats.ts';
import { standardizedColumns } from './spec.ts';

/** One output dimension, ready for the kernel: NaN mean means "not standardised". */
export interface CompiledFeature {
  column: string;
  standardize: boolean;
  mean: number;
  scale: number;
  /** The weight as float32, or null for none. */
  weight: number | null;
  /** Standardised in float32, as scikit-learn transforms a float32 matrix: f32(f32(x − f32(mean)) / f32(scale)). */
  float32: boolean;
}

/** Binds a spec to its fitted scaler (`scaler` lists `standardizedColumns(spec)` in order). */
export function compileSpec(spec: FeatureSpec, scaler: Scaler): CompiledFeature[] {
  const order = standardizedColumns(spec);
  return spec.features.map((f) => {
    const s = order.indexOf(f.column);
    const float32 = f.standardize && scaler.dtype?.[s] === 'float32';
    return {
      float32,
      column: f.column,
      standardize: f.standardize,
      mean: !f.standardize ? NaN : float32 ? Math.fround(scaler.mean[s]!) : scaler.mean[s]!,
      scale: !f.standardize ? NaN : float32 ? Math.fround(scaler.scale[s]!) : scaler.scale[s]!,
      weight: f.weight === undefined ? null : Math.fround(f.weight),
    };
  });
}

/**
 * Writes `rows` embedded rows into `out` (row-major, features.length floats a row) starting at
 * row `outRow`; `columns[d]` holds feature d's values as float64 with NaN for null.
 * Standardisation is done in float64 and rounded to float32 once; the weight multiplies in
 * float32 (the float64 product of two float32 values is exact, so one rounding gives the f32 product).
 */
export function embedRows(
  features: readonly CompiledFeature[],
  columns: readonly Float64Array[],
  rows: number,
  out: Float32Array,
  outRow = 0,
): void {
  const dims = features.length;
  // In tiles of rows whose output stays in cache while every feature writes its column of it
  // (a 64Ki-row batch is 3.6 MB of output at 14 dimensions: one pass per feature over all of it
  // went to memory 14 times).
  for (let r0 = 0; r0 < rows; r0 += TILE_ROWS) {
    const r1 = Math.min(rows, r0 + TILE_ROWS);
    for (let d = 0; d < dims; d++) embedColumn(features[d]!, columns[d]!, r0, r1, out, (outRow + r0) * dims + d, dims);
  }
}

/** Rows a tile of the kernel: 1,024 × 14 dimensions is 56 KiB of output. */
const TILE_ROWS = 1024;

/** Feature `f` of rows [r0, r1) of column `x` into `out` from `k`, every `dims` floats. */
function embedColumn(f: CompiledFeature, x: Float64Array, r0: number, r1: number, out: Float32Array, k: number, dims: number): void {
  if (f.standardize && f.float32) {
    // Each step rounds to float32; the float64 result of one operation on float32 values rounds to the float32 result.
    const { mean, scale } = f;
    const w = f.weight ?? 1;
    for (let i = r0; i < r1; i++, k += dims) out[k] = Math.fround(Math.fround(x[i]! - mean) / scale) * w;
  } else if (f.standardize) {
    const { mean, scale, weight } = f;
    if (weight === null) {
      for (let i = r0; i < r1; i++, k += dims) out[k] = (x[i]! - mean) / scale;
    } else {
      for (let i = r0; i < r1; i++, k += dims) out[k] = Math.fround((x[i]! - mean) / scale) * weight;
    }
  } else if (f.weight === null) {
    for (let i = r0; i < r1; i++, k += dims) out[k] = x[i]!;
  } else {
    const w = f.weight;
    for (let i = r0; i < r1; i++, k += dims) out[k] = Math.fround(x[i]!) * w;
  }
}
