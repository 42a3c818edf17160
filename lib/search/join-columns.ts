/**
 * Columns of the input table for some rows, so a person sees songs (name, artists), not ids.
 * Decodes only the row groups that hold a wanted row, only the wanted columns.
 */
import type { ByteSource } from '../io/byte-source.ts';
import { openParquet } from '../parquet/reader.ts';
import { SchemaError } from '../errors.ts';

/** For each wanted row, the values of `columns` of the input (as apache-arrow gives them: strings, numbers, lists as text). */
export async function readRows(
  source: ByteSource,
  columns: readonly string[],
  rows: readonly number[],
): Promise<Map<number, Record<string, unknown>>> {
  const path = source.name;
  const reader = await openParquet(source);
  const layout = reader.layout;
  for (const c of columns)
    if (!layout.columns.some((col) => col.name === c))
      throw new SchemaError(path, c, `not in the file (its columns: ${layout.columns.map((col) => col.name).join(', ')})`);
  const wanted = [...new Set(rows)].sort((a, b) => a - b);
  const out = new Map<number, Record<string, unknown>>();
  let start = 0;
  let next = 0;
  for (const [g, group] of layout.rowGroups.entries()) {
    const end = start + group.numRows;
    if (next < wanted.length && wanted[next]! < end) {
      let at = start;
      for await (const batch of reader.batches([{ rowGroup: g, offset: 0, rows: group.numRows }], columns, 65_536)) {
        while (next < wanted.length && wanted[next]! < at + batch.numRows) {
          const i = wanted[next]! - at;
          out.set(wanted[next]!, Object.fromEntries(columns.map((c) => [c, plain(batch.getChild(c)?.get(i))])));
          next++;
        }
        at += batch.numRows;
      }
    }
    start = end;
  }
  return out;
}

/** A value as JSON shows it: Arrow lists and structs as arrays and objects, bigints as numbers. */
function plain(v: unknown): unknown {
  if (typeof v === 'bigint') return Number(v);
  if (v !== null && typeof v === 'object' && 'toJSON' in v && typeof (v as { toJSON: unknown }).toJSON === 'function')
    return (v as { toJSON(): unknown }).toJSON();
  return v;
}
