/**
 * Tracks that are not in the table, read from a file and embedded with a fitted scaler: a JSON
 * file (one object of column → value, or an array of them) or a Parquet file with the spec's
 * columns, told apart by Parquet's PAR1 magic bytes whatever the file's name. Each is labelled by
 * its id (the spec's id column or field) when it has one, else by its position. The Parquet rows
 * go through the same kernel as `embed`, so a row embeds to the bits `transform` would give it;
 * a value that is infinite, or lands beyond float32's range once embedded, is refused with its
 * column and row (an infinite dimension puts every row at an infinite distance).
 */
import type { FeatureSpec } from '../embedding/spec.ts';
import type { Scaler } from '../embedding/stats.ts';
import { compileSpec, embedRows } from '../embedding/kernel.ts';
import { ColumnTypeError, toFloat64 } from '../embedding/columns.ts';
import { firstInfinite, infiniteProblem } from '../embedding/finite.ts';
import { embedFeatures } from './features.ts';
import { parseJsonText } from './json-text.ts';
import { openFileSource, type FileSource } from '../io/file-source.ts';
import { openParquet } from '../parquet/reader.ts';
import { DataError, SchemaError, SpecError } from '../errors.ts';

export interface QueryTrack {
  label: string;
  vector: Float64Array;
}

/** The tracks of `path` (JSON, or Parquet by its magic bytes or its .parquet name), embedded with `spec` and `scaler`. */
export async function readQueryTracks(path: string, spec: FeatureSpec, scaler: Scaler): Promise<QueryTrack[]> {
  const source = await openFileSource(path);
  try {
    const head = source.size >= 4 ? await source.read(0, 4) : new Uint8Array(0);
    const parquet = new TextDecoder().decode(head) === 'PAR1' || path.toLowerCase().endsWith('.parquet');
    return parquet ? await parquetTracks(source, spec, scaler) : jsonTracks(path, await source.read(0, source.size), spec, scaler);
  } finally {
    await source.close();
  }
}

function jsonTracks(path: string, bytes: Uint8Array, spec: FeatureSpec, scaler: Scaler): QueryTrack[] {
  // TextDecoder drops a UTF-8 byte-order mark, which JSON.parse would call an unexpected token.
  const json = parseJsonText(new TextDecoder().decode(bytes), path, ' (expected a JSON object or array of objects, or a Parquet file)');
  const items = Array.isArray(json) ? json : [json];
  if (items.length === 0) throw new SpecError(`${path}: no tracks (an empty array)`);
  return items.map((item: unknown, i) => {
    const where = Array.isArray(json) ? `${path}[${i}]` : path;
    if (item === null || typeof item !== 'object' || Array.isArray(item))
      throw new SpecError(`${where}: expected an object of column → value`);
    const id = (item as Record<string, unknown>)[spec.id];
    return { label: typeof id === 'string' ? id : `#${i}`, vector: embedFeatures(item as Record<string, unknown>, spec, scaler, where) };
  });
}

async function parquetTracks(source: FileSource, spec: FeatureSpec, scaler: Scaler): Promise<QueryTrack[]> {
  const path = source.name;
  const compiled = compileSpec(spec, scaler);
  const dims = compiled.length;
  const reader = await openParquet(source);
  const layout = reader.layout;
  const has = (c: string) => layout.columns.some((col) => col.name === c);
  const columns = [...new Set(compiled.map((f) => f.column))];
  for (const c of columns) if (!has(c)) throw new SchemaError(path, c, 'required column is missing');
  const withId = has(spec.id);
  const all = layout.rowGroups.map((g, rowGroup) => ({ rowGroup, offset: 0, rows: g.numRows }));
  const out: QueryTrack[] = [];
  for await (const batch of reader.batches(all, withId ? [...columns, spec.id] : columns, 65_536)) {
    const n = batch.numRows;
    const values = new Map(columns.map((c) => [c, numbers(path, c, batch.getChild(c)!)]));
    const vectors = new Float32Array(n * dims);
    embedRows(
      compiled,
      compiled.map((f) => values.get(f.column)!),
      n,
      vectors,
    );
    const bad = firstInfinite(compiled, vectors, n);
    if (bad) {
      const f = compiled[bad.dim]!;
      throw new DataError(path, f.column, `row ${out.length + bad.row} ${infiniteProblem(f, values.get(f.column)![bad.row]!)}`);
    }
    const ids = withId ? batch.getChild(spec.id)! : null;
    for (let i = 0; i < n; i++) {
      const id: unknown = ids?.get(i);
      out.push({
        label: typeof id === 'string' ? id : `#${out.length}`,
        vector: Float64Array.from(vectors.subarray(i * dims, (i + 1) * dims)),
      });
    }
  }
  if (out.length === 0) throw new SpecError(`${path}: no tracks (0 rows)`);
  return out;
}

function numbers(path: string, column: string, vector: Parameters<typeof toFloat64>[0]): Float64Array {
  try {
    return toFloat64(vector);
  } catch (e: unknown) {
    if (e instanceof ColumnTypeError)
      throw new SchemaError(path, column, `expected a number or boolean column, found ${e.found}`, { cause: e });
    throw e;
  }
}
