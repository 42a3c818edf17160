/**
 * The failure path: an asynchronous invocation that still failed after its retries arrives here
 * (Lambda's on-failure destination) and becomes the job's error.json, naming the job and the
 * unit of work that failed.
 */
import type { JobStore } from './job-store.ts';
import type { UploadedObject } from './records.ts';
import { isEmbedPayload, isStatsPartPayload } from './payloads.ts';

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
  // A shard of a superseded job fails by design (its input changed under IfMatch): the newer
  // upload's job owns the outputs, so only the job's own record says what happened.
  if ((await store.currentEtag(plan.key)) !== plan.etag) return payload.jobId;
  await store.writeError(plan, payload.jobId, { type: record.responsePayload?.errorType ?? 'ShardFailed', message, shard: payload.shard });
  return payload.jobId;
}

/**
 * Marks the job of an upload whose stats invocation failed after its retries (a timeout, lost
 * access): error.json for the upload, unless a newer version replaced it or the plan exists.
 */
export async function markStatsFailed(store: JobStore, upload: UploadedObject, record: FailureRecord): Promise<string | null> {
  const jobId = store.jobIdOf(upload);
  if ((await store.currentEtag(upload.key)) !== upload.etag) return null;
  if (await store.hasPlan(jobId)) return null;
  const { attempts, cause } = attemptsAndCause(record);
  await store.writeError(upload, jobId, {
    type: record.responsePayload?.errorType ?? 'StatsFailed',
    message: `${store.url(upload.key)}: job ${jobId}: the statistics step failed${attempts}: ${cause}`,
  });
  return jobId;
}

/** Marks the job of a stats part that failed after its retries; null when the record is not a part's or its input was replaced. */
export async function markStatsPartFailed(store: JobStore, record: FailureRecord): Promise<string | null> {
  const payload = record.requestPayload;
  if (!isStatsPartPayload(payload)) return null;
  const sp = await store.statsPlan(payload.jobId);
  // As for shards: a superseded job's failure is not the upload's; the newer job owns error.json.
  if ((await store.currentEtag(sp.key)) !== sp.etag) return null;
  const { attempts, cause } = attemptsAndCause(record);
  await store.writeError(sp, payload.jobId, {
    type: record.responsePayload?.errorType ?? 'StatsFailed',
    message: `${store.url(sp.key)}: job ${payload.jobId}: statistics part ${payload.statsPart} of ${sp.parts.length} failed${attempts}: ${cause}`,
    statsPart: payload.statsPart,
  });
  return payload.jobId;
}
