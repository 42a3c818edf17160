/** Worker thread entry of `similar --ids-file`: answers queries over vectors shared with the main thread (no copy). */
import { parentPort, workerData } from 'node:worker_threads';
import { nearest } from './nearest.ts';
import type { SearchJob, SearchReply } from './search-pool.ts';

const { buffer, dims } = workerData as { buffer: SharedArrayBuffer; dims: number };
const vectors = new Float32Array(buffer);

parentPort!.on('message', (job: SearchJob) => {
  const reply: SearchReply = {
    id: job.id,
    found: job.queries.map((q) => nearest(vectors, dims, q.vector, job.k, job.metric, new Set(q.exclude))),
  };
  parentPort!.postMessage(reply);
});
