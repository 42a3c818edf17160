/**
 * Parquet written with parquet-wasm (arrow-rs's writer): streamed, the record batches of Arrow IPC
 * files (one per shard, in order) through one writer into one Parquet file, so memory holds one
 * part at a time, and every row is encoded once; or one Arrow table in memory (a pipeline shard's part).
 */
import { createWriteStream } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { tableToIPC, type Table } from 'apache-arrow';
import { parquetWasm, type ParquetWasm } from './wasm.ts';

/**
 * Snappy, and no dictionaries: ids are unique and vectors hardly repeat; building them cost 2.5×
 * the write (169,776 rows: 467 ms against 190). Snappy over zstd: 1,018,656 rows of track
 * embeddings wrote in 0.98 s against 3.21 s, for 75 MB against 61 MB.
 */
const properties = (pw: typeof ParquetWasm): ParquetWasm.WriterProperties =>
  new pw.WriterPropertiesBuilder().setCompression(pw.Compression.SNAPPY).setDictionaryEnabled(false).build();

/** An Arrow table as the bytes of one Parquet file. */
export async function tableToParquet(table: Table): Promise<Uint8Array> {
  return ipcToParquet(tableToIPC(table, 'stream'));
}

/** An Arrow IPC stream as the bytes of one Parquet file (the whole-table writer). */
async function ipcToParquet(ipc: Uint8Array): Promise<Uint8Array> {
  const pw = await parquetWasm();
  return pw.writeParquet(pw.Table.fromIPCStream(ipc), properties(pw));
}

/** Writes the rows of `parts` (Arrow IPC stream files of one schema), in order, as one Parquet file at `dest`. */
export async function ipcPartsToParquet(parts: readonly string[], dest: string): Promise<void> {
  // One part: the whole-table writer, measured at half the streaming writer's time at 169,776 rows.
  if (parts.length === 1) return writeFile(dest, await ipcToParquet(await readFile(parts[0]!)));
  const pw = await parquetWasm();
  let index = 0;
  let pending: ParquetWasm.RecordBatch[] = [];
  const batches = new ReadableStream<ParquetWasm.RecordBatch>({
    async pull(controller) {
      while (pending.length === 0) {
        const part = parts[index++];
        if (part === undefined) return controller.close();
        pending = pw.Table.fromIPCStream(await readFile(part)).recordBatches();
      }
      controller.enqueue(pending.shift()!);
    },
  });
  const bytes = await pw.transformParquetStream(batches, properties(pw));
  await bytes.pipeTo(Writable.toWeb(createWriteStream(dest)));
}
