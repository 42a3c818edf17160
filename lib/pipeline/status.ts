/**
 * Where the job for the current version of an uploaded object stands, read from S3 alone: its
 * outputs or error.json once it has ended, else its run's records (statistics plan, plan, shard
 * records). The execution itself, with its steps and retries, is in the engine's history.
 */
import type { JobStore } from './job-store.ts';
import type { JobError } from './records.ts';
import type { Manifest } from '../outputs/manifest.ts';
import { costLine } from '../observability/cost.ts';
import { jobIdFor } from './keys.ts';

export type JobStatus =
  | { state: 'missing'; key: string }
  /** The key cannot be embedded (see `keyProblem`): no job was started. */
  | { state: 'refused'; key: string; error: JobError }
  /** Started (or about to be): no statistics plan yet. */
  | { state: 'queued'; key: string; jobId: string }
  | { state: 'statistics'; key: string; jobId: string; parts: number }
  | { state: 'running'; key: string; jobId: string; shardsDone: number; shards: number }
  /** The engine ended the execution (TIMED_OUT, STOPPED) before the job could write how it ended. */
  | { state: 'ended-unrecorded'; key: string; jobId: string; execution: string }
  | { state: 'done'; key: string; jobId: string; manifest: Manifest; outputs: string }
  | { state: 'failed'; key: string; jobId: string; error: JobError };

/** The engine's word on an execution: its status (RUNNING, SUCCEEDED, FAILED, TIMED_OUT, STOPPED), or null when none has that name. */
export type ExecutionStatusOf = (jobId: string) => Promise<string | null>;

/**
 * The status of the job for the object's current version (its ETag, and the runs that failed
 * before, pick the job). With `executionStatus`, an unfinished job whose execution the engine
 * has ended (its timeout, a stop) is said to be so, rather than "running" for ever.
 */
export async function jobStatus(store: JobStore, key: string, executionStatus?: ExecutionStatusOf): Promise<JobStatus> {
  const unfinished = (s: JobStatus) => s.state === 'queued' || s.state === 'statistics' || s.state === 'running';
  let status = await recordedStatus(store, key);
  if (!executionStatus) return status;
  // An ended execution that recorded nothing, and a later generation already run for these bytes (a redrive): look at that one.
  for (let skip = 1; unfinished(status) && 'jobId' in status; skip++) {
    const execution = await executionStatus(status.jobId);
    if (execution === null || execution === 'RUNNING') return status;
    const later = await recordedStatus(store, key, skip);
    if ('jobId' in later && (await executionStatus(later.jobId)) !== null) {
      status = later;
      continue;
    }
    // Re-read: the job may have written its ending just as the engine finished it.
    const again = await recordedStatus(store, key, skip - 1);
    return again.state === status.state ? { state: 'ended-unrecorded', key, jobId: status.jobId, execution } : again;
  }
  return status;
}

/** The status S3's records give, `skip` generations past the one they point at. */
async function recordedStatus(store: JobStore, key: string, skip = 0): Promise<JobStatus> {
  const etag = await store.currentEtag(key);
  if (etag === null) return { state: 'missing', key };
  if (store.keyProblem(key)) {
    const error = await store.readRejectedKey(key);
    if (error?.input.etag === etag) return { state: 'refused', key, error };
  }
  const name = store.nameOf(key);
  const [manifest, error] = await Promise.all([store.readManifest(name), store.readError(name)]);
  if (manifest?.input.etag === etag)
    return { state: 'done', key, jobId: manifest.jobId ?? jobIdFor(store.bucket, key, etag), manifest, outputs: store.outputPrefix(name) };
  const failed = error?.input.etag === etag ? error : null;
  // A run after a failed one of the same bytes (a re-upload, a redrive) is the next generation.
  const next = jobIdFor(store.bucket, key, etag, (failed?.generation ?? -1) + 1 + skip);
  const [plan, stats] = await Promise.all([store.readPlan(next), store.readStatsPlan(next)]);
  if (plan) return { state: 'running', key, jobId: next, shardsDone: await store.shardRecords(next), shards: plan.shards.length };
  if (stats) return { state: 'statistics', key, jobId: next, parts: stats.parts.length };
  if (failed && skip === 0) return { state: 'failed', key, jobId: failed.jobId, error: failed };
  return { state: 'queued', key, jobId: next };
}

/** One line for a person. */
export function describeStatus(s: JobStatus, bucket: string): string {
  const where = `s3://${bucket}/${s.key}`;
  switch (s.state) {
    case 'missing':
      return `${where}: no such object`;
    case 'refused':
      return `${where}: refused: ${s.error.error.message}`;
    case 'queued':
      return `${where}: queued (job ${s.jobId}, statistics not started yet)`;
    case 'statistics':
      return `${where}: computing statistics (job ${s.jobId}, ${s.parts} part${s.parts === 1 ? '' : 's'})`;
    case 'running':
      return `${where}: running (job ${s.jobId}, ${s.shardsDone} of ${s.shards} shards done)`;
    case 'ended-unrecorded':
      return `${where}: the engine ended job ${s.jobId} as ${s.execution} before it recorded an ending: run redrive to run it again`;
    case 'done': {
      const m = s.manifest;
      const done = `${where}: done (job ${s.jobId}): ${m.input.rows.toLocaleString('en-US')} rows × ${m.dims} dims in ${m.shards.count} shards → s3://${bucket}/${s.outputs}{${m.outputs.vectors}, ${m.outputs.mapping}, manifest.json}`;
      return m.cost ? `${done}\n${costLine(m.cost)}` : done;
    }
    case 'failed':
      return `${where}: failed (job ${s.jobId}): ${s.error.error.message}`;
  }
}
