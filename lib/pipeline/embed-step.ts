/**
 * One shard of a serverless job: embed its rows, write its vectors, mapping fragment and sorted
 * id hashes, mark it done; the shard that finds every shard done claims the reduce, once, and
 * invokes it. Re-running a shard (a retry, a duplicate delivery) rewrites the same bytes and
 * cannot claim twice.
 */
import type { StepContext } from './invoker.ts';
import type { ShardDone, ShardTimings } from './records.ts';
import { reviveScaler } from './records.ts';
import { compileSpec } from '../embedding/kernel.ts';
import { openParquet } from '../parquet/reader.ts';
import { embedShard } from '../embedding/shard-work.ts';
import { ByteWriter } from '../io/byte-writer.ts';
import { hashIds, writeMappingFragment } from '../outputs/mapping.ts';
import { PipelineError } from '../errors.ts';

export interface EmbedOutcome {
  shard: number;
  rows: number;
  timingsMs: ShardTimings;
  /** True for the one invocation that claimed the reduce (and invoked the reducer). */
  claimedReduce: boolean;
}

/** Embeds shard `index` of job `jobId`; the shard that completes the job claims and invokes the reduce. */
export async function runEmbedShard({ store, invoker }: StepContext, jobId: string, index: number): Promise<EmbedOutcome> {
  const plan = await store.plan(jobId);
  const shard = plan.shards[index];
  if (!shard) throw new PipelineError(`job ${jobId}: shard ${index} does not exist (the plan has ${plan.shards.length})`);

  const t0 = performance.now();
  const reader = await openParquet(await store.openInput(plan));
  const opened = performance.now() - t0;
  const features = compileSpec(plan.spec, reviveScaler(plan.scaler));
  const dims = features.length;
  const vectors = new Float32Array(shard.rows * dims);
  const fragment = new ByteWriter(shard.rows * 36);
  const hashes = new BigUint64Array(shard.rows);
  await embedShard(reader, shard, features, plan.spec.id, (b) => {
    vectors.set(b.vectors, b.rowInShard * dims);
    // Fragments after the first carry their leading ", " so the reducer can copy them whole.
    writeMappingFragment(fragment, b.ids, shard.startRow + b.rowInShard, shard.index > 0 || b.rowInShard > 0);
    hashes.set(hashIds(b.ids), b.rowInShard);
  });
  hashes.sort();
  const idBytes = fragment.bytes();
  const { readMs, decodeMs, bytesRead } = reader.timings;
  const t1 = performance.now();
  await store.writeShard(jobId, index, { vectors: new Uint8Array(vectors.buffer), ids: idBytes, hashes: new Uint8Array(hashes.buffer) });
  const t2 = performance.now();
  const timingsMs: ShardTimings = {
    // Opening reads the footer: count it as reading.
    read: Math.round(opened + readMs),
    decode: Math.round(decodeMs),
    embed: Math.round(t1 - t0 - opened - readMs - decodeMs),
    write: Math.round(t2 - t1),
  };
  const done: ShardDone = {
    shard: index,
    rows: shard.rows,
    vectorBytes: vectors.byteLength,
    idBytes: idBytes.length,
    timingsMs,
    bytesRead,
  };
  await store.markShardDone(jobId, done);

  // Counting after our own marker is written: the last shard to finish always sees them all.
  const claimedReduce = (await store.shardsDone(jobId)) >= plan.shards.length && (await store.claimReduce(jobId, { shard: index }));
  if (claimedReduce) await invoker.reduce({ bucket: store.bucket, jobId });
  return { shard: index, rows: shard.rows, timingsMs, claimedReduce };
}
