/**
 * The Lambda handlers, built by factories over the clients and configuration they are given
 * (Powertools' examples/app shape): `functions/<name>/index.ts` only wires them. Each handler
 * checks its event, builds the step context for the event's bucket and calls one pipeline step.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AwsClients } from './clients.ts';
import type { Config } from './config.ts';
import type { ObjectStore } from '../pipeline/object-store.ts';
import type { Invoker, StepContext } from '../pipeline/invoker.ts';
import { s3Store } from './s3-store.ts';
import { lambdaInvoker } from './lambda-invoker.ts';
import { isS3Event, uploadsOf } from './s3-event.ts';
import { JobStore } from '../pipeline/job-store.ts';
import { runStats, runStatsPart, type StatsOutcome } from '../pipeline/stats-step.ts';
import { runEmbedShard, type EmbedOutcome } from '../pipeline/embed-step.ts';
import { runReduce, type ReduceOutcome } from '../pipeline/reduce-step.ts';
import { markReduceFailed, markShardFailed, markStatsFailed, markStatsPartFailed, type FailureRecord } from '../pipeline/failure-step.ts';
import { reconcile, DEFAULT_MAX_REDRIVES, type ReconcileReport } from '../pipeline/reconcile-step.ts';
import { isEmbedPayload, isReducePayload, isStatsPartPayload, isStatsStartPayload } from '../pipeline/payloads.ts';
import { PipelineError } from '../errors.ts';

/** What every handler factory takes; the optional parts let tests and the local stack inject faults and a clock. */
export interface HandlerDeps extends AwsClients {
  config: Config;
  /** How the reducer waits for another job's publish lock; a real timer by default. */
  wait?: (ms: number) => Promise<void>;
  /** ms since the epoch; the crash-point suite moves it instead of sleeping. */
  now?: () => number;
  /** Wraps the object store of a bucket (fault injection). */
  wrapStore?: (store: ObjectStore) => ObjectStore;
  /** Wraps the invoker (fault injection: dropped or duplicated events). */
  wrapInvoker?: (invoker: Invoker) => Invoker;
}

/** The part of Lambda's context the handlers read: the request id names what an invocation writes once. */
export interface InvocationContext {
  awsRequestId?: string;
}

/** A step context for one invocation on `bucket`. */
export function stepContext(deps: HandlerDeps, bucket: string, context?: InvocationContext): StepContext {
  const objects = s3Store(deps.s3, bucket);
  const invoker = lambdaInvoker(deps.lambda, deps.config);
  return {
    store: new JobStore(deps.wrapStore ? deps.wrapStore(objects) : objects, deps.config.prefixes),
    invoker: deps.wrapInvoker ? deps.wrapInvoker(invoker) : invoker,
    writer: context?.awsRequestId ?? randomUUID(),
    ...(deps.now ? { now: deps.now } : {}),
    ...(deps.config.stallMs ? { stallMs: deps.config.stallMs } : {}),
  };
}

const shown = (event: unknown) => JSON.stringify(event)?.slice(0, 200);

/**
 * S3 ObjectCreated on `incoming/*.parquet` → statistics, plan, one async embed per shard; or one
 * stats part; or an upload the reconciler (re)starts.
 */
export function statsHandler(deps: HandlerDeps): (event: unknown, context?: InvocationContext) => Promise<StatsOutcome[]> {
  return async (event, context) => {
    const { config } = deps;
    const opts = { shardRows: config.shardRows, statsPartRows: config.statsPartRows, parquet: config.parquet };
    if (isStatsPartPayload(event)) return [await runStatsPart(stepContext(deps, event.bucket, context), event.jobId, event.statsPart)];
    if (isStatsStartPayload(event)) return [await runStats(stepContext(deps, event.bucket, context), event, opts)];
    const outcomes: StatsOutcome[] = [];
    for (const upload of uploadsOf(event)) {
      const ctx = stepContext(deps, upload.bucket, context);
      // Events carry the ETag; without one, pin to the version there now.
      const etag = upload.etag ?? (await ctx.store.currentEtag(upload.key));
      if (!etag) {
        outcomes.push({ status: 'ignored', key: upload.key, reason: 'the object no longer exists' });
        continue;
      }
      outcomes.push(await runStats(ctx, { key: upload.key, etag }, opts));
    }
    return outcomes;
  };
}

/** One shard: embed it, write its objects; the last shard to finish invokes the reducer once. */
export function embedHandler(deps: HandlerDeps): (event: unknown, context?: InvocationContext) => Promise<EmbedOutcome> {
  return async (event, context) => {
    if (!isEmbedPayload(event)) throw new PipelineError(`expected { bucket, jobId, shard }, got ${shown(event)}`);
    return runEmbedShard(stepContext(deps, event.bucket, context), event.jobId, event.shard);
  };
}

/** Stitches a finished job's shards into the published outputs, manifest last. */
export function reduceHandler(deps: HandlerDeps): (event: unknown, context?: InvocationContext) => Promise<ReduceOutcome> {
  const wait = deps.wait ?? ((ms: number) => sleep(ms));
  return async (event, context) => {
    if (!isReducePayload(event)) throw new PipelineError(`expected { bucket, jobId }, got ${shown(event)}`);
    return runReduce(stepContext(deps, event.bucket, context), event.jobId, wait);
  };
}

/** The on-failure destination of every step: an invocation that failed after its retries fails its job. */
export function failureHandler(deps: HandlerDeps): (record: FailureRecord) => Promise<{ failedJobs: string[] }> {
  return async (record) => {
    const payload = record?.requestPayload;
    const one = (job: string | null) => ({ failedJobs: job ? [job] : [] });
    if (isEmbedPayload(payload)) return one(await markShardFailed(stepContext(deps, payload.bucket).store, record));
    if (isStatsPartPayload(payload)) return one(await markStatsPartFailed(stepContext(deps, payload.bucket).store, record));
    if (isStatsStartPayload(payload)) return one(await markStatsFailed(stepContext(deps, payload.bucket).store, payload, record));
    if (isReducePayload(payload)) return one(await markReduceFailed(stepContext(deps, payload.bucket).store, record));
    const failedJobs: string[] = [];
    for (const { bucket, key, etag } of isS3Event(payload) ? uploadsOf(payload) : []) {
      if (!etag) continue;
      const job = await markStatsFailed(stepContext(deps, bucket).store, { key, etag }, record);
      if (job) failedJobs.push(job);
    }
    return { failedJobs };
  };
}

/** The scheduled reconciler: one sweep of the bucket the configuration names (or the event's `bucket`). */
export function reconcileHandler(
  deps: HandlerDeps & { bucket: string },
): (event: unknown, context?: InvocationContext) => Promise<ReconcileReport> {
  return async (event, context) => {
    const bucket = typeof (event as { bucket?: unknown })?.bucket === 'string' ? (event as { bucket: string }).bucket : deps.bucket;
    return reconcile(stepContext(deps, bucket, context), { maxRedrives: deps.config.maxRedrives ?? DEFAULT_MAX_REDRIVES });
  };
}
