/**
 * The whole job on one machine: footer and schema check, statistics and embedding in worker
 * threads, then the .npy, the mapping and the manifest, renamed into place only when complete.
 */
import { availableParallelism, totalmem } from 'node:os';
import { open, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createReadStream } from 'node:fs';
import type { FeatureSpec } from '../embedding/spec.ts';
import type { Manifest } from '../outputs/manifest.ts';
import type { Moments, Scaler } from '../embedding/stats.ts';
import type { Shard } from '../embedding/shard-plan.ts';
import { OutputFolder } from '../io/output-folder.ts';
import type { Task, TaskResult } from './worker-protocol.ts';
import type { ParquetLayout } from '../parquet/footer.ts';
import { DEFAULT_SPEC, requiredColumns, standardizedColumns, vectorsFileName } from '../embedding/spec.ts';
import { openFileSource } from '../io/file-source.ts';
import { readFooter } from '../parquet/footer.ts';
import { checkSchema } from '../embedding/schema-check.ts';
import { busiestRows, homesOf, planShards, planWorkerShards } from '../embedding/shard-plan.ts';
import { fitScaler, fittedMeans, mergeAll, mergeDeviations, type Deviations } from '../embedding/stats.ts';
import { compileSpec } from '../embedding/kernel.ts';
import { matrixDtypes, sumChunks } from '../embedding/dtypes.ts';
import { npyHeader } from '../outputs/npy.ts';
import { ID_INDEX_FILE, idIndexLayout, type IdIndexLayout } from '../outputs/id-index.ts';
import { keysPart, rowidsPart, writeLocalIdIndex, type PartitionResult, type PartitionTask, type ShardKeys } from './id-index-files.ts';
import { buildManifest } from '../outputs/manifest.ts';
import { WorkerPool } from './worker-pool.ts';
import { InlineExecutor, type Executor } from './executor.ts';
import { MANIFEST_FILE, MAPPING_FILE, PARQUET_FILE } from '../outputs/file-names.ts';
import { ipcPartsToParquet } from '../parquet/writer.ts';

/** Below this many rows the run stays in this process: worker threads would cost more than they save (see bench/cli.ts). */
export const INLINE_MAX_ROWS = 250_000;

export interface RunOptions {
  input: string;
  outDir: string;
  spec?: FeatureSpec;
  /** Target rows per shard; default: the file split evenly over the workers (or a shard a row group when that is as even), at most DEFAULT_MAX_SHARD_ROWS (planWorkerShards). */
  shardRows?: number;
  /** Records per partition of the id index and the repeated-id pass (its memory); default 1 Mi. */
  idPartitionRows?: number;
  /** Worker threads; 1 runs in this process. Default: in-process below INLINE_MAX_ROWS rows, else one per core. */
  workers?: number;
  /**
   * A scaler fitted earlier (its manifest's): no statistics are computed, the file is embedded with
   * it, as scikit-learn's `transform` does after `fit`. `from` is recorded in the manifest.
   */
  fitted?: { scaler: Scaler; from: string };
  /** Also write embeddings.parquet (id, row, vector as a fixed-size list of float32). */
  parquet?: boolean;
  /** Called as rows finish, per phase. */
  onProgress?: (phase: 'stats' | 'embed', rows: number, total: number) => void;
}

export interface RunResult {
  manifest: Manifest;
  vectorsPath: string;
  mappingPath: string;
  manifestPath: string;
  /** Worker threads used; 1 means the run stayed in this process. */
  workers: number;
}

/** What the phases share: the plan of the run. */
interface RunPlan {
  input: string;
  spec: FeatureSpec;
  layout: ParquetLayout;
  shards: Shard[];
  shardRows: number;
  parquet: boolean;
  idIndex: IdIndexLayout;
  onProgress: RunOptions['onProgress'];
  /** The worker of each shard, the same in every pass, when they keep their shards; else (undefined) each takes the next. */
  homes: number[] | undefined;
  /** In worker threads: what a worker decodes once and keeps of its shards (see kept-shards.ts). */
  keep: { columns: string[]; maxBytes: number } | undefined;
}

/**
 * What each worker keeps of its shards between the passes (kept-shards.ts): every column the
 * embedding reads, up to 1 GiB a worker (a quarter of the machine's memory over the workers
 * below 8 GiB). Only when the busiest worker's shards are estimated to fit (8 bytes a number,
 * the id column's uncompressed bytes; about 150 bytes a row here): a worker that could keep only
 * some would decode the others three times, which parquet-wasm does faster than the page
 * decoders, so then nothing is kept and the run is as before (for 2 workers, past about 15M rows).
 */
