/** Worker thread entry of the local runner: runs stats and embed tasks on its own wasm instance. */
import { parentPort } from 'node:worker_threads';
import { open, writeFile } from 'node:fs/promises';
import type { Task, TaskResult, WorkerMessage } from './worker-protocol.ts';
import type { ParquetReader } from '../parquet/reader.ts';
import { openFileSource, type FileSource } from '../io/file-source.ts';
import { openParquet } from '../parquet/reader.ts';
import { panicGuard } from '../parquet/panic-guard.ts';
import { embedShard, taskMoments } from '../embedding/shard-work.ts';
import { ByteWriter } from '../io/byte-writer.ts';
import { hashIds, writeMappingFragment } from '../outputs/mapping.ts';
import { serializeError } from '../errors.ts';

let current: { input: string; source: FileSource; reader: ParquetReader } | null = null;

async function readerFor(task: Task): Promise<ParquetReader> {
  if (current?.input === task.input) return current.reader;
  await current?.source.close();
  const source = await openFileSource(task.input);
  current = { input: task.input, source, reader: await openParquet(source, task.layout) };
  return current.reader;
}

const post = (m: WorkerMessage, transfer: ArrayBuffer[] = []) => parentPort!.postMessage(m, transfer);

async function run(task: Task): Promise<TaskResult> {
  const reader = await readerFor(task);
  if (task.kind === 'stats') {
    const moments = await taskMoments(reader, task.task, task.columns);
    post({ type: 'progress', rows: task.task.rows });
    return { kind: 'stats', moments };
  }
  const { shard, features } = task;
  const dims = features.length;
  const out = await open(task.vectorsPath, 'r+');
  const fragment = new ByteWriter(shard.rows * 36);
  const hashes = new BigUint64Array(shard.rows);
  try {
    await embedShard(reader, shard, features, task.idColumn, async (b) => {
      const position = task.headerBytes + (shard.startRow + b.rowInShard) * dims * 4;
      const bytes = new Uint8Array(b.vectors.buffer, b.vectors.byteOffset, b.vectors.byteLength);
      await out.write(bytes, 0, bytes.length, position);
      // Fragments after the first carry their leading ", ", as in the serverless shards.
      writeMappingFragment(fragment, b.ids, shard.startRow + b.rowInShard, shard.index > 0 || b.rowInShard > 0);
      hashes.set(hashIds(b.ids), b.rowInShard);
      post({ type: 'progress', rows: b.rows });
    });
  } finally {
    await out.close();
  }
  await writeFile(task.fragmentPath, fragment.bytes());
  // Sorted here, in parallel across workers; the runner only merges.
  hashes.sort();
  return { kind: 'embed', rows: shard.rows, hashes };
}

const fail = (e: unknown) => post({ type: 'error', error: serializeError(e) });

// A decoder panic is caught by the reader's panic guard and fails its task; anything else that
// escapes every promise fails the run, and the worker exits, as its state is unknown.
process.on('uncaughtException', (e: unknown) => {
  if (panicGuard.claims(e)) return;
  fail(e);
  process.exit(1);
});

parentPort!.on('message', (task: Task) => {
  run(task).then((result) => post({ type: 'done', result }, result.kind === 'embed' ? [result.hashes.buffer as ArrayBuffer] : []), fail);
});
