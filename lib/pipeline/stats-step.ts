/**
 * The first step of a serverless job: for one uploaded object, read its footer, refuse bad
 * input with error.json, compute the statistics over the standardised columns only, plan the
 * shards and write the plan exactly once. The caller then fans out one embed per shard.
 *
 * Large files fan the statistics out too: the triggered call writes `stats.json` (the parts)
 * instead, each part computes the moments of its statistics tasks, and whichever part finds all
 * parts written merges them, in file order, into the plan. The tasks and the merge order are the
 * same as on one machine, so the statistics are the same bits however the pass was split.
 */
import type { ParquetLayout } from '../parquet/footer.ts';
import type { ParquetReader } from '../parquet/reader.ts';
import type { StatsTask } from '../embedding/shard-plan.ts';
import type { JobStore } from './job-store.ts';
import { randomUUID } from 'node:crypto';
import type { StepContext } from './invoker.ts';
import type { JobPlan, PlanInput, UploadedObject } from './records.ts';
import { DEFAULT_SPEC, standardizedColumns, type FeatureSpec } from '../embedding/spec.ts';
import { loadFooter } from '../parquet/footer.ts';
import { checkSchema } from '../embedding/schema-check.ts';
import { openParquet } from '../parquet/reader.ts';
import { DEFAULT_STATS_PART_ROWS, STATS_TASK_ROWS, planShards, planStatsParts, planStatsTasks } from '../embedding/shard-plan.ts';
import { taskDeviations, taskMoments } from '../embedding/shard-work.ts';
import { matrixDtypes, sumChunks, type MatrixDtype } from '../embedding/dtypes.ts';
import {
  fitScaler,
  fittedMeans,
  mergeAll,
  mergeDeviations,
  momentsFromBytes,
  momentsToBytes,
  type Deviations,
  type Moments,
} from '../embedding/stats.ts';
import { scalerSection } from '../outputs/manifest.ts';
import { invokeShards, invokeStatsParts, nowOf } from './invoker.ts';
import { advance } from './advance.ts';
import { PipelineError, SourceError } from '../errors.ts';

export type StatsOutcome =
  | { status: 'planned'; plan: JobPlan }
  /** The job was already under way: its unfinished work was invoked again. */
  | { status: 'resumed'; jobId: string; invoked: string[] }
  /** The job had already ended (published or failed): nothing to do. */
  | { status: 'ended'; jobId: string }
  /** The statistics fan out: one stats part was invoked per index. */
  | { status: 'fanned-out'; jobId: string; parts: number }
  | { status: 'part-done'; jobId: string; part: number }
  | { status: 'duplicate'; jobId: string }
  | { status: 'rejected'; jobId: string; message: string }
  | { status: 'ignored'; key: string; reason: string };

export interface StatsOptions {
  shardRows: number;
  /** Above this many rows the statistics fan out, in parts of at most this many rows. */
  statsPartRows?: number;
  spec?: FeatureSpec;
  /** Also publish the embeddings as Parquet parts. */
  parquet?: boolean;
}

/**
 * Runs the stats step for one uploaded object and starts what comes next (the shards, or the
 * statistics parts); never throws for bad input (that is `rejected`). Run again for the same
 * upload (a retry, a duplicate event), it finishes what the first run promised instead.
 */
