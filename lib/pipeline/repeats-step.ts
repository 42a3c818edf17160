/**
 * The repeated-id pass and the id index, fanned out over hash partitions (the job's `map`s):
 *
 * - every shard wrote its id keys sorted by hash, cut into the plan's partitions (embed-step);
 * - `runIndexPartition` (one invoke per partition) reads partition p's slice of every shard,
 *   finds the ids that repeat in it, writes its piece of `id_index.bin` and, per shard with a
 *   repeat, what the mapping must change there — one partition's records in memory, nothing more;
 * - `combineIndex` (a step) records the partitions' sizes and which shards need rewriting;
 * - `runRewriteShard` (one invoke per such shard) rewrites that shard's mapping fragment with
 *   Python's dict semantics (the first occurrence's place, the last occurrence's index).
 *
 * No step reads all ids: a partition holds about `rows / P` of them, a rewrite one shard's.
 * The reducer then stitches the index and the mapping from these pieces.
 */
import type { JobStore } from './job-store.ts';
import type { JobPlan, ShardDone } from './records.ts';
import { ByteWriter } from '../io/byte-writer.ts';
import { mapLimit } from '../io/concurrency.ts';
import { buildPartition, DROP } from '../outputs/id-index.ts';
import { shardOfRow } from '../embedding/shard-plan.ts';
import { eachFragmentEntry, writeEntry } from '../outputs/fragment.ts';
import { PipelineError } from '../errors.ts';

/** What one partition reports to the job: small, whatever the partition's size. */
export interface PartitionOutcome {
  partition: number;
  bytes: number;
  entries: number;
  repeatedIds: number;
  droppedEntries: number;
  /** The shards whose mapping fragment must be rewritten for this partition's repeats, ascending. */
  shards: number[];
  /** For each of `shards`, how many (row, index) pairs this partition's change object holds for it, in that order. */
  pairs: number[];
}

/** `id-index.json`: what the reducer needs to stitch the index and the mapping. */
export interface IndexSummary {
  partitionBytes: number[];
  entries: number;
  repeatedIds: number;
  droppedEntries: number;
  /** Shards whose fragment is rewritten (`fragment-<shard>`), ascending. */
  rewrite: number[];
}

const SUMMARY = 'id-index.json';
const KEY_DIRECTORY = 'id-keys.bin';
/** Ranges read at once: a partition's shard slices, a rewrite's changes (at 1B rows a partition reads 954 slices of ≈ 90 KB: 16 at once were 6 s of latency). */
export const READS = 128;
/** Shard records read at once by the key directory step (small JSON objects; under the S3 client's 256 sockets). */
const RECORD_READS = 256;
/** A mapping fragment is read and parsed this much at a time. */
export const CHUNK = 8 << 20;

export const partitionWork = (p: number): string => `id-index/${p}`;
export const rewrittenFragment = (shard: number): string => `fragment-${shard}`;
/** A partition's changes to the mapping: every shard's (row, index) pairs, f64, shard after shard; a prefix per partition (every rewrite reads a range of each: S × P GETs). */
export const changesWork = (p: number): string => `changes/${p}/pairs`;
/** Where each shard's changes are in each partition's change object: S rows of P starts and P pair counts, f64. */
const CHANGE_DIRECTORY = 'changes.bin';

function layoutOf(plan: JobPlan) {
  if (!plan.idIndex) throw new PipelineError(`job ${plan.jobId}: its plan has no id index (written by an older version)`);
  return plan.idIndex;
}

async function shardRecords(store: JobStore, plan: JobPlan): Promise<ShardDone[]> {
  return mapLimit(plan.shards, RECORD_READS, async (s) => {
    const done = await store.readShardRecord(plan.jobId, s.index);
    if (!done?.keyOffsets) throw new PipelineError(`job ${plan.jobId}: shard ${s.index} has no record with id keys: it did not finish`);
    return done;
  });
}

