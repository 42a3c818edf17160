/** Small tracks tables built in a test: the default spec's columns, an id and a name, with chosen values planted. */
import { tableFromArrays, type Table } from 'apache-arrow';
import { DEFAULT_SPEC } from '../../lib/embedding/spec.ts';
import { Rng } from '../../lib/generate/random.ts';

export const FEATURE_COLUMNS = DEFAULT_SPEC.features.map((f) => f.column);

export interface TracksOptions {
  /** The id of each row; default `t0`, `t1`, … */
  ids?: readonly string[];
  /** Values planted after the random ones: column → [row, value] pairs. */
  set?: Readonly<Record<string, readonly (readonly [row: number, value: number])[]>>;
  seed?: number;
}

/** `rows` tracks with float64 features drawn from a seeded normal (deterministic), plus `id` and `name` ("song i"). */
export function tracksTable(rows: number, o: TracksOptions = {}): Table {
  const rng = new Rng(o.seed ?? 1);
  const features = Object.fromEntries(
    FEATURE_COLUMNS.map((c) => {
      const x = new Float64Array(rows);
      for (let i = 0; i < rows; i++) x[i] = rng.normal(0, 1);
      for (const [row, value] of o.set?.[c] ?? []) x[row] = value;
      return [c, x];
    }),
  );
  return tableFromArrays({
    id: o.ids ? [...o.ids] : Array.from({ length: rows }, (_, i) => `t${i}`),
    name: Array.from({ length: rows }, (_, i) => `song ${i}`),
    ...features,
  });
}

/** One track's features as `similar --features` takes them: row `row` of `table`. */
export function featuresOf(table: Table, row: number): Record<string, number> {
  return Object.fromEntries(FEATURE_COLUMNS.map((c) => [c, Number(table.getChild(c)!.get(row))]));
}
