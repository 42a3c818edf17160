/**
 * The last step of a serverless job, run while the job holds its output name's publish lock:
 * stitch the shards into the published .npy and mapping without holding them in memory, copy
 * their Parquet parts when the plan asks for them and remove an earlier publish's parts this one
 * lacks, then write manifest.json last as the commit marker, naming every file's ETag. Publishes
 * only while the job's input is still the object's current version: a newer upload's job waits
 * for the lock and then publishes over it, so the newest upload's outputs are the ones left.
 */
import type { JobStore } from './job-store.ts';
import type { JobPlan, ShardDone } from './records.ts';
import type { Manifest } from '../outputs/manifest.ts';
import type { StitchSegment } from './object-store.ts';
import type { JobCost } from '../observability/cost.ts';
import { scalerFromSection } from '../outputs/manifest.ts';
import { vectorsFileName } from '../embedding/spec.ts';
import { npyHeader } from '../outputs/npy.ts';
import { dictMappingSegments } from './dict-mapping.ts';
import { sortedSourcesRepeat } from '../outputs/repeated-ids.ts';
import { buildManifest } from '../outputs/manifest.ts';
import { MAPPING_FILE, PARQUET_DIR, isParquetPartFile, parquetPartFile } from '../outputs/file-names.ts';
import { mapLimit } from '../io/concurrency.ts';
import { ID_INDEX_FILE, idIndexHeader } from '../outputs/id-index.ts';
import { partitionWork, readIndexSummary, rewrittenFragment } from './repeats-step.ts';
import { PipelineError } from '../errors.ts';

export type ReduceOutcome =
  | { status: 'published'; rows: number; repeatedIds: boolean; etags: number }
  /** A newer version of the input exists (or it was deleted): its own job publishes. */
  | { status: 'superseded'; currentEtag: string | null };

/** What the reduce handler adds to the manifest: the job's cost so far (lib/aws/usage.ts). */
export interface ReduceOptions {
  cost?: () => Promise<JobCost>;
}

const utf8 = new TextEncoder();
/** Parquet parts copied at once. */
const PART_COPIES = 128;
const PARQUET_TYPE = 'application/vnd.apache.parquet';

/** Stitches and publishes job `jobId`; run again (a retry), it writes the same bytes. The caller holds the publish lock. */
export async function runReduce(store: JobStore, jobId: string, opts: ReduceOptions = {}): Promise<ReduceOutcome> {
  const t0 = performance.now();
  const plan = await store.plan(jobId);
  // A retry after the manifest was written (its response lost): published, whatever the input did since.
  const published = await store.readManifest(plan.name);
  if (published?.jobId === jobId && published.input.etag === plan.etag)
    return {
      status: 'published',
      rows: plan.rows,
      repeatedIds: published.outputs.repeatedIds,
      etags: Object.keys(published.outputs.etags ?? {}).length,
    };
  const current = await store.currentEtag(plan.key);
  if (current !== plan.etag) return { status: 'superseded', currentEtag: current };
  const done = await Promise.all(plan.shards.map((s) => store.readShardRecord(jobId, s.index)));
  const missing = done.findIndex((d) => d === null);
  if (missing >= 0) throw new PipelineError(`job ${jobId}: shard ${missing} of ${plan.shards.length} has no record: it did not finish`);
  // Under the lock no one else writes these keys: what is unfinished there, a killed attempt left.
  await store.abortOutputUploads(plan.name);
  const manifest = await publish(store, plan, done as ShardDone[]);
  manifest.timingsMs = { ...plan.timingsMs, reduce: Math.round(performance.now() - t0) };
  if (opts.cost) manifest.cost = await opts.cost();
  // The manifest goes last: its presence says the other outputs are complete, and which versions.
  await store.writeManifest(plan.name, manifest);
  await store.clearError(plan.name);
  const etags = Object.keys(manifest.outputs.etags ?? {}).length;
  return { status: 'published', rows: plan.rows, repeatedIds: manifest.outputs.repeatedIds, etags };
}

