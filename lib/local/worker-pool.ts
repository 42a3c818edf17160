/** A fixed pool of worker threads (local/worker.ts) running the runner's tasks from a queue. */
import { Worker } from 'node:worker_threads';
import type { Task, TaskResult, WorkerMessage } from './worker-protocol.ts';
import type { Executor } from './executor.ts';
import { PipelineError, reviveError } from '../errors.ts';

// From sources (tsx, vitest) this module is .ts; in the bundle (npm start) it sits beside dist/worker.js.
const FROM_SOURCE = import.meta.url.endsWith('.ts');
const WORKER_URL = new URL(FROM_SOURCE ? './worker.ts' : './worker.js', import.meta.url);

/**
 * Run from TypeScript sources (tsx, vitest), the worker must register tsx itself before importing
 * its entry: `--import tsx` in a worker's execArgv does not reach the worker's main module on Node 20.
 */
function workerEntry(): URL {
  if (!FROM_SOURCE) return WORKER_URL;
  const api = import.meta.resolve('tsx/esm/api');
  const code = `import { register } from ${JSON.stringify(api)}; register(); await import(${JSON.stringify(WORKER_URL.href)});`;
  return new URL(`data:text/javascript,${encodeURIComponent(code)}`);
}

/** A fixed set of worker threads running tasks from a queue; the first failure fails the run. */
export class WorkerPool implements Executor {
  private readonly workers: Worker[];

  constructor(size: number) {
    this.workers = Array.from({ length: Math.max(1, size) }, () => new Worker(workerEntry()));
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
