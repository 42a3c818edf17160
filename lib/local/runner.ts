/**
 * The whole job on one machine: footer and schema check, statistics and embedding in worker
 * threads, then the .npy, the mapping and the manifest, renamed into place only when complete.
 */
import { availableParallelism } from 'node:os';
import { mkdir, mkdtemp, open, rename, rm, writeFile } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import type { FeatureSpec } from '../embedding/spec.ts';
import type { Manifest } from '../outputs/manifest.ts';
import type { Moments } from '../embedding/stats.ts';
import type { Task } from './worker-protocol.ts';
import type { ParquetLayout } from '../parquet/footer.ts';
import { DEFAULT_SPEC, standardizedColumns, vectorsFileName } from '../embedding/spec.ts';
import { openFileSource } from '../io/file-source.ts';
import { readFooter } from '../parquet/footer.ts';
import { checkSchema } from '../embedding/schema-check.ts';
import { DEFAULT_MAX_SHARD_ROWS, planShards, planStatsTasks } from '../embedding/shard-plan.ts';
import { fitScaler, mergeAll } from '../embedding/stats.ts';
import { compileSpec } from '../embedding/kernel.ts';
import { npyHeader } from '../outputs/npy.ts';
import { mappingJson } from '../outputs/mapping.ts';
import { sortedArraysRepeat } from '../outputs/repeated-ids.ts';
import { openParquet } from '../parquet/reader.ts';
import { readAllIds } from '../embedding/shard-work.ts';
import { buildManifest } from '../outputs/manifest.ts';
import { WorkerPool } from './worker-pool.ts';
import { MANIFEST_FILE, MAPPING_FILE } from '../outputs/file-names.ts';

export interface RunOptions {
  input: string;
  outDir: string;
  spec?: FeatureSpec;
  /** Target rows per shard; default: the file split evenly over the workers, at most DEFAULT_MAX_SHARD_ROWS. */
  shardRows?: number;
  /** Worker threads; default one per core. */
  workers?: number;
  /** Called as rows finish, per phase. */
  onProgress?: (phase: 'stats' | 'embed', rows: number, total: number) => void;
}

export interface RunResult {
  manifest: Manifest;
  vectorsPath: string;
  mappingPath: string;
  manifestPath: string;
}

/** Runs the job; on any failure nothing is left in `outDir` but what was there before. */
export async function runLocal(opts: RunOptions): Promise<RunResult> {
  const t0 = performance.now();
  const timings: Record<string, number> = {};
  const lap = (name: string, since: number) => (timings[name] = Math.round(performance.now() - since));
  const spec = opts.spec ?? DEFAULT_SPEC;
  const workers = opts.workers ?? availableParallelism();
  // Worker threads share this process's working directory, so the user's own path works there too.
  const input = opts.input;

  // Workers first: compiling the wasm decoder in each overlaps the footer read and checks.
  const pool = new WorkerPool(workers);
  let tmp: string | null = null;
  try {
    const layout = await readLayout(opts.input, spec);
    lap('footer', t0);
    const rows = layout.numRows;
    const dims = spec.features.length;
    const shardRows = opts.shardRows ?? Math.min(DEFAULT_MAX_SHARD_ROWS, Math.ceil(rows / workers));
    const groupRows = layout.rowGroups.map((g) => g.numRows);
    const shards = planShards(groupRows, shardRows);
    const statsTasks = planStatsTasks(groupRows);

    await mkdir(opts.outDir, { recursive: true });
    const dir = (tmp = await mkdtemp(join(opts.outDir, '.track-embeddings-')));
    const columns = standardizedColumns(spec);
    let t = performance.now();
    let statsDone = 0;
    opts.onProgress?.('stats', 0, rows);
    const statsResults = await pool.run(
      statsTasks.map((task): Task => ({ kind: 'stats', input, layout, task, columns })),
      (n) => opts.onProgress?.('stats', (statsDone += n), rows),
    );
    const scaler = fitScaler(
      mergeAll(
        columns.length,
        statsResults.map((r) => (r as { moments: Moments }).moments),
      ),
    );
    lap('stats', t);

    t = performance.now();
    const features = compileSpec(spec, scaler);
    const header = npyHeader(rows, dims);
    const vectorsPath = join(dir, vectorsFileName(dims));
    const vectors = await open(vectorsPath, 'w');
    await vectors.write(header, 0, header.length, 0);
    await vectors.truncate(header.length + rows * dims * 4);
    await vectors.close();
    let embedDone = 0;
    opts.onProgress?.('embed', 0, rows);
    const embedResults = await pool.run(
      shards.map((shard): Task => ({
        kind: 'embed',
        input,
        layout,
        shard,
        features,
        idColumn: spec.id,
        vectorsPath,
        headerBytes: header.length,
        fragmentPath: join(dir, `ids-${shard.index}.part`),
      })),
      (n) => opts.onProgress?.('embed', (embedDone += n), rows),
    );
    lap('embed', t);

    t = performance.now();
    const hashes = embedResults.map((r) => (r as { hashes: BigUint64Array }).hashes);
    const repeatedIds = await sortedArraysRepeat(hashes);
    const mappingPath = join(dir, MAPPING_FILE);
    if (!repeatedIds) {
      await concatFragments(
        shards.map((s) => join(dir, `ids-${s.index}.part`)),
        mappingPath,
      );
    } else {
      // Rare: some id repeats (or two ids share a 64-bit hash). Rebuild the mapping with dict semantics.
      const source = await openFileSource(opts.input);
      try {
        await writeFile(mappingPath, mappingJson(await readAllIds(await openParquet(source, layout), spec.id)));
      } finally {
        await source.close();
      }
    }
    lap('mapping', t);
    timings.total = Math.round(performance.now() - t0);

    const manifest = buildManifest({
      input: { name: opts.input, bytes: layout.fileSize, rows, rowGroups: layout.rowGroups.length, createdBy: layout.createdBy },
      spec,
      scaler,
      repeatedIds,
      shards: { count: shards.length, targetRows: shardRows },
      timingsMs: timings,
    });
    await writeFile(join(dir, MANIFEST_FILE), JSON.stringify(manifest, null, 2) + '\n');

    const finalPaths = {
      vectorsPath: join(opts.outDir, vectorsFileName(dims)),
      mappingPath: join(opts.outDir, MAPPING_FILE),
      manifestPath: join(opts.outDir, MANIFEST_FILE),
    };
    // The manifest goes last: its presence says the other two are complete.
    await rename(vectorsPath, finalPaths.vectorsPath);
    await rename(mappingPath, finalPaths.mappingPath);
    await rename(join(dir, MANIFEST_FILE), finalPaths.manifestPath);
    return { manifest, ...finalPaths };
  } finally {
    await pool.close();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  }
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
