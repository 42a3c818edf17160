/** Where the job for the current version of an uploaded object stands, read from S3 alone. */
import type { JobStore } from './job-store.ts';
import type { JobError } from './records.ts';
import type { Manifest } from '../outputs/manifest.ts';

export type JobStatus =
  | { state: 'missing'; key: string }
  | { state: 'queued'; key: string; jobId: string }
  | { state: 'statistics'; key: string; jobId: string; partsDone: number; parts: number }
  | { state: 'running'; key: string; jobId: string; shardsDone: number; shards: number }
  | { state: 'done'; key: string; jobId: string; manifest: Manifest; outputs: string }
  | { state: 'failed'; key: string; jobId: string; error: JobError };

/** The status of the job for the object's current version (its ETag picks the job). */
export async function jobStatus(store: JobStore, key: string): Promise<JobStatus> {
  const etag = await store.currentEtag(key);
  if (etag === null) return { state: 'missing', key };
  const jobId = store.jobIdOf({ key, etag });
  const name = store.nameOf(key);
  const [manifest, error, plan] = await Promise.all([store.readManifest(name), store.readError(name), store.readPlan(jobId)]);
  if (manifest?.input.etag === etag) return { state: 'done', key, jobId, manifest, outputs: store.outputPrefix(name) };
  if (error?.jobId === jobId) return { state: 'failed', key, jobId, error };
  if (!plan) {
    const stats = await store.readStatsPlan(jobId);
    if (!stats) return { state: 'queued', key, jobId };
    return { state: 'statistics', key, jobId, partsDone: await store.statsPartsWritten(jobId), parts: stats.parts.length };
  }
  return { state: 'running', key, jobId, shardsDone: await store.shardsDone(jobId), shards: plan.shards.length };
}

/** One line for a person. */
export function describeStatus(s: JobStatus, bucket: string): string {
  const where = `s3://${bucket}/${s.key}`;
  switch (s.state) {
    case 'missing':
      return `${where}: no such object`;
    case 'queued':
      return `${where}: queued (job ${s.jobId}, statistics not finished yet)`;
    case 'statistics':
      return `${where}: computing statistics (job ${s.jobId}, ${s.partsDone} of ${s.parts} parts done)`;
    case 'running':
      return `${where}: running (job ${s.jobId}, ${s.shardsDone} of ${s.shards} shards done)`;
    case 'done': {
      const m = s.manifest;
      return `${where}: done (job ${s.jobId}): ${m.input.rows.toLocaleString('en-US')} rows × ${m.dims} dims in ${m.shards.count} shards → s3://${bucket}/${s.outputs}{${m.outputs.vectors}, ${m.outputs.mapping}, manifest.json}`;
    }
    case 'failed':
      return `${where}: failed (job ${s.jobId}): ${s.error.error.message}`;
  }
}
