/**
 * How a job that did not publish ends: superseded by a newer upload of its key (whose own job
 * owns the outputs: nothing to write), or failed with error.json naming what went wrong. Either
 * way its scratch is removed. Run again (a retried step), it writes the same ending.
 */
import type { JobStore } from './job-store.ts';
import type { JobError, JobInput } from './records.ts';

export type UnpublishedEnding = { ending: 'failed'; message: string } | { ending: 'superseded' } | { ending: 'published' };

/** Ends the job of `job` that could not publish, with `error` as its cause. */
export async function endUnpublished(store: JobStore, job: JobInput, error: JobError['error']): Promise<UnpublishedEnding> {
  const current = await store.currentEtag(job.key);
  if (current !== null && current !== job.etag) {
    await store.retire(job.jobId);
    return { ending: 'superseded' };
  }
  const message = current === null ? `${store.url(job.key)} was deleted while job ${job.jobId} ran (${error.message})` : error.message;
  const written = await store.writeError(job, job.jobId, job.generation, { ...error, message });
  await store.retire(job.jobId);
  // Not written: this very version is published (the failure came after the manifest).
  return written ? { ending: 'failed', message } : { ending: 'published' };
}
