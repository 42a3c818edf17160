/** The reconciler's logic over the in-memory store, on a clock the test moves. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { reconcile, redrive } from '../../lib/pipeline/reconcile-step.ts';
import { jobStatus, describeStatus } from '../../lib/pipeline/status.ts';
import { MemoryJob } from '../helpers/memory-job.ts';
import { fixture } from '../helpers/tmp.ts';

const FIXTURE = readFileSync(fixture('tracks-5k.parquet'));
const KEY = 'incoming/tracks.parquet';
const STALL = 60_000;

/** A job on a clock the test moves; the reconciler shares it. */
function clockedJob() {
  const job = new MemoryJob({ shardRows: 1000 });
  let now = 1_000_000_000;
  job.objects.now = () => now;
  const ctx = { ...job.ctx, now: () => now, stallMs: STALL };
  return { job, ctx, tick: (ms: number) => (now += ms), now: () => now };
}

describe('the reconciler', () => {
  it('leaves a progressing job alone, redrives only the unfinished shards once it stalls, and the job publishes', async () => {
    const { job, ctx, tick } = clockedJob();
    await job.upload(KEY, FIXTURE);
    const queued = job.dropQueued(); // every shard invoke lost
    await job.run(queued[0]!); // but shard 0 ran
    expect((await reconcile(ctx, { maxRedrives: 3 })).jobs.map((j) => j.action)).toEqual(['progressing']);
    tick(STALL / 2);
    expect((await reconcile(ctx, { maxRedrives: 3 })).jobs.map((j) => j.action)).toEqual(['waiting']);
    tick(STALL);
    const swept = await reconcile(ctx, { maxRedrives: 3 });
    expect(swept.jobs[0]).toMatchObject({ action: 'redriven', invoked: ['shard 1', 'shard 2', 'shard 3', 'shard 4'] });
    await job.drain();
    expect(await jobStatus(job.store, KEY)).toMatchObject({ state: 'done' });
    expect(await job.store.activeJobIds()).toEqual([]);
  });

  it('fails a job that never progresses after its redrives, naming what never finished', async () => {
    const { job, ctx, tick, now } = clockedJob();
    const { etag } = await job.upload(KEY, FIXTURE);
    job.dropQueued();
    const status = async () => describeStatus(await jobStatus(job.store, KEY, { now: now(), stallMs: STALL, maxRedrives: 2 }), 'memory');
    await reconcile(ctx, { maxRedrives: 2 }); // notes the progress: shards 0/5
    for (let i = 1; i <= 2; i++) {
      tick(STALL + 1);
      expect(await status()).toMatch(
        new RegExp(`running \\(job \\w+, 0 of 5 shards done\\); stalled since .* \\(redrive ${i - 1} of 2\\)$`),
      );
      expect((await reconcile(ctx, { maxRedrives: 2 })).jobs[0]!.action).toBe('redriven');
      job.dropQueued(); // the redrive is lost too
    }
    tick(STALL + 1);
    const last = await reconcile(ctx, { maxRedrives: 2 });
    expect(last.jobs[0]).toMatchObject({ action: 'failed' });
    const s = await jobStatus(job.store, KEY);
    expect(s.state === 'failed' && s.error.error.message).toMatch(/job \w+: shards 0, 1, 2, 3, 4 of 5 did not finish after 2 redrive\(s\)/);
    expect(await job.store.scratch(job.store.jobIdOf({ key: KEY, etag }))).toEqual([]);
  });

  it('starts an upload whose S3 event was lost, once it is older than the stall timeout, and only once', async () => {
    const { job, ctx, tick } = clockedJob();
    job.objects.upload(KEY, FIXTURE); // no event
    expect((await reconcile(ctx, { maxRedrives: 3 })).started).toEqual([]); // too recent
    tick(STALL + 1);
    expect((await reconcile(ctx, { maxRedrives: 3 })).started).toEqual([KEY]);
    expect((await reconcile(ctx, { maxRedrives: 3 })).started).toEqual([]); // looked at once
    await job.drain();
    expect(await jobStatus(job.store, KEY)).toMatchObject({ state: 'done' });
  });

  it('is safe to run twice at once: the job publishes once, with the command line’s outputs', async () => {
    const { job, ctx, tick } = clockedJob();
    await job.upload(KEY, FIXTURE);
    job.dropQueued();
    await reconcile(ctx, { maxRedrives: 3 });
    tick(STALL + 1);
    const [a, b] = await Promise.all([reconcile(ctx, { maxRedrives: 3 }), reconcile(ctx, { maxRedrives: 3 })]);
    expect([a.jobs[0]!.action, b.jobs[0]!.action]).toEqual(['redriven', 'redriven']);
    await job.drain();
    expect(job.calls.filter((c) => c.fn === 'reduce').length).toBeGreaterThanOrEqual(1);
    expect(await jobStatus(job.store, KEY)).toMatchObject({ state: 'done' });
    expect(await job.store.activeJobIds()).toEqual([]);
  });

  it('redrive by hand re-invokes only the unfinished work and says so', async () => {
    const { job, ctx } = clockedJob();
    const { etag } = await job.upload(KEY, FIXTURE);
    const queued = job.dropQueued();
    await job.run(queued[2]!);
    expect(await redrive(ctx, { key: KEY, etag })).toMatchObject({
      stage: 'shards 1/5',
      invoked: ['shard 0', 'shard 1', 'shard 3', 'shard 4'],
    });
  });
});
