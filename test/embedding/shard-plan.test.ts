import { describe, expect, it } from 'vitest';
import {
  homesOf,
  planShards,
  planWorkerShards,
  planStatsParts,
  planStatsTasks,
  STATS_BLOCK_ROWS,
  STATS_TASK_BLOCKS,
  type Shard,
} from '../../lib/embedding/shard-plan.ts';

/** Every row of the file exactly once, in order, and each shard's count matching its segments. */
function expectCovers(shards: Shard[], groups: number[]) {
  let row = 0;
  const seen = groups.map(() => 0);
  shards.forEach((s, i) => {
    expect(s.index).toBe(i);
    expect(s.startRow).toBe(row);
    expect(s.rows).toBe(s.segments.reduce((n, g) => n + g.rows, 0));
    for (const g of s.segments) {
      expect(g.offset).toBe(seen[g.rowGroup]);
      seen[g.rowGroup]! += g.rows;
    }
    row += s.rows;
  });
  expect(seen).toEqual(groups);
}

describe('planShards', () => {
  it.each([
    { groups: [1000, 1000, 1000, 1000, 1000], shardRows: 5000, shards: 1 },
    { groups: [1000, 1000, 1000, 1000, 1000], shardRows: 1000, shards: 5 },
    { groups: [1000, 1000, 1000, 1000, 1000], shardRows: 2500, shards: 3 },
    { groups: [1000, 1000, 1000, 1000, 1000], shardRows: 300, shards: 20 },
    { groups: [169776], shardRows: 50_000, shards: 4 },
    { groups: [5, 0, 7], shardRows: 3, shards: 5 },
    { groups: [1], shardRows: 1, shards: 1 },
  ])('$groups in shards of ≤ $shardRows rows → $shards shards covering every row once', ({ groups, shardRows, shards }) => {
    const plan = planShards(groups, shardRows);
    expect(plan).toHaveLength(shards);
    expectCovers(plan, groups);
    for (const s of plan) expect(s.rows).toBeLessThanOrEqual(shardRows);
  });

  it('splits a huge row group into near-equal row ranges', () => {
    const plan = planShards([10], 4);
    expect(plan.map((s) => s.segments)).toEqual([
      [{ rowGroup: 0, offset: 0, rows: 4 }],
      [{ rowGroup: 0, offset: 4, rows: 3 }],
      [{ rowGroup: 0, offset: 7, rows: 3 }],
    ]);
  });

  it('refuses a shard size that is not a positive integer', () => {
    expect(() => planShards([10], 0)).toThrow(RangeError);
    expect(() => planShards([10], 1.5)).toThrow(RangeError);
  });
});

describe('planStatsTasks', () => {
  const big = STATS_BLOCK_ROWS * STATS_TASK_BLOCKS;

  it('packs small row groups into one task: one decoder stream, however many row groups', () => {
    const tasks = planStatsTasks(Array.from({ length: 10_000 }, () => 1));
    expect(tasks).toHaveLength(1);
    expect(tasks[0]!.rows).toBe(10_000);
    expect(tasks[0]!.segments).toHaveLength(10_000);
  });

  it('splits a large row group and covers every row once, in order, depending only on the layout', () => {
    const layout = [big * 2 + 5, 10, big];
    const tasks = planStatsTasks(layout);
    expect(tasks).toEqual(planStatsTasks(layout));
    for (const t of tasks) expect(t.rows).toBeLessThanOrEqual(big);
    const rows = tasks.flatMap((t) => t.segments.flatMap((s) => Array.from({ length: s.rows }, (_, i) => [s.rowGroup, s.offset + i])));
    expect(rows).toHaveLength(3 * big + 15);
    expect(rows.slice(0, 2)).toEqual([
      [0, 0],
      [0, 1],
    ]);
    expect(rows[2 * big + 5]).toEqual([1, 0]);
    tasks.forEach((t, i) => expect(t.startRow).toBe(i === 0 ? 0 : tasks[i - 1]!.startRow + tasks[i - 1]!.rows));
  });
});

describe('planStatsParts', () => {
  const tasks = planStatsTasks([3_000_000, 500_000, 2_100_000]);

  it('groups the tasks in order into parts of at most the given rows, each task once', () => {
    const parts = planStatsParts(tasks, 2_500_000);
    expect(parts.map((p) => p.index)).toEqual(parts.map((_, i) => i));
    expect(parts.flatMap((p) => Array.from({ length: p.count }, (_, i) => p.first + i))).toEqual(tasks.map((_, i) => i));
    for (const p of parts) {
      expect(p.rows).toBe(tasks.slice(p.first, p.first + p.count).reduce((n, t) => n + t.rows, 0));
      expect(p.rows).toBeLessThanOrEqual(2_500_000);
    }
    expect(parts.reduce((n, p) => n + p.rows, 0)).toBe(5_600_000);
  });

  it('is one part when everything fits, and one task per part when none fit together', () => {
    expect(planStatsParts(tasks, 10_000_000)).toEqual([{ index: 0, first: 0, count: tasks.length, rows: 5_600_000 }]);
    expect(planStatsParts(tasks, 1)).toHaveLength(tasks.length);
  });

  it('refuses a part size that is not a positive integer', () => {
    expect(() => planStatsParts(tasks, 0)).toThrow(RangeError);
  });
});

describe('planWorkerShards and homesOf', () => {
  const loads = (shards: Shard[], workers: number) => {
    const load = new Array<number>(workers).fill(0);
    homesOf(shards, workers).forEach((w, i) => (load[w]! += shards[i]!.rows));
    return load;
  };

  it.each([
    // Two row groups of about half the file each: a shard a row group, not three shards.
    { groups: [1_048_576, 951_424], workers: 2, shards: 2, load: [1_048_576, 951_424] },
    // One big row group: cut evenly.
    { groups: [2_000_000], workers: 2, shards: 2, load: [1_000_000, 1_000_000] },
    // Many small row groups: packed, about rows / workers a worker.
    { groups: new Array<number>(100).fill(10_000), workers: 2, shards: 2, load: [500_000, 500_000] },
    // More rows than shards of 1Mi hold: shards of at most 1Mi, contiguous runs a worker.
    { groups: new Array<number>(10).fill(1_000_000), workers: 2, shards: 10, load: [5_000_000, 5_000_000] },
    // Fewer row groups than workers, no plan evener than a row group a shard: the fewer shards.
    { groups: [300, 300, 300], workers: 4, shards: 3, load: [300, 0, 300, 300] },
  ])('$groups.length row group(s) on $workers workers: $shards shards, loads $load', ({ groups, workers, shards, load }) => {
    const plan = planWorkerShards(groups, workers);
    expectCovers(plan, groups);
    expect(plan.length).toBe(shards);
    expect(loads(plan, workers)).toEqual(load);
    expect(Math.max(...plan.map((s) => s.rows))).toBeLessThanOrEqual(1 << 20);
    const homes = homesOf(plan, workers);
    // Each worker's shards are consecutive.
    expect([...homes].sort((a, b) => a - b)).toEqual(homes);
  });
});
