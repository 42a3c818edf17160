import { describe, expect, it } from 'vitest';
import { Clock, SharedRate } from '../../lib/simulate/clock.ts';
import { SimBucket } from '../../lib/simulate/sim-s3.ts';
import { AWS, CALIBRATION, LOCAL, MEASURED_PIPELINE_LOCAL, type Figure } from '../../lib/simulate/figures.ts';
import { simulate } from '../../lib/simulate/run.ts';
import { peakConcurrency } from '../../lib/simulate/report.ts';

describe('virtual time', () => {
  it('shares a rate between its users: two at once take twice as long as one', async () => {
    const clock = new Clock();
    const rate = new SharedRate(clock, 1);
    const ends: number[] = [];
    await clock.run(async () => {
      await rate.use(100);
      ends.push(clock.now);
      await Promise.all([rate.use(100).then(() => ends.push(clock.now)), rate.use(100).then(() => ends.push(clock.now))]);
    });
    expect(ends).toEqual([100, 300, 300]);
  });
});

describe('simulated S3', () => {
  it.each([
    [5500, 0, 0],
    [6000, 500, 520],
  ])(
    'answers %i GETs at once on one prefix with %i (to %i, retries throttled again) SlowDowns past 5,500 per second',
    async (n, least, most) => {
      const clock = new Clock();
      const bucket = new SimBucket(clock, AWS);
      const net = new SharedRate(clock, Infinity);
      await clock.run(() =>
        Promise.all(Array.from({ length: n }, (_, i) => bucket.request('GET', `p/${i}`, 0, net, 'out').catch(() => undefined))),
      );
      const c = bucket.prefixes.get('p/')!;
      expect(c.slowDowns).toBeGreaterThanOrEqual(least);
      expect(c.slowDowns).toBeLessThanOrEqual(most);
      // The SDK's retries got every one through within the second.
      expect(c.requests.GET - c.slowDowns).toBe(n);
    },
  );
});

describe('figures', () => {
  it('name a source for every figure', () => {
    const figures = (o: object): Figure[] =>
      Object.values(o).flatMap((v: unknown) => (v && typeof v === 'object' ? ('source' in v ? [v as Figure] : figures(v)) : []));
    const all = [...figures(AWS), ...figures(LOCAL), ...figures(CALIBRATION)];
    expect(all.length).toBeGreaterThan(40);
    for (const f of all) expect(f.source.length, JSON.stringify(f)).toBeGreaterThan(10);
  });
});

describe('the simulated job', () => {
  it('predicts pipeline-local at 2M rows within ±25 % of its measured wall time, taken back by the load it ran under', async () => {
    const r = await simulate({ rows: 2_000_000, platform: LOCAL });
    expect(r.status).toBe('published');
    const measured = MEASURED_PIPELINE_LOCAL.rows2M.value / MEASURED_PIPELINE_LOCAL.loadFactor2M.value;
    expect(Math.abs(r.wallMs / 1000 / measured - 1)).toBeLessThanOrEqual(0.25);
  });

  it('runs the real orchestration: statistics in parts, every shard, the id partitions, the rewrites, the reduce, the clean-up', async () => {
    const r = await simulate({ rows: 20_000_000, repeats: 0.1, statsPartRows: 8_388_608, concurrency: 100 });
    expect(r.status).toBe('published');
    expect(r.phases.map((p) => p.name)).toEqual([
      'check the upload',
      'statistics: sums',
      'statistics: means',
      'statistics: deviations',
      'statistics: scaler and shards',
      'embed shards',
      'repeated ids: key directory',
      'repeated ids: index partitions',
      'repeated ids: combine',
      'repeated ids: rewrite fragments',
      'take the publish lock',
      'reduce and publish',
      'release the publish lock',
      'clean up',
    ]);
    expect(r.invocations.filter((i) => i.fn === 'embed')).toHaveLength(20);
    expect(peakConcurrency(r).byFunction.embed).toBe(20);
    expect(r.invocations.filter((i) => i.fn === 'stats')).toHaveLength(2 * 3);
    // 20M rows in the pipeline's partitions of at most 1Mi records: 32 partitions; then each of the 20 shards' fragments rewritten; then the reduce.
    expect(r.invocations.filter((i) => i.fn === 'reduce')).toHaveLength(32 + 20 + 1);
    // Each partition read its slice of every shard's sorted keys: one ranged GET per shard, no HEAD before it, on the shard's own prefix.
    const shardPrefixes = [...r.prefixes].filter(([p]) => /\/shards\/\d+\/$/.test(p));
    expect(shardPrefixes).toHaveLength(20);
    const gets = shardPrefixes.reduce((n, [, x]) => n + x.requests.GET, 0);
    expect(gets).toBeGreaterThanOrEqual(32 * 20);
    expect(gets).toBeLessThan(32 * 20 * 2);
  });

  it('rewrites no fragment when no id repeats', async () => {
    const r = await simulate({ rows: 4_000_000, concurrency: 20 });
    expect(r.status).toBe('published');
    const names = r.phases.map((p) => p.name);
    expect(names).toContain('repeated ids: index partitions');
    expect(names).not.toContain('repeated ids: rewrite fragments');
    // 4M rows: 4 partitions of 1Mi records at most, then the reduce.
    expect(r.invocations.filter((i) => i.fn === 'reduce')).toHaveLength(4 + 1);
  });

  it('fails the job with error.json, as Lambda would, when an invocation passes its timeout', async () => {
    // A 2 s timeout: the statistics of 2M rows in one part (one invocation, both passes) take about 4 s.
    const platform = { ...AWS, lambda: { ...AWS.lambda, timeoutS: { ...AWS.lambda.timeoutS, value: 2 } } };
    const r = await simulate({ rows: 2_000_000, platform, concurrency: 20, statsPartRows: 1 << 22 });
    expect(r.status).toBe('failed');
    const stats = r.invocations.filter((i) => i.fn === 'stats');
    // The job's 3 attempts, each ended at the timeout; nothing after them ran.
    expect(stats.map((i) => i.error)).toEqual(new Array(3).fill('Task timed out after 2.00 seconds'));
    for (const i of stats) expect(i.end - i.start).toBeCloseTo(2000, 0);
    expect(r.invocations).toHaveLength(3);
    expect(r.errorJson?.error.message).toMatch(/statistics failed after 3 attempt\(s\): Task timed out after 2.00 seconds$/);
  });
});
