/**
 * The statistics of a serverless job, as the job's steps and the stats function run them:
 *
 * - `checkUpload` (a step of the job): read the footer, refuse bad input, plan the statistics
 *   tasks and their parts (`stats.json`);
 * - one part: `runStatsWhole` (the stats function) computes both passes and writes the plan;
 * - several parts (large files): `runStatsMoments` per part (the sums), `mergeMeans` (a step),
 *   `runStatsDeviations` per part around the merged means, then `finishStats` (a step) fits the
 *   scaler from every task's partials, in file order, and writes the plan.
 *
 * The tasks and their merge order are the ones the command line uses, so the statistics are the
 * same bits however the pass is split. Bad input is a `rejected` result, never a throw: a throw
 * means "try again" (an S3 hiccup, or a changed input the job then finds superseded).
 */
import type { ParquetLayout } from '../parquet/footer.ts';
import type { ParquetReader } from '../parquet/reader.ts';
import type { StatsTask } from '../embedding/shard-plan.ts';
import type { JobStore } from './job-store.ts';
import type { JobInput, JobPlan, PlanInput, StatsPlan } from './records.ts';
import { DEFAULT_SPEC, standardizedColumns, type FeatureSpec } from '../embedding/spec.ts';
import { loadFooter } from '../parquet/footer.ts';
import { checkSchema } from '../embedding/schema-check.ts';
import { openParquet } from '../parquet/reader.ts';
import { DEFAULT_STATS_PART_ROWS, STATS_TASK_ROWS, planShards, planStatsParts, planStatsTasks } from '../embedding/shard-plan.ts';
import { taskDeviations, taskMoments } from '../embedding/shard-work.ts';
import { matrixDtypes, sumChunks } from '../embedding/dtypes.ts';
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
import { pipelineIdLayout } from '../outputs/id-index.ts';
import { checkPlanLimits, type FunctionLimits } from './plan-limits.ts';
import { PipelineError, SourceError } from '../errors.ts';
import { mapLimit } from '../io/concurrency.ts';

/** Part results read at once by the job's means and scaler steps (small objects; one after another they were seconds at 100M rows; past the S3 client's 256 sockets, as when the scaler step reads sums and deviations side by side, requests queue). */
const PART_READS = 256;

/** Bad input, found by a statistics step: the job ends with error.json carrying this. */
export interface Rejected {
  status: 'rejected';
  type: string;
  message: string;
}

/** What the job needs of a planned job to go on: the shards to embed. */
export interface PlanSummary {
  status: 'planned';
  rows: number;
  shards: number;
  name: string;
  /** Partitions of the id index (and of the repeated-id pass). */
  idPartitions?: number;
}

export type CheckOutcome = { status: 'checked'; parts: number; rows: number } | Rejected;

export interface StatsOptions {
  shardRows: number;
  /** Above this many rows the statistics fan out, in parts of at most this many rows. */
  statsPartRows?: number;
  spec?: FeatureSpec;
  /** Also publish the embeddings as Parquet parts. */
  parquet?: boolean;
  /** Records per partition of the id index and the repeated-id pass (absent: the default). */
  idPartitionRows?: number;
  /** The functions' timeouts and memory, which the plan must fit (absent: the stack's defaults). */
  limits?: FunctionLimits;
}

/** Reads and checks the upload's footer and schema, and writes the statistics plan: how many parts the pass takes. */
export async function checkUpload(store: JobStore, job: JobInput, opts: StatsOptions): Promise<CheckOutcome> {
  const spec = opts.spec ?? DEFAULT_SPEC;
  return refusing(async () => {
    const source = await store.openInput(job);
    const layout = (await loadFooter(source)).layout;
    checkSchema(source.name, layout, spec);
    const input = planInput(store, job, layout, spec, opts);
    const partRows = opts.statsPartRows ?? DEFAULT_STATS_PART_ROWS;
    // Tasks no larger than a part, so that parts can split the file.
    const tasks = planStatsTasks(input.rowGroupRows, Math.min(partRows, STATS_TASK_ROWS));
    const parts = planStatsParts(tasks, partRows);
    // What could not finish is refused now, before any statistics or shard is paid for.
    checkPlanLimits(
      source.name,
      {
        rows: input.rows,
        dims: spec.features.length,
        shardRows: planShards(input.rowGroupRows, opts.shardRows).map((s) => s.rows),
        statsPartRows: Math.min(partRows, input.rows),
        ...(opts.idPartitionRows !== undefined && { idPartitionRows: opts.idPartitionRows }),
      },
      opts.limits,
    );
    await store.writeStatsPlan({ ...input, tasks, parts, createdAt: new Date().toISOString() });
    return { status: 'checked', parts: parts.length, rows: input.rows };
  });
}