export function keepPlan(
  layout: ParquetLayout,
  spec: FeatureSpec,
  shards: readonly Shard[],
  homes: readonly number[],
  workers: number,
): RunPlan['keep'] {
  const columns = requiredColumns(spec);
  const maxBytes = Math.floor(Math.min(2 ** 30, totalmem() / 4 / workers));
  const idBytes = layout.rowGroups.reduce((n, g) => n + (g.chunks.get(spec.id)?.uncompressed ?? 64 * g.numRows), 0);
  const perRow = 8 * (columns.length - 1) + 4 + idBytes / Math.max(1, layout.numRows);
  return busiestRows(shards, homes, workers) * perRow <= maxBytes ? { columns, maxBytes } : undefined;
}

/** Runs the job; on any failure nothing is left in `outDir` but what was there before. */
export async function runLocal(opts: RunOptions): Promise<RunResult> {
  const t0 = performance.now();
  const timings: Record<string, number> = {};
  const lap = (name: string, since: number) => (timings[name] = Math.round(performance.now() - since));
  const spec = opts.spec ?? DEFAULT_SPEC;
  let pool: Executor | null = null;
  let folder: OutputFolder | null = null;
  try {
    const layout = await readLayout(opts.input, spec);
    lap('footer', t0);
    const workers = opts.workers ?? (layout.numRows < INLINE_MAX_ROWS ? 1 : availableParallelism());
    pool = workers > 1 ? new WorkerPool(workers) : new InlineExecutor(requiredColumns(spec));
    const rows = layout.numRows;
    const groupRows = layout.rowGroups.map((g) => g.numRows);
    const shards = opts.shardRows !== undefined ? planShards(groupRows, opts.shardRows) : planWorkerShards(groupRows, workers);
    const shardRows = opts.shardRows ?? Math.max(0, ...shards.map((s) => s.rows));
    const homes = homesOf(shards, workers);
    const keep = workers > 1 ? keepPlan(layout, spec, shards, homes, workers) : undefined;
    // Worker threads share this process's working directory, so the user's own path works there too.
    const plan: RunPlan = {
      input: opts.input,
      spec,
      layout,
      shards,
      shardRows,
      parquet: opts.parquet ?? false,
      idIndex: idIndexLayout(rows, opts.idPartitionRows),
      onProgress: opts.onProgress,
      keep,
      homes: keep ? homes : undefined,
    };
    const out = (folder = await OutputFolder.open(opts.outDir));

    let t = performance.now();
    // A fitted scaler transforms in this file's matrix dtypes, as scikit-learn does (X.dtype).
    const scaler = opts.fitted ? { ...opts.fitted.scaler, dtype: matrixDtypes(spec, layout) } : await statsPass(pool, plan);
    if (!opts.fitted) lap('stats', t);
    t = performance.now();
    const shardKeys = await embedPass(pool, plan, scaler, out);
    lap('embed', t);
    t = performance.now();
    const index = await writeLocalIdIndex(
      plan.shards,
      shardKeys,
      plan.idIndex,
      rows,
      out,
      (s) => out.path(`ids-${s}.part`),
      partitionsIn(pool),
    );
    // The workers' part is done: their heaps go before the mapping and the Parquet write.
    await pool.close();
    lap('idIndex', t);
    t = performance.now();
    await concatFragments(index.fragments, out.path(MAPPING_FILE));
    const repeatedIds = index.repeatedIds;
    lap('mapping', t);
    if (plan.parquet) {
      t = performance.now();
      await joinParquetParts(plan, out);
      lap('parquet', t);
    }
    timings.total = Math.round(performance.now() - t0);

    const manifest = buildManifest({
      input: { name: opts.input, bytes: layout.fileSize, rows, rowGroups: layout.rowGroups.length, createdBy: layout.createdBy },
      spec,
      scaler,
      repeatedIds,
      shards: { count: shards.length, targetRows: shardRows },
      timingsMs: timings,
      fittedFrom: opts.fitted?.from,
      ...(plan.parquet && { parquet: PARQUET_FILE }),
      idIndex: ID_INDEX_FILE,
      uniqueIds: index.entries,
    });
    await writeFile(out.path(MANIFEST_FILE), JSON.stringify(manifest, null, 2) + '\n');
    // The manifest goes last: its presence says the other two are complete.
    const committed = await out.commit([
      vectorsFileName(spec.features.length),
      MAPPING_FILE,
      ID_INDEX_FILE,
      ...(plan.parquet ? [PARQUET_FILE] : []),
      MANIFEST_FILE,
    ]);
    // An earlier run's Parquet copy would no longer match the outputs beside it.
    if (!plan.parquet) await rm(join(opts.outDir, PARQUET_FILE), { force: true });
    const [vectorsPath, mappingPath] = committed;
    const manifestPath = committed[committed.length - 1];
    return { manifest, vectorsPath: vectorsPath!, mappingPath: mappingPath!, manifestPath: manifestPath!, workers };
  } finally {
    await pool?.close();
    await folder?.discard();
  }
}

