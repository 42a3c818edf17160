/**
 * The dtype of the matrix each standardised column goes through in the notebook. pandas hands
 * scikit-learn one matrix per StandardScaler call: the weighted audio features together, year
 * alone. A matrix whose columns are all float32 stays float32, and scikit-learn then works
 * differently: it sums in float64 through numpy's 8,192-value cast buffers, and transforms in
 * float32 (`X -= f32(mean)`, `X /= f32(scale)`). Any other column type makes the matrix float64.
 *
 * For a spec: the standardised features with a weight form one matrix (the notebook's audio
 * features), each one without a weight its own (the notebook's year).
 */
import type { FeatureSpec } from './spec.ts';
import type { ParquetLayout } from '../parquet/footer.ts';
import { standardizedColumns } from './spec.ts';
import { CAST_BUFFER } from './pairwise-sum.ts';

export type MatrixDtype = 'float64' | 'float32';

/** Each standardised column's matrix dtype, in `standardizedColumns(spec)` order. */
export function matrixDtypes(spec: FeatureSpec, layout: ParquetLayout): MatrixDtype[] {
  const physical = new Map(layout.columns.map((c) => [c.name, c.physical]));
  const columns = standardizedColumns(spec);
  const weighted = new Set(spec.features.filter((f) => f.standardize && f.weight !== undefined).map((f) => f.column));
  const groupOf = (c: string) => (weighted.has(c) ? [...weighted] : [c]);
  return columns.map((c) => (groupOf(c).every((g) => physical.get(g) === 'FLOAT') ? 'float32' : 'float64'));
}

/** How numpy chunks each column's sum: by its cast buffer for a float32 matrix, else one tree. */
export function sumChunks(dtypes: readonly MatrixDtype[]): (number | undefined)[] {
  return dtypes.map((d) => (d === 'float32' ? CAST_BUFFER : undefined));
}
