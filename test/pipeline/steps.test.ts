/** The job steps' logic over the in-memory store: what each step writes and what it invokes next. */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { runLocal, type RunResult } from '../../lib/local/runner.ts';
import { jobStatus } from '../../lib/pipeline/status.ts';
import { markShardFailed } from '../../lib/pipeline/failure-step.ts';
import { runStats } from '../../lib/pipeline/stats-step.ts';
import { MemoryJob } from '../helpers/memory-job.ts';
import { fixture } from '../helpers/tmp.ts';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const FIXTURE = readFileSync(fixture('tracks-5k.parquet'));
const KEY = 'incoming/tracks.parquet';
let cli: RunResult;

beforeAll(async () => {
  cli = await runLocal({ input: fixture('tracks-5k.parquet'), outDir: mkdtempSync(join(tmpdir(), 'steps-cli-')), workers: 1 });
});

const expectCommandLineBytes = (job: MemoryJob) => {
  expect(Buffer.from(job.output('tracks', 'spotify_vectors_14d.npy')!).equals(readFileSync(cli.vectorsPath))).toBe(true);
  expect(Buffer.from(job.output('tracks', 'id_to_index.json')!).equals(readFileSync(cli.mappingPath))).toBe(true);
};

describe('the job steps over an in-memory store', () => {
  it('stats plans once and invokes one embed per shard; the last shard invokes the reduce once', async () => {
    const job = new MemoryJob({ shardRows: 1000 });
    const { outcome } = await job.upload(KEY, FIXTURE);
    expect(outcome.status).toBe('planned');
    expect(job.calls.map((c) => c.fn)).toEqual(['embed', 'embed', 'embed', 'embed', 'embed']);
    expect(await job.drain()).toBe(6);
    expect(job.calls.filter((c) => c.fn === 'reduce')).toHaveLength(1);
    expectCommandLineBytes(job);
    expect(await jobStatus(job.store, KEY)).toMatchObject({ state: 'done' });
  });

  it('a duplicate shard that finds the reduce claim gone (the job retired as it finished) invokes no second reduce', async () => {
    const job = new MemoryJob({ shardRows: 1000 });
    await job.upload(KEY, FIXTURE);
    for (const call of job.dropQueued()) await job.run(call);
    // The last shard claimed the reduce and invoked it once; that reduce has not run yet.
    expect(job.calls.filter((c) => c.fn === 'reduce')).toHaveLength(1);
    job.dropQueued();
    // The claim disappears between the duplicate's refused claim and its read of the claim, as
    // when the reducer publishes and retires the job's scratch at that moment.
    const putIfAbsent = job.objects.putIfAbsent.bind(job.objects);
    job.objects.putIfAbsent = async (key, ...rest) => {
      const put = await putIfAbsent(key, ...rest);
      if (!put && key.endsWith('reduce.claim')) job.objects.objects.delete(key);
      return put;
    };
    const embed = job.calls.find((c) => c.fn === 'embed')!;
    await job.run(embed);
    expect(job.calls.filter((c) => c.fn === 'reduce')).toHaveLength(1);
  });

  it('a duplicate event finds the plan and re-invokes only the shards with no done marker', async () => {
    const job = new MemoryJob({ shardRows: 1000 });
    const { etag } = await job.upload(KEY, FIXTURE);
    const queued = job.dropQueued(); // the five embeds
    await job.run(queued[1]!);
    await job.run(queued[3]!);
    const again = await runStats(job.ctx, { key: KEY, etag }, job.options);
    expect(again).toMatchObject({ status: 'resumed', invoked: ['shard 0', 'shard 2', 'shard 4'] });
    await job.drain();
    expect(job.calls.filter((c) => c.fn === 'reduce')).toHaveLength(1);
    expectCommandLineBytes(job);
  });

  it('fans the statistics out in parts; the part that completes them plans and starts the shards', async () => {
    const job = new MemoryJob({ shardRows: 1000, statsPartRows: 2000 });
    const { outcome } = await job.upload(KEY, FIXTURE);
    expect(outcome).toMatchObject({ status: 'fanned-out', parts: 3 });
    expect(job.calls.map((c) => c.fn)).toEqual(['statsPart', 'statsPart', 'statsPart']);
    await job.drain();
    expect(job.calls.filter((c) => c.fn === 'embed')).toHaveLength(5);
    expectCommandLineBytes(job);
  });

  it('refuses bad input with error.json and invokes nothing', async () => {
    const job = new MemoryJob({ shardRows: 1000 });
    const { outcome } = await job.upload('incoming/bad.parquet', new TextEncoder().encode('not parquet at all'));
    expect(outcome).toMatchObject({ status: 'rejected' });
    expect(job.calls).toEqual([]);
    const status = await jobStatus(job.store, 'incoming/bad.parquet');
    expect(status.state).toBe('failed');
    expect(status.state === 'failed' && status.error.error.message).toContain('s3://unit/incoming/bad.parquet');
  });

  it('ignores keys outside the input prefix or without .parquet', async () => {
    const job = new MemoryJob({ shardRows: 1000 });
    expect((await job.upload('elsewhere/tracks.parquet', FIXTURE)).outcome.status).toBe('ignored');
    expect((await job.upload('incoming/tracks.csv', FIXTURE)).outcome.status).toBe('ignored');
  });

  it('a failed shard fails its job naming the shard, but not a superseded job', async () => {
    const job = new MemoryJob({ shardRows: 1000 });
    const { outcome } = await job.upload(KEY, FIXTURE);
    const jobId = outcome.status === 'planned' ? outcome.plan.jobId : '';
    const record = { requestPayload: { bucket: 'unit', jobId, shard: 2 }, responsePayload: { errorType: 'Error', errorMessage: 'boom' } };
    expect(await markShardFailed(job.store, record)).toBe(jobId);
    const status = await jobStatus(job.store, KEY);
    expect(status.state === 'failed' && status.error.error).toMatchObject({
      shard: 2,
      message: expect.stringContaining('shard 2 of 5 failed'),
    });

    const other = new MemoryJob({ shardRows: 1000 });
    const first = await other.upload(KEY, FIXTURE);
    const firstJob = first.outcome.status === 'planned' ? first.outcome.plan.jobId : '';
    other.objects.upload(KEY, FIXTURE); // a new version
    await markShardFailed(other.store, { ...record, requestPayload: { bucket: 'unit', jobId: firstJob, shard: 0 } });
    expect(await other.store.readError('tracks')).toBeNull();
  });
});
