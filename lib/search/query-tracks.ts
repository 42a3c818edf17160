/**
 * Tracks that are not in the table, read from a file and embedded with a fitted scaler: a JSON
 * file (one object of column → value, or an array of them) or a Parquet file with the spec's
 * columns. Each is labelled by its id (the spec's id column or field) when it has one, else by its
 * position. The Parquet rows go through the same kernel as `embed`, so a row embeds to the bits
 * `transform` would give it.
 */
import { readFile } from 'node:fs/promises';
import type { FeatureSpec } from '../embedding/spec.ts';
import type { Scaler } from '../embedding/stats.ts';
import { compileSpec, embedRows } from '../embedding/kernel.ts';
import { ColumnTypeError, toFloat64 } from '../embedding/columns.ts';
import { embedFeatures } from './features.ts';
import { openFileSource } from '../io/file-source.ts';
import { openParquet } from '../parquet/reader.ts';
import { SchemaError, SourceError, SpecError, messageOf } from '../errors.ts';

export interface QueryTrack {
  label: string;
  vector: Float64Array;
}

/** The tracks of `path` (.json or .parquet), embedded with `spec` and `scaler`. */
export async function readQueryTracks(path: string, spec: FeatureSpec, scaler: Scaler): Promise<QueryTrack[]> {
  return path.toLowerCase().endsWith('.parquet') ? parquetTracks(path, spec, scaler) : jsonTracks(path, spec, scaler);
}

async function jsonTracks(path: string, spec: FeatureSpec, scaler: Scaler): Promise<QueryTrack[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e: unknown) {
    throw new SourceError(`${path}: cannot read: ${messageOf(e)}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e: unknown) {
    throw new SpecError(`${path}: not valid JSON: ${messageOf(e)}`);
  }
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

async function parquetTracks(path: string, spec: FeatureSpec, scaler: Scaler): Promise<QueryTrack[]> {
  const compiled = compileSpec(spec, scaler);
  const dims = compiled.length;
  const source = await openFileSource(path);
  try {
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
  } finally {
    await source.close();
  }
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
