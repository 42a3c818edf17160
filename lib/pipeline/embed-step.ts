/**
 * One shard of a serverless job: embed its rows, write its vectors, mapping fragment and sorted
 * id hashes (and its rows as a Parquet part when the plan asks), then its record. Run again (the
 * job's retry of a failed or lost invoke) it rewrites the same bytes; a shard already recorded is
 * not embedded twice.
 */
import type { JobStore } from './job-store.ts';
import type { JobPlan, ShardDone, ShardTimings } from './records.ts';
import { scalerFromSection } from '../outputs/manifest.ts';
import { compileSpec } from '../embedding/kernel.ts';
import { openParquet } from '../parquet/reader.ts';
import { embedShard } from '../embedding/shard-work.ts';
import { ByteWriter } from '../io/byte-writer.ts';
import { hashIds, writeMappingFragment } from '../outputs/mapping.ts';
import { embeddingsBatch } from '../outputs/embeddings-parquet.ts';
import { tableToParquet } from '../parquet/writer.ts';
import { Table, type RecordBatch } from 'apache-arrow';
import { concatIds, type IdColumn } from '../embedding/columns.ts';
import { rowBlock, shardKeys } from '../outputs/id-index.ts';
import { PipelineError } from '../errors.ts';

/** What the job's map keeps of a shard: small, whatever the shard's size. */
export interface EmbedOutcome {
  shard: number;
  rows: number;
  /** Null when the shard was already recorded (a retry after a lost response). */
  timingsMs: ShardTimings | null;
  /** Input bytes the shard read (0 when it did not embed). */
  bytesRead: number;
}

/** Embeds shard `index` of job `jobId` and records it; a shard already recorded is left as it is. */
export async function runEmbedShard(store: JobStore, jobId: string, index: number): Promise<EmbedOutcome> {
  const plan = await store.plan(jobId);
  const shard = plan.shards[index];
  if (!shard) throw new PipelineError(`job ${jobId}: shard ${index} does not exist (the plan has ${plan.shards.length})`);
  const recorded = await store.readShardRecord(jobId, index);
  if (recorded) return { shard: index, rows: shard.rows, timingsMs: null, bytesRead: 0 };
  const done = await embedAndWrite(store, plan, index);
  return { shard: index, rows: shard.rows, timingsMs: done.timingsMs, bytesRead: done.bytesRead };
}

/** Embeds the shard's rows and writes its objects, then its record (returned). */
async function embedAndWrite(store: JobStore, plan: JobPlan, at: number): Promise<ShardDone> {
  const jobId = plan.jobId;
  const shard = plan.shards[at]!;
  const t0 = performance.now();
  const reader = await openParquet(await store.openInput(plan));
  const opened = performance.now() - t0;
  const features = compileSpec(plan.spec, scalerFromSection(plan.scaler));
  const dims = features.length;
  const vectors = new Float32Array(shard.rows * dims);
  const fragment = new ByteWriter(shard.rows * 36);
  const index = plan.idIndex;
  // With the id index, the sorted keys find repeats; without (an older plan), the sorted hashes.
  const hashes = index ? null : new BigUint64Array(shard.rows);
  const idBatches: IdColumn[] = [];
  const rows: RecordBatch[] = [];
  // Each batch is embedded straight into the shard's matrix.
  const into = (at: number, n: number) => vectors.subarray(at * dims, (at + n) * dims);
  await embedShard(
    reader,
    shard,
    features,
    plan.spec.id,
    (b) => {
      if (plan.parquet) rows.push(embeddingsBatch(b.ids, shard.startRow + b.rowInShard, b.vectors, dims));
      // Fragments after the first carry their leading ", " so the reducer can copy them whole.
      writeMappingFragment(fragment, b.ids, shard.startRow + b.rowInShard, shard.index > 0 || b.rowInShard > 0);
      if (hashes) hashes.set(hashIds(b.ids), b.rowInShard);
      else idBatches.push(b.ids);
    },
    into,
  );
  hashes?.sort();
  const shardIds = index ? concatIds(idBatches) : null;
  const keys = index && shardIds ? shardKeys(shardIds, shard.startRow, index.partBits) : null;
  const rowids = shardIds ? rowBlock(shardIds) : null;
  const idBytes = fragment.bytes();
  const parquet = plan.parquet ? await tableToParquet(new Table(rows)) : undefined;
  const { readMs, decodeMs, bytesRead } = reader.timings;
  const t1 = performance.now();
  const parts = {
    vectors: new Uint8Array(vectors.buffer),
    ids: idBytes,
    ...(hashes && { hashes: new Uint8Array(hashes.buffer) }),
    ...(keys && rowids && { keys: keys.records, rowids }),
  };
  await store.writeShard(jobId, at, { ...parts, ...(parquet && { parquet }) });
  const t2 = performance.now();
  const timingsMs: ShardTimings = {
    // Opening reads the footer: count it as reading.
    read: Math.round(opened + readMs),
    decode: Math.round(decodeMs),
    embed: Math.round(t1 - t0 - opened - readMs - decodeMs),
    write: Math.round(t2 - t1),
  };
  const done: ShardDone = {
    shard: at,
    rows: shard.rows,
    vectorBytes: vectors.byteLength,
    idBytes: idBytes.length,
    ...(parquet && { parquetBytes: parquet.length }),
    ...(keys && rowids && { keyOffsets: keys.offsets, rowBlockBytes: rowids.length }),
    timingsMs,
    bytesRead,
  };
  await store.writeShardRecord(jobId, done);
  return done;
}
