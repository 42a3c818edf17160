/**
 * The repeated-id pass's two tasks as the simulator runs them (lib/pipeline/repeats-step.ts):
 * `runIndexPartition` reads its two rows of the key directory (`sliceBounds`, the real code), then
 * its slice of every shard's sorted keys by range, and writes its piece of the
 * index and, per shard a repeat touches, the mapping's changes; `runRewriteShard` reads those
 * changes and the shard's fragment and writes the rewritten fragment. Same requests, same order,
 * same JobStore; the CPU from the cost model; the bodies stubs of the sizes the repeats imply.
 *
 * The repeats: a fraction r of the rows repeat an earlier id once, spread evenly over the hash
 * partitions and the shards. A partition of n records then holds n(1 − r) distinct ids, n·r of
 * them repeated, and spills 2·n·r changes (the first occurrence's new index, the later one's drop).
 */
import type { Environment } from './sim-lambda.ts';
import type { RepeatsPayload } from '../pipeline/payloads.ts';
import type { PartitionOutcome } from '../pipeline/repeats-step.ts';
import type { JobStore } from '../pipeline/job-store.ts';
import { mapLimit } from '../io/concurrency.ts';
import { CHUNK, READS, changeBounds, changesWork, partitionWork, rewrittenFragment, sliceBounds } from '../pipeline/repeats-step.ts';
import { CALIBRATION as C } from './figures.ts';
import { partitionCpuMs, partitionPeakMiB, rewriteCpuMs, rewritePeakMiB } from './cost-model.ts';
import { stub } from './sim-s3.ts';

/** The `k` of `of` shards a partition's changes touch, spread evenly. */
function touched(of: number, changes: number): number[] {
  const k = Math.min(of, Math.floor(changes));
  return Array.from({ length: k }, (_, i) => Math.floor((i * of) / k));
}

/** runIndexPartition. */
export async function indexPartition(
  store: JobStore,
  env: Environment,
  x: RepeatsPayload & { partition: number },
  /** The fraction of rows whose id repeats an earlier one. */
  repeats: number,
): Promise<PartitionOutcome> {
  const { jobId, partition: p } = x;
  const plan = await store.plan(jobId);
  const layout = plan.idIndex!;
  // The real step's own reads: its two rows of the key directory, then each shard's slice by range.
  const { start, end } = await sliceBounds(store, jobId, p, plan.shards.length);
  const sliceBytes = await mapLimit(plan.shards, READS, async (shard, s) => {
    if (end[s] === start[s]) return 0;
    await store.readShardRange(jobId, shard.index, 'keys', start[s]!, end[s]! - start[s]!);
    return end[s]! - start[s]!;
  });
  const records = Math.round(sliceBytes.reduce((a, b) => a + b, 0) / (C.keyRecordHeadBytes.value + C.idBytes.value));
  env.needs(partitionPeakMiB(records), `an id partition of ${records} records`);
  await env.cpu(partitionCpuMs(records));
  const repeatedIds = Math.round(records * repeats);
  const entries = records - repeatedIds;
  const bytes = 4 * (2 ** layout.bucketBits + 1) + entries * (C.keyRecordHeadBytes.value + C.idBytes.value);
  await store.writeWork(jobId, partitionWork(p), stub(bytes));
  const shards = touched(plan.shards.length, 2 * repeatedIds);
  const perShard = shards.length ? Math.max(1, Math.round((2 * repeatedIds) / shards.length)) : 0;
  const pairs = shards.map(() => perShard);
  // One change object for all its shards, as the real step writes it.
  if (shards.length > 0) await store.writeWork(jobId, changesWork(p), stub(shards.length * perShard * C.changePairBytes.value));
  return { partition: p, bytes, entries, repeatedIds, droppedEntries: repeatedIds, shards, pairs };
}

/** runRewriteShard. */
export async function rewriteFragment(
  store: JobStore,
  env: Environment,
  x: RepeatsPayload & { shard: number },
  /** The fraction of rows whose id repeats an earlier one. */
  repeats: number,
): Promise<{ shard: number; bytes: number }> {
  const { jobId, shard } = x;
  const plan = await store.plan(jobId);
  const rows = plan.shards[shard]!.rows;
  // Its row of the change directory (the real changeBounds), then its part of each partition's change object, READS at a time.
  const P = 2 ** plan.idIndex!.partBits;
  const { start, pairs } = await changeBounds(store, jobId, shard, P);
  const touchedBy = [...pairs.keys()].filter((p) => pairs[p]! > 0);
  const [, done] = await Promise.all([
    mapLimit(touchedBy, READS, (p) => store.readWorkRange(jobId, changesWork(p), start[p]!, pairs[p]! * C.changePairBytes.value)),
    store.readShardRecord(jobId, shard),
  ]);
  if (!done) throw new Error(`job ${jobId}: shard ${shard} has no record: it did not finish`);
  const changes = 2 * rows * repeats;
  const outBytes = Math.round(done.idBytes * (1 - repeats));
  env.needs(rewritePeakMiB(changes, outBytes), `the rewrite of shard ${shard}'s fragment`);
  const source = await store.shardSource(jobId, shard, 'ids');
  // eachFragmentEntry: the next chunk is read while this one is parsed.
  const readAt = (at: number) => source.read(at, Math.min(CHUNK, source.size - at));
  let next = source.size > 0 ? readAt(0) : null;
  for (let at = 0; next; at += CHUNK) {
    await next;
    const n = Math.min(CHUNK, source.size - at);
    next = at + n < source.size ? readAt(at + n) : null;
    await env.cpu(rewriteCpuMs((rows * n) / source.size));
  }
  await store.writeWork(jobId, rewrittenFragment(shard), stub(outBytes));
  return { shard, bytes: outBytes };
}
