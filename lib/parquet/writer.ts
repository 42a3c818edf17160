/**
 * Parquet written with parquet-wasm (arrow-rs's writer), streamed: the record batches of Arrow IPC
 * files (one per shard, in order) through one writer into one Parquet file, so memory holds one
 * part at a time, and every row is encoded once.
 */
import * as pw from 'parquet-wasm';
import { createWriteStream } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { Writable } from 'node:stream';

/** Writes the rows of `parts` (Arrow IPC stream files of one schema), in order, as one Parquet file (zstd) at `dest`. */
export async function ipcPartsToParquet(parts: readonly string[], dest: string): Promise<void> {
  // No dictionaries: ids are unique and vectors hardly repeat; building them cost 2.5× the write (169,776 rows: 467 ms against 190).
  const properties = new pw.WriterPropertiesBuilder().setCompression(pw.Compression.ZSTD).setDictionaryEnabled(false).build();
  // One part: the whole-table writer, measured at half the streaming writer's time at 169,776 rows.
  if (parts.length === 1) return writeFile(dest, pw.writeParquet(pw.Table.fromIPCStream(await readFile(parts[0]!)), properties));
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
  const bytes = await pw.transformParquetStream(batches, properties);
  await bytes.pipeTo(Writable.toWeb(createWriteStream(dest)));
}