/**
 * After the embed shards: every shard's partition offsets in one object, partition-major
 * (`(P + 1) × S` float64: row p holds where partition p starts in each shard's keys), so a
 * partition reads its two rows in one ranged GET instead of every shard's record (P × S GETs
 * on one prefix: 977,000 at 1B rows). Run as a step of the job; reads the S records once.
 */
export async function writeKeyDirectory(store: JobStore, jobId: string): Promise<{ shards: number; bytes: number }> {
  const plan = await store.plan(jobId);
  const P = 2 ** layoutOf(plan).partBits;
  const S = plan.shards.length;
  const done = await shardRecords(store, plan);
  const dir = new Float64Array((P + 1) * S);
  done.forEach((d, s) => {
    if (d.keyOffsets!.length !== P + 1)
      throw new PipelineError(`job ${jobId}: shard ${d.shard}'s keys have ${d.keyOffsets!.length - 1} partitions, the plan ${P}`);
    for (let p = 0; p <= P; p++) dir[p * S + s] = d.keyOffsets![p]!;
  });
  await store.writeWork(jobId, KEY_DIRECTORY, new Uint8Array(dir.buffer));
  return { shards: S, bytes: dir.byteLength };
}

/** Partition p's start and end in each shard's keys, from the key directory. */
export async function sliceBounds(
  store: JobStore,
  jobId: string,
  p: number,
  S: number,
): Promise<{ start: Float64Array; end: Float64Array }> {
  const source = await store.workSource(jobId, KEY_DIRECTORY);
  const need = (p + 2) * S * 8;
  if (source.size < need)
    throw new PipelineError(`job ${jobId}: the id key directory has ${source.size} bytes, partition ${p} needs ${need}`);
  const rows = (await source.read(p * S * 8, 2 * S * 8)).slice();
  const both = new Float64Array(rows.buffer);
  return { start: both.subarray(0, S), end: both.subarray(S) };
}

/** Builds partition `p` of the id index from every shard's slice of it, and spills the mapping's changes per shard. */
export async function runIndexPartition(store: JobStore, jobId: string, p: number): Promise<PartitionOutcome> {
  const plan = await store.plan(jobId);
  const layout = layoutOf(plan);
  const P = 2 ** layout.partBits;
  if (!Number.isInteger(p) || p < 0 || p >= P)
    throw new PipelineError(`job ${jobId}: id partition ${p} does not exist (the plan has ${P})`);
  const S = plan.shards.length;
  const { start, end } = await sliceBounds(store, jobId, p, S);
  const slices = await mapLimit(plan.shards, READS, async (shard, s) => {
    if (end[s] === start[s]) return new Uint8Array(0);
    return store.readShardRange(jobId, shard.index, 'keys', start[s]!, end[s]! - start[s]!);
  });
  const built = buildPartition(slices, layout, (row) => shardOfRow(plan.shards, row));
  await store.writeWork(jobId, partitionWork(p), built.bytes);
  // One object for all its shards' changes (one PUT, not one per shard: P × S of them at 1B rows).
  const shards = [...built.changes.keys()].sort((a, b) => a - b);
  const pairs = shards.map((sh) => built.changes.get(sh)!.length / 2);
  if (shards.length > 0) {
    const w = new ByteWriter(16 * pairs.reduce((a, b) => a + b, 0));
    for (const sh of shards) {
      const list = built.changes.get(sh)!;
      w.push(new Uint8Array(list.buffer, list.byteOffset, list.byteLength));
    }
    await store.writeWork(jobId, changesWork(p), w.bytes());
  }
  const { entries, repeatedIds, droppedEntries } = built;
  return { partition: p, bytes: built.bytes.length, entries, repeatedIds, droppedEntries, shards, pairs };
}

