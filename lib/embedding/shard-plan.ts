/** Planning: shards of whole row groups (huge ones split by row range), statistics tasks of fixed blocks, statistics parts. */
import type { RowRange } from '../parquet/row-range.ts';

/** One unit of parallel work: consecutive rows of the file, as segments of row groups. */
export interface Shard {
  index: number;
  /** Row index, in the whole file, of the shard's first row. */
  startRow: number;
  rows: number;
  segments: RowRange[];
}

/** Splits `rows` into `parts` contiguous pieces whose sizes differ by at most one. */
function splitEven(rowGroup: number, rows: number, parts: number): RowRange[] {
  const base = Math.floor(rows / parts);
  const extra = rows % parts;
  const out: RowRange[] = [];
  let offset = 0;
  for (let i = 0; i < parts; i++) {
    const n = base + (i < extra ? 1 : 0);
    out.push({ rowGroup, offset, rows: n });
    offset += n;
  }
  return out;
}

/**
 * Plans shards of at most `shardRows` rows: whole row groups packed in order, and a row group
 * larger than `shardRows` split by row range into near-equal pieces. Covers every row once.
 */
export function planShards(rowGroupRows: readonly number[], shardRows: number): Shard[] {
  if (!Number.isInteger(shardRows) || shardRows < 1) throw new RangeError(`shard size must be a positive integer, got ${shardRows}`);
  const units = rowGroupRows.flatMap((rows, g) => (rows === 0 ? [] : splitEven(g, rows, Math.ceil(rows / shardRows))));
  const shards: Shard[] = [];
  let startRow = 0;
  let current: Shard | undefined;
  for (const unit of units) {
    if (!current || current.rows + unit.rows > shardRows) {
      current = { index: shards.length, startRow, rows: 0, segments: [] };
      shards.push(current);
    }
    current.segments.push(unit);
    current.rows += unit.rows;
    startRow += unit.rows;
  }
  return shards;
}

/** Largest shard planned unless told otherwise: bounds one worker's (or one Lambda's) memory. */
export const DEFAULT_MAX_SHARD_ROWS = 1 << 20;

/**
 * Which of `workers` runs each shard: contiguous runs of shards, by where each shard's middle row
 * falls, so every worker gets about rows / workers rows (and the same worker every pass).
 */
export function homesOf(shards: readonly Shard[], workers: number): number[] {
  const rows = shards.reduce((n, s) => n + s.rows, 0);
  return shards.map((s) => Math.min(workers - 1, Math.floor((workers * (s.startRow + s.rows / 2)) / Math.max(1, rows))));
}

/** The rows of the busiest worker when shard i runs on worker `homes[i]`. */
export function busiestRows(shards: readonly Shard[], homes: readonly number[], workers: number): number {
  const load = new Array<number>(workers).fill(0);
  homes.forEach((w, i) => (load[w]! += shards[i]!.rows));
  return Math.max(...load);
}

/**
 * Shards for `workers` workers that each keep their shards (homesOf): of at most `maxRows` rows,
 * the plan whose busiest worker has the fewest rows, then the one of fewest shards. Besides an
 * even split it tries shards of each row group's size, so that a file of row groups about one
 * worker's share is read a row group a shard, not each cut in two.
 */
export function planWorkerShards(rowGroupRows: readonly number[], workers: number, maxRows = DEFAULT_MAX_SHARD_ROWS): Shard[] {
  const rows = rowGroupRows.reduce((n, r) => n + r, 0);
  const even = Math.max(1, Math.min(maxRows, Math.ceil(rows / workers)));
  const sizes = new Set([even, ...rowGroupRows.filter((r) => r > even && r <= maxRows)]);
  let best: { shards: Shard[]; load: number } | null = null;
  for (const size of sizes) {
    const shards = planShards(rowGroupRows, size);
    const busiest = busiestRows(shards, homesOf(shards, workers), workers);
    if (!best || busiest < best.load || (busiest === best.load && shards.length < best.shards.length)) best = { shards, load: busiest };
  }
  return best!.shards;
}

/** Rows per statistics block: the unit whose partial moments are merged, fixed so results never depend on sharding. */
export const STATS_BLOCK_ROWS = 65_536;
/** Blocks per statistics task: a task is what one worker (or one stats Lambda call) reads at once. */
export const STATS_TASK_BLOCKS = 16;

/** Rows of one statistics task at most. */
export const STATS_TASK_ROWS = STATS_BLOCK_ROWS * STATS_TASK_BLOCKS;

/** One statistics task: consecutive rows of the file, as segments of row groups (a shard of the stats pass). */
export type StatsTask = Shard;

/** The index of the shard (or task) holding file row `row`, by binary search over their start rows (ascending). */
export function shardOfRow(shards: readonly { startRow: number }[], row: number): number {
  let lo = 0;
  let hi = shards.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (shards[mid]!.startRow <= row) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/**
 * The statistics pass's tasks, fixed by the file's layout alone: small row groups packed together
 * and a large one split, as shards of at most a task's rows. The merged sums are the same bits for
 * any tasks (numpy's tree is the file's), so the plan decides only who reads what at once: one
 * decoder stream per task, however many row groups it spans. `taskRows` is smaller only where the
 * tasks must fit in smaller statistics parts.
 */
export function planStatsTasks(rowGroupRows: readonly number[], taskRows = STATS_TASK_ROWS): StatsTask[] {
  return planShards(rowGroupRows, taskRows);
}

/**
 * Rows of statistics one stats Lambda computes when the pass fans out: 1Mi rows take about 2 s a
 * pass, and the job reads the parts' results 256 at a time, so even 1B rows' 954 parts merge in
 * under a second (16Mi parts made 100M rows spend 44 s in statistics, 2Mi 6.5 s; the simulator).
 */
export const DEFAULT_STATS_PART_ROWS = 1 << 20;

/** A run of consecutive statistics tasks, `[first, first + count)`, computed by one invocation. */
export interface StatsPart {
  index: number;
  first: number;
  count: number;
  rows: number;
}

/**
 * Groups the statistics tasks, in order, into parts of at most `partRows` rows (at least one
 * task each). The parts only decide who computes which task: the tasks' moments are still
 * merged one by one in file order, so the statistics are the same bits for any grouping.
 */
export function planStatsParts(tasks: readonly StatsTask[], partRows: number): StatsPart[] {
  if (!Number.isInteger(partRows) || partRows < 1) throw new RangeError(`stats part size must be a positive integer, got ${partRows}`);
  const parts: StatsPart[] = [];
  let current: StatsPart | undefined;
  tasks.forEach((task, i) => {
    if (!current || current.rows + task.rows > partRows) {
      current = { index: parts.length, first: i, count: 0, rows: 0 };
      parts.push(current);
    }
    current.count++;
    current.rows += task.rows;
  });
  return parts;
}
