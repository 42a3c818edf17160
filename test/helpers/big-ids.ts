/**
 * Inputs with very large ids, built in test/embedding/big-ids.test.ts and by bench:big-ids: the default
 * spec's feature columns (seeded normal values) and an `id` column of `distinct` ids of
 * `idBytes` bytes each, repeated cyclically, stored dictionary-encoded (an Arrow dictionary
 * column, as pandas writes a categorical) or plain.
 */
import * as pw from 'parquet-wasm';
import { Dictionary, Int32, Table, Utf8, makeData, makeVector, tableToIPC, vectorFromArray, type Vector } from 'apache-arrow';
import { writeFileSync } from 'node:fs';
import { DEFAULT_SPEC } from '../../lib/embedding/spec.ts';
import { Rng } from '../../lib/generate/random.ts';

export interface BigIdsOptions {
  rows: number;
  distinct: number;
  idBytes: number;
  /** An Arrow dictionary column (true) or plain strings. */
  dictionary: boolean;
  rowGroupRows?: number;
}

/** Id k: its number, then filler up to `idBytes` bytes (ASCII, so the byte count is exact). */
function idText(k: number, idBytes: number): string {
  const head = `id-${k}-`;
  return head + String.fromCharCode(97 + (k % 26)).repeat(Math.max(0, idBytes - head.length));
}

/** The table (ids are row i → id i mod distinct). */
export function bigIdsTable(o: BigIdsOptions): Table {
  const rng = new Rng(o.rows + o.distinct);
  const columns: Record<string, Vector> = {};
  for (const f of DEFAULT_SPEC.features) {
    const x = new Float64Array(o.rows);
    for (let i = 0; i < o.rows; i++) x[i] = rng.normal(0, 1);
    columns[f.column] = makeVector(x);
  }
  const dict = vectorFromArray(
    Array.from({ length: o.distinct }, (_, k) => idText(k, o.idBytes)),
    new Utf8(),
  );
  const codes = Int32Array.from({ length: o.rows }, (_, i) => i % o.distinct);
  if (o.dictionary) {
    columns.id = makeVector(makeData({ type: new Dictionary(new Utf8(), new Int32()), length: o.rows, data: codes, dictionary: dict }));
  } else {
    columns.id = vectorFromArray(
      Array.from(codes, (k) => dict.get(k)!),
      new Utf8(),
    );
  }
  return new Table(columns);
}

/** Writes the table with arrow-rs's writer (parquet-wasm), dictionary pages on, snappy. */
export function writeBigIds(path: string, o: BigIdsOptions): void {
  let props = new pw.WriterPropertiesBuilder().setCompression(pw.Compression.SNAPPY).setDictionaryEnabled(true);
  if (o.rowGroupRows) props = props.setMaxRowGroupSize(o.rowGroupRows);
  const table = pw.Table.fromIPCStream(tableToIPC(bigIdsTable(o), 'stream'));
  writeFileSync(path, pw.writeParquet(table, props.build()));
}
