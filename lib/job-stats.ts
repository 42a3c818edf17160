/**
 * The first step of a serverless job: for one uploaded object, read its footer, refuse bad
 * input with error.json, compute the statistics over the standardised columns only, plan the
 * shards and write the plan exactly once. The caller then fans out one embed per shard.
 */
import type { ObjectStore } from './object-store.ts';
import type { Prefixes } from './job-keys.ts';
import type { JobPlan } from './job-plan.ts';
import { DEFAULT_SPEC, standardizedColumns, type FeatureSpec } from './feature-spec.ts';
import { jobIdFor, jobKeys, outputKeys, outputName } from './job-keys.ts';
import { readFooter } from './parquet-footer.ts';
import { checkSchema } from './schema-check.ts';
import { guardDecoderPanics, openParquet } from './parquet-reader.ts';
import { planShards, planStatsTasks } from './shard-plan.ts';
import { taskMoments } from './shard-work.ts';
import { fitScaler, mergeMoments, emptyMoments } from './stats.ts';
import { scalerSection } from './manifest.ts';
import { PipelineError, SourceError } from './errors.ts';

/** The object an S3 event announced. */
export interface UploadedObject {
  key: string;
  etag: string;
}

export type StatsOutcome =
  | { status: 'planned'; plan: JobPlan }
  | { status: 'duplicate'; jobId: string }
  | { status: 'rejected'; jobId: string; message: string }
  | { status: 'ignored'; key: string; reason: string };

/** What error.json holds: which upload, which job, what went wrong. */
export interface JobError {
  jobId: string;
  input: { bucket: string; key: string; etag: string };
  error: { type: string; message: string; shard?: number };
  at: string;
}

/** Writes `error.json` for the job's output name. */
export async function writeJobError(store: ObjectStore, prefixes: Prefixes, obj: UploadedObject, jobId: string, error: JobError['error']): Promise<void> {
  const body: JobError = { jobId, input: { bucket: store.bucket, key: obj.key, etag: obj.etag }, error, at: new Date().toISOString() };
  await store.put(outputKeys(outputName(obj.key, prefixes), prefixes).error, JSON.stringify(body, null, 2) + '\n', 'application/json');
}

/** Runs the stats step for one uploaded object; never throws for bad input (that is `rejected`). */
export async function runStats(
  store: ObjectStore,
  obj: UploadedObject,
  opts: { prefixes: Prefixes; shardRows: number; spec?: FeatureSpec },
): Promise<StatsOutcome> {
  const { prefixes, shardRows } = opts;
  const spec = opts.spec ?? DEFAULT_SPEC;
  if (!obj.key.startsWith(prefixes.input) || !/\.parquet$/i.test(obj.key)) {
    return { status: 'ignored', key: obj.key, reason: `not under ${prefixes.input} or not .parquet` };
  }
  const jobId = jobIdFor(store.bucket, obj.key, obj.etag);
  const keys = jobKeys(jobId, prefixes);
  if (await store.exists(keys.plan)) return { status: 'duplicate', jobId };

  const t0 = performance.now();
  let plan: JobPlan;
  try {
    const source = await store.source(obj.key, obj.etag);
    const layout = await readFooter(source);
    checkSchema(source.name, layout, spec);
    const reader = await openParquet(source, layout);
    const columns = standardizedColumns(spec);
    const moments = await guardDecoderPanics(async () => {
      let acc = emptyMoments(columns.length);
      // Same tasks, same order as the local runner: the statistics are the same bits.
      for (const task of planStatsTasks(layout.rowGroups.map((g) => g.numRows))) {
        acc = mergeMoments(acc, await taskMoments(reader, task, columns));
      }
      return acc;
    });
    plan = {
      version: 1,
      jobId,
      bucket: store.bucket,
      key: obj.key,
      etag: obj.etag,
      bytes: layout.fileSize,
      name: outputName(obj.key, prefixes),
      rows: layout.numRows,
      rowGroups: layout.rowGroups.length,
      createdBy: layout.createdBy,
      spec,
      scaler: scalerSection(columns, fitScaler(moments)),
      shardRows,
      shards: planShards(layout.rowGroups.map((g) => g.numRows), shardRows),
      createdAt: new Date().toISOString(),
      timingsMs: { stats: Math.round(performance.now() - t0), statsRead: Math.round(reader.timings.readMs), statsDecode: Math.round(reader.timings.decodeMs) },
    };
  } catch (e: unknown) {
    // A changed object is not bad input: the newer upload has its own event and job.
    if (e instanceof SourceError) throw e;
    if (!(e instanceof PipelineError)) throw e;
    // Every refusal already names the input (its s3:// URL) and, where it applies, the column.
    await writeJobError(store, prefixes, obj, jobId, { type: e.name, message: e.message });
    return { status: 'rejected', jobId, message: e.message };
  }
  const written = await store.putIfAbsent(keys.plan, JSON.stringify(plan), 'application/json');
  return written ? { status: 'planned', plan } : { status: 'duplicate', jobId };
}
