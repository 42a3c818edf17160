/**
 * One shard of a serverless job: embed its rows, write its vectors, mapping fragment and sorted
 * id hashes (and its rows as a Parquet part when the plan asks), mark it done; the shard that
 * finds every shard done claims the reduce, once, and invokes it. Re-running a shard (a retry,
 * a duplicate delivery) rewrites the same bytes and cannot claim twice.
 */
import type { StepContext } from './invoker.ts';
import { randomUUID } from 'node:crypto';
import type { JobPlan, ShardDone, ShardTimings } from './records.ts';
import { nowOf, stallOf } from './invoker.ts';
import { scalerFromSection } from '../outputs/manifest.ts';
import { compileSpec } from '../embedding/kernel.ts';
import { openParquet } from '../parquet/reader.ts';
import { embedShard } from '../embedding/shard-work.ts';
import { ByteWriter } from '../io/byte-writer.ts';
import { hashIds, writeMappingFragment } from '../outputs/mapping.ts';
import { embeddingsBatch } from '../outputs/embeddings-parquet.ts';
import { tableToParquet } from '../parquet/writer.ts';
import { Table, type RecordBatch } from 'apache-arrow';
import { PipelineError } from '../errors.ts';

export interface EmbedOutcome {
  shard: number;
  rows: number;
  /** Null when the shard was already done (a retry or a duplicate) or its job had ended. */
  timingsMs: ShardTimings | null;
  /** True for the invocation that claimed the reduce (or took over an expired claim) and invoked the reducer. */
  claimedReduce: boolean;
  /** The job had already ended (published or failed): nothing was written. */
  jobEnded?: boolean;
  /** Input bytes the shard read (0 when it did not embed). */
  bytesRead?: number;
}

/**
 * Embeds shard `index` of job `jobId`; the shard that completes the job claims and invokes the
 * reduce. Run again, a done shard skips straight to that check; a shard of an ended job writes
 * nothing (and removes what it wrote if the job ended while it ran).
 */
export async function runEmbedShard(ctx: StepContext, jobId: string, index: number): Promise<EmbedOutcome> {
  const { store } = ctx;
  const plan = await store.plan(jobId);
  const shard = plan.shards[index];
  if (!shard) throw new PipelineError(`job ${jobId}: shard ${index} does not exist (the plan has ${plan.shards.length})`);
  const ended = { shard: index, rows: shard.rows, timingsMs: null, claimedReduce: false, jobEnded: true };
  if (await store.retireIfEnded(plan, jobId)) return ended;

  let done: ShardDone | null = null;
  if (!(await store.hasShardDone(jobId, index))) {
    done = await embedAndWrite(ctx, plan, index);
    // The job ended while this shard ran (a duplicate after the reducer published): nothing of it stays.
    if (await store.retireIfEnded(plan, jobId)) return ended;
  }
  const claimedReduce = await finishIfLast(ctx, plan);
  return { shard: index, rows: shard.rows, timingsMs: done?.timingsMs ?? null, bytesRead: done?.bytesRead ?? 0, claimedReduce };
}

/** Embeds the shard's rows and writes its objects, then its done marker (returned). */
async function embedAndWrite({ store }: StepContext, plan: JobPlan, index: number): Promise<ShardDone> {
  const jobId = plan.jobId;
  const shard = plan.shards[index]!;
  const t0 = performance.now();
  const reader = await openParquet(await store.openInput(plan));
  const opened = performance.now() - t0;
  const features = compileSpec(plan.spec, scalerFromSection(plan.scaler));
  const dims = features.length;
  const vectors = new Float32Array(shard.rows * dims);
  const fragment = new ByteWriter(shard.rows * 36);
  const hashes = new BigUint64Array(shard.rows);
  const rows: RecordBatch[] = [];
  await embedShard(reader, shard, features, plan.spec.id, (b) => {
    vectors.set(b.vectors, b.rowInShard * dims);
    if (plan.parquet) rows.push(embeddingsBatch(b.ids, shard.startRow + b.rowInShard, b.vectors, dims));
    // Fragments after the first carry their leading ", " so the reducer can copy them whole.
    writeMappingFragment(fragment, b.ids, shard.startRow + b.rowInShard, shard.index > 0 || b.rowInShard > 0);
    hashes.set(hashIds(b.ids), b.rowInShard);
  });
  hashes.sort();
  const idBytes = fragment.bytes();
  const parquet = plan.parquet ? tableToParquet(new Table(rows)) : undefined;
  const { readMs, decodeMs, bytesRead } = reader.timings;
  const t1 = performance.now();
  const parts = { vectors: new Uint8Array(vectors.buffer), ids: idBytes, hashes: new Uint8Array(hashes.buffer) };
  await store.writeShard(jobId, index, { ...parts, ...(parquet && { parquet }) });
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
    ...(parquet && { parquetBytes: parquet.length }),
    timingsMs,
    bytesRead,
  };
  await store.markShardDone(jobId, done);
  return done;
}

/**
 * When every shard is done, claims the reduce and invokes it; true when this invocation did.
 * The claim is also this invocation's when S3 committed it but the response was lost (it names
 * its writer), and is taken over when its lease has expired (its reducer presumed lost).
 */
async function finishIfLast(ctx: StepContext, plan: JobPlan): Promise<boolean> {
  const { store } = ctx;
  const jobId = plan.jobId;
  // Counting after our own marker is written: the last shard to finish always sees them all.
  if ((await store.shardsDone(jobId)) < plan.shards.length) return false;
  const holder = { jobId, writer: ctx.writer ?? randomUUID(), at: nowOf(ctx) };
  if (!(await store.claimReduce(holder))) {
    const claim = await store.readReduceClaim(jobId);
    // No claim after a refused one: only retiring the job's scratch removes it, so the job has
    // ended (a duplicate shard finishing as the reducer published): nothing to invoke.
    if (!claim || holder.at - claim.at <= stallOf(ctx)) return false;
    await store.takeOverReduceClaim(holder);
  }
  await ctx.invoker.reduce({ bucket: store.bucket, jobId });
  return true;
}
