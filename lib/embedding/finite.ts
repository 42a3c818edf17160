/**
 * Embedded values that are ±Infinity: an infinite input, or a finite one that lands beyond
 * float32's range once scaled (1e300 with a scaler fitted on another file). A fit on the file
 * itself refuses the first in its statistics pass and all but never produces the second (a
 * standardised value is at most √n scales from the mean: only a weight near float32's limit
 * reaches it); a fitted scaler applied to new rows, and a query track, meet both here.
 */
import type { CompiledFeature } from './kernel.ts';

/** Where an embedded value is ±Infinity: its dimension and its row in the batch. */
export interface InfiniteAt {
  dim: number;
  row: number;
}

/**
 * The first ±Infinity among `rows` embedded rows of `out` (row-major), dimension by dimension
 * as the statistics pass checks its columns, in the dimensions `checked` selects; null when none.
 * NaN (a missing value) is not one.
 */
export function firstInfinite(
  features: readonly CompiledFeature[],
  out: Float32Array,
  rows: number,
  checked: (f: CompiledFeature) => boolean = () => true,
): InfiniteAt | null {
  const dims = features.length;
  // First one pass over the bits in memory order: a float32 with every exponent bit set is
  // ±Infinity or NaN, and a batch with neither (most) ends here, at a third of the cost.
  const bits = new Int32Array(out.buffer, out.byteOffset, rows * dims);
  let k = 0;
  while (k < bits.length && (bits[k]! & 0x7f800000) !== 0x7f800000) k++;
  if (k === bits.length) return null;
  for (let d = 0; d < dims; d++) {
    if (!checked(features[d]!)) continue;
    for (let i = 0, k = d; i < rows; i++, k += dims) {
      const v = out[k]!;
      if (v - v !== 0 && v === v) return { dim: d, row: i };
    }
  }
  return null;
}

/**
 * Why input `x` of feature `f` embeds to ±Infinity, worded to follow a row or a column
 * ("row 17 is Infinity: …"); an infinite value in a standardised column reads as the statistics
 * pass words it.
 */
export function infiniteProblem(f: CompiledFeature, x: number): string {
  if (!Number.isFinite(x))
    return f.standardize
      ? `is ${x}: infinite values cannot be standardised (scikit-learn refuses them: "Input X contains infinity")`
      : `is ${x}: infinite values cannot be embedded`;
  const w = f.weight ?? 1;
  const shown = (v: number, digits = 4) => String(Number(v.toPrecision(digits)));
  const range = "beyond float32's range (±3.4e38)";
  const weight = f.weight === null ? '' : `, weight ${shown(f.weight, 7)}`;
  if (f.standardize)
    return `is ${x}: standardised (fitted mean ${f.mean}, scale ${f.scale}${weight}) it is ${shown(((x - f.mean) / f.scale) * w)}, ${range}`;
  return f.weight === null ? `is ${x}: ${range}` : `is ${x}: times its weight ${shown(f.weight, 7)} it is ${shown(x * w)}, ${range}`;
}