export async function runStats(ctx: StepContext, obj: UploadedObject, opts: StatsOptions): Promise<StatsOutcome> {
  const { store } = ctx;
  const spec = opts.spec ?? DEFAULT_SPEC;
  if (!store.isInput(obj.key)) return { status: 'ignored', key: obj.key, reason: `not under ${store.prefixes.input} or not .parquet` };
  const jobId = store.jobIdOf(obj);
  if (await store.retireIfEnded(obj, jobId)) return { status: 'ended', jobId };
  await store.registerActive(obj, jobId, nowOf(ctx));
  if ((await store.hasPlan(jobId)) || (await store.hasStatsPlan(jobId))) {
    return { status: 'resumed', jobId, invoked: await advance(ctx, obj, jobId) };
  }
  const writer = ctx.writer ?? randomUUID();
  const t0 = performance.now();
  let plan: JobPlan;
  try {
    const source = await store.openInput(obj);
    const footer = await loadFooter(source);
    const layout = footer.layout;
    checkSchema(source.name, layout, spec);
    const input = planInput(store, obj, layout, jobId, spec, opts);
    const partRows = opts.statsPartRows ?? DEFAULT_STATS_PART_ROWS;
    // Tasks no larger than a part, so that parts can split the file.
    const tasks = planStatsTasks(input.rowGroupRows, Math.min(partRows, STATS_TASK_ROWS));
    const parts = planStatsParts(tasks, partRows);
    if (parts.length > 1) {
      const statsPlan = { ...input, tasks, parts, createdAt: new Date().toISOString(), writer };
      if (!(await store.writeStatsPlanOnce(statsPlan))) return { status: 'duplicate', jobId };
      await invokeStatsParts(
        ctx.invoker,
        store.bucket,
        jobId,
        parts.map((p) => p.index),
      );
      return { status: 'fanned-out', jobId, parts: parts.length };
    }
    const reader = await openParquet(source, footer);
    const columns = standardizedColumns(spec);
    // numpy's tree is the file's: the statistics are the same bits as the local runner's, whatever the tasks.
    const dtypes = matrixDtypes(spec, layout);
    const moments = mergeAll(columns.length, await tasksMoments(reader, tasks, columns, sumChunks(dtypes)));
    // scikit-learn's second pass, around the fitted means: the variances bit for bit.
    const deviations = await tasksDeviations(reader, tasks, columns, fittedMeans(moments));
    const { readMs, decodeMs } = reader.timings;
    plan = finishPlan(input, moments, deviations, dtypes, {
      stats: Math.round(performance.now() - t0),
      statsRead: Math.round(readMs),
      statsDecode: Math.round(decodeMs),
    });
  } catch (e: unknown) {
    return refuse(store, obj, jobId, e);
  }
  return (await startShards(ctx, { ...plan, writer })) ?? { status: 'duplicate', jobId };
}

/**
 * Computes one part of a fanned-out statistics pass and writes its tasks' moments. The part that
 * finds every part written merges them into the plan; of several that race, the plan's
 * If-None-Match lets exactly one report `planned` (and fan out the shards). Run again, a part
 * reuses its written moments, and once the plan exists it finishes the fan-out instead.
 */
export async function runStatsPart(ctx: StepContext, jobId: string, index: number): Promise<StatsOutcome> {
  const { store } = ctx;
  const sp = await store.statsPlan(jobId);
  const part = sp.parts[index];
  if (!part) throw new PipelineError(`job ${jobId}: stats part ${index} does not exist (the job has ${sp.parts.length})`);
  if (await store.retireIfEnded(sp, jobId)) return { status: 'ended', jobId };
  if (await store.hasPlan(jobId)) return { status: 'resumed', jobId, invoked: await advance(ctx, sp, jobId) };
  const columns = standardizedColumns(sp.spec);

  if (!(await store.hasStatsPart(jobId, index))) {
    try {
      const reader = await openParquet(await store.openInput(sp));
      const chunks = sumChunks(matrixDtypes(sp.spec, reader.layout));
      const moments = await tasksMoments(reader, sp.tasks.slice(part.first, part.first + part.count), columns, chunks);
      await store.writeStatsPart(jobId, index, momentsToBytes(moments, columns.length));
    } catch (e: unknown) {
      return refuse(store, sp, jobId, e);
    }
  }

  // Counting after our own write: the last part to finish always sees them all.
  if ((await store.statsPartsWritten(jobId)) < sp.parts.length) return { status: 'part-done', jobId, part: index };
  const all: Moments[] = [];
  for (const p of sp.parts) all.push(...momentsFromBytes(await store.readStatsPart(jobId, p.index), columns.length));
  // scikit-learn's second pass (the variances) needs the merged means, so the part that completes
  // the first pass runs it over the whole file. Not fanned out yet: for a file of hundreds of
  // millions of rows this one invocation is the statistics' critical path.
  const moments = mergeAll(columns.length, all);
  let dtypes: MatrixDtype[];
  let deviations: Deviations;
  try {
    const reader = await openParquet(await store.openInput(sp));
    dtypes = matrixDtypes(sp.spec, reader.layout);
    deviations = await tasksDeviations(reader, sp.tasks, columns, fittedMeans(moments));
  } catch (e: unknown) {
    return refuse(store, sp, jobId, e);
  }
  const plan = finishPlan(sp, moments, deviations, dtypes, {
    stats: Date.now() - Date.parse(sp.createdAt),
    statsParts: sp.parts.length,
  });
  return (await startShards(ctx, { ...plan, writer: ctx.writer ?? randomUUID() })) ?? { status: 'part-done', jobId, part: index };
}

