/** A fixed pool of worker threads (local/worker.ts) running the runner's tasks from a queue. */
import { Worker } from 'node:worker_threads';
import { workerEntry } from '../io/worker-entry.ts';
import type { Task, TaskResult, WorkerMessage } from './worker-protocol.ts';
import type { Executor } from './executor.ts';
import { PipelineError, reviveError } from '../errors.ts';

/** A fixed set of worker threads running tasks from a queue; the first failure fails the run. */
export class WorkerPool implements Executor {
  private readonly workers: Worker[];

  constructor(size: number) {
    this.workers = Array.from({ length: Math.max(1, size) }, () => new Worker(workerEntry(import.meta.url, 'worker')));
  }

  /**
   * Runs every task, at most one per worker at a time; results come back in task order. With
   * `homes`, task i runs on worker homes[i] (in task order there), so a worker meets again the
   * rows it read before; else each worker takes the next task when it is free.
   */
  async run(tasks: readonly Task[], onRows: (rows: number) => void, homes?: readonly number[]): Promise<TaskResult[]> {
    const results: TaskResult[] = new Array(tasks.length);
    const shared = tasks.map((_, i) => i);
    const queues = this.workers.map((_, w) => (homes ? shared.filter((i) => homes[i]! % this.workers.length === w) : shared));
    let failed = false;
    const drive = (worker: Worker, queue: number[]): Promise<void> =>
      new Promise((resolve, reject) => {
        const onMessage = (m: WorkerMessage) => {
          if (m.type === 'progress') return onRows(m.rows);
          if (m.type === 'error') return finish(reviveError(m.error));
          results[index] = m.result;
          if (failed || queue.length === 0) return finish(null);
          index = queue.shift()!;
          worker.postMessage(tasks[index]);
        };
        const onError = (e: Error) => finish(new PipelineError(`worker thread crashed: ${e.message}`, { cause: e }));
        const finish = (e: Error | null) => {
          worker.off('message', onMessage);
          worker.off('error', onError);
          if (e) {
            failed = true;
            reject(e);
          } else resolve();
        };
        if (queue.length === 0) return resolve();
        let index = queue.shift()!;
        worker.on('message', onMessage);
        worker.on('error', onError);
        worker.postMessage(tasks[index]);
      });
    await Promise.all(this.workers.map((w, k) => drive(w, queues[k]!)));
    return results;
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