/** Records what the partitions found, for the reducer; returns the shards to rewrite. */
export async function combineIndex(store: JobStore, jobId: string, outcomes: readonly PartitionOutcome[]): Promise<IndexSummary> {
  const sorted = [...outcomes].sort((a, b) => a.partition - b.partition);
  const rewrite = new Set<number>();
  for (const o of sorted) for (const s of o.shards) rewrite.add(s);
  const summary: IndexSummary = {
    partitionBytes: sorted.map((o) => o.bytes),
    entries: sorted.reduce((n, o) => n + o.entries, 0),
    repeatedIds: sorted.reduce((n, o) => n + o.repeatedIds, 0),
    droppedEntries: sorted.reduce((n, o) => n + o.droppedEntries, 0),
    rewrite: [...rewrite].sort((a, b) => a - b),
  };
  if (summary.rewrite.length > 0) await writeChangeDirectory(store, jobId, sorted);
  await store.writeWork(jobId, SUMMARY, new TextEncoder().encode(JSON.stringify(summary)));
  return summary;
}

/** Where every shard's changes are in the partitions' change objects, from the partitions' counts: a rewrite reads its row. */
async function writeChangeDirectory(store: JobStore, jobId: string, sorted: readonly PartitionOutcome[]): Promise<void> {
  const S = (await store.plan(jobId)).shards.length;
  const P = sorted.length;
  const dir = new Float64Array(S * 2 * P);
  for (const o of sorted) {
    let at = 0;
    o.shards.forEach((sh, i) => {
      dir[sh * 2 * P + o.partition] = at;
      dir[sh * 2 * P + P + o.partition] = o.pairs[i]!;
      at += 16 * o.pairs[i]!;
    });
  }
  await store.writeWork(jobId, CHANGE_DIRECTORY, new Uint8Array(dir.buffer));
}

/** Shard `shard`'s changes: per partition, where they start in its change object and how many pairs, from the change directory. */
export async function changeBounds(
  store: JobStore,
  jobId: string,
  shard: number,
  P: number,
): Promise<{ start: Float64Array; pairs: Float64Array }> {
  const row = (await store.readWorkRange(jobId, CHANGE_DIRECTORY, shard * 16 * P, 16 * P)).slice();
  const both = new Float64Array(row.buffer);
  return { start: both.subarray(0, P), pairs: both.subarray(P) };
}

/** The summary `combineIndex` wrote, or null (a plan without an id index). */
export async function readIndexSummary(store: JobStore, plan: JobPlan): Promise<IndexSummary | null> {
  if (!plan.idIndex) return null;
  return JSON.parse(new TextDecoder().decode(await store.readWork(plan.jobId, SUMMARY))) as IndexSummary;
}

/** Rewrites shard `shard`'s mapping fragment with the changes every partition spilled for it; its size. */
export async function runRewriteShard(store: JobStore, jobId: string, shard: number): Promise<{ shard: number; bytes: number }> {
  const plan = await store.plan(jobId);
  if (!plan.shards[shard]) throw new PipelineError(`job ${jobId}: shard ${shard} does not exist (the plan has ${plan.shards.length})`);
  const change = new Map<number, number>();
  // Its part of each partition's change object that has one, side by side; their rows do not overlap.
  const P = 2 ** layoutOf(plan).partBits;
  const { start, pairs } = await changeBounds(store, jobId, shard, P);
  const touched = [...pairs.keys()].filter((p) => pairs[p]! > 0);
  const [spilled, done] = await Promise.all([
    mapLimit(touched, READS, (p) => store.readWorkRange(jobId, changesWork(p), start[p]!, 16 * pairs[p]!)),
    store.readShardRecord(jobId, shard),
  ]);
  for (const c of spilled) {
    const pairs = new Float64Array(c.slice().buffer);
    for (let i = 0; i < pairs.length; i += 2) change.set(pairs[i]!, pairs[i + 1]!);
  }
  if (!done) throw new PipelineError(`job ${jobId}: shard ${shard} has no record: it did not finish`);
  const out = new ByteWriter(Math.max(1 << 16, done.idBytes));
  await eachFragmentEntry(await store.shardSource(jobId, shard, 'ids'), CHUNK, (key, index) => {
    const to = change.get(index);
    if (to === DROP) return;
    // Row 0 is always a first occurrence, so the mapping's first entry is never dropped.
    writeEntry(out, key, to ?? index, index === 0);
  });
  await store.writeWork(jobId, rewrittenFragment(shard), out.bytes());
  return { shard, bytes: out.length };
}
