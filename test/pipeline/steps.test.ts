/** The job as the durable engine runs it, over the in-memory store: what it invokes, what it writes, how it ends. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runLocal, type RunResult } from '../../lib/local/runner.ts';
import { jobStatus } from '../../lib/pipeline/status.ts';
import { JobStore } from '../../lib/pipeline/job-store.ts';
import { MemoryStore } from '../../lib/pipeline/memory-store.ts';
import { DEFAULT_PREFIXES, jobIdFor, publishLockKey } from '../../lib/pipeline/keys.ts';
import type { JobConfig } from '../../lib/aws/config.ts';
import { MemoryJob } from '../helpers/memory-job.ts';
import { fixture } from '../helpers/tmp.ts';

const FIXTURE = readFileSync(fixture('tracks-5k.parquet'));
const KEY = 'incoming/tracks.parquet';
const cliDir = mkdtempSync(join(tmpdir(), 'steps-cli-'));
let cli: RunResult;

beforeAll(async () => {
  cli = await runLocal({ input: fixture('tracks-5k.parquet'), outDir: cliDir, workers: 1 });
});
afterAll(() => rmSync(cliDir, { recursive: true, force: true }));

const jobs: MemoryJob[] = [];
afterEach(async () => {
  for (const job of jobs.splice(0)) await job.close();
});
async function memoryJob(settings: Partial<JobConfig>): Promise<MemoryJob> {
  const job = await MemoryJob.create(settings);
  jobs.push(job);
  return job;
}

function gate(): { opened: Promise<void>; open: () => void } {
  let open = (): void => {};
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

const expectCommandLineBytes = (job: MemoryJob) => {
  expect(Buffer.from(job.output('tracks', 'spotify_vectors_14d.npy')!).equals(readFileSync(cli.vectorsPath))).toBe(true);
  expect(Buffer.from(job.output('tracks', 'id_to_index.json')!).equals(readFileSync(cli.mappingPath))).toBe(true);
};

/** What each invoke asked for, in the order they began: `stats whole`, `stats moments 2`, `embed 3`, `reduce`. */
const described = (job: MemoryJob) =>
  job.calls.map(({ fn, payload: p }) => [fn, p.task, p.part ?? p.shard].filter((x) => x !== undefined).join(' '));
/** The invokes from `from` to `to`, in any order (a map starts its items at once). */
const between = (job: MemoryJob, from: number, to: number) => described(job).slice(from, to).sort();