/** Both passes over the whole file in one invocation (the pass has one part), then the plan. */
export async function runStatsWhole(store: JobStore, jobId: string): Promise<PlanSummary | Rejected> {
  const sp = await store.statsPlan(jobId);
  const t0 = performance.now();
  return refusing(async () => {
    const reader = await openParquet(await store.openInput(sp));
    const columns = standardizedColumns(sp.spec);
    const dtypes = matrixDtypes(sp.spec, reader.layout);
    // numpy's tree is the file's: the statistics are the same bits as the local runner's, whatever the tasks.
    const moments = mergeAll(columns.length, await tasksMoments(reader, sp.tasks, columns, sumChunks(dtypes)));
    // scikit-learn's second pass, around the fitted means: the variances bit for bit.
    const deviations = mergeDeviations(await tasksDeviations(reader, sp.tasks, columns, fittedMeans(moments)));
    const { readMs, decodeMs } = reader.timings;
    const timings = { stats: Math.round(performance.now() - t0), statsRead: Math.round(readMs), statsDecode: Math.round(decodeMs) };
    return writePlan(store, finishPlan(sp, moments, deviations, dtypes, timings));
  });
}

/** The sums of one part's tasks (the first pass), written for `mergeMeans`. */
export async function runStatsMoments(store: JobStore, jobId: string, index: number): Promise<{ status: 'done' } | Rejected> {
  const sp = await store.statsPlan(jobId);
  const part = partOf(sp, index);
  return refusing(async () => {
    const reader = await openParquet(await store.openInput(sp));
    const columns = standardizedColumns(sp.spec);
    const chunks = sumChunks(matrixDtypes(sp.spec, reader.layout));
    const moments = await tasksMoments(reader, sp.tasks.slice(part.first, part.first + part.count), columns, chunks);
    await store.writeStatsPart(jobId, index, momentsToBytes(moments, columns.length));
    return { status: 'done' as const };
  });
}

/** The fitted means from every part's sums, merged task by task in file order (JSON has no NaN: null). */
export async function mergeMeans(store: JobStore, jobId: string): Promise<(number | null)[]> {
  const sp = await store.statsPlan(jobId);
  const means = fittedMeans(await mergedMoments(store, sp));
  return means.map((m) => (Number.isNaN(m) ? null : m));
}

/** The deviations of one part's tasks from the merged means (the second pass), written for `finishStats`. */
export async function runStatsDeviations(
  store: JobStore,
  jobId: string,
  index: number,
  means: readonly (number | null)[],
): Promise<{ status: 'done' } | Rejected> {
  const sp = await store.statsPlan(jobId);
  const part = partOf(sp, index);
  return refusing(async () => {
    const reader = await openParquet(await store.openInput(sp));
    const columns = standardizedColumns(sp.spec);
    const tasks = sp.tasks.slice(part.first, part.first + part.count);
    const deviations = await tasksDeviations(
      reader,
      tasks,
      columns,
      means.map((m) => m ?? NaN),
    );
    await store.writeDeviationsPart(jobId, index, deviationsToBytes(deviations, columns.length));
    return { status: 'done' as const };
  });
}

