/**
 * Many queries over one set of vectors, spread over worker threads that share the vectors
 * (a SharedArrayBuffer: nothing is copied per worker). Small batches stay in this thread: a
 * worker costs a thread and a module graph, more than a few scans.
 */
import { Worker } from 'node:worker_threads';
import { workerEntry } from '../io/worker-entry.ts';
import { nearest, type Metric, type Neighbour } from './nearest.ts';

export interface SearchQuery {
  vector: Float64Array;
  /** Rows left out of this query's answer (its seeds). */
  exclude: number[];
}

/** What the main thread sends a worker, and what comes back. */
export interface SearchJob {
  id: number;
  queries: SearchQuery[];
  k: number;
  metric: Metric;
}
export interface SearchReply {
  id: number;
  found: Neighbour[][];
}

/** Rows scanned (queries × rows) below which the queries run in this thread. */
export const POOL_MIN_ROWS_SCANNED = 50_000_000;
/** Queries sent to a worker at once: enough to amortise a message, few enough to balance the workers. */
const JOB_QUERIES = 16;

/** A copy of `vectors` in shared memory, which workers read in place. */
export function sharedVectors(vectors: Float32Array): Float32Array {
  if (vectors.buffer instanceof SharedArrayBuffer) return vectors;
  const shared = new Float32Array(new SharedArrayBuffer(vectors.byteLength));
  shared.set(vectors);
  return shared;
}

/**
 * The answers to `queries`, in order, on up to `workers` threads (1, or fewer than
 * `minRowsScanned` rows to scan in all: this thread). `onAnswer` gets each answer as soon as it
 * and every earlier one are known, so output can stream in order.
 */
export async function searchMany(
  vectors: Float32Array,
  dims: number,
  queries: readonly SearchQuery[],
  k: number,
  metric: Metric,
  workers: number,
  onAnswer: (index: number, found: Neighbour[]) => void,
  minRowsScanned = POOL_MIN_ROWS_SCANNED,
): Promise<void> {
  const rows = vectors.length / dims;
  if (workers <= 1 || queries.length * rows < minRowsScanned) {
    queries.forEach((q, i) => onAnswer(i, nearest(vectors, dims, q.vector, k, metric, new Set(q.exclude))));
    return;
  }
  const shared = sharedVectors(vectors);
  const pool = Array.from(
    { length: workers },
    () => new Worker(workerEntry(import.meta.url, 'search-worker'), { workerData: { buffer: shared.buffer, dims } }),
  );
  const answers = new Map<number, Neighbour[]>();
  let emitted = 0;
  const emit = () => {
    while (answers.has(emitted)) {
      onAnswer(emitted, answers.get(emitted)!);
      answers.delete(emitted);
      emitted++;
    }
  };
  let next = 0;
  try {
    await Promise.all(
      pool.map(
        (worker) =>
          new Promise<void>((resolve, reject) => {
            const send = () => {
              if (next >= queries.length) return resolve();
              const id = next;
              next = Math.min(queries.length, next + JOB_QUERIES);
              const job: SearchJob = { id, queries: queries.slice(id, next), k, metric };
              worker.postMessage(job);
            };
            worker.on('message', (reply: SearchReply) => {
              reply.found.forEach((found, i) => answers.set(reply.id + i, found));
              emit();
              send();
            });
            worker.on('error', reject);
            send();
          }),
      ),
    );
  } finally {
    await Promise.all(pool.map((w) => w.terminate()));
  }
}
