/**
 * The failure path: an asynchronous invocation that still failed after its retries arrives here
 * (Lambda's on-failure destination) and ends its job: error.json naming the job and the unit of
 * work that failed, and the job's scratch retired. A job already published, or superseded by a
 * newer upload, is left as it is.
 */
import type { JobStore } from './job-store.ts';
import type { UploadedObject } from './records.ts';
import { isEmbedPayload, isReducePayload, isStatsPartPayload } from './payloads.ts';

/** The part of Lambda's invocation record this handler reads. */
export interface FailureRecord {
  requestContext?: { condition?: string; approximateInvokeCount?: number };
  requestPayload?: unknown;
  responsePayload?: { errorType?: string; errorMessage?: string } | null;
}

/** " after 3 attempt(s)" when the record says how many, and the cause. */
function attemptsAndCause(record: FailureRecord): { attempts: string; cause: string } {
  const n = record.requestContext?.approximateInvokeCount;
  return { attempts: n ? ` after ${n} attempt(s)` : '', cause: record.responsePayload?.errorMessage ?? 'unknown error' };
}

/**
 * Ends the job with error.json unless it was superseded (the newer upload's job owns the
 * outputs: a shard of a superseded job fails by design, its input changed under IfMatch) or has
 * already ended; retires its scratch either way. Returns whether error.json was written.
 */
async function failJob(
  store: JobStore,
  upload: UploadedObject,
  jobId: string,
  error: { type: string; message: string; shard?: number; statsPart?: number },
): Promise<boolean> {
  const superseded = (await store.currentEtag(upload.key)) !== upload.etag;
  const written = !superseded && !(await store.ending(upload, jobId)) && (await store.writeError(upload, jobId, error));
  await store.retire(jobId);
  return written;
}

/** Marks the job of a failed shard as failed; returns the job id, or null when the record is not a shard's. */
export async function markShardFailed(store: JobStore, record: FailureRecord): Promise<string | null> {
  const payload = record.requestPayload;
  if (!isEmbedPayload(payload)) return null;
  const plan = await store.plan(payload.jobId);
  const { attempts, cause } = attemptsAndCause(record);
  const message =
    `job ${payload.jobId}: shard ${payload.shard} of ${plan.shards.length} failed` +
    `${attempts} (${record.requestContext?.condition ?? 'failed'}): ${cause}`;
  await store.writeFailure(payload.jobId, { shard: payload.shard, message });
  await failJob(store, plan, payload.jobId, { type: record.responsePayload?.errorType ?? 'ShardFailed', message, shard: payload.shard });
  return payload.jobId;
}

/** Marks the job of a reduce that failed after its retries; null when the record is not a reduce's. */
export async function markReduceFailed(store: JobStore, record: FailureRecord): Promise<string | null> {
  const payload = record.requestPayload;
  if (!isReducePayload(payload)) return null;
  const plan = await store.plan(payload.jobId);
  const { attempts, cause } = attemptsAndCause(record);
  const message = `${store.url(plan.key)}: job ${payload.jobId}: the reduce step failed${attempts}: ${cause}`;
  return (await failJob(store, plan, payload.jobId, { type: record.responsePayload?.errorType ?? 'ReduceFailed', message }))
    ? payload.jobId
    : null;
}

/**
 * Marks the job of an upload whose stats invocation failed after its retries (a timeout, lost
 * access): error.json for the upload, unless a newer version replaced it or the plan exists
 * (then the statistics did finish, and the job goes on).
 */
export async function markStatsFailed(store: JobStore, upload: UploadedObject, record: FailureRecord): Promise<string | null> {
  const jobId = store.jobIdOf(upload);
  if ((await store.currentEtag(upload.key)) !== upload.etag) return null;
  if (await store.hasPlan(jobId)) return null;
  const { attempts, cause } = attemptsAndCause(record);
  const message = `${store.url(upload.key)}: job ${jobId}: the statistics step failed${attempts}: ${cause}`;
  return (await failJob(store, upload, jobId, { type: record.responsePayload?.errorType ?? 'StatsFailed', message })) ? jobId : null;
}

/** Marks the job of a stats part that failed after its retries; null when the record is not a part's or its input was replaced. */
export async function markStatsPartFailed(store: JobStore, record: FailureRecord): Promise<string | null> {
  const payload = record.requestPayload;
  if (!isStatsPartPayload(payload)) return null;
  const sp = await store.statsPlan(payload.jobId);
  const { attempts, cause } = attemptsAndCause(record);
  const written = await failJob(store, sp, payload.jobId, {
    type: record.responsePayload?.errorType ?? 'StatsFailed',
    message: `${store.url(sp.key)}: job ${payload.jobId}: statistics part ${payload.statsPart} of ${sp.parts.length} failed${attempts}: ${cause}`,
    statsPart: payload.statsPart,
  });
  return written ? payload.jobId : null;
}
