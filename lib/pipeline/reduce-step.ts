/**
 * The last step of a serverless job: stitch the shards into the published .npy and mapping
 * without holding them in memory, copy their Parquet parts when the plan asks for them and remove
 * an earlier publish's parts this one lacks, then write manifest.json last as the commit marker.
 * Publishing holds a per-name lock, and publishes only while the job's input is still the
 * object's current version, so a newer upload's outputs are never mixed with an older one's.
 */
import { randomUUID } from 'node:crypto';
import type { JobStore } from './job-store.ts';
import type { StepContext } from './invoker.ts';
import { nowOf } from './invoker.ts';
import { advance } from './advance.ts';
import type { Holder, JobPlan, ShardDone } from './records.ts';
import type { Manifest } from '../outputs/manifest.ts';
import type { StitchSegment } from './object-store.ts';
import { scalerFromSection } from '../outputs/manifest.ts';
import { vectorsFileName } from '../embedding/spec.ts';
import { npyHeader } from '../outputs/npy.ts';
import { dictMappingSegments } from './dict-mapping.ts';
import { sortedSourcesRepeat } from '../outputs/repeated-ids.ts';
import { buildManifest } from '../outputs/manifest.ts';
import { MAPPING_FILE, PARQUET_DIR, isParquetPartFile, parquetPartFile } from '../outputs/file-names.ts';
import { mapLimit } from '../io/concurrency.ts';

export type ReduceOutcome =
  | { status: 'published'; manifest: Manifest }
  | { status: 'superseded'; currentEtag: string | null }
  | { status: 'already-published' }
  /** Some shards had no done marker: they were invoked again, and the last of them reduces. */
  | { status: 'waiting'; invoked: string[] }
  /** The job had failed: nothing to publish. */
  | { status: 'ended' };

/** How long a publish lock protects its holder: a Lambda never runs longer than 15 minutes. */
const LOCK_LEASE_MS = 15 * 60 * 1000;

const utf8 = new TextEncoder();
/** Parquet parts copied at once. */
const PART_COPIES = 8;
const PARQUET_TYPE = 'application/vnd.apache.parquet';

/**
 * Stitches and publishes job `jobId`, then retires its scratch. Safe to run again and at once:
 * the publish lock serialises reducers of one name (re-entrant for the same job, so a retry or
 * a lost response to the lock's PUT does not wait on itself), and a reducer that finds the job
 * published only retires what is left.
 */
export async function runReduce(ctx: StepContext, jobId: string, waitForLock: (ms: number) => Promise<void>): Promise<ReduceOutcome> {
  const { store } = ctx;
  const t0 = performance.now();
  const plan = await store.plan(jobId);
  const ending = await store.retireIfEnded(plan, jobId);
  if (ending) return ending === 'published' ? { status: 'already-published' } : { status: 'ended' };
  const done = await Promise.all(plan.shards.map((s) => store.readShardDone(jobId, s.index)));
  if (done.some((d) => d === null)) return { status: 'waiting', invoked: await advance(ctx, plan, jobId) };

  const holder = { jobId, writer: ctx.writer ?? randomUUID(), at: nowOf(ctx) };
  await acquire(ctx, plan.name, holder, waitForLock);
  try {
    const current = await store.currentEtag(plan.key);
    if (current !== plan.etag) {
      await store.retire(jobId);
      return { status: 'superseded', currentEtag: current };
    }
    if (await store.retireIfEnded(plan, jobId)) return { status: 'already-published' };
    const manifest = await publish(store, plan, done as ShardDone[]);
    manifest.timingsMs = { ...plan.timingsMs, reduce: Math.round(performance.now() - t0) };
    // The manifest goes last: its presence says the other two outputs are complete.
    await store.writeManifest(plan.name, manifest);
    await store.clearError(plan.name);
    await store.retire(jobId);
    return { status: 'published', manifest };
  } finally {
    // Only our own job's lock: after a lease expiry another job may hold it now.
    if ((await store.publishLockHolder(plan.name))?.jobId === jobId) await store.releasePublishLock(plan.name);
  }
}

/** Takes the publish lock of `name`: free, ours already (re-entrant), or expired; else waits for its holder. */
async function acquire(ctx: StepContext, name: string, holder: Holder, wait: (ms: number) => Promise<void>): Promise<void> {
  const { store } = ctx;
  for (let attempt = 0; ; attempt++) {
    if (await store.tryPublishLock(name, holder)) return;
    const current = await store.publishLockHolder(name);
    if (!current) continue; // released meanwhile
    if (current.jobId === holder.jobId) return;
    if (nowOf(ctx) - current.at > LOCK_LEASE_MS) {
      await store.releasePublishLock(name);
      continue;
    }
    // Another job of the same name is publishing; its publish is short, so back off briefly.
    await wait(Math.min(5000, 100 * 2 ** Math.min(attempt, 6)));
  }
}

async function publish(store: JobStore, plan: JobPlan, done: ShardDone[]): Promise<Manifest> {
  const { jobId, name } = plan;
  const dims = plan.spec.features.length;
  const vectorsFile = vectorsFileName(dims);

  await store.stitchOutput(
    name,
    vectorsFile,
    [
      { bytes: npyHeader(plan.rows, dims) },
      ...done.map((d): StitchSegment => store.shardSegment(jobId, d.shard, 'vectors', d.vectorBytes)),
    ],
    'application/octet-stream',
  );

  const repeatedIds = await sortedSourcesRepeat(await Promise.all(done.map((d) => store.shardSource(jobId, d.shard, 'hashes'))));
  // Rare: an id repeats (or two share a 64-bit hash): the fragments get Python's dict semantics, in bounded memory.
  const fragments = repeatedIds
    ? (await dictMappingSegments(store, plan, done)).segments
    : done.map((d): StitchSegment => store.shardSegment(jobId, d.shard, 'ids', d.idBytes));
  await store.stitchOutput(
    name,
    MAPPING_FILE,
    [{ bytes: utf8.encode('{') }, ...fragments, { bytes: utf8.encode('}') }],
    'application/json',
  );

  const parts = plan.parquet ? done : [];
  await mapLimit(parts, PART_COPIES, (d) =>
    store.stitchOutput(name, parquetPartFile(d.shard), [store.shardSegment(jobId, d.shard, 'parquet', d.parquetBytes!)], PARQUET_TYPE),
  );
  // An earlier publish's parts this one does not have (it had more shards, or asked for Parquet
  // when this one does not) would join the data set: removed before the manifest commits. Only
  // parts: an output named `<name>/parquet/…` lives under the same prefix.
  const published = new Set(parts.map((d) => parquetPartFile(d.shard)));
  const stale = (await store.listOutput(name, PARQUET_DIR)).filter((f) => isParquetPartFile(f) && !published.has(f));
  await store.deleteOutputs(name, stale);

  return buildManifest({
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
  });
}
