/**
 * One shard of a serverless job: embed its rows, write its vectors, mapping fragment and sorted
 * id hashes, mark it done; the shard that finds every shard done claims the reduce, once.
 * Re-running a shard (a retry, a duplicate delivery) rewrites the same bytes and cannot claim twice.
 */
import type { ObjectStore } from './object-store.ts';
import type { Prefixes } from './keys.ts';
import type { JobPlan } from './records.ts';
import { getJson } from './object-store.ts';
import { jobKeys } from './keys.ts';
import { reviveScaler } from './records.ts';
import { compileSpec } from '../embedding/kernel.ts';
import { guardDecoderPanics, openParquet } from '../parquet/reader.ts';
import { embedShard } from '../embedding/shard-work.ts';
import { ByteWriter } from '../io/byte-writer.ts';
import { hashIds, writeMappingFragment } from '../outputs/mapping.ts';
import { PipelineError } from '../errors.ts';

/** What a shard's done marker records: enough for the reducer to stitch without listing sizes. */
export interface ShardDone {
  shard: number;
  rows: number;
  vectorBytes: number;
  idBytes: number;
  /** Where the shard's time went: ranged GETs, Parquet decoding, the embedding and mapping, the puts. */
  timingsMs: ShardTimings;
  /** Input bytes fetched for the shard. */
  bytesRead: number;
}

export interface ShardTimings {
  read: number;
  decode: number;
  embed: number;
  write: number;
}

export interface EmbedOutcome {
  shard: number;
  rows: number;
  timingsMs: ShardTimings;
  /** True for the one invocation that claimed the reduce: it must invoke the reducer. */
  claimedReduce: boolean;
}

/** Reads a job's plan; a missing plan is a bug or an expired job, never bad input. */
export async function loadPlan(store: ObjectStore, jobId: string, prefixes: Prefixes): Promise<JobPlan> {
  const plan = await getJson<JobPlan>(store, jobKeys(jobId, prefixes).plan);
  if (!plan) throw new PipelineError(`job ${jobId}: no plan.json in s3://${store.bucket}/${jobKeys(jobId, prefixes).plan}`);
  return plan;
}

/** Embeds shard `index` of job `jobId` and reports whether this invocation claimed the reduce. */
export async function runEmbedShard(store: ObjectStore, jobId: string, index: number, prefixes: Prefixes): Promise<EmbedOutcome> {
  const plan = await loadPlan(store, jobId, prefixes);
  const shard = plan.shards[index];
  if (!shard) throw new PipelineError(`job ${jobId}: shard ${index} does not exist (the plan has ${plan.shards.length})`);
  const keys = jobKeys(jobId, prefixes);

  const t0 = performance.now();
  const source = await store.source(plan.key, plan.etag);
  const reader = await openParquet(source);
  const opened = performance.now() - t0;
  const features = compileSpec(plan.spec, reviveScaler(plan.scaler));
  const dims = features.length;
  const vectors = new Float32Array(shard.rows * dims);
  const fragment = new ByteWriter(shard.rows * 36);
  const hashes = new BigUint64Array(shard.rows);
  await guardDecoderPanics(() =>
    embedShard(reader, shard, features, plan.spec.id, (b) => {
      vectors.set(b.vectors, b.rowInShard * dims);
      // Fragments after the first carry their leading ", " so the reducer can copy them whole.
      writeMappingFragment(fragment, b.ids, shard.startRow + b.rowInShard, shard.index > 0 || b.rowInShard > 0);
      hashes.set(hashIds(b.ids), b.rowInShard);
    }),
  );
  hashes.sort();
  const idBytes = fragment.bytes();
  const { readMs, decodeMs, bytesRead } = reader.timings;
  const t1 = performance.now();
  await Promise.all([
    store.put(keys.vectors(index), new Uint8Array(vectors.buffer)),
    store.put(keys.ids(index), idBytes),
    store.put(keys.hashes(index), new Uint8Array(hashes.buffer)),
  ]);
  const t2 = performance.now();
  const timingsMs: ShardTimings = {
    // Opening reads the footer: count it as reading.
    read: Math.round(opened + readMs),
    decode: Math.round(decodeMs),
    embed: Math.round(t1 - t0 - opened - readMs - decodeMs),
    write: Math.round(t2 - t1),
  };
  const done: ShardDone = { shard: index, rows: shard.rows, vectorBytes: vectors.byteLength, idBytes: idBytes.length, timingsMs, bytesRead };
  await store.put(keys.done(index), JSON.stringify(done), 'application/json');

  // Listing after our own marker is written: the last shard to finish always sees them all.
  const finished = (await store.list(keys.donePrefix)).length;
  const claimedReduce =
    finished >= plan.shards.length && (await store.putIfAbsent(keys.reduceClaim, JSON.stringify({ shard: index, at: new Date().toISOString() })));
  return { shard: index, rows: shard.rows, timingsMs, claimedReduce };
}
