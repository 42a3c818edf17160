/**
 * Where a job stands, read from its records alone, and what moves it on: the unfinished work of
 * its current stage, re-invoked. Used by every step that finds its own work already recorded
 * (a retry, a duplicate), by the reconciler when a job stalls, and by `npm run redrive`.
 */
import type { StepContext } from './invoker.ts';
import type { JobStore } from './job-store.ts';
import type { JobPlan, StatsPlan, UploadedObject } from './records.ts';
import { invokeShards, invokeStatsParts } from './invoker.ts';

export type JobStage =
  | { stage: 'published' }
  | { stage: 'failed' }
  /** A newer version of the input exists: the newer upload's job owns the outputs. */
  | { stage: 'superseded' }
  /** No plan and no statistics plan yet: the stats step has not finished. */
  | { stage: 'stats' }
  | { stage: 'stats-parts'; statsPlan: StatsPlan; missing: number[] }
  | { stage: 'shards'; plan: JobPlan; missing: number[] }
  | { stage: 'reduce'; plan: JobPlan };

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** The stage of the job of `upload`, from its records. */
export async function jobStage(store: JobStore, upload: UploadedObject, jobId: string): Promise<JobStage> {
  const ending = await store.ending(upload, jobId);
  if (ending) return { stage: ending };
  if ((await store.currentEtag(upload.key)) !== upload.etag) return { stage: 'superseded' };
  const plan = await store.readPlan(jobId);
  if (plan) {
    const done = await store.shardsDoneSet(jobId);
    const missing = range(plan.shards.length).filter((i) => !done.has(i));
    return missing.length > 0 ? { stage: 'shards', plan, missing } : { stage: 'reduce', plan };
  }
  const statsPlan = await store.readStatsPlan(jobId);
  if (!statsPlan) return { stage: 'stats' };
  const done = await store.statsPartsDone(jobId);
  return { stage: 'stats-parts', statsPlan, missing: range(statsPlan.parts.length).filter((i) => !done.has(i)) };
}

/** One line of what the stage has done ("shards 17/96"): the reconciler's measure of progress. */
export function progressOf(s: JobStage): string {
  switch (s.stage) {
    case 'stats-parts':
      return `stats parts ${s.statsPlan.parts.length - s.missing.length}/${s.statsPlan.parts.length}`;
    case 'shards':
      return `shards ${s.plan.shards.length - s.missing.length}/${s.plan.shards.length}`;
    default:
      return s.stage;
  }
}

/** What never finished, for error.json: "shards 3, 17 of 96", "the statistics step". */
export function unfinishedOf(s: JobStage): string {
  switch (s.stage) {
    case 'stats':
      return 'the statistics step';
    case 'stats-parts':
      return `statistics part${s.missing.length === 1 ? '' : 's'} ${list(s.missing)} of ${s.statsPlan.parts.length}`;
    case 'shards':
      return `shard${s.missing.length === 1 ? '' : 's'} ${list(s.missing)} of ${s.plan.shards.length}`;
    case 'reduce':
      return 'the reduce step';
    default:
      return 'nothing';
  }
}

/** At most 20 indices, then "and N more". */
function list(xs: readonly number[]): string {
  return xs.length <= 20 ? xs.join(', ') : `${xs.slice(0, 20).join(', ')} and ${xs.length - 20} more`;
}

/**
 * Re-invokes the unfinished work of the job's current stage and says what it invoked; nothing
 * for a job that has ended. A duplicate of work still running is harmless: every step rewrites
 * the same bytes and the conditional writes let one invocation through.
 */
export async function advance(ctx: StepContext, upload: UploadedObject, jobId: string, stage?: JobStage): Promise<string[]> {
  const s = stage ?? (await jobStage(ctx.store, upload, jobId));
  const { store, invoker } = ctx;
  const bucket = store.bucket;
  switch (s.stage) {
    case 'stats':
      await invoker.stats({ bucket, key: upload.key, etag: upload.etag });
      return ['stats'];
    case 'stats-parts': {
      // Every part written but no plan: the part that merges them died; any part finishes the merge.
      const parts = s.missing.length > 0 ? s.missing : [s.statsPlan.parts.length - 1];
      await invokeStatsParts(invoker, bucket, jobId, parts);
      return parts.map((p) => `stats part ${p}`);
    }
    case 'shards':
      await invokeShards(invoker, bucket, jobId, s.missing);
      return s.missing.map((i) => `shard ${i}`);
    case 'reduce':
      await invoker.reduce({ bucket, jobId });
      return ['reduce'];
    default:
      return [];
  }
}
