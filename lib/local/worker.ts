/** Worker thread entry of the local runner: runs its statistics, embedding and id-partition tasks on its own wasm instance. */
import { parentPort } from 'node:worker_threads';
import type { Task, WorkerMessage } from './worker-protocol.ts';
import { panicGuard } from '../parquet/panic-guard.ts';
import { serializeError } from '../errors.ts';
import { TaskRunner } from './task-runner.ts';

const runner = new TaskRunner();
const post = (m: WorkerMessage, transfer: ArrayBuffer[] = []) => parentPort!.postMessage(m, transfer);
const fail = (e: unknown) => post({ type: 'error', error: serializeError(e) });

// A decoder panic is caught by the reader's panic guard and fails its task; anything else that
// escapes every promise fails the run, and the worker exits, as its state is unknown.
process.on('uncaughtException', (e: unknown) => {
  if (panicGuard.claims(e)) return;
  fail(e);
  process.exit(1);
});

parentPort!.on('message', (task: Task) => {
  runner.run(task, (rows) => post({ type: 'progress', rows })).then((result) => post({ type: 'done', result }), fail);
});
