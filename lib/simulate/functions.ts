/**
 * The stats, embed and reduce functions as the simulator runs them: each makes the requests its
 * step in lib/pipeline makes, in the same order and through the same JobStore (plans, records,
 * keys, stitches are the real code's), and charges the cost model's CPU where the real step
 * decodes and computes on rows the simulation does not hold. The bodies it writes are stubs of
 * the real sizes, except the records every later step reads, which are real.
 */
import type { Environment, SimFunction } from './sim-lambda.ts';
import type { StatsPayload, EmbedPayload, ReducePayload } from '../pipeline/payloads.ts';
import type { EmbedOutcome } from '../pipeline/embed-step.ts';
import type { ReduceOutcome } from '../pipeline/reduce-step.ts';
import type { PlanSummary } from '../pipeline/stats-step.ts';
import type { JobPlan, StatsPlan } from '../pipeline/records.ts';
import type { Manifest } from '../outputs/manifest.ts';
import type { ByteSource } from '../io/byte-source.ts';
import type { Moments } from '../embedding/stats.ts';
import { JobStore } from '../pipeline/job-store.ts';
import { DEFAULT_PREFIXES } from '../pipeline/keys.ts';
import { loadFooter } from '../parquet/footer.ts';
import { planShards } from '../embedding/shard-plan.ts';
import { standardizedColumns, vectorsFileName } from '../embedding/spec.ts';
import { momentsToBytes } from '../embedding/stats.ts';
import { scalerSection } from '../outputs/manifest.ts';
import { npyHeader } from '../outputs/npy.ts';
import { MAPPING_FILE } from '../outputs/file-names.ts';
import { CALIBRATION as C } from './figures.ts';
import { embedCpuMs, embedPeakMiB, mergeCpuMs, reducePeakMiB, repeatsCpuMs, statsPassCpuMs } from './cost-model.ts';
import { stub } from './sim-s3.ts';

const RANGE = 8 * 1024 * 1024;
/** lib/aws/s3-source.ts MAX_IN_FLIGHT. */
const IN_FLIGHT = 8;

/** Ranged GETs of `bytes` bytes, in 8 MiB ranges, 8 in flight (what the S3 byte source does). */
async function readRanges(source: ByteSource, bytes: number, inFlight = IN_FLIGHT): Promise<void> {
  const reads = Array.from({ length: Math.ceil(bytes / RANGE) }, (_, i) => Math.min(RANGE, bytes - i * RANGE));
  let at = 0;
  await Promise.all(
    Array.from({ length: Math.min(inFlight, reads.length) }, async () => {
      while (at < reads.length) await sizedRead(source, reads[at++]!);
    }),
  );
}

/** A ranged read whose bytes are not needed: the request and transfer are what count. */
const sizedRead = (source: ByteSource, len: number) => source.read(0, Math.min(len, source.size));

/** Options of the simulated job. */
export interface SimOptions {
  /** Fraction of rows whose id repeats an earlier one (0: none). */
  repeats: number;
  memoryMb: number;
}

const zeroTree = (total: number, root: boolean) => ({
  total,
  nodes: root ? ([[0, total, 0]] as [number, number, number][]) : [],
  cuts: [],
});

/** Moments of a task: the count, and a partial that is the whole column's root for the first task (the values are not there). */
function stubMoments(k: number, rows: number, total: number, first: boolean): Moments {
  return { count: new Array<number>(k).fill(rows), tree: Array.from({ length: k }, () => zeroTree(total, first)) };
}

export function simFunctions(o: SimOptions): SimFunction[] {
  const storeOf = (env: Environment) => new JobStore(env.objects, DEFAULT_PREFIXES);
  return [
    { name: 'stats', memoryMb: o.memoryMb, handler: (p, env) => stats(storeOf(env), env, p as StatsPayload) },
    { name: 'embed', memoryMb: o.memoryMb, handler: (p, env) => embed(storeOf(env), env, p as EmbedPayload) },
    { name: 'reduce', memoryMb: o.memoryMb, handler: (p, env) => reduce(storeOf(env), env, p as ReducePayload, o) },
  ];
}

/** runStatsWhole / runStatsMoments / runStatsDeviations. */
async function stats(store: JobStore, env: Environment, p: StatsPayload): Promise<PlanSummary | { status: 'done' }> {
  const sp = await store.statsPlan(p.jobId);
  const source = await store.openInput(sp);
  await loadFooter(source);
  env.needs(C.statsPeakMiB.value, 'the statistics pass');
  const k = standardizedColumns(sp.spec).length;
  const pass = async (rows: number) => {
    // Reads and decoding take turns, task by task (docs/scaling.md): one range at a time.
    await readRanges(source, rows * C.statsReadBytesPerRow.value, 1);
    await env.cpu(statsPassCpuMs(rows));
  };
  if (p.task === 'whole') {
    await pass(sp.rows);
    await pass(sp.rows);
    const plan = planOf(sp, k);
    await store.writePlan(plan);
    return { status: 'planned', rows: plan.rows, shards: plan.shards.length, name: plan.name };
  }
  const part = sp.parts[p.part]!;
  const tasks = sp.tasks.slice(part.first, part.first + part.count);
  await pass(tasks.reduce((n, t) => n + t.rows, 0));
  if (p.task === 'moments') {
    const moments = tasks.map((t) => stubMoments(k, t.rows, sp.rows, t.startRow === 0));
    await store.writeStatsPart(p.jobId, p.part, momentsToBytes(moments, k));
  } else {
    // The deviations format: 2k trees (Σ(x−T), Σ(x−T)²), no counts (stats-step.ts deviationsToBytes).
    const devs = tasks.map((t) => ({
      count: new Array<number>(2 * k).fill(0),
      tree: stubMoments(2 * k, 0, sp.rows, t.startRow === 0).tree,
    }));
    await store.writeDeviationsPart(p.jobId, p.part, momentsToBytes(devs, 2 * k));
  }
  return { status: 'done' };
}

