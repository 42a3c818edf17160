/**
 * The Lambda handlers, built by factories over the clients, configuration and telemetry they are
 * given (Powertools' examples/app shape): `functions/<name>/index.ts` only wires them. Each handler
 * checks its event, opens the job store of the event's bucket and calls one pipeline step inside
 * one Telemetry invocation: JSON log lines naming the job, the step's metrics as one EMF blob.
 */
import { withDurableExecution, type DurableContext, type DurableExecutionConfig } from '@aws/durable-execution-sdk-js';
import { HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { ObjectStore } from '../pipeline/object-store.ts';
import type { Prefixes } from '../pipeline/keys.ts';
import type { JobConfig } from './config.ts';
import type { Starter } from '../pipeline/start.ts';
import type { JobInput } from '../pipeline/records.ts';
import type { EmbedPayload, ReducePayload, RepeatsPayload, StatsPayload } from '../pipeline/payloads.ts';
import { s3Store } from './s3-store.ts';
import { uploadsOf } from './s3-event.ts';
import { JobStore } from '../pipeline/job-store.ts';
import { startJob, type StartOutcome } from '../pipeline/start.ts';
import { JobFailedError, jobWorkflow, type JobResult } from '../pipeline/job.ts';
import { runStatsDeviations, runStatsMoments, runStatsWhole } from '../pipeline/stats-step.ts';
import { runEmbedShard, type EmbedOutcome } from '../pipeline/embed-step.ts';
import { runReduce, type ReduceOutcome } from '../pipeline/reduce-step.ts';
import { runIndexPartition, runRewriteShard } from '../pipeline/repeats-step.ts';
import { type Invocation, type Telemetry, type ContextLike, MetricUnit, silentTelemetry } from '../observability/telemetry.ts';
import { METRIC, type StepName } from '../observability/metric-names.ts';
import { embedProblem, jobInputProblem, reduceProblem, statsProblem, type JobRef } from './event-schemas.ts';
import { recordUsage, usageCost } from './usage.ts';
import { PipelineError } from '../errors.ts';

/** What every step handler takes; `wrapStore` lets tests inject faults below the steps, `objects` replace S3 (unit tests). */
export interface StoreDeps {
  s3: S3Client;
  prefixes: Prefixes;
  wrapStore?: (store: ObjectStore) => ObjectStore;
  objects?: (bucket: string) => ObjectStore;
  /** The function's logs, metrics and traces; none given, nothing is written. */
  telemetry?: Telemetry;
}

type Handler<O> = (event: unknown, context?: ContextLike) => Promise<O>;

/** The job store of `bucket`. */
export function storeOf(deps: StoreDeps, bucket: string): JobStore {
  const objects = deps.objects ? deps.objects(bucket) : s3Store(deps.s3, bucket);
  return new JobStore(deps.wrapStore ? deps.wrapStore(objects) : objects, deps.prefixes);
}

const telemetryOf = (deps: StoreDeps, step: StepName) => deps.telemetry ?? silentTelemetry(step);

/** An event the handler cannot take: says which field is wrong, never echoes the event. */
export class InvalidEventError extends PipelineError {
  override name = 'InvalidEventError';
}

function refuse(step: string, problem: string | null): void {
  if (problem) throw new InvalidEventError(`${step}: ${problem}`);
}

/** S3 (notification or EventBridge) → one durable execution of the job per upload, or error.json for a key that cannot be. */
export function startHandler(deps: StoreDeps & { starter: Starter }): Handler<StartOutcome[]> {
  const t = telemetryOf(deps, 'start');
  return (event, context) =>
    t.run({}, context, async (inv) => {
      const uploads = uploadsOf(event);
      if (uploads.length === 1) inv.name({ key: uploads[0]!.key, etag: uploads[0]!.etag ?? undefined });
      const outcomes: StartOutcome[] = [];
      for (const upload of uploads) {
        const outcome = await startJob(storeOf(deps, upload.bucket), deps.starter, upload);
        const jobId = outcome.status === 'started' ? outcome.jobId : undefined;
        if (uploads.length === 1) inv.name({ jobId });
        inv.log.info(`upload ${outcome.status}`, { key: upload.key, etag: upload.etag, ...(jobId && { jobId }), outcome });
        if (outcome.status === 'started') inv.metric(METRIC.jobsStarted, 1);
        outcomes.push(outcome);
      }
      return outcomes;
    });
}

/**
 * The job: the durable execution that orchestrates one upload's statistics, shards and publish.
 * Each replay logs that it began; the replay that ends the job logs how, with JobsPublished,
 * JobsFailed or JobsSuperseded and, once published, JobLatency from the upload's Last-Modified.
 */
export function jobHandler(deps: StoreDeps & { config: JobConfig; durable?: DurableExecutionConfig }) {
  const t = telemetryOf(deps, 'job');
  const workflow = jobWorkflow((bucket) => storeOf(deps, bucket), deps.config);
  return withDurableExecution(
    (job: JobInput, ctx: DurableContext) =>
      t.run({}, undefined, async (inv) => {
        refuse('job', jobInputProblem(job));
        inv.name({ jobId: job.jobId, key: job.key, etag: job.etag });
        inv.log.info('job replay began', { generation: job.generation });
        let result: JobResult;
        try {
          result = await workflow(job, ctx);
        } catch (e: unknown) {
          if (e instanceof JobFailedError) inv.metric(METRIC.jobsFailed, 1);
          throw e;
        }
        if (result.status === 'superseded') inv.metric(METRIC.jobsSuperseded, 1);
        else {
          inv.metric(METRIC.jobsPublished, 1);
          inv.metric(METRIC.rows, result.rows);
          const uploaded = deps.objects ? null : await lastModified(deps.s3, job);
          if (uploaded !== null) inv.metric(METRIC.jobLatency, Date.now() - uploaded, MetricUnit.Milliseconds);
        }
        inv.log.info(`job ${result.status}`, { result });
        return result;
      }),
    deps.durable,
  );
}

/** One statistics task of a job: both passes of a one-part file, or one part's sums or deviations. */
export function statsHandler(deps: StoreDeps): Handler<unknown> {
  return jobStep<StatsPayload & JobRef, unknown>(deps, 'stats', statsProblem, async (e, store, inv) => {
    switch (e.task) {
      case 'whole': {
        const out = await runStatsWhole(store, e.jobId);
        if (out.status === 'planned') inv.metric(METRIC.rows, out.rows);
        return out;
      }
      case 'moments':
        return runStatsMoments(store, e.jobId, e.part);
      case 'deviations':
        return runStatsDeviations(store, e.jobId, e.part, e.means);
    }
  });
}

/** One shard: embed it, write its objects and its record. */
export function embedHandler(deps: StoreDeps): Handler<EmbedOutcome> {
  return jobStep<EmbedPayload & JobRef, EmbedOutcome>(deps, 'embed', embedProblem, async (e, store, inv) => {
    const out = await runEmbedShard(store, e.jobId, e.shard);
    inv.metric(METRIC.rows, out.rows);
    inv.metric(METRIC.bytesRead, out.bytesRead, MetricUnit.Bytes);
    inv.log.info('shard embedded', { shard: e.shard, rows: out.rows, bytesRead: out.bytesRead, timingsMs: out.timingsMs });
    return out;
  });
}

/**
 * Stitches a job's shards into the published outputs, manifest last (the job holds the publish
 * lock; the manifest records the job's cost). The same function runs the repeated-id pass's tasks
 * (an id partition, a fragment's rewrite) unless the job names a function of their own.
 */
export function reduceHandler(deps: StoreDeps): Handler<unknown> {
  return jobStep<(ReducePayload | RepeatsPayload) & JobRef, unknown>(deps, 'reduce', reduceProblem, async (e, store, inv, context) => {
    if ('task' in e) {
      const out =
        e.task === 'index partition'
          ? await runIndexPartition(store, e.jobId, e.partition)
          : await runRewriteShard(store, e.jobId, e.shard);
      inv.log.info(`${e.task} done`, { outcome: out });
      return out;
    }
    const t0 = performance.now();
    const out: ReduceOutcome = await runReduce(store, e.jobId, {
      cost: () => usageCost(store, e.jobId, context && { step: 'reduce', context, durationMs: performance.now() - t0 }),
    });
    if (out.status === 'published') inv.metric(METRIC.rows, out.rows);
    inv.log.info(`reduce ${out.status}`, { outcome: out });
    return out;
  });
}

/** A step function of a job: its payload checked, its telemetry, and `usage` around `work`. */
function jobStep<P extends JobRef & { bucket: string }, O>(
  deps: StoreDeps,
  step: StepName,
  problemOf: (e: unknown) => string | null,
  work: (e: P, store: JobStore, inv: Invocation, context: ContextLike | undefined) => Promise<O>,
): Handler<O> {
  const t = telemetryOf(deps, step);
  return (event, context) =>
    t.run(fieldsOf(event), context, async (inv) => {
      const e = checked<P>(event, problemOf, step);
      const store = storeOf(deps, e.bucket);
      return usage(store, e, inv, context, step, () => work(e, store, inv, context));
    });
}

/** The event, checked; a problem is an InvalidEventError naming the field. */
function checked<E>(event: unknown, problemOf: (e: unknown) => string | null, step: string): E {
  refuse(step, problemOf(event));
  return event as E;
}

/** The job fields of a payload, as far as it has them (before it is checked). */
function fieldsOf(event: unknown): { jobId?: string; key?: string; etag?: string } {
  const e = (typeof event === 'object' && event !== null ? event : {}) as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === 'string' && v.length <= 1024 ? v : undefined);
  return { jobId: str(e.jobId), key: str(e.key), etag: str(e.etag) };
}

/** Runs a step of job `e`: a retry counted as such, the invocation's usage recorded for the job's cost. */
async function usage<T>(
  store: JobStore,
  e: JobRef,
  inv: Invocation,
  context: ContextLike | undefined,
  step: StepName,
  work: () => Promise<T>,
): Promise<T> {
  if ((e.attempt ?? 1) > 1) {
    inv.metric(METRIC.retries, 1);
    inv.log.warn('retry', { attempt: e.attempt });
  }
  const t0 = performance.now();
  try {
    return await work();
  } finally {
    if (context) await recordUsage(store, e.jobId, { step, context, durationMs: performance.now() - t0 }, inv.log);
  }
}

/** The upload's Last-Modified (ms), or null when it is gone or unreadable: the start of the job's end-to-end latency. */
async function lastModified(s3: S3Client, job: JobInput): Promise<number | null> {
  try {
    const head = await s3.send(new HeadObjectCommand({ Bucket: job.bucket, Key: job.key }));
    return head.LastModified?.getTime() ?? null;
  } catch {
    return null;
  }
}
