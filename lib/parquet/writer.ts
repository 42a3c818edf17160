/**
 * Parquet files written with parquet-wasm (arrow-rs's writer): a whole file from Arrow tables,
 * and one file from the record batches of several Parquet files (parts), streamed through the
 * writer so that memory holds one batch at a time, not the data set.
 */
import * as pw from 'parquet-wasm';
import { createWriteStream } from 'node:fs';
import { Writable } from 'node:stream';
import { tableToIPC, type Table } from 'apache-arrow';
import { openAsBlob } from 'node:fs';

function properties(): pw.WriterProperties {
  return new pw.WriterPropertiesBuilder().setCompression(pw.Compression.ZSTD).build();
}

/** `table` as the bytes of one Parquet file (zstd). */
export function parquetBytes(table: Table): Uint8Array {
  const wasm = pw.Table.fromIPCStream(tableToIPC(table, 'stream'));
  return pw.writeParquet(wasm, properties());
}

/** Writes the rows of `parts` (Parquet files of one schema), in order, as one Parquet file at `dest`. */
export async function concatParquet(parts: readonly string[], dest: string): Promise<void> {
  const files: pw.ParquetFile[] = [];
  let index = 0;
  let reader: ReadableStreamDefaultReader<pw.RecordBatch> | null = null;
  const batches = new ReadableStream<pw.RecordBatch>({
    async pull(controller) {
      for (;;) {
        if (!reader) {
          const part = parts[index++];
          if (part === undefined) return controller.close();
          const file = await pw.ParquetFile.fromFile(await openAsBlob(part));
          files.push(file);
          reader = (await file.stream()).getReader() as ReadableStreamDefaultReader<pw.RecordBatch>;
        }
        const next = await reader.read();
        if (!next.done) return controller.enqueue(next.value);
        reader = null;
      }
    },
  });
  try {
    const bytes = await pw.transformParquetStream(batches, properties());
    await bytes.pipeTo(Writable.toWeb(createWriteStream(dest)));
  } finally {
    for (const f of files) f.free();
  }
}
