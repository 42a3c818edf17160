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
import type { ObjectStore } from './object-store.ts';
import type { Prefixes } from './keys.ts';
import type { JobPlan } from './records.ts';
import type { ParquetLayout } from '../parquet/footer.ts';
import type { ParquetReader } from '../parquet/reader.ts';
import type { Segment, StatsPart } from '../embedding/shard-plan.ts';
import { DEFAULT_SPEC, standardizedColumns, type FeatureSpec } from '../embedding/spec.ts';
import { getJson } from './object-store.ts';
import { jobIdFor, jobKeys, outputKeys, outputName } from './keys.ts';
import { readFooter } from '../parquet/footer.ts';
import { checkSchema } from '../embedding/schema-check.ts';
import { guardDecoderPanics, openParquet } from '../parquet/reader.ts';
import { DEFAULT_STATS_PART_ROWS, planShards, planStatsParts, planStatsTasks } from '../embedding/shard-plan.ts';
import { taskMoments } from '../embedding/shard-work.ts';
import { fitScaler, mergeAll, momentsFromBytes, momentsToBytes, type Moments } from '../embedding/stats.ts';
import { scalerSection } from '../outputs/manifest.ts';
import { PipelineError, SourceError } from '../errors.ts';

/** The object an S3 event announced. */
export interface UploadedObject {
  key: string;
  etag: string;
}

export type StatsOutcome =
  | { status: 'planned'; plan: JobPlan }
  /** The statistics fan out: the caller invokes one stats part per index. */
  | { status: 'fanned-out'; jobId: string; parts: number }
  | { status: 'part-done'; jobId: string; part: number }
  | { status: 'duplicate'; jobId: string }
  | { status: 'rejected'; jobId: string; message: string }
  | { status: 'ignored'; key: string; reason: string };

/** What a job's plan is made of besides its statistics. */
type PlanInput = Omit<JobPlan, 'scaler' | 'shards' | 'createdAt' | 'timingsMs'> & { rowGroupRows: number[] };

/** `stats.json`: written instead of the plan when the statistics fan out. */
export interface StatsPlan extends PlanInput {
  tasks: Segment[];
  parts: StatsPart[];
  createdAt: string;
}

/** What error.json holds: which upload, which job, what went wrong. */
export interface JobError {
  jobId: string;
  input: { bucket: string; key: string; etag: string };
  error: { type: string; message: string; shard?: number; statsPart?: number };
  at: string;
}

/** Writes `error.json` for the job's output name. */
export async function writeJobError(store: ObjectStore, prefixes: Prefixes, obj: UploadedObject, jobId: string, error: JobError['error']): Promise<void> {
  const body: JobError = { jobId, input: { bucket: store.bucket, key: obj.key, etag: obj.etag }, error, at: new Date().toISOString() };
  await store.put(outputKeys(outputName(obj.key, prefixes), prefixes).error, JSON.stringify(body, null, 2) + '\n', 'application/json');
}

export interface StatsOptions {
  prefixes: Prefixes;
  shardRows: number;
  /** Above this many rows the statistics fan out, in parts of at most this many rows. */
  statsPartRows?: number;
  spec?: FeatureSpec;
}

/** Runs the stats step for one uploaded object; never throws for bad input (that is `rejected`). */
export async function runStats(store: ObjectStore, obj: UploadedObject, opts: StatsOptions): Promise<StatsOutcome> {
  const { prefixes } = opts;
  const spec = opts.spec ?? DEFAULT_SPEC;
  if (!obj.key.startsWith(prefixes.input) || !/\.parquet$/i.test(obj.key)) {
    return { status: 'ignored', key: obj.key, reason: `not under ${prefixes.input} or not .parquet` };
  }
  const jobId = jobIdFor(store.bucket, obj.key, obj.etag);
  const keys = jobKeys(jobId, prefixes);
  if ((await store.exists(keys.plan)) || (await store.exists(keys.statsPlan))) return { status: 'duplicate', jobId };

  const t0 = performance.now();
  let plan: JobPlan;
  try {
    const source = await store.source(obj.key, obj.etag);
    const layout = await readFooter(source);
    checkSchema(source.name, layout, spec);
    const input = planInput(store, obj, layout, jobId, spec, opts);
    const tasks = planStatsTasks(input.rowGroupRows);
    const parts = planStatsParts(tasks, opts.statsPartRows ?? DEFAULT_STATS_PART_ROWS);
    if (parts.length > 1) {
      const statsPlan: StatsPlan = { ...input, tasks, parts, createdAt: new Date().toISOString() };
      const written = await store.putIfAbsent(keys.statsPlan, JSON.stringify(statsPlan), 'application/json');
      return written ? { status: 'fanned-out', jobId, parts: parts.length } : { status: 'duplicate', jobId };
    }
    const reader = await openParquet(source, layout);
    const columns = standardizedColumns(spec);
    // Same tasks, same order as the local runner: the statistics are the same bits.
    const moments = mergeAll(columns.length, await tasksMoments(reader, tasks, columns));
    const { readMs, decodeMs } = reader.timings;
    plan = finishPlan(input, moments, { stats: Math.round(performance.now() - t0), statsRead: Math.round(readMs), statsDecode: Math.round(decodeMs) });
  } catch (e: unknown) {
    return refuse(store, prefixes, obj, jobId, e);
  }
  const written = await store.putIfAbsent(keys.plan, JSON.stringify(plan), 'application/json');
  return written ? { status: 'planned', plan } : { status: 'duplicate', jobId };
}

