/**
 * Runs one task of the local runner (statistics of a row range, or the embedding of a shard)
 * against a reader kept open across tasks of the same input. Both the worker threads and the
 * in-process executor call this, so a task gives the same bytes wherever it runs.
 */
import { open, writeFile } from 'node:fs/promises';
import type { Task, TaskResult } from './worker-protocol.ts';
import type { ParquetReader } from '../parquet/reader.ts';
import { openFileSource, type FileSource } from '../io/file-source.ts';
import { openParquet } from '../parquet/reader.ts';
import { retainColumns } from './retained-reader.ts';
import { embedShard, taskDeviations, taskMoments } from '../embedding/shard-work.ts';
import { ByteWriter } from '../io/byte-writer.ts';
import { dictRepeats, writeMappingFragment } from '../outputs/mapping.ts';
import { embeddingsBatch } from '../outputs/embeddings-parquet.ts';
import { RecordBatchStreamWriter, type RecordBatch } from 'apache-arrow';
import { concatIds, type IdColumn } from '../embedding/columns.ts';
import { rowBlock, shardKeys } from '../outputs/id-index.ts';

export class TaskRunner {
  private current: { input: string; source: FileSource; reader: ParquetReader } | null = null;

  /** `retain`: columns to decode once per input and keep in memory (see retained-reader.ts). */
  constructor(private readonly retain: readonly string[] = []) {}

  /** Runs `task`, reporting rows as they finish. */
  async run(task: Task, onRows: (rows: number) => void): Promise<TaskResult> {
    const reader = await this.readerFor(task);
    if (task.kind === 'stats') {
      const moments = await taskMoments(reader, task.task, task.columns, task.chunks);
      onRows(task.task.rows);
      return { kind: 'stats', moments };
    }
    if (task.kind === 'deviations') {
      const deviations = await taskDeviations(reader, task.task, task.columns, task.means);
      onRows(task.task.rows);
      return { kind: 'deviations', deviations };
    }
    const { shard, features } = task;
    const dims = features.length;
    const out = await open(task.vectorsPath, 'r+');
    const fragment = new ByteWriter(shard.rows * 36);
    const idBatches: IdColumn[] = [];
    let repeats = false;
    // The shard's rows for embeddings.parquet, streamed to its part file as Arrow IPC while it embeds.
    const parquet = task.parquetPath ? await ipcPartWriter(task.parquetPath) : null;
    try {
      await embedShard(reader, shard, features, task.idColumn, async (b) => {
        parquet?.write(embeddingsBatch(b.ids, shard.startRow + b.rowInShard, b.vectors, dims));
        const position = task.headerBytes + (shard.startRow + b.rowInShard) * dims * 4;
        const bytes = new Uint8Array(b.vectors.buffer, b.vectors.byteOffset, b.vectors.byteLength);
        await out.write(bytes, 0, bytes.length, position);
        // A dictionary entry on two rows is a repeated id: the shard's fragment will be rewritten
        // anyway (from its row block, which holds each entry once), so it is not written on
        // (with ids of a megabyte on many rows, it would be the whole cost).
        repeats ||= dictRepeats(b.ids);
        // Fragments after the first carry their leading ", ", as in the serverless shards.
        if (!repeats) writeMappingFragment(fragment, b.ids, shard.startRow + b.rowInShard, shard.index > 0 || b.rowInShard > 0);
        idBatches.push(b.ids);
        onRows(b.rows);
      });
    } finally {
      await out.close();
      await parquet?.close();
    }
    await writeFile(task.fragmentPath, repeats ? new Uint8Array(0) : fragment.bytes());
    // The shard's id keys sorted by hash (sorted here, in parallel across workers) and its row block.
    const ids = concatIds(idBatches);
    const keys = shardKeys(ids, shard.startRow, task.keys.partBits);
    await writeFile(task.keys.keysPath, keys.records);
    await writeFile(task.keys.rowidsPath, rowBlock(ids));
    return { kind: 'embed', rows: shard.rows, keyOffsets: keys.offsets, fragmentWritten: !repeats };
  }

  /** Closes the open input, if any. */
  async close(): Promise<void> {
    await this.current?.source.close();
    this.current = null;
  }

  private async readerFor(task: Task): Promise<ParquetReader> {
    if (this.current?.input === task.input) return this.current.reader;
    await this.close();
    const source = await openFileSource(task.input);
    // A worker decodes each column three times (sums, deviations, embedding): parquet-wasm's warm
    // passes beat the page decoders there; in process the columns are decoded once (retainColumns).
    const reader = await openParquet(source, task.layout, { pageDecoders: this.retain.length > 0 });
    this.current = { input: task.input, source, reader: this.retain.length > 0 ? await retainColumns(reader, this.retain) : reader };
    return this.current.reader;
  }
}

/** An Arrow IPC stream written to `path` batch by batch: a batch's bytes go to the file, not into a table held to the end. */
async function ipcPartWriter(path: string): Promise<{ write(b: RecordBatch): void; close(): Promise<void> }> {
  const file = await open(path, 'w');
  const writer = new RecordBatchStreamWriter();
  const drained = (async () => {
    for await (const chunk of writer) await file.write(chunk);
  })();
  return {
    write: (b) => writer.write(b),
    async close() {
      writer.close();
      try {
        await drained;
      } finally {
        await file.close();
      }
    },
  };
}
