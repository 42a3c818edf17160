/** Plans that cannot finish are refused at the start, naming the setting to change; the stack's defaults plan 1B rows. */
import { describe, expect, it } from 'vitest';
import { checkPlanLimits, planProblems, PlanLimitError, stitchParts, DEFAULT_LIMITS } from '../../lib/pipeline/plan-limits.ts';

const shards = (rows: number, per: number) => Array.from({ length: Math.ceil(rows / per) }, (_, i) => Math.min(per, rows - i * per));
const shape = (rows: number, per: number, extra: Partial<Parameters<typeof planProblems>[0]> = {}) => ({
  rows,
  dims: 14,
  shardRows: shards(rows, per),
  statsPartRows: Math.min(rows, 1 << 24),
  ...extra,
});

describe('plan limits', () => {
  it('passes the defaults at 100M and 1B rows', () => {
    expect(planProblems(shape(1e8, 1 << 20))).toEqual([]);
    expect(planProblems(shape(1e9, 1 << 20))).toEqual([]);
  });

  it.each([
    ['too many parts: 1B rows in 10,000 shards of 100k rows', shape(1e9, 100_000), /past S3's 10,000: raise SHARD_ROWS/],
    ['a shard past the embed timeout and memory', shape(1e9, 1 << 30), /near the embed function's 900 s timeout: lower SHARD_ROWS/],
    ['a statistics part past the stats timeout', shape(1e9, 1 << 20, { statsPartRows: 1e9 }), /lower STATS_PART_ROWS/],
    ['an id partition past the reduce memory', shape(1e9, 1 << 20, { idPartitionRows: 1e9 }), /lower ID_PARTITION_ROWS/],
  ])('refuses %s', (_, x, message) => {
    expect(() => checkPlanLimits('s3://b/incoming/t.parquet', x)).toThrow(PlanLimitError);
    expect(planProblems(x).join('; ')).toMatch(message);
  });

  it('counts parts as the stitcher cuts them: one copy per large shard, small ones assembled into 8 MiB parts', () => {
    expect(stitchParts([6 << 20, 6 << 20])).toBe(3);
    expect(stitchParts(Array(16).fill(1 << 20))).toBe(3);
  });

  it('takes the functions’ limits as configured', () => {
    const short = { ...DEFAULT_LIMITS, timeoutSeconds: { stats: 900, embed: 1, reduce: 900 } };
    expect(planProblems(shape(1e7, 1 << 20), short)[0]).toMatch(/embed function's 1 s timeout/);
  });
});
