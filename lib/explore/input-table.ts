/**
 * The input table beside the vectors, for people: each row's name, artists and year (read once,
 * for the search box and the neighbour lists), and any numeric column on demand (the map's
 * colours). The input is the Parquet file the manifest names, as `similar --with` reads it, or
 * the one given with --input; a file of another size is not the table these vectors came from.
 */
import { existsSync } from 'node:fs';
import type { Manifest } from '../outputs/manifest.ts';
import { openFileSource } from '../io/file-source.ts';
import type { ByteSource } from '../io/byte-source.ts';
import { openParquet } from '../parquet/reader.ts';
import type { ColumnSchema } from '../parquet/footer.ts';
import { toFloat64 } from '../embedding/columns.ts';

/** The text a person recognises a track by; empty strings when the input has no such column. */
export interface TrackText {
  names: string[];
  artists: string[];
  /** NaN where unknown. */
  years: Float64Array;
  /** The input's numeric columns (the map can be coloured by any of them). */
  numericColumns: string[];
}

/** The input table's bytes: a local file or an S3 object; closed when the server stops. */
export type InputSource = ByteSource & { close(): Promise<void> };

/** The input file the manifest names (or `explicit`), checked by size; or null and why not. */
export async function openInput(manifest: Manifest, explicit?: string): Promise<{ source: InputSource } | { note: string }> {
  const path = explicit ?? manifest.input.name;
  if (path.startsWith('s3://')) return { note: `the input named in the manifest, ${path}, is in S3 (give a local copy with --input)` };
  if (!existsSync(path)) return { note: `the input named in the manifest, ${path}, is not reachable from here (give it with --input)` };
  const source = await openFileSource(path);
  if (source.size === manifest.input.bytes) return { source };
  await source.close();
  return {
    note: `${path} is ${source.size.toLocaleString('en-US')} bytes, not the ${manifest.input.bytes.toLocaleString('en-US')} the manifest names: it is not the file these embeddings came from`,
  };
}

const NUMERIC = new Set(['BOOLEAN', 'INT32', 'INT64', 'FLOAT', 'DOUBLE']);
const isNumeric = (c: ColumnSchema) => c.physical !== null && NUMERIC.has(c.physical) && c.logical !== 'string';

/** Reads the name, artists and year of every row (those of the three the file has), in row order. */
export async function readTrackText(source: ByteSource, rows: number): Promise<TrackText> {
  const reader = await openParquet(source);
  const layout = reader.layout;
  const has = (c: string) => layout.columns.some((col) => col.name === c);
  const wanted = ['name', 'artists', 'year'].filter(has);
  const names = new Array<string>(rows).fill('');
  const artists = new Array<string>(rows).fill('');
  const years = new Float64Array(rows).fill(NaN);
  const all = layout.rowGroups.map((g, rowGroup) => ({ rowGroup, offset: 0, rows: g.numRows }));
  let at = 0;
  if (wanted.length > 0)
    for await (const batch of reader.batches(all, wanted, 65_536)) {
      const n = Math.min(batch.numRows, rows - at);
      const name = batch.getChild('name');
      const artist = batch.getChild('artists');
      const year = batch.getChild('year');
      if (name) for (let i = 0; i < n; i++) names[at + i] = text(name.get(i));
      if (artist) for (let i = 0; i < n; i++) artists[at + i] = text(artist.get(i));
      if (year) years.set(toFloat64(year).subarray(0, n), at);
      at += batch.numRows;
    }
  return { names, artists, years, numericColumns: layout.columns.filter(isNumeric).map((c) => c.name) };
}

/** One numeric column's values at `rows` (ascending), as float32; NaN for a null. */
export async function readNumericColumn(source: ByteSource, column: string, rows: Int32Array): Promise<Float32Array> {
  const reader = await openParquet(source);
  const all = reader.layout.rowGroups.map((g, rowGroup) => ({ rowGroup, offset: 0, rows: g.numRows }));
  const out = new Float32Array(rows.length).fill(NaN);
  let at = 0;
  let next = 0;
  for await (const batch of reader.batches(all, [column], 65_536)) {
    const values = toFloat64(batch.getChild(column)!);
    const end = at + batch.numRows;
    for (; next < rows.length && rows[next]! < end; next++) out[next] = values[rows[next]! - at]!;
    at = end;
  }
  return out;
}

/** A cell as text: strings as they are, lists (artists) joined, nothing as ''. */
function text(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'object' && v !== null && 'toArray' in v) return [...(v as { toArray(): unknown[] }).toArray()].map(String).join(', ');
  return String(v);
}