describe('the job over an in-memory store', () => {
  it('plans once and invokes one embed per shard, then one reduce; the console lists its steps', async () => {
    const job = await memoryJob({ shardRows: 1000 });

    const { etag, outcome } = await job.upload(KEY, FIXTURE);
    await job.settled();

    const jobId = jobIdFor('unit', KEY, etag);
    expect(outcome).toEqual({ status: 'started', jobId, generation: 0 });
    expect(job.calls).toHaveLength(8);
    expect(described(job)[0]).toBe('stats whole');
    expect(between(job, 1, 6)).toEqual(['embed 0', 'embed 1', 'embed 2', 'embed 3', 'embed 4']);
    // 5,000 ids make one partition of the id index, and none repeats: no fragment is rewritten.
    expect(described(job)[6]).toBe('repeats index partition');
    expect(described(job)[7]).toBe('reduce');
    expectCommandLineBytes(job);
    const execution = job.execution(jobId)!;
    expect(execution).toMatchObject({ status: 'SUCCEEDED', result: { status: 'published', jobId, rows: 5000, shards: 5 } });
    const steps = [
      'check the upload',
      'statistics',
      'embed shards',
      'repeated ids: index partitions',
      'repeated ids: combine',
      'take the publish lock',
      'reduce and publish',
      'release the publish lock',
      'clean up',
    ];
    expect(execution.operations!.filter((o) => steps.includes(o))).toEqual(steps);
    expect(await jobStatus(job.store, KEY)).toMatchObject({ state: 'done', jobId });
    // The scratch and the publish lock are gone.
    expect(await job.objects.list(DEFAULT_PREFIXES.jobs)).toEqual([]);
  });

  it('fans the statistics out: the sums of every part, then their deviations, one stats invoke each; the same bytes', async () => {
    const job = await memoryJob({ shardRows: 1000, statsPartRows: 2000 });

    await job.upload(KEY, FIXTURE);
    await job.settled();

    expect(between(job, 0, 3)).toEqual(['stats moments 0', 'stats moments 1', 'stats moments 2']);
    expect(between(job, 3, 6)).toEqual(['stats deviations 0', 'stats deviations 1', 'stats deviations 2']);
    expect(job.callsOf('stats')).toHaveLength(6);
    expect(job.callsOf('embed')).toHaveLength(5);
    expectCommandLineBytes(job);
    const manifest = JSON.parse(Buffer.from(job.output('tracks', 'manifest.json')!).toString()) as { timingsMs: Record<string, number> };
    expect(manifest.timingsMs.statsParts).toBe(3);
  });

  it('refuses at the start a plan that cannot finish, naming the setting, and invokes nothing', async () => {
    const limits = { timeoutSeconds: { stats: 900, embed: 0.001, reduce: 900 }, memoryMb: { stats: 1769, embed: 1769, reduce: 1769 } };
    const job = await memoryJob({ shardRows: 1000, limits });

    const { etag } = await job.upload(KEY, FIXTURE);
    await job.settled();

    expect(job.calls).toEqual([]);
    const status = await jobStatus(job.store, KEY);
    expect(status).toMatchObject({ state: 'failed', jobId: jobIdFor('unit', KEY, etag), error: { error: { type: 'PlanLimitError' } } });
    expect(status.state === 'failed' && status.error.error.message).toMatch(/near the embed function's 0\.001 s timeout: lower SHARD_ROWS/);
  });

  it('refuses bad input with error.json and invokes nothing', async () => {
    const job = await memoryJob({ shardRows: 1000 });

    const { etag } = await job.upload('incoming/bad.parquet', new TextEncoder().encode('not parquet at all'));
    await job.settled();

    expect(job.calls).toEqual([]);
    const jobId = jobIdFor('unit', 'incoming/bad.parquet', etag);
    expect(job.execution(jobId)).toMatchObject({ status: 'FAILED', error: { errorType: 'JobFailedError' } });
    const status = await jobStatus(job.store, 'incoming/bad.parquet');
    expect(status).toMatchObject({ state: 'failed', jobId, error: { jobId, input: { key: 'incoming/bad.parquet', etag } } });
    expect(status.state === 'failed' && status.error.error.message).toMatch(/^s3:\/\/unit\/incoming\/bad\.parquet: .*not a Parquet file/);
    expect(job.execution(jobId)!.error!.errorMessage).toBe(status.state === 'failed' && status.error.error.message);
  });

  it.each([
    ['elsewhere/tracks.parquet', 'not under incoming/'],
    ['incoming/notes.txt', 'not a .parquet file'],
  ])('ignores %s (%s): no job, nothing written', async (key, reason) => {
    const job = await memoryJob({ shardRows: 1000 });

    const { outcome } = await job.upload(key, FIXTURE);

    expect(outcome).toEqual({ status: 'ignored', key, reason });
    expect(job.executions.size).toBe(0);
    expect([...job.objects.objects.keys()]).toEqual([key]);
  });

  it('fails the job naming the statistics part that kept failing, with no shards embedded', async () => {
    const job = await memoryJob({ shardRows: 1000, statsPartRows: 2000, attempts: 2 });
    job.before = ({ fn, payload }) => {
      if (fn === 'stats' && payload.task === 'moments' && payload.part === 1) throw new Error('out of memory');
    };

    const { etag } = await job.upload(KEY, FIXTURE);
    await job.settled();

    const jobId = jobIdFor('unit', KEY, etag);
    expect(described(job).filter((c) => c === 'stats moments 1')).toHaveLength(2);
    expect(job.callsOf('embed')).toEqual([]);
    const error = await job.store.readError('tracks');
    expect(error).toMatchObject({ jobId, generation: 0, error: { type: 'StepFailed', statsPart: 1 } });
    expect(error!.error.message).toBe(`s3://unit/${KEY}: job ${jobId}: statistics part 1 of 3 failed after 2 attempt(s): out of memory`);
    expect(job.execution(jobId)).toMatchObject({ status: 'FAILED', error: { errorMessage: error!.error.message } });
    expect(await job.store.scratch(jobId)).toEqual([]);
  });

  it('runs the same bytes again after a failure as the next generation, which publishes', async () => {
    const job = await memoryJob({ shardRows: 2500, attempts: 1 });
    const first = new Set<string>();
    job.before = ({ fn, payload }) => {
      if (fn === 'embed' && !payload.jobId.endsWith('-g1') && !first.has(payload.jobId)) {
        first.add(payload.jobId);
        throw new Error('transient');
      }
    };
    const { etag } = await job.upload(KEY, FIXTURE);
    await job.settled();
    expect(await jobStatus(job.store, KEY)).toMatchObject({ state: 'failed' });

    const again = await job.notify(KEY, etag);
    await job.settled();

    const jobId = jobIdFor('unit', KEY, etag);
    expect(again).toEqual({ status: 'started', jobId: `${jobId}-g1`, generation: 1 });
    expect(job.execution(`${jobId}-g1`)).toMatchObject({ status: 'SUCCEEDED', result: { status: 'published' } });
    expect(await jobStatus(job.store, KEY)).toMatchObject({ state: 'done' });
    expect(await job.store.readError('tracks')).toBeNull();
    // Once published, the same event again starts nothing.
    expect(await job.notify(KEY, etag)).toEqual({ status: 'already-published', key: KEY, etag });
    expect(job.executions.size).toBe(2);
  });

  it('publish lock: a newer version’s job waits while an older one holds it, then publishes after it', async () => {
    const job = await memoryJob({ shardRows: 2500 });
    const firstReduce = job.hold('reduce');
    const secondRefused = gate();
    const putIfAbsent = job.objects.putIfAbsent.bind(job.objects);
    job.objects.putIfAbsent = async (key, body) => {
      const put = await putIfAbsent(key, body);
      if (!put && key === publishLockKey('tracks')) secondRefused.open();
      return put;
    };
    const holders: (string | undefined)[] = [];
    job.before = async ({ fn }) => {
      if (fn === 'reduce') holders.push((await job.store.publishLockHolder('tracks'))?.jobId);
    };
    const first = await job.upload(KEY, FIXTURE);
    // Job 1 holds the lock in its reduce; version 2 arrives and its job runs up to the lock.
    await firstReduce.reached;
    const second = await job.upload(KEY, readFileSync(fixture('edge', 'many-rowgroups.parquet')));
    await secondRefused.opened;
    firstReduce.release();
    await job.settled();

    const [v1, v2] = [first, second].map((u) => jobIdFor('unit', KEY, u.etag));
    expect(job.callsOf('reduce').map((c) => c.payload.jobId)).toEqual([v1, v2]);
    expect(holders).toEqual([v1, v2]);
    expect(job.execution(v1!)).toMatchObject({ status: 'SUCCEEDED', result: { status: 'superseded' } });
    expect(job.execution(v2!)).toMatchObject({ status: 'SUCCEEDED', result: { status: 'published', rows: 1000 } });
    expect(await job.store.publishLockHolder('tracks')).toBeNull();
  });

  it('publish lock: a live lock is not taken, a stale one past its lease is, by one taker only', async () => {
    const store = new JobStore(new MemoryStore('locks'), DEFAULT_PREFIXES);

    expect(await store.takePublishLock('a', 'job1', 1_000, 500)).toEqual({ held: true });
    expect(await store.takePublishLock('a', 'job2', 1_500, 500)).toEqual({ held: false, holder: 'job1' });
    // The holder's own retried step still holds it; another name has its own lock.
    expect(await store.takePublishLock('a', 'job1', 1_500, 500)).toEqual({ held: true });
    expect(await store.takePublishLock('b', 'job2', 1_500, 500)).toEqual({ held: true });
    const takers = await Promise.all(['job2', 'job3'].map((j) => store.takePublishLock('a', j, 1_501, 500)));
    expect(takers.filter((t) => t.held)).toHaveLength(1);
    const winner = takers[0]!.held ? 'job2' : 'job3';
    expect(await store.publishLockHolder('a')).toEqual({ jobId: winner, until: 2_001 });
    // Releasing is the holder's alone.
    await store.releasePublishLock('a', 'job1');
    expect(await store.publishLockHolder('a')).toMatchObject({ jobId: winner });
    await store.releasePublishLock('a', winner);
    expect(await store.publishLockHolder('a')).toBeNull();
  });
});
