/**
 * The reduce as the simulator runs it (lib/pipeline/reduce-step.ts runReduce): the checks, the
 * shard records, then the vectors, the mapping (rewritten fragments where the repeated-id pass
 * changed them) and id_index.bin (its real header, the partitions' pieces, the row blocks)
 * stitched side by side, the stale Parquet parts listed, the manifest last.
 */
import type { Environment } from './sim-lambda.ts';
import type { ReducePayload } from '../pipeline/payloads.ts';
import type { ReduceOutcome } from '../pipeline/reduce-step.ts';
import type { ShardDone } from '../pipeline/records.ts';
import type { StitchSegment } from '../pipeline/object-store.ts';
import type { Manifest } from '../outputs/manifest.ts';
import type { JobStore } from '../pipeline/job-store.ts';
import { vectorsFileName } from '../embedding/spec.ts';
import { npyHeader } from '../outputs/npy.ts';
import { ID_INDEX_FILE, idIndexHeader } from '../outputs/id-index.ts';
import { MAPPING_FILE, PARQUET_DIR } from '../outputs/file-names.ts';
import { mapLimit } from '../io/concurrency.ts';
import { partitionWork, readIndexSummary, rewrittenFragment } from '../pipeline/repeats-step.ts';
import { reducePeakMiB } from './cost-model.ts';

/** reduce-step.ts PART_COPIES. */
const PART_COPIES = 128;
const utf8 = new TextEncoder();

/** runReduce and its publish. */
export async function reduce(store: JobStore, env: Environment, p: ReducePayload): Promise<ReduceOutcome> {
  const { jobId } = p;
  const plan = await store.plan(jobId);
  const published = await store.readManifest(plan.name);
  if (published?.jobId === jobId && published.input.etag === plan.etag)
    return { status: 'published', rows: plan.rows, repeatedIds: published.outputs.repeatedIds, etags: 3 };
  const current = await store.currentEtag(plan.key);
  if (current !== plan.etag) return { status: 'superseded', currentEtag: current };
  const records = await Promise.all(plan.shards.map((s) => store.readShardRecord(jobId, s.index)));
  if (records.some((d) => d === null)) throw new Error(`job ${jobId}: a shard has no record`);
  const done = records as ShardDone[];
  await store.abortOutputUploads(plan.name);
  env.needs(reducePeakMiB(), `the reduce of ${done.length} shards`);
  const { name } = plan;
  const dims = plan.spec.features.length;

  const summary = await readIndexSummary(store, plan);
  if (!summary || !plan.idIndex) throw new Error(`job ${jobId}: the simulator models plans with an id index only`);
  const rewritten = new Set(summary.rewrite);
  const fragments = await mapLimit(done, PART_COPIES, async (d) =>
    rewritten.has(d.shard)
      ? store.workSegment(jobId, rewrittenFragment(d.shard), (await store.workSource(jobId, rewrittenFragment(d.shard))).size)
      : store.shardSegment(jobId, d.shard, 'ids', d.idBytes),
  );
  const layout = plan.idIndex;
  const vectors = store.stitchOutput(
    name,
    vectorsFileName(dims),
    [
      { bytes: npyHeader(plan.rows, dims) },
      ...done.map((d): StitchSegment => store.shardSegment(jobId, d.shard, 'vectors', d.vectorBytes)),
    ],
    'application/octet-stream',
  );
  const mapping = store.stitchOutput(
    name,
    MAPPING_FILE,
    [{ bytes: utf8.encode('{') }, ...fragments, { bytes: utf8.encode('}') }],
    'application/json',
  );
  const header = idIndexHeader({
    layout,
    rows: plan.rows,
    entries: summary.entries,
    partitionBytes: summary.partitionBytes,
    blocks: done.map((d) => ({ firstRow: plan.shards[d.shard]!.startRow, bytes: d.rowBlockBytes! })),
  });
  const index = store.stitchOutput(
    name,
    ID_INDEX_FILE,
    [
      { bytes: header },
      ...summary.partitionBytes.map((size, q) => store.workSegment(jobId, partitionWork(q), size)),
      ...done.map((d) => store.shardSegment(jobId, d.shard, 'rowids', d.rowBlockBytes!)),
    ],
    'application/octet-stream',
  );
  await Promise.all([vectors, mapping, index]);
  // No Parquet parts in the simulated job: the listing finds none to remove.
  await store.deleteOutputs(name, await store.listOutput(name, PARQUET_DIR));
  const repeatedIds = summary.repeatedIds > 0;
  const manifest = { jobId, input: { etag: plan.etag }, outputs: { repeatedIds, etags: {} } } as unknown as Manifest;
  await store.writeManifest(name, manifest);
  await store.clearError(name);
  return { status: 'published', rows: plan.rows, repeatedIds, etags: 3 };
}
