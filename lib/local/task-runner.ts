/**
 * Runs one task of the local runner (a shard's statistics or deviations, its embedding, or one
 * partition of the id index) against a reader kept open across tasks of the same input. Both the worker threads and the
 * in-process executor call this, so a task gives the same bytes wherever it runs.
 */
import { open, writeFile } from 'node:fs/promises';
import type { Task, TaskResult } from './worker-protocol.ts';
import type { ParquetReader } from '../parquet/reader.ts';
import { openFileSource, type FileSource } from '../io/file-source.ts';
import { openParquet } from '../parquet/reader.ts';
import { retainColumns } from './retained-reader.ts';
import { KeptShards } from './kept-shards.ts';
import { buildPartitionPiece } from './id-index-files.ts';
import { embedShard, taskDeviations, taskMoments } from '../embedding/shard-work.ts';
import { ByteWriter } from '../io/byte-writer.ts';
import { dictRepeats, writeMappingFragment } from '../outputs/mapping.ts';
import { embeddingsBatch } from '../outputs/embeddings-parquet.ts';
import { RecordBatchStreamWriter, type RecordBatch } from 'apache-arrow';
import { concatIds, type IdColumn } from '../embedding/columns.ts';
import { rowBlock, shardKeys } from '../outputs/id-index.ts';

export class TaskRunner {
  private current: { input: string; source: FileSource; reader: ParquetReader } | null = null;
  /** Shards decoded by their statistics task, kept for their deviations and embedding. */
  private readonly kept = new KeptShards();

  /** `retain`: columns to decode once per input and keep in memory (see retained-reader.ts). */
  constructor(private readonly retain: readonly string[] = []) {}

  /** Runs `task`, reporting rows as they finish. */
  async run(task: Task, onRows: (rows: number) => void): Promise<TaskResult> {
    if (task.kind === 'partition') return { kind: 'partition', ...(await buildPartitionPiece(task)) };
    const file = await this.readerFor(task);
    if (task.kind === 'stats') {
      const { keep } = task;
      const reader = keep ? this.kept.keeping(file, task.task.index, keep.columns, keep.maxBytes) : file;
      const moments = await taskMoments(reader, task.task, task.columns, task.chunks);
      onRows(task.task.rows);
      return { kind: 'stats', moments };
    }
    if (task.kind === 'deviations') {
      const deviations = await taskDeviations(this.kept.serving(file, task.task.index), task.task, task.columns, task.means);
      onRows(task.task.rows);
      return { kind: 'deviations', deviations };
    }
    const { shard, features } = task;
    const reader = this.kept.serving(file, shard.index);
    const dims = features.length;
    const out = await open(task.vectorsPath, 'r+');
    const fragment = new ByteWriter(shard.rows * 36);
    const idBatches: IdColumn[] = [];
    let repeats = false;
    // The shard's rows for embeddings.parquet, streamed to its part file as Arrow IPC while it embeds.
    const parquet = task.parquetPath ? await ipcPartWriter(task.parquetPath) : null;
    // The batches' vectors, reused once written (the Parquet part's writer keeps views: fresh ones then).
    let scratch = new Float32Array(0);
    try {
      await embedShard(
        reader,
        shard,
        features,
        task.idColumn,
        async (b) => {
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
        },
        parquet ? undefined : (_, n) => (scratch = scratch.length >= n * dims ? scratch : new Float32Array(n * dims)).subarray(0, n * dims),
      );
    } finally {
      this.kept.drop(shard.index);
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
    this.kept.clear();
  }

  private async readerFor(task: Exclude<Task, { kind: 'partition' }>): Promise<ParquetReader> {
    if (this.current?.input === task.input) return this.current.reader;
    await this.close();
    const source = await openFileSource(task.input);
    // The page decoders beat parquet-wasm's first pass, not its warm ones: they read columns
    // decoded once (kept shards in a worker, retainColumns in process, an embedding with a fitted
    // scaler); a worker that decodes its shards three times (sums, deviations, embedding) without
    // keeping them does better with parquet-wasm.
    const reader = await openParquet(source, task.layout, {
      pageDecoders: this.retain.length > 0 || task.kind !== 'stats' || task.keep !== undefined,
    });
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
