/**
 * The stats, embed and reduce functions as the simulator runs them: each makes the requests its
 * step in lib/pipeline makes, in the same order and through the same JobStore (plans, records,
 * keys, stitches are the real code's), and charges the cost model's CPU where the real step
 * decodes and computes on rows the simulation does not hold. The bodies it writes are stubs of
 * the real sizes, except the records every later step reads, which are real. The reduce function
 * also serves the repeated-id pass's tasks (sim-repeats.ts), as the real handler does.
 */
import type { Environment, SimFunction } from './sim-lambda.ts';
import type { StatsPayload, EmbedPayload, ReducePayload, RepeatsPayload } from '../pipeline/payloads.ts';
import type { EmbedOutcome } from '../pipeline/embed-step.ts';
import type { PlanSummary } from '../pipeline/stats-step.ts';
import type { JobPlan, ShardDone, StatsPlan } from '../pipeline/records.ts';
import type { Moments } from '../embedding/stats.ts';
import { JobStore } from '../pipeline/job-store.ts';
import { DEFAULT_PREFIXES } from '../pipeline/keys.ts';
import { loadFooter } from '../parquet/footer.ts';
import { planShards } from '../embedding/shard-plan.ts';
import { standardizedColumns } from '../embedding/spec.ts';
import { momentsToBytes } from '../embedding/stats.ts';
import { scalerSection } from '../outputs/manifest.ts';
import { pipelineIdLayout } from '../outputs/id-index.ts';
import { CALIBRATION as C } from './figures.ts';
import { embedCpuMs, embedPeakMiB, statsPassCpuMs } from './cost-model.ts';
import { indexPartition, rewriteFragment } from './sim-repeats.ts';
import { reduce } from './sim-reduce.ts';
import { readRanges } from './sim-reads.ts';
import { stub } from './sim-s3.ts';

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
  // The reduce handler tells its payloads apart: a repeated-id task has a `task`, the reduce none.
  const reduceFn = (p: unknown, env: Environment) => {
    const task = p as Partial<RepeatsPayload>;
    if (task.task === 'index partition') return indexPartition(storeOf(env), env, p as RepeatsPayload & { partition: number }, o.repeats);
    if (task.task === 'rewrite fragment') return rewriteFragment(storeOf(env), env, p as RepeatsPayload & { shard: number }, o.repeats);
    return reduce(storeOf(env), env, p as ReducePayload);
  };
  return [
    { name: 'stats', memoryMb: o.memoryMb, handler: (p, env) => stats(storeOf(env), env, p as StatsPayload) },
    { name: 'embed', memoryMb: o.memoryMb, handler: (p, env) => embed(storeOf(env), env, p as EmbedPayload) },
    { name: 'reduce', memoryMb: o.memoryMb, handler: reduceFn },
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
    const idPartitions = plan.idIndex && 2 ** plan.idIndex.partBits;
    return { status: 'planned', rows: plan.rows, shards: plan.shards.length, name: plan.name, ...(idPartitions && { idPartitions }) };
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

/** stats-step.ts finishPlan, with a unit scaler (the values are not there). */
function planOf(sp: StatsPlan, k: number): JobPlan {
  const columns = standardizedColumns(sp.spec);
  const scaler = {
    count: new Array<number>(k).fill(sp.rows),
    mean: new Array<number>(k).fill(0),
    variance: new Array<number>(k).fill(1),
    scale: new Array<number>(k).fill(1),
  };
  const { tasks: _t, parts: _p, idPartitionRows, rowGroupRows, ...input } = sp;
  return {
    ...input,
    scaler: scalerSection(columns, scaler),
    shards: planShards(rowGroupRows, sp.shardRows),
    idIndex: pipelineIdLayout(sp.rows, idPartitionRows),
    createdAt: sp.createdAt,
    timingsMs: {},
  };
}

/**
 * runEmbedShard: the plan, the record check, the footer, the shard's column chunks, the shard's
 * objects (vectors, mapping fragment and, with the plan's id index, its sorted keys cut at the
 * partitions and its row block), the record with the keys' partition offsets.
 */
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
  const index = plan.idIndex;
  if (!index) throw new Error(`job ${p.jobId}: the simulator models plans with an id index only`);
  const keyBytes = shard.rows * (C.keyRecordHeadBytes.value + C.idBytes.value);
  const rowBlockBytes = 4 + shard.rows * (C.rowBlockHeadBytes.value + C.idBytes.value);
  // Hashes spread evenly: partition q of the shard's sorted keys starts at q / P of them.
  const P = 2 ** index.partBits;
  const keyOffsets = Array.from({ length: P + 1 }, (_, q) => Math.round((q * keyBytes) / P));
  await store.writeShard(p.jobId, p.shard, {
    vectors: stub(vectorBytes),
    ids: stub(idBytes),
    keys: stub(keyBytes),
    rowids: stub(rowBlockBytes),
  });
  const timingsMs = { read: 0, decode: 0, embed: 0, write: 0 };
  const done: ShardDone = { shard: p.shard, rows: shard.rows, vectorBytes, idBytes, keyOffsets, rowBlockBytes, timingsMs, bytesRead };
  await store.writeShardRecord(p.jobId, done);
  return { shard: p.shard, rows: shard.rows, timingsMs, bytesRead };
}