/** Fits the scaler from every part's sums and deviations and writes the plan. */
export async function finishStats(store: JobStore, jobId: string): Promise<PlanSummary | Rejected> {
  const sp = await store.statsPlan(jobId);
  const k = standardizedColumns(sp.spec).length;
  // The footer (for the dtypes), the sums and the deviations side by side: one round of reads, not three.
  const opening = store.openInput(sp).then(openParquet);
  opening.catch(() => undefined); // awaited below unless a part's read fails first
  const [moments, parts] = await Promise.all([
    mergedMoments(store, sp),
    // Merged in file order (the merge is exact in that order only).
    mapLimit(sp.parts, PART_READS, async (p) => deviationsFromBytes(await store.readDeviationsPart(jobId, p.index), k)),
  ]);
  const deviations: Deviations[] = parts.flat();
  return refusing(async () => {
    const reader = await opening;
    const dtypes = matrixDtypes(sp.spec, reader.layout);
    const timings = { stats: Date.now() - Date.parse(sp.createdAt), statsParts: sp.parts.length };
    return writePlan(store, finishPlan(sp, moments, mergeDeviations(deviations), dtypes, timings));
  });
}

async function writePlan(store: JobStore, plan: JobPlan): Promise<PlanSummary> {
  await store.writePlan(plan);
  const idPartitions = plan.idIndex && 2 ** plan.idIndex.partBits;
  return { status: 'planned', rows: plan.rows, shards: plan.shards.length, name: plan.name, ...(idPartitions && { idPartitions }) };
}

function partOf(sp: StatsPlan, index: number) {
  const part = sp.parts[index];
  if (!part) throw new PipelineError(`job ${sp.jobId}: stats part ${index} does not exist (the job has ${sp.parts.length})`);
  return part;
}

async function mergedMoments(store: JobStore, sp: StatsPlan): Promise<Moments> {
  const k = standardizedColumns(sp.spec).length;
  const parts = await mapLimit(sp.parts, PART_READS, async (p) => momentsFromBytes(await store.readStatsPart(sp.jobId, p.index), k));
  return mergeAll(k, parts.flat());
}

/** Each task's deviations, in order (merged later with every other part's, in file order). */
async function tasksDeviations(
  reader: ParquetReader,
  tasks: readonly StatsTask[],
  columns: readonly string[],
  means: number[],
): Promise<Deviations[]> {
  const out: Deviations[] = [];
  for (const task of tasks) out.push(await taskDeviations(reader, task, columns, means));
  return out;
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

/** Deviations of k columns as bytes: the moments format, read as 2k trees (Σ(x−T) then Σ(x−T)²) with no counts. */
function deviationsToBytes(list: readonly Deviations[], k: number): Uint8Array {
  return momentsToBytes(
    list.map((d) => ({ count: new Array<number>(2 * k).fill(0), tree: [...d.dev, ...d.sq] })),
    2 * k,
  );
}

function deviationsFromBytes(bytes: Uint8Array, k: number): Deviations[] {
  return momentsFromBytes(bytes, 2 * k).map((m) => ({ dev: m.tree.slice(0, k), sq: m.tree.slice(k) }));
}

function planInput(store: JobStore, job: JobInput, layout: ParquetLayout, spec: FeatureSpec, opts: StatsOptions): PlanInput {
  return {
    version: 1,
    jobId: job.jobId,
    bucket: store.bucket,
    key: job.key,
    etag: job.etag,
    bytes: layout.fileSize,
    name: store.nameOf(job.key),
    rows: layout.numRows,
    rowGroups: layout.rowGroups.length,
    rowGroupRows: layout.rowGroups.map((g) => g.numRows),
    createdBy: layout.createdBy,
    spec,
    shardRows: opts.shardRows,
    ...(opts.parquet && { parquet: true }),
    ...(opts.idPartitionRows !== undefined && { idPartitionRows: opts.idPartitionRows }),
  };
}

function finishPlan(
  input: PlanInput,
  moments: Moments,
  deviations: Deviations,
  dtypes: ReturnType<typeof matrixDtypes>,
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
    idIndex: pipelineIdLayout(rows, input.idPartitionRows),
    createdAt: new Date().toISOString(),
    timingsMs,
  };
}

/** Runs `work`; bad input becomes `rejected`, while a changed object or a bug is thrown (and retried). */
async function refusing<T>(work: () => Promise<T>): Promise<T | Rejected> {
  try {
    return await work();
  } catch (e: unknown) {
    // A changed object is not bad input: the job finds itself superseded (or its input deleted).
    if (e instanceof SourceError || !(e instanceof PipelineError)) throw e;
    // Every refusal already names the input (its s3:// URL) and, where it applies, the column.
    return { status: 'rejected', type: e.name, message: e.message };
  }
}
