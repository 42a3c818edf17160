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

  /** Runs every task, at most one per worker at a time; results come back in task order. */
  async run(tasks: readonly Task[], onRows: (rows: number) => void): Promise<TaskResult[]> {
    const results: TaskResult[] = new Array(tasks.length);
    let next = 0;
    let failed = false;
    const drive = (worker: Worker): Promise<void> =>
      new Promise((resolve, reject) => {
        const onMessage = (m: WorkerMessage) => {
          if (m.type === 'progress') return onRows(m.rows);
          if (m.type === 'error') return finish(reviveError(m.error));
          results[index] = m.result;
          if (failed || next >= tasks.length) return finish(null);
          index = next++;
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
        if (next >= tasks.length) return resolve();
        let index = next++;
        worker.on('message', onMessage);
        worker.on('error', onError);
        worker.postMessage(tasks[index]);
      });
    await Promise.all(this.workers.map(drive));
    return results;
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