/** Writes the plan once and invokes its shards; null when another writer's plan was there first. */
async function startShards(ctx: StepContext, plan: JobPlan & { writer: string }): Promise<StatsOutcome | null> {
  if (!(await ctx.store.writePlanOnce(plan))) return null;
  await invokeShards(
    ctx.invoker,
    ctx.store.bucket,
    plan.jobId,
    plan.shards.map((s) => s.index),
  );
  return { status: 'planned', plan };
}

/** scikit-learn's variance sums over the tasks, merged. */
async function tasksDeviations(
  reader: ParquetReader,
  tasks: readonly StatsTask[],
  columns: readonly string[],
  means: number[],
): Promise<Deviations> {
  const out: Deviations[] = [];
  for (const task of tasks) out.push(await taskDeviations(reader, task, columns, means));
  return mergeDeviations(out);
}

/** Each task's moments, in order. */
async function tasksMoments(
  reader: ParquetReader,
  tasks: readonly StatsTask[],
  columns: readonly string[],
  chunks: readonly (number | undefined)[],
): Promise<Moments[]> {
  const out: Moments[] = [];
  for (const task of tasks) out.push(await taskMoments(reader, task, columns, chunks));
  return out;
}

function planInput(
  store: JobStore,
  obj: UploadedObject,
  layout: ParquetLayout,
  jobId: string,
  spec: FeatureSpec,
  opts: StatsOptions,
): PlanInput {
  return {
    version: 1,
    jobId,
    bucket: store.bucket,
    key: obj.key,
    etag: obj.etag,
    bytes: layout.fileSize,
    name: store.nameOf(obj.key),
    rows: layout.numRows,
    rowGroups: layout.rowGroups.length,
    rowGroupRows: layout.rowGroups.map((g) => g.numRows),
    createdBy: layout.createdBy,
    spec,
    shardRows: opts.shardRows,
    ...(opts.parquet && { parquet: true }),
  };
}

function finishPlan(
  input: PlanInput,
  moments: Moments,
  deviations: Deviations,
  dtypes: MatrixDtype[],
  timingsMs: Record<string, number>,
): JobPlan {
  const { version, jobId, bucket, key, etag, bytes, name, rows, rowGroups, createdBy, spec, shardRows, parquet } = input;
  return {
    version,
    jobId,
    bucket,
    key,
    etag,
    bytes,
    name,
    rows,
    rowGroups,
    createdBy,
    spec,
    shardRows,
    ...(parquet && { parquet }),
    scaler: scalerSection(standardizedColumns(spec), fitScaler(moments, deviations, dtypes)),
    shards: planShards(input.rowGroupRows, shardRows),
    createdAt: new Date().toISOString(),
    timingsMs,
  };
}

/** Bad input becomes error.json and `rejected`, and the job ends; a changed object or a bug is thrown (and retried). */
async function refuse(store: JobStore, obj: UploadedObject, jobId: string, e: unknown): Promise<StatsOutcome> {
  // A changed object is not bad input: the newer upload has its own event and job.
  if (e instanceof SourceError || !(e instanceof PipelineError)) throw e;
  // Every refusal already names the input (its s3:// URL) and, where it applies, the column.
  await store.writeError(obj, jobId, { type: e.name, message: e.message });
  await store.retire(jobId);
  return { status: 'rejected', jobId, message: e.message };
}