function planOf(sp: StatsPlan, k: number): JobPlan {
  const columns = standardizedColumns(sp.spec);
  const scaler = {
    count: new Array<number>(k).fill(sp.rows),
    mean: new Array<number>(k).fill(0),
    variance: new Array<number>(k).fill(1),
    scale: new Array<number>(k).fill(1),
  };
  const { tasks: _t, parts: _p, ...input } = sp;
  return {
    ...input,
    scaler: scalerSection(columns, scaler),
    shards: planShards(sp.rowGroupRows, sp.shardRows),
    createdAt: sp.createdAt,
    timingsMs: {},
  };
}

/** runEmbedShard: the plan, the record check, the footer, the shard's column chunks, the shard objects, the record. */
async function embed(store: JobStore, env: Environment, p: EmbedPayload): Promise<EmbedOutcome> {
  const plan = await store.plan(p.jobId);
  const shard = plan.shards[p.shard]!;
  if (await store.readShardRecord(p.jobId, p.shard)) return { shard: p.shard, rows: shard.rows, timingsMs: null, bytesRead: 0 };
  const source = await store.openInput(plan);
  await loadFooter(source);
  env.needs(embedPeakMiB(shard.rows), `a shard of ${shard.rows} rows`);
  const bytesRead = Math.round(shard.rows * C.embedReadBytesPerRow.value);
  await readRanges(source, bytesRead);
  await env.cpu(embedCpuMs(shard.rows));
  const vectorBytes = shard.rows * C.vectorBytesPerRow.value;
  const idBytes = Math.round(shard.rows * C.mappingBytesPerRow.value);
  await store.writeShard(p.jobId, p.shard, {
    vectors: stub(vectorBytes),
    ids: stub(idBytes),
    hashes: stub(shard.rows * C.hashBytesPerRow.value),
  });
  const timingsMs = { read: 0, decode: 0, embed: 0, write: 0 };
  await store.writeShardRecord(p.jobId, { shard: p.shard, rows: shard.rows, vectorBytes, idBytes, timingsMs, bytesRead });
  return { shard: p.shard, rows: shard.rows, timingsMs, bytesRead };
}

/** runReduce: checks, the shard records, the .npy stitched, the repeated-id check (and main's dict pass), the mapping, the manifest. */
async function reduce(store: JobStore, env: Environment, p: ReducePayload, o: SimOptions): Promise<ReduceOutcome> {
  const plan = await store.plan(p.jobId);
  await store.readManifest(plan.name);
  const current = await store.currentEtag(plan.key);
  if (current !== plan.etag) return { status: 'superseded', currentEtag: current };
  const done = await Promise.all(plan.shards.map((s) => store.readShardRecord(p.jobId, s.index)));
  if (done.some((d) => d === null)) throw new Error(`job ${p.jobId}: a shard has no record`);
  const records = done.map((d) => d!);
  await store.abortOutputUploads(plan.name);
  const repeated = o.repeats > 0;
  env.needs(reducePeakMiB(records.length, repeated), `the reduce of ${records.length} shards`);
  const dims = plan.spec.features.length;
  await store.stitchOutput(
    plan.name,
    vectorsFileName(dims),
    [{ bytes: npyHeader(plan.rows, dims) }, ...records.map((d) => store.shardSegment(p.jobId, d.shard, 'vectors', d.vectorBytes))],
    'application/octet-stream',
  );
  // The repeated-id check: a k-way merge of every shard's sorted hashes (it stops at the first repeat).
  const hashes = await Promise.all(records.map((d) => store.shardSource(p.jobId, d.shard, 'hashes')));
  const mergedRows = repeated ? Math.min(plan.rows, records.length * 65_536) : plan.rows;
  await Promise.all(hashes.map((h) => readRanges(h, (h.size * mergedRows) / plan.rows)));
  await env.cpu(mergeCpuMs(mergedRows, records.length));
  if (repeated) {
    // main's dict-mapping pass: every fragment read, rewritten with Python's dict semantics.
    await Promise.all(records.map(async (d) => readRanges(await store.shardSource(p.jobId, d.shard, 'ids'), d.idBytes)));
    await env.cpu(repeatsCpuMs(plan.rows));
    for (const d of records) await store.writeWork(p.jobId, `mapping-${d.shard}`, stub(d.idBytes));
  }
  const enc = new TextEncoder();
  await store.stitchOutput(
    plan.name,
    MAPPING_FILE,
    [
      { bytes: enc.encode('{') },
      ...records.map((d) =>
        repeated ? store.workSegment(p.jobId, `mapping-${d.shard}`, d.idBytes) : store.shardSegment(p.jobId, d.shard, 'ids', d.idBytes),
      ),
      { bytes: enc.encode('}') },
    ],
    'application/json',
  );
  const manifest = { jobId: p.jobId, input: { etag: plan.etag }, outputs: { repeatedIds: repeated, etags: {} } } as unknown as Manifest;
  await store.writeManifest(plan.name, manifest);
  await store.clearError(plan.name);
  return { status: 'published', rows: plan.rows, repeatedIds: repeated, etags: 2 };
}
