/** Writes Arrow tables to Parquet with parquet-wasm (arrow-rs's writer), for files made inside a test. */
import * as pw from 'parquet-wasm';
import { tableToIPC, type Table } from 'apache-arrow';
import { openAsBlob, writeFileSync } from 'node:fs';

export interface WriteOptions {
  compression?: pw.Compression;
  rowGroupRows?: number;
  statistics?: boolean;
  dictionary?: boolean;
  pageV2?: boolean;
  /** Bytes of a column's dictionary past which the writer falls back to its plain encoding for the chunk's later pages. */
  dictionaryPageBytes?: number;
  /** Bytes of a data page the writer aims at. */
  dataPageBytes?: number;
}

/** Writes `table` to `path` with the given writer settings. */
export function writeParquet(table: Table, path: string, o: WriteOptions = {}): void {
  let props = new pw.WriterPropertiesBuilder()
    .setCompression(o.compression ?? pw.Compression.SNAPPY)
    .setStatisticsEnabled(o.statistics === false ? pw.EnabledStatistics.None : pw.EnabledStatistics.Chunk)
    .setDictionaryEnabled(o.dictionary ?? true)
    .setWriterVersion(o.pageV2 ? pw.WriterVersion.V2 : pw.WriterVersion.V1);
  if (o.rowGroupRows) props = props.setMaxRowGroupSize(o.rowGroupRows);
  if (o.dictionaryPageBytes) props = props.setDictionaryPageSizeLimit(o.dictionaryPageBytes);
  if (o.dataPageBytes) props = props.setDataPageSizeLimit(o.dataPageBytes);
  const wasmTable = pw.Table.fromIPCStream(tableToIPC(table, 'stream'));
  writeFileSync(path, pw.writeParquet(wasmTable, props.build()));
}

/** Reads a whole Parquet file into an Arrow table (all columns). */
export async function readParquet(path: string): Promise<Table> {
  const { tableFromIPC } = await import('apache-arrow');
  const file = await pw.ParquetFile.fromFile(await openAsBlob(path));
  return tableFromIPC((await file.read()).intoIPCStream());
}
