/**
 * Where the runner's tasks run: a pool of worker threads (worker-pool.ts), or this process, one
 * task at a time. Starting a worker costs a thread, a module graph and a wasm instance; on a
 * small file that is most of the run, so below a size the runner stays in-process.
 */
import type { Task, TaskResult } from './worker-protocol.ts';
import { TaskRunner } from './task-runner.ts';

export interface Executor {
  /** Runs every task; results come back in task order; the first failure fails the run. `homes`: the worker of each task, if it matters. */
  run(tasks: readonly Task[], onRows: (rows: number) => void, homes?: readonly number[]): Promise<TaskResult[]>;
  close(): Promise<void>;
}

/**
 * Runs the tasks in this process, in order: no threads to start, the same TaskRunner as a worker.
 * `retain`: the columns every task of the run reads, decoded once and kept (see retained-reader.ts).
 */
export class InlineExecutor implements Executor {
  private readonly runner: TaskRunner;

  constructor(retain: readonly string[] = []) {
    this.runner = new TaskRunner(retain);
  }

  async run(tasks: readonly Task[], onRows: (rows: number) => void): Promise<TaskResult[]> {
    const results: TaskResult[] = [];
    for (const task of tasks) results.push(await this.runner.run(task, onRows));
    return results;
  }

  close(): Promise<void> {
    return this.runner.close();
  }
}