async function publish(store: JobStore, plan: JobPlan, done: ShardDone[]): Promise<Manifest> {
  const { jobId, name } = plan;
  const dims = plan.spec.features.length;
  const vectorsFile = vectorsFileName(dims);
  const etags: Record<string, string> = {};

  const vectors = async () => {
    etags[vectorsFile] = await store.stitchOutput(
      name,
      vectorsFile,
      [
        { bytes: npyHeader(plan.rows, dims) },
        ...done.map((d): StitchSegment => store.shardSegment(jobId, d.shard, 'vectors', d.vectorBytes)),
      ],
      'application/octet-stream',
    );
  };

  const summary = await readIndexSummary(store, plan);
  let repeatedIds: boolean;
  let fragments: StitchSegment[];
  if (summary) {
    // The partitions found the repeats and rewrote the fragments they touch (repeats-step.ts).
    repeatedIds = summary.repeatedIds > 0;
    const rewritten = new Set(summary.rewrite);
    fragments = await mapLimit(done, PART_COPIES, async (d) =>
      rewritten.has(d.shard)
        ? store.workSegment(jobId, rewrittenFragment(d.shard), (await store.workSource(jobId, rewrittenFragment(d.shard))).size)
        : store.shardSegment(jobId, d.shard, 'ids', d.idBytes),
    );
  } else {
    // A plan from before the id index: the reducer finds repeats alone.
    repeatedIds = await sortedSourcesRepeat(await Promise.all(done.map((d) => store.shardSource(jobId, d.shard, 'hashes'))));
    // Rare: an id repeats (or two share a 64-bit hash): the fragments get Python's dict semantics, in bounded memory.
    fragments = repeatedIds
      ? (await dictMappingSegments(store, plan, done)).segments
      : done.map((d): StitchSegment => store.shardSegment(jobId, d.shard, 'ids', d.idBytes));
  }
  const mapping = async () => {
    etags[MAPPING_FILE] = await store.stitchOutput(
      name,
      MAPPING_FILE,
      [{ bytes: utf8.encode('{') }, ...fragments, { bytes: utf8.encode('}') }],
      'application/json',
    );
  };
  const index = async () => {
    if (!summary || !plan.idIndex) return;
    const header = idIndexHeader({
      layout: plan.idIndex,
      rows: plan.rows,
      entries: summary.entries,
      partitionBytes: summary.partitionBytes,
      blocks: done.map((d) => ({ firstRow: plan.shards[d.shard]!.startRow, bytes: d.rowBlockBytes! })),
    });
    etags[ID_INDEX_FILE] = await store.stitchOutput(
      name,
      ID_INDEX_FILE,
      [
        { bytes: header },
        ...summary.partitionBytes.map((size, p) => store.workSegment(jobId, partitionWork(p), size)),
        ...done.map((d) => store.shardSegment(jobId, d.shard, 'rowids', d.rowBlockBytes!)),
      ],
      'application/octet-stream',
    );
  };
  const parts = plan.parquet ? done : [];
  const parquetParts = () =>
    mapLimit(parts, PART_COPIES, async (d) => {
      const file = parquetPartFile(d.shard);
      etags[file] = await store.stitchOutput(name, file, [store.shardSegment(jobId, d.shard, 'parquet', d.parquetBytes!)], PARQUET_TYPE);
    });
  // The outputs are independent objects: their copies run side by side (each stitch bounds its own parts in flight).
  await Promise.all([vectors(), mapping(), index(), parquetParts()]);
  // An earlier publish's parts this one does not have (it had more shards, or asked for Parquet
  // when this one does not) would join the data set: removed before the manifest commits. Only
  // parts: an output named `<name>/parquet/…` lives under the same prefix.
  const published = new Set(parts.map((d) => parquetPartFile(d.shard)));
  const stale = (await store.listOutput(name, PARQUET_DIR)).filter((f) => isParquetPartFile(f) && !published.has(f));
  await store.deleteOutputs(name, stale);

  const manifest = buildManifest({
    input: {
      name: store.url(plan.key),
      bytes: plan.bytes,
      etag: plan.etag,
      rows: plan.rows,
      rowGroups: plan.rowGroups,
      createdBy: plan.createdBy,
    },
    spec: plan.spec,
    scaler: scalerFromSection(plan.scaler),
    repeatedIds,
    shards: { count: plan.shards.length, targetRows: plan.shardRows },
    timingsMs: {},
    ...(plan.parquet && { parquet: `${PARQUET_DIR}/` }),
    ...(summary && { idIndex: ID_INDEX_FILE, uniqueIds: summary.entries }),
  });
  manifest.outputs.etags = etags;
  manifest.jobId = jobId;
  return manifest;
}
