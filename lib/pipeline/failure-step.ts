/**
 * The failure path: an asynchronous invocation that still failed after its retries arrives here
 * (Lambda's on-failure destination) and becomes the job's error.json, naming the job and shard.
 */
import type { ObjectStore } from './object-store.ts';
import type { Prefixes } from './keys.ts';
import { jobIdFor, jobKeys } from './keys.ts';
import { loadPlan } from './embed-step.ts';
import { getJson } from './object-store.ts';
import { writeJobError, type StatsPlan } from './stats-step.ts';
import { isEmbedPayload, isStatsPartPayload } from './payloads.ts';
import { PipelineError } from '../errors.ts';

/** The part of Lambda's invocation record this handler reads. */
export interface FailureRecord {
  requestContext?: { condition?: string; approximateInvokeCount?: number };
  requestPayload?: unknown;
  responsePayload?: { errorType?: string; errorMessage?: string } | null;
}

/** Marks the job of a failed shard as failed; returns the job id, or null when the record is not a shard's. */
export async function markShardFailed(store: ObjectStore, record: FailureRecord, prefixes: Prefixes): Promise<string | null> {
  const payload = record.requestPayload;
  if (!isEmbedPayload(payload)) return null;
  const plan = await loadPlan(store, payload.jobId, prefixes);
  const attempts = record.requestContext?.approximateInvokeCount;
  const cause = record.responsePayload?.errorMessage ?? 'unknown error';
  const message =
    `job ${payload.jobId}: shard ${payload.shard} of ${plan.shards.length} failed` +
    `${attempts ? ` after ${attempts} attempt(s)` : ''} (${record.requestContext?.condition ?? 'failed'}): ${cause}`;
  await store.put(jobKeys(payload.jobId, prefixes).failed, JSON.stringify({ shard: payload.shard, message }), 'application/json');
  // A shard of a superseded job fails by design (its input changed under IfMatch): the newer
  // upload's job owns the outputs, so only the job's own record says what happened.
  if ((await store.currentEtag(plan.key)) !== plan.etag) return payload.jobId;
  await writeJobError(store, prefixes, { key: plan.key, etag: plan.etag }, payload.jobId, {
    type: record.responsePayload?.errorType ?? 'ShardFailed',
    message,
    shard: payload.shard,
  });
  return payload.jobId;
}

/**
 * Marks the job of an upload whose stats invocation failed after its retries (a timeout, lost
 * access): error.json for the upload, unless a newer version replaced it or the plan exists.
 */
export async function markStatsFailed(
  store: ObjectStore,
  upload: { key: string; etag: string },
  record: FailureRecord,
  prefixes: Prefixes,
): Promise<string | null> {
  const jobId = jobIdFor(store.bucket, upload.key, upload.etag);
  if ((await store.currentEtag(upload.key)) !== upload.etag) return null;
  if (await store.exists(jobKeys(jobId, prefixes).plan)) return null;
  const attempts = record.requestContext?.approximateInvokeCount;
  const cause = record.responsePayload?.errorMessage ?? 'unknown error';
  await writeJobError(store, prefixes, upload, jobId, {
    type: record.responsePayload?.errorType ?? 'StatsFailed',
    message: `s3://${store.bucket}/${upload.key}: job ${jobId}: the statistics step failed${attempts ? ` after ${attempts} attempt(s)` : ''}: ${cause}`,
  });
  return jobId;
}

/** Marks the job of a stats part that failed after its retries; null when the record is not a part's or its input was replaced. */
export async function markStatsPartFailed(store: ObjectStore, record: FailureRecord, prefixes: Prefixes): Promise<string | null> {
  const payload = record.requestPayload;
  if (!isStatsPartPayload(payload)) return null;
  const keys = jobKeys(payload.jobId, prefixes);
  const sp = await getJson<StatsPlan>(store, keys.statsPlan);
  if (!sp) throw new PipelineError(`job ${payload.jobId}: no stats.json in s3://${store.bucket}/${keys.statsPlan}`);
  // As for shards: a superseded job's failure is not the upload's; the newer job owns error.json.
  if ((await store.currentEtag(sp.key)) !== sp.etag) return null;
  const attempts = record.requestContext?.approximateInvokeCount;
  const cause = record.responsePayload?.errorMessage ?? 'unknown error';
  await writeJobError(store, prefixes, { key: sp.key, etag: sp.etag }, payload.jobId, {
    type: record.responsePayload?.errorType ?? 'StatsFailed',
    message:
      `s3://${store.bucket}/${sp.key}: job ${payload.jobId}: statistics part ${payload.statsPart} of ${sp.parts.length} failed` +
      `${attempts ? ` after ${attempts} attempt(s)` : ''}: ${cause}`,
    statsPart: payload.statsPart,
  });
  return payload.jobId;
}
