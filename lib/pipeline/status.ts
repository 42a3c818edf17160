/** Where the job for the current version of an uploaded object stands, read from S3 alone. */
import type { JobStore } from './job-store.ts';
import type { JobError } from './records.ts';
import type { Manifest } from '../outputs/manifest.ts';

/** Set on an unfinished job that has made no progress for longer than the stall timeout, or was redriven. */
export interface Recovery {
  /** When its progress last changed (ms since the epoch). */
  since: number;
  stalled: boolean;
  redrives: number;
  maxRedrives: number;
}

/** What status needs to call a job stalled: the clock and the reconciler's settings. */
export interface RecoverySettings {
  now: number;
  stallMs: number;
  maxRedrives: number;
}

export type JobStatus =
  | { state: 'missing'; key: string }
  | { state: 'queued'; key: string; jobId: string; recovery?: Recovery }
  | { state: 'statistics'; key: string; jobId: string; partsDone: number; parts: number; recovery?: Recovery }
  | { state: 'running'; key: string; jobId: string; shardsDone: number; shards: number; recovery?: Recovery }
  | { state: 'done'; key: string; jobId: string; manifest: Manifest; outputs: string }
  | { state: 'failed'; key: string; jobId: string; error: JobError };

/** The status of the job for the object's current version (its ETag picks the job). */
export async function jobStatus(store: JobStore, key: string, settings?: RecoverySettings): Promise<JobStatus> {
  const status = await baseStatus(store, key);
  if (!settings || !('jobId' in status) || status.state === 'done' || status.state === 'failed') return status;
  const entry = await store.readActive(status.jobId);
  if (!entry) return status;
  const stalled = settings.now - entry.progressAt > settings.stallMs;
  if (!stalled && entry.redrives === 0) return status;
  return { ...status, recovery: { since: entry.progressAt, stalled, redrives: entry.redrives, maxRedrives: settings.maxRedrives } };
}

async function baseStatus(store: JobStore, key: string): Promise<JobStatus> {
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
      return `${where}: queued (job ${s.jobId}, statistics not finished yet)${recoveryNote(s.recovery)}`;
    case 'statistics':
      return `${where}: computing statistics (job ${s.jobId}, ${s.partsDone} of ${s.parts} parts done)${recoveryNote(s.recovery)}`;
    case 'running':
      return `${where}: running (job ${s.jobId}, ${s.shardsDone} of ${s.shards} shards done)${recoveryNote(s.recovery)}`;
    case 'done': {
      const m = s.manifest;
      return `${where}: done (job ${s.jobId}): ${m.input.rows.toLocaleString('en-US')} rows × ${m.dims} dims in ${m.shards.count} shards → s3://${bucket}/${s.outputs}{${m.outputs.vectors}, ${m.outputs.mapping}, manifest.json}`;
    }
    case 'failed':
      return `${where}: failed (job ${s.jobId}): ${s.error.error.message}`;
  }
}

/** "; stalled since … (redrive 1 of 3)" or "; redriven 1 of 3 times", or nothing. */
function recoveryNote(r: Recovery | undefined): string {
  if (!r) return '';
  const since = new Date(r.since).toISOString().replace(/\.\d+Z$/, 'Z');
  return r.stalled
    ? `; stalled since ${since} (redrive ${r.redrives} of ${r.maxRedrives})`
    : `; redriven ${r.redrives} of ${r.maxRedrives} times`;
}
