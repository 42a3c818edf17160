/**
 * Parquet written with parquet-wasm (arrow-rs's writer): streamed, the record batches of Arrow IPC
 * files (one per shard, in order) through one writer into one Parquet file, so memory holds one
 * part at a time, and every row is encoded once; or one Arrow table in memory (a pipeline shard's part).
 */
import * as pw from 'parquet-wasm';
import { createWriteStream } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { tableToIPC, type Table } from 'apache-arrow';

/**
 * Snappy, and no dictionaries: ids are unique and vectors hardly repeat; building them cost 2.5×
 * the write (169,776 rows: 467 ms against 190). Snappy over zstd: 1,018,656 rows of track
 * embeddings wrote in 0.98 s against 3.21 s, for 75 MB against 61 MB.
 */
const properties = (): pw.WriterProperties =>
  new pw.WriterPropertiesBuilder().setCompression(pw.Compression.SNAPPY).setDictionaryEnabled(false).build();

/** An Arrow table as the bytes of one Parquet file. */
export function tableToParquet(table: Table): Uint8Array {
  return ipcToParquet(tableToIPC(table, 'stream'));
}

/** An Arrow IPC stream as the bytes of one Parquet file (the whole-table writer). */
function ipcToParquet(ipc: Uint8Array): Uint8Array {
  return pw.writeParquet(pw.Table.fromIPCStream(ipc), properties());
}

/** Writes the rows of `parts` (Arrow IPC stream files of one schema), in order, as one Parquet file at `dest`. */
export async function ipcPartsToParquet(parts: readonly string[], dest: string): Promise<void> {
  // One part: the whole-table writer, measured at half the streaming writer's time at 169,776 rows.
  if (parts.length === 1) return writeFile(dest, ipcToParquet(await readFile(parts[0]!)));
  let index = 0;
  let pending: pw.RecordBatch[] = [];
  const batches = new ReadableStream<pw.RecordBatch>({
    async pull(controller) {
      while (pending.length === 0) {
        const part = parts[index++];
        if (part === undefined) return controller.close();
        pending = pw.Table.fromIPCStream(await readFile(part)).recordBatches();
      }
      controller.enqueue(pending.shift()!);
    },
  });
  const bytes = await pw.transformParquetStream(batches, properties());
  await bytes.pipeTo(Writable.toWeb(createWriteStream(dest)));
}
