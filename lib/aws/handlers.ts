/**
 * The Lambda handlers, built by factories over the clients and configuration they are given
 * (Powertools' examples/app shape): `functions/<name>/index.ts` only wires them. Each handler
 * checks its event, opens the job store of the event's bucket and calls one pipeline step.
 */
import { withDurableExecution, type DurableExecutionConfig } from '@aws/durable-execution-sdk-js';
import type { S3Client } from '@aws-sdk/client-s3';
import type { ObjectStore } from '../pipeline/object-store.ts';
import type { Prefixes } from '../pipeline/keys.ts';
import type { JobConfig } from './config.ts';
import type { Starter } from '../pipeline/start.ts';
import { s3Store } from './s3-store.ts';
import { uploadsOf } from './s3-event.ts';
import { JobStore } from '../pipeline/job-store.ts';
import { startJob, type StartOutcome } from '../pipeline/start.ts';
import { jobWorkflow } from '../pipeline/job.ts';
import { runStatsDeviations, runStatsMoments, runStatsWhole } from '../pipeline/stats-step.ts';
import { runEmbedShard, type EmbedOutcome } from '../pipeline/embed-step.ts';
import { runReduce, type ReduceOutcome } from '../pipeline/reduce-step.ts';
import { isEmbedPayload, isReducePayload, isRepeatsPayload, isStatsPayload } from '../pipeline/payloads.ts';
import { runIndexPartition, runRewriteShard } from '../pipeline/repeats-step.ts';
import { PipelineError } from '../errors.ts';

/** What every step handler takes; `wrapStore` lets tests inject faults below the steps, `objects` replace S3 (unit tests). */
export interface StoreDeps {
  s3: S3Client;
  prefixes: Prefixes;
  wrapStore?: (store: ObjectStore) => ObjectStore;
  objects?: (bucket: string) => ObjectStore;
}

/** The job store of `bucket`. */
export function storeOf(deps: StoreDeps, bucket: string): JobStore {
  const objects = deps.objects ? deps.objects(bucket) : s3Store(deps.s3, bucket);
  return new JobStore(deps.wrapStore ? deps.wrapStore(objects) : objects, deps.prefixes);
}

const shown = (event: unknown) => JSON.stringify(event)?.slice(0, 200);

/** S3 (notification or EventBridge) → one durable execution of the job per upload, or error.json for a key that cannot be. */
export function startHandler(deps: StoreDeps & { starter: Starter }): (event: unknown) => Promise<StartOutcome[]> {
  return async (event) => {
    const outcomes: StartOutcome[] = [];
    for (const upload of uploadsOf(event)) outcomes.push(await startJob(storeOf(deps, upload.bucket), deps.starter, upload));
    return outcomes;
  };
}

/** The job: the durable execution that orchestrates one upload's statistics, shards and publish. */
export function jobHandler(deps: StoreDeps & { config: JobConfig; durable?: DurableExecutionConfig }) {
  return withDurableExecution(
    jobWorkflow((bucket) => storeOf(deps, bucket), deps.config),
    deps.durable,
  );
}

/** One statistics task of a job: both passes of a one-part file, or one part's sums or deviations. */
export function statsHandler(deps: StoreDeps) {
  return async (event: unknown) => {
    if (!isStatsPayload(event)) throw new PipelineError(`expected { bucket, jobId, task[, part, means] }, got ${shown(event)}`);
    const store = storeOf(deps, event.bucket);
    switch (event.task) {
      case 'whole':
        return runStatsWhole(store, event.jobId);
      case 'moments':
        return runStatsMoments(store, event.jobId, event.part);
      case 'deviations':
        return runStatsDeviations(store, event.jobId, event.part, event.means);
    }
  };
}

/** One shard: embed it, write its objects and its record. */
export function embedHandler(deps: StoreDeps): (event: unknown) => Promise<EmbedOutcome> {
  return async (event) => {
    if (!isEmbedPayload(event)) throw new PipelineError(`expected { bucket, jobId, shard }, got ${shown(event)}`);
    return runEmbedShard(storeOf(deps, event.bucket), event.jobId, event.shard);
  };
}

/**
 * Stitches a job's shards into the published outputs, manifest last (the job holds the publish
 * lock); the same function runs the repeated-id pass's tasks (an id partition, a fragment's
 * rewrite) unless the job names a function of their own.
 */
export function reduceHandler(deps: StoreDeps): (event: unknown) => Promise<unknown> {
  return async (event) => {
    if (isRepeatsPayload(event)) {
      const store = storeOf(deps, event.bucket);
      return event.task === 'index partition'
        ? runIndexPartition(store, event.jobId, event.partition)
        : runRewriteShard(store, event.jobId, event.shard);
    }
    if (!isReducePayload(event)) throw new PipelineError(`expected { bucket, jobId[, task] }, got ${shown(event)}`);
    return runReduce(storeOf(deps, event.bucket), event.jobId) satisfies Promise<ReduceOutcome>;
  };
}