/**
 * Computes one part of a fanned-out statistics pass and writes its tasks' moments. The part that
 * finds every part written merges them into the plan; of several that race, the plan's
 * If-None-Match lets exactly one report `planned` (and fan out the shards).
 */
export async function runStatsPart(store: ObjectStore, jobId: string, index: number, prefixes: Prefixes): Promise<StatsOutcome> {
  const keys = jobKeys(jobId, prefixes);
  const sp = await getJson<StatsPlan>(store, keys.statsPlan);
  if (!sp) throw new PipelineError(`job ${jobId}: no stats.json in s3://${store.bucket}/${keys.statsPlan}`);
  const part = sp.parts[index];
  if (!part) throw new PipelineError(`job ${jobId}: stats part ${index} does not exist (the job has ${sp.parts.length})`);
  if (await store.exists(keys.plan)) return { status: 'duplicate', jobId };
  const columns = standardizedColumns(sp.spec);

  try {
    const reader = await openParquet(await store.source(sp.key, sp.etag));
    const moments = await tasksMoments(reader, sp.tasks.slice(part.first, part.first + part.count), columns);
    await store.put(keys.statsPart(index), momentsToBytes(moments, columns.length));
  } catch (e: unknown) {
    return refuse(store, prefixes, sp, jobId, e);
  }

  // Listing after our own write: the last part to finish always sees them all.
  if ((await store.list(keys.statsPartsPrefix)).length < sp.parts.length) return { status: 'part-done', jobId, part: index };
  const all: Moments[] = [];
  for (const p of sp.parts) {
    const bytes = await store.get(keys.statsPart(p.index));
    if (!bytes) throw new PipelineError(`job ${jobId}: stats part ${p.index} was listed but cannot be read`);
    all.push(...momentsFromBytes(bytes, columns.length));
  }
  const plan = finishPlan(sp, mergeAll(columns.length, all), { stats: Date.now() - Date.parse(sp.createdAt), statsParts: sp.parts.length });
  const written = await store.putIfAbsent(keys.plan, JSON.stringify(plan), 'application/json');
  return written ? { status: 'planned', plan } : { status: 'part-done', jobId, part: index };
}

/** Each task's moments, in order. */
function tasksMoments(reader: ParquetReader, tasks: readonly Segment[], columns: readonly string[]): Promise<Moments[]> {
  return guardDecoderPanics(async () => {
    const out: Moments[] = [];
    for (const task of tasks) out.push(await taskMoments(reader, task, columns));
    return out;
  });
}

function planInput(store: ObjectStore, obj: UploadedObject, layout: ParquetLayout, jobId: string, spec: FeatureSpec, opts: StatsOptions): PlanInput {
  return {
    version: 1,
    jobId,
    bucket: store.bucket,
    key: obj.key,
    etag: obj.etag,
    bytes: layout.fileSize,
    name: outputName(obj.key, opts.prefixes),
    rows: layout.numRows,
    rowGroups: layout.rowGroups.length,
    rowGroupRows: layout.rowGroups.map((g) => g.numRows),
    createdBy: layout.createdBy,
    spec,
    shardRows: opts.shardRows,
  };
}

function finishPlan(input: PlanInput, moments: Moments, timingsMs: Record<string, number>): JobPlan {
  const { version, jobId, bucket, key, etag, bytes, name, rows, rowGroups, createdBy, spec, shardRows } = input;
  return {
    version, jobId, bucket, key, etag, bytes, name, rows, rowGroups, createdBy, spec, shardRows,
    scaler: scalerSection(standardizedColumns(spec), fitScaler(moments)),
    shards: planShards(input.rowGroupRows, shardRows),
    createdAt: new Date().toISOString(),
    timingsMs,
  };
}

/** Bad input becomes error.json and `rejected`; a changed object or a bug is thrown (and retried). */
async function refuse(store: ObjectStore, prefixes: Prefixes, obj: UploadedObject, jobId: string, e: unknown): Promise<StatsOutcome> {
  // A changed object is not bad input: the newer upload has its own event and job.
  if (e instanceof SourceError || !(e instanceof PipelineError)) throw e;
  // Every refusal already names the input (its s3:// URL) and, where it applies, the column.
  await writeJobError(store, prefixes, obj, jobId, { type: e.name, message: e.message });
  return { status: 'rejected', jobId, message: e.message };
}