/** The id index's partitions as tasks of `pool` (side by side in the workers), their results in order. */
function partitionsIn(pool: Executor): (tasks: PartitionTask[]) => Promise<PartitionResult[]> {
  return async (tasks) => {
    const results = await pool.run(
      tasks.map((task): Task => ({ kind: 'partition', ...task })),
      () => {},
    );
    return results as Extract<TaskResult, { kind: 'partition' }>[];
  };
}

/**
 * Pass 1: the statistics of each shard in the workers, in two rounds as scikit-learn computes
 * them: the column sums (the means), then the deviations from those means (the variances). Each
 * round is merged in shard order into numpy's pairwise sums (the same bits for any shards). A
 * worker runs the statistics of the shards it embeds, and keeps what it decoded for them.
 */
async function statsPass(pool: Executor, plan: RunPlan): Promise<Scaler> {
  const { input, layout, spec, onProgress, homes, keep } = plan;
  const rows = layout.numRows;
  const columns = standardizedColumns(spec);
  const tasks = plan.shards;
  const dtypes = matrixDtypes(spec, layout);
  const chunks = sumChunks(dtypes);
  let done = 0;
  onProgress?.('stats', 0, 2 * rows);
  const progress = (n: number) => onProgress?.('stats', (done += n), 2 * rows);
  const sums = await pool.run(
    tasks.map((task): Task => ({ kind: 'stats', input, layout, task, columns, chunks, keep })),
    progress,
    homes,
  );
  const moments = mergeAll(
    columns.length,
    sums.map((r) => (r as { moments: Moments }).moments),
  );
  const means = fittedMeans(moments);
  const deviations = await pool.run(
    tasks.map((task): Task => ({ kind: 'deviations', input, layout, task, columns, means })),
    progress,
    homes,
  );
  return fitScaler(moments, mergeDeviations(deviations.map((r) => (r as { deviations: Deviations }).deviations)), dtypes);
}

/**
 * Pass 2: every shard embedded by a worker into its rows of the .npy, its mapping fragment and its
 * id keys; returns, per shard, where its id partitions start and whether its fragment was written.
 */
async function embedPass(pool: Executor, plan: RunPlan, scaler: Scaler, out: OutputFolder): Promise<ShardKeys[]> {
  const { input, layout, spec, shards, onProgress } = plan;
  const rows = layout.numRows;
  const dims = spec.features.length;
  const features = compileSpec(spec, scaler);
  const header = npyHeader(rows, dims);
  const vectorsPath = out.path(vectorsFileName(dims));
  const vectors = await open(vectorsPath, 'w');
  await vectors.write(header, 0, header.length, 0);
  await vectors.truncate(header.length + rows * dims * 4);
  await vectors.close();
  let done = 0;
  onProgress?.('embed', 0, rows);
  const results = await pool.run(
    shards.map((shard): Task => ({
      kind: 'embed',
      input,
      layout,
      shard,
      features,
      idColumn: spec.id,
      vectorsPath,
      headerBytes: header.length,
      fragmentPath: out.path(`ids-${shard.index}.part`),
      ...(plan.parquet && { parquetPath: out.path(`parquet-${shard.index}.part`) }),
      keys: { keysPath: out.path(keysPart(shard.index)), rowidsPath: out.path(rowidsPart(shard.index)), partBits: plan.idIndex.partBits },
    })),
    (n) => onProgress?.('embed', (done += n), rows),
    plan.homes,
  );
  return results.map((r) => r as ShardKeys);
}

/** The shards' rows (Arrow IPC parts) written as embeddings.parquet, in one stream through the writer. */
async function joinParquetParts(plan: RunPlan, out: OutputFolder): Promise<void> {
  await ipcPartsToParquet(
    plan.shards.map((s) => out.path(`parquet-${s.index}.part`)),
    out.path(PARQUET_FILE),
  );
}

/** Reads the footer and checks the schema against the spec: every refusal of bad input happens here. */
async function readLayout(path: string, spec: FeatureSpec): Promise<ParquetLayout> {
  const source = await openFileSource(path);
  try {
    const layout = await readFooter(source);
    checkSchema(path, layout, spec);
    return layout;
  } finally {
    await source.close();
  }
}

/** Writes `{` + the fragments + `}`, streaming each fragment through in chunks. */
async function concatFragments(parts: readonly string[], dest: string): Promise<void> {
  const out = await open(dest, 'w');
  try {
    await out.write('{');
    for (const part of parts) {
      for await (const chunk of createReadStream(part, { highWaterMark: 1 << 20 })) await out.write(chunk as Buffer);
    }
    await out.write('}');
  } finally {
    await out.close();
  }
}
