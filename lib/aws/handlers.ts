/**
 * The Lambda handlers, built by factories over the clients and configuration they are given
 * (Powertools' examples/app shape): `functions/<name>/index.ts` only wires them. Each handler
 * checks its event, builds the job store for the event's bucket and calls one pipeline step.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { AwsClients } from './clients.ts';
import type { Config } from './config.ts';
import { s3Store } from './s3-store.ts';
import { lambdaInvoker } from './lambda-invoker.ts';
import { isS3Event, uploadsOf } from './s3-event.ts';
import { JobStore } from '../pipeline/job-store.ts';
import { runStats, runStatsPart, type StatsOutcome } from '../pipeline/stats-step.ts';
import { runEmbedShard, type EmbedOutcome } from '../pipeline/embed-step.ts';
import { runReduce, type ReduceOutcome } from '../pipeline/reduce-step.ts';
import { markShardFailed, markStatsFailed, markStatsPartFailed, type FailureRecord } from '../pipeline/failure-step.ts';
import { isEmbedPayload, isReducePayload, isStatsPartPayload } from '../pipeline/payloads.ts';
import type { StepContext } from '../pipeline/invoker.ts';
import { PipelineError } from '../errors.ts';

/** What every handler factory takes. */
export interface HandlerDeps extends AwsClients {
  config: Config;
  /** How the reducer waits for another job's publish lock; a real timer by default. */
  wait?: (ms: number) => Promise<void>;
}

function context(deps: HandlerDeps, bucket: string): StepContext {
  return { store: new JobStore(s3Store(deps.s3, bucket), deps.config.prefixes), invoker: lambdaInvoker(deps.lambda, deps.config) };
}

const shown = (event: unknown) => JSON.stringify(event)?.slice(0, 200);

/** S3 ObjectCreated on `incoming/*.parquet` → statistics, plan, one async embed per shard; or one stats part. */
export function statsHandler(deps: HandlerDeps): (event: unknown) => Promise<StatsOutcome[]> {
  return async (event) => {
    const { config } = deps;
    if (isStatsPartPayload(event)) return [await runStatsPart(context(deps, event.bucket), event.jobId, event.statsPart)];
    const outcomes: StatsOutcome[] = [];
    for (const upload of uploadsOf(event)) {
      const ctx = context(deps, upload.bucket);
      // Events carry the ETag; without one, pin to the version there now.
      const etag = upload.etag ?? (await ctx.store.currentEtag(upload.key));
      if (!etag) {
        outcomes.push({ status: 'ignored', key: upload.key, reason: 'the object no longer exists' });
        continue;
      }
      outcomes.push(await runStats(ctx, { key: upload.key, etag }, { shardRows: config.shardRows, statsPartRows: config.statsPartRows }));
    }
    return outcomes;
  };
}

/** One shard: embed it, write its objects; the last shard to finish invokes the reducer once. */
export function embedHandler(deps: HandlerDeps): (event: unknown) => Promise<EmbedOutcome> {
  return async (event) => {
    if (!isEmbedPayload(event)) throw new PipelineError(`expected { bucket, jobId, shard }, got ${shown(event)}`);
    return runEmbedShard(context(deps, event.bucket), event.jobId, event.shard);
  };
}

/** Stitches a finished job's shards into the published outputs, manifest last. */
export function reduceHandler(deps: HandlerDeps): (event: unknown) => Promise<ReduceOutcome> {
  const wait = deps.wait ?? ((ms: number) => sleep(ms));
  return async (event) => {
    if (!isReducePayload(event)) throw new PipelineError(`expected { bucket, jobId }, got ${shown(event)}`);
    return runReduce(context(deps, event.bucket).store, event.jobId, wait);
  };
}

/** The on-failure destination: an invocation that failed after its retries fails its job. */
export function failureHandler(deps: HandlerDeps): (record: FailureRecord) => Promise<{ failedJobs: string[] }> {
  return async (record) => {
    const payload = record?.requestPayload;
    if (isEmbedPayload(payload)) {
      const job = await markShardFailed(context(deps, payload.bucket).store, record);
      return { failedJobs: job ? [job] : [] };
    }
    if (isStatsPartPayload(payload)) {
      const job = await markStatsPartFailed(context(deps, payload.bucket).store, record);
      return { failedJobs: job ? [job] : [] };
    }
    const failedJobs: string[] = [];
    for (const { bucket, key, etag } of isS3Event(payload) ? uploadsOf(payload) : []) {
      if (!etag) continue;
      const job = await markStatsFailed(context(deps, bucket).store, { key, etag }, record);
      if (job) failedJobs.push(job);
    }
    return { failedJobs };
  };
}
