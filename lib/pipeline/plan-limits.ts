/**
 * What a job's plan must fit before anything is paid for: S3's 10,000 parts per stitched output,
 * and each invocation's time and memory at the rates `bench:lambda` measured (docs/scaling.md).
 * A plan that cannot finish is refused when the upload is checked, naming the setting to change,
 * instead of failing at the reducer after every shard was embedded.
 */
import { PipelineError } from '../errors.ts';
import { pipelineIdLayout } from '../outputs/id-index.ts';

const MiB = 1024 * 1024;
/** S3: parts of a multipart upload; smallest part but the last; largest part; the stitcher's assembled part. */
const MAX_PARTS = 10_000;
const MIN_PART = 5 * MiB;
const MAX_PART = 5 * 1024 * MiB;
const ASSEMBLED_PART = 8 * MiB;

/**
 * Per-row costs, from `npm run bench:lambda` on one vCPU (docs/scaling.md, "Measured"), rounded
 * against us: embed ≈ 1.2 s of CPU and 476 MiB peak per 1 Mi-row shard, plus 0.3 s per Mi rows for
 * reads at 200 MB/s; stats ≈ 2.0 M rows/s plus 32 MB read per Mi rows; the id partition ≈ 120
 * bytes of memory per record (keys, sort arrays and the built piece).
 */
export const RATES = {
  embedSecondsPerRow: 1.6 / MiB,
  embedBytesPerRow: 440,
  embedBaseBytes: 120 * MiB,
  statsSecondsPerRow: 0.66 / MiB,
  partitionBytesPerRow: 120,
  partitionSecondsPerRow: 1.5 / MiB,
  baseBytes: 150 * MiB,
  /** The mapping's bytes per row for 22-character ids (`"id": 12345678, `), the index's per row. */
  mappingBytesPerRow: 36,
  indexBytesPerRow: 68,
};

/** The functions' limits as the stack configures them (its defaults: 900 s, 1,769 MB). */
export interface FunctionLimits {
  timeoutSeconds: { stats: number; embed: number; reduce: number };
  memoryMb: { stats: number; embed: number; reduce: number };
}

export const DEFAULT_LIMITS: FunctionLimits = {
  timeoutSeconds: { stats: 900, embed: 900, reduce: 900 },
  memoryMb: { stats: 1769, embed: 1769, reduce: 1769 },
};

/** A plan that could not finish: the job is refused at its start with this message. */
export class PlanLimitError extends PipelineError {
  override name = 'PlanLimitError';
}

export interface PlanShape {
  rows: number;
  dims: number;
  /** The planned shards' row counts. */
  shardRows: readonly number[];
  /** Rows of the largest statistics part. */
  statsPartRows: number;
  idPartitionRows?: number;
}

/** Parts a stitch of `n` objects of `bytes` each takes, as the stitcher cuts them (copies of ≥ 5 MiB, else 8 MiB assembled parts). */
export function stitchParts(sizes: readonly number[]): number {
  let parts = 1;
  let small = 0;
  for (const b of sizes) {
    if (b >= MIN_PART) parts += Math.ceil(b / MAX_PART);
    else small += b;
  }
  return parts + Math.ceil(small / ASSEMBLED_PART);
}

/** Every reason the plan cannot finish within S3's and Lambda's limits, each naming what to change; empty when it can. */
export function planProblems(x: PlanShape, limits: FunctionLimits = DEFAULT_LIMITS): string[] {
  const problems: string[] = [];
  const n = (v: number) => Math.round(v).toLocaleString('en-US');
  const largest = Math.max(0, ...x.shardRows);
  const outputs: [string, number][] = [
    ['the vectors', x.dims * 4],
    ['id_to_index.json', RATES.mappingBytesPerRow],
    ['id_index.bin', RATES.indexBytesPerRow],
  ];
  for (const [file, perRow] of outputs) {
    const parts = stitchParts(x.shardRows.map((r) => r * perRow));
    if (parts > MAX_PARTS)
      problems.push(
        `stitching ${file} from ${n(x.shardRows.length)} shards of ${n(largest)} rows takes about ${n(parts)} parts, past S3's ${n(MAX_PARTS)}: raise SHARD_ROWS (the stack's shardRows) so that shards are fewer and larger`,
      );
  }
  const embedSeconds = largest * RATES.embedSecondsPerRow;
  if (embedSeconds > 0.8 * limits.timeoutSeconds.embed)
    problems.push(
      `a shard of ${n(largest)} rows takes about ${n(embedSeconds)} s, near the embed function's ${limits.timeoutSeconds.embed} s timeout: lower SHARD_ROWS (shardRows)`,
    );
  const embedMb = (RATES.embedBaseBytes + largest * RATES.embedBytesPerRow) / 1e6;
  if (embedMb > 0.8 * limits.memoryMb.embed)
    problems.push(
      `a shard of ${n(largest)} rows needs about ${n(embedMb)} MB, near the embed function's ${limits.memoryMb.embed} MB: lower SHARD_ROWS (shardRows) or raise embedMemoryMb`,
    );
  const statsSeconds = 2 * x.statsPartRows * RATES.statsSecondsPerRow;
  if (statsSeconds > 0.8 * limits.timeoutSeconds.stats)
    problems.push(
      `a statistics part of ${n(x.statsPartRows)} rows takes about ${n(statsSeconds)} s, near the stats function's ${limits.timeoutSeconds.stats} s timeout: lower STATS_PART_ROWS (statsPartRows)`,
    );
  const layout = pipelineIdLayout(x.rows, x.idPartitionRows);
  // Hashes spread evenly: a partition holds about rows / P records, a few percent more at most.
  const partitionRows = (1.1 * x.rows) / 2 ** layout.partBits;
  const partitionMb = (RATES.baseBytes + partitionRows * RATES.partitionBytesPerRow) / 1e6;
  if (partitionMb > 0.8 * limits.memoryMb.reduce)
    problems.push(
      `an id partition of about ${n(partitionRows)} records needs about ${n(partitionMb)} MB, near the reduce function's ${limits.memoryMb.reduce} MB: lower ID_PARTITION_ROWS (idPartitionRows)`,
    );
  const partitionSeconds = partitionRows * RATES.partitionSecondsPerRow;
  if (partitionSeconds > 0.8 * limits.timeoutSeconds.reduce)
    problems.push(
      `an id partition of about ${n(partitionRows)} records takes about ${n(partitionSeconds)} s, near the reduce function's ${limits.timeoutSeconds.reduce} s timeout: lower ID_PARTITION_ROWS (idPartitionRows)`,
    );
  return problems;
}

/** Refuses a plan that cannot finish (every reason at once); `where` names the input. */
export function checkPlanLimits(where: string, x: PlanShape, limits?: FunctionLimits): void {
  const problems = planProblems(x, limits);
  if (problems.length > 0) throw new PlanLimitError(`${where}: this job cannot finish as planned: ${problems.join('; ')}`);
}
