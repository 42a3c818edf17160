import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { s3Endpoint } from '../helpers/s3.ts';
import { CreateBucketCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { s3ClientFor } from '../../lib/emulators/moto.ts';
import type { LocalLambda } from '../../lib/emulators/lambda/index.ts';
import { startLocalStack, type LocalStack } from '../../lib/emulators/local-stack.ts';
import type { EmbedOutcome } from '../../lib/pipeline/embed-step.ts';
import { JobStore } from '../../lib/pipeline/job-store.ts';
import { DEFAULT_PREFIXES, jobIdFor, jobKeys } from '../../lib/pipeline/keys.ts';
import { s3PutEvent } from '../../lib/aws/s3-event.ts';
import { runLocal } from '../../lib/local/runner.ts';
import { describeStatus, jobStatus } from '../../lib/pipeline/status.ts';
import { s3Store } from '../../lib/aws/s3-store.ts';
import type { Config } from '../../lib/aws/config.ts';
import { getObjectOrNull, keysUnder as keysUnderBucket } from '../helpers/s3.ts';
import { fixture, useTmp } from '../helpers/tmp.ts';
import { expectRowsMatch, readEmbeddingsWithDuckDb } from '../helpers/duckdb.ts';
import { parseNpy } from '../../lib/search/embeddings.ts';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const FIXTURE = fixture('tracks-5k.parquet');
const config: Config = {
  statsFunction: 'stats',
  embedFunction: 'embed',
  reduceFunction: 'reduce',
  shardRows: 300,
  statsPartRows: 1 << 24,
  prefixes: DEFAULT_PREFIXES,
};
interface Hooks {
  /** Runs before every attempt of a function: tests make shards fail or wait through it. */
  before?: (fn: string, event: { jobId?: string; shard?: number }) => Promise<void>;
  /** Runs after every successful attempt, with its result. */
  after?: (fn: string, event: { jobId?: string; shard?: number }, result: unknown) => void;
}
let hooks: Hooks = {};

let stack: LocalStack;
let local: LocalLambda;
let s3: S3Client;
let lambda: LambdaClient;

beforeAll(async () => {
  s3 = s3ClientFor(s3Endpoint());
  stack = await startLocalStack({
    s3,
    config,
    wrap:
      (fn, handler) =>
      async (e: unknown): Promise<unknown> => {
        const event = e as { jobId?: string; shard?: number };
        await hooks.before?.(fn, event);
        const result = await handler(e);
        hooks.after?.(fn, event, result);
        return result;
      },
  });
  ({ local, lambda } = stack);
});

afterAll(async () => {
  await stack?.close();
});

let bucketCount = 0;
let bucket = '';
beforeEach(async () => {
  bucket = `pipeline-${++bucketCount}`;
  config.shardRows = 300;
  config.statsPartRows = 1 << 24;
  config.parquet = false;
  hooks = {};
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
});

/** The key as S3 puts it in an event: URL-encoded, spaces as `+`. */

async function upload(key: string, body: Uint8Array): Promise<string> {
  return (await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }))).ETag!;
}

/** Sends the S3 event the way the bucket notification would: an async invoke of stats. */
async function notify(key: string, etag: string): Promise<void> {
  const event = s3PutEvent(bucket, key, etag);
  const out = await lambda.send(
    new InvokeCommand({ FunctionName: 'stats', InvocationType: 'Event', Payload: new TextEncoder().encode(JSON.stringify(event)) }),
  );
  expect(out.StatusCode).toBe(202);
}

/** Uploads, sends the event and waits until every invocation it caused has settled; returns the ETag. */
async function runJob(key: string, body: Uint8Array): Promise<string> {
  const etag = await upload(key, body);
  await notify(key, etag);
  await local.idle();
  return etag;
}

const getObject = (key: string) => getObjectOrNull(s3, bucket, key);

/** The published vectors and mapping of `name` are the command line's, byte for byte. */
async function expectCommandLineBytes(name: string, cli: { vectorsPath: string; mappingPath: string }): Promise<void> {
  expect((await getObject(`embeddings/${name}/spotify_vectors_14d.npy`))!.equals(readFileSync(cli.vectorsPath))).toBe(true);
  expect((await getObject(`embeddings/${name}/id_to_index.json`))!.equals(readFileSync(cli.mappingPath))).toBe(true);
}
const keysUnder = (prefix: string) => keysUnderBucket(s3, bucket, prefix);

const invocationsOf = (fn: string, since: number) => local.invocations.slice(since).filter((i) => i.functionName === fn);

describe('the serverless pipeline on a real S3 API and the Lambda Invoke API', () => {
  const tmp = useTmp();

  it('embeds the 5k fixture in 20 shards, byte-identical to the command line', async () => {
    const cli = await runLocal({ input: FIXTURE, outDir: tmp(), workers: 1 });
    const since = local.invocations.length;
    const shardOutcomes = new Map<number, EmbedOutcome>();
    hooks.after = (fn, e, result) => {
      if (fn === 'embed') shardOutcomes.set(e.shard!, result as EmbedOutcome);
    };
    const etag = await runJob('incoming/tracks.parquet', readFileSync(FIXTURE));

    await expectCommandLineBytes('tracks', cli);
    const manifest = JSON.parse((await getObject('embeddings/tracks/manifest.json'))!.toString());
    expect(manifest.input).toMatchObject({ name: `s3://${bucket}/incoming/tracks.parquet`, etag, rows: 5000 });
    expect(manifest.shards.count).toBe(20);
    expect(manifest.scaler).toEqual(cli.manifest.scaler);
    expect(invocationsOf('embed', since)).toHaveLength(20);
    expect(invocationsOf('reduce', since)).toHaveLength(1);
    for (const inv of local.invocations.slice(since)) expect(inv.payloadBytes).toBeLessThan(1024);
    // The job's scratch is retired, its index entry too; the plan stays so a late duplicate event still stops there.
    const jobId = jobIdFor(bucket, 'incoming/tracks.parquet', etag);
    expect(await keysUnder(jobKeys(jobId).prefix)).toEqual([jobKeys(jobId).plan]);
    expect(await keysUnder('jobs/active/')).toEqual([]);
    // Each shard says where its time went and how much of the input it read (as its done marker did).
    const done = shardOutcomes.get(3)!;
    const timings: Record<string, number> = { ...done.timingsMs };
    expect(Object.keys(timings).sort()).toEqual(['decode', 'embed', 'read', 'write']);
    for (const ms of Object.values(timings)) expect(ms).toBeGreaterThanOrEqual(0);
    expect(done.bytesRead).toBeGreaterThan(0);
    expect(done.bytesRead).toBeLessThan(readFileSync(FIXTURE).length);
    expect(manifest.timingsMs.statsDecode).toBeGreaterThan(0);
  });

  describe('with the statistics fanned out (5 row groups of 1,000 rows, parts of 2,000 rows: 3 parts)', () => {
    beforeEach(() => {
      config.statsPartRows = 2000;
    });

    it('computes them in parts, one stats invocation each, and publishes the command line’s bytes', async () => {
      const cli = await runLocal({ input: FIXTURE, outDir: tmp(), workers: 1 });
      const since = local.invocations.length;
      const etag = await runJob('incoming/parts.parquet', readFileSync(FIXTURE));

      await expectCommandLineBytes('parts', cli);
      const manifest = JSON.parse((await getObject('embeddings/parts/manifest.json'))!.toString());
      expect(manifest.scaler).toEqual(cli.manifest.scaler);
      expect(manifest.timingsMs.statsParts).toBe(3);
      expect(invocationsOf('stats', since)).toHaveLength(1 + 3);
      expect(invocationsOf('embed', since)).toHaveLength(20);
      // Each part wrote its moments (the one that completed them planned); all retired with the job.
      const parts = invocationsOf('stats', since).filter((i) => i.outcome === 'succeeded');
      expect(parts).toHaveLength(4);
      const jobId = jobIdFor(bucket, 'incoming/parts.parquet', etag);
      expect(await keysUnder(jobKeys(jobId).statsPartsPrefix)).toEqual([]);
    });

    it('reports the parts done while the statistics run', async () => {
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      let othersDone!: () => void;
      const twoDone = new Promise<void>((r) => (othersDone = r));
      let finished = 0;
      hooks.before = async (fn, e) => {
        if (fn === 'stats' && (e as { statsPart?: number }).statsPart === 2) await gate;
      };
      hooks.after = (fn, e) => {
        if (fn === 'stats' && (e as { statsPart?: number }).statsPart !== undefined && ++finished === 2) othersDone();
      };
      const etag = await upload('incoming/slow-parts.parquet', readFileSync(FIXTURE));
      await notify('incoming/slow-parts.parquet', etag);
      await twoDone;
      const jobId = jobIdFor(bucket, 'incoming/slow-parts.parquet', etag);
      const status = await jobStatus(new JobStore(s3Store(s3, bucket), DEFAULT_PREFIXES), 'incoming/slow-parts.parquet');
      expect(status).toEqual({ state: 'statistics', key: 'incoming/slow-parts.parquet', jobId, partsDone: 2, parts: 3 });
      expect(describeStatus(status, bucket)).toBe(
        `s3://${bucket}/incoming/slow-parts.parquet: computing statistics (job ${jobId}, 2 of 3 parts done)`,
      );
      release();
      await local.idle();
      expect(await jobStatus(new JobStore(s3Store(s3, bucket), DEFAULT_PREFIXES), 'incoming/slow-parts.parquet')).toMatchObject({
        state: 'done',
      });
    });

    it('fails the job, naming the part, when a part keeps failing', async () => {
      hooks.before = async (fn, e) => {
        if (fn === 'stats' && (e as { statsPart?: number }).statsPart === 1) throw new Error('out of memory');
      };
      const since = local.invocations.length;
      const etag = await runJob('incoming/bad-part.parquet', readFileSync(FIXTURE));
      const error = JSON.parse((await getObject('embeddings/bad-part/error.json'))!.toString());
      expect(error.error.message).toMatch(
        /incoming\/bad-part\.parquet: job [0-9a-f]+: statistics part 1 of 3 failed after 3 attempt\(s\): out of memory/,
      );
      expect(error.error.statsPart).toBe(1);
      expect(await getObject(jobKeys(jobIdFor(bucket, 'incoming/bad-part.parquet', etag)).plan)).toBeNull();
      expect(invocationsOf('embed', since)).toHaveLength(0);
      expect(await jobStatus(new JobStore(s3Store(s3, bucket), DEFAULT_PREFIXES), 'incoming/bad-part.parquet')).toMatchObject({
        state: 'failed',
      });
    });

    it('refuses corrupt page data found by a part, with no plan and no fan-out', async () => {
      const body = readFileSync(FIXTURE);
      for (let i = 200_000; i < 200_400; i++) body[i]! ^= 0x5a;
      const since = local.invocations.length;
      const etag = await runJob('incoming/corrupt-part.parquet', body);
      const error = JSON.parse((await getObject('embeddings/corrupt-part/error.json'))!.toString());
      expect(error.error.message).toMatch(/corrupt-part\.parquet: corrupt data in row group 1 .*the Parquet decoder failed/);
      expect(await getObject(jobKeys(jobIdFor(bucket, 'incoming/corrupt-part.parquet', etag)).plan)).toBeNull();
      expect(invocationsOf('embed', since)).toHaveLength(0);
    });
  });

  describe('with Parquet output (config parquet: PARQUET_OUTPUT=true)', () => {
    /** The published parts of `name`, downloaded into a folder and read by DuckDB as one data set, checked against the .npy and mapping. */
    async function expectPartsMatch(name: string, parts: number): Promise<void> {
      // Only the parts: the other output's files share the prefix.
      const keys = (await keysUnder(`embeddings/${name}/parquet/`)).filter((k) =>
        /^parquet\/part-\d+\.parquet$/.test(k.slice(`embeddings/${name}/`.length)),
      );
      expect(keys).toEqual(
        Array.from({ length: parts }, (_, i) => `embeddings/${name}/parquet/part-${String(i).padStart(5, '0')}.parquet`),
      );
      const dir = join(tmp(), 'parquet');
      mkdirSync(dir);
      for (const key of keys) writeFileSync(join(dir, key.split('/').pop()!), (await getObject(key))!);
      const npy = parseNpy((await getObject(`embeddings/${name}/spotify_vectors_14d.npy`))!, 'npy');
      const mapping = JSON.parse((await getObject(`embeddings/${name}/id_to_index.json`))!.toString()) as Record<string, number>;
      expectRowsMatch(await readEmbeddingsWithDuckDb(join(dir, '*.parquet')), npy.data, mapping);
    }
    const manifestOf = async (name: string) => JSON.parse((await getObject(`embeddings/${name}/manifest.json`))!.toString());

    it('publishes one part per shard, read by DuckDB as one data set equal to the .npy row for row; a later publish leaves none of an earlier one’s parts', async () => {
      config.parquet = true;
      // Another output whose name puts it inside this one's parquet/ folder: never taken for a part.
      await runJob('incoming/songs/parquet.parquet', readFileSync(fixture('writers', 'pyarrow-zstd.parquet')));
      const sibling = await keysUnder('embeddings/songs/parquet/');

      await runJob('incoming/songs.parquet', readFileSync(FIXTURE));
      expect((await manifestOf('songs')).outputs.parquet).toBe('parquet/');
      await expectPartsMatch('songs', 20);

      // A new version in fewer shards: parts 4 to 19 of the first would join the data set.
      await runJob('incoming/songs.parquet', readFileSync(fixture('edge', 'many-rowgroups.parquet')));
      expect((await manifestOf('songs')).shards.count).toBe(4);
      await expectPartsMatch('songs', 4);

      // Parquet no longer asked for: the folder goes, the other output in it stays.
      config.parquet = false;
      await runJob('incoming/songs.parquet', readFileSync(fixture('writers', 'pyarrow-snappy.parquet')));
      expect((await manifestOf('songs')).outputs.parquet).toBeUndefined();
      expect(await keysUnder('embeddings/songs/parquet/')).toEqual(sibling);
      expect(sibling.map((k) => k.slice('embeddings/songs/parquet/'.length)).sort()).toEqual([
        'id_to_index.json',
        'manifest.json',
        'parquet/part-00000.parquet',
        'parquet/part-00001.parquet',
        'spotify_vectors_14d.npy',
      ]);
    });
  });

  it('keeps Python dict semantics for ids repeated within and across shards', async () => {
    config.shardRows = 50;
    const input = fixture('edge', 'tricky-ids.parquet');
    await runJob('incoming/tricky.parquet', readFileSync(input));
    const manifest = JSON.parse((await getObject('embeddings/tricky/manifest.json'))!.toString());
    expect(manifest.outputs.repeatedIds).toBe(true);
    expect(manifest.shards.count).toBeGreaterThan(1);
    const want = readFileSync(fixture('edge', 'tricky-ids.reference', 'id_to_index.json'));
    expect((await getObject('embeddings/tricky/id_to_index.json'))!.toString('latin1')).toBe(want.toString('latin1'));
  });

  it('plans once and reduces once when the same event arrives twice at the same time', async () => {
    const since = local.invocations.length;
    // Both stats invocations wait here until both have started, so they race at the plan: with one
    // started late, it would find the plan and (rightly) re-invoke the shards still running.
    let arrived = 0;
    let bothStarted!: () => void;
    const both = new Promise<void>((resolve) => (bothStarted = resolve));
    hooks.before = async (fn) => {
      if (fn !== 'stats') return;
      if (++arrived === 2) bothStarted();
      await both;
    };
    const etag = await upload('incoming/twice.parquet', readFileSync(FIXTURE));
    await Promise.all([notify('incoming/twice.parquet', etag), notify('incoming/twice.parquet', etag)]);
    await local.idle();
    expect(arrived).toBe(2);
    expect(await jobStatus(new JobStore(s3Store(s3, bucket), DEFAULT_PREFIXES), 'incoming/twice.parquet')).toMatchObject({
      state: 'done',
      manifest: { input: { etag } },
    });
    const outcomes = invocationsOf('stats', since);
    expect(outcomes).toHaveLength(2);
    expect(invocationsOf('embed', since)).toHaveLength(20);
    expect(invocationsOf('reduce', since)).toHaveLength(1);
    expect(await getObject('embeddings/twice/manifest.json')).not.toBeNull();
  });

  it('gives identical outputs when a shard runs twice or fails once and succeeds on retry', async () => {
    const reference = await runLocal({ input: FIXTURE, outDir: tmp(), workers: 1 });
    const flaky = new Set<number>([3]);
    hooks.before = async (fn, { shard }) => {
      if (fn === 'embed' && flaky.delete(shard!)) throw new Error('transient failure');
    };
    const since = local.invocations.length;
    const etag = await runJob('incoming/retry.parquet', readFileSync(FIXTURE));
    // A late duplicate delivery of shard 5, after the job was published.
    const jobId = jobIdFor(bucket, 'incoming/retry.parquet', etag);
    await lambda.send(
      new InvokeCommand({
        FunctionName: 'embed',
        InvocationType: 'Event',
        Payload: new TextEncoder().encode(JSON.stringify({ bucket, jobId, shard: 5 })),
      }),
    );
    await local.idle();

    expect(invocationsOf('embed', since).filter((i) => i.outcome === 'failed')).toHaveLength(1);
    expect(invocationsOf('reduce', since)).toHaveLength(1);
    expect((await getObject('embeddings/retry/spotify_vectors_14d.npy'))!.equals(readFileSync(reference.vectorsPath))).toBe(true);
    expect((await getObject('embeddings/retry/id_to_index.json'))!.equals(readFileSync(reference.mappingPath))).toBe(true);
  });

  it('fails the job with error.json naming the job and shard when a shard always fails', async () => {
    hooks.before = async (fn, { shard }) => {
      if (fn === 'embed' && shard === 7) throw new Error('disk on fire');
    };
    const etag = await runJob('incoming/doomed.parquet', readFileSync(FIXTURE));
    const jobId = jobIdFor(bucket, 'incoming/doomed.parquet', etag);
    expect(await jobStatus(new JobStore(s3Store(s3, bucket), DEFAULT_PREFIXES), 'incoming/doomed.parquet')).toMatchObject({
      state: 'failed',
      jobId,
    });
    const error = JSON.parse((await getObject('embeddings/doomed/error.json'))!.toString());
    expect(error).toMatchObject({ jobId, input: { key: 'incoming/doomed.parquet', etag }, error: { shard: 7 } });
    expect(error.error.message).toMatch(new RegExp(`job ${jobId}: shard 7 of 20 failed after 3 attempt\\(s\\).*disk on fire`));
    expect(await keysUnder('embeddings/doomed/')).toEqual(['embeddings/doomed/error.json']);
  });

  it('fails the job with error.json when the statistics step keeps failing', async () => {
    hooks.before = async (fn) => {
      if (fn === 'stats') throw new Error('out of time');
    };
    const since = local.invocations.length;
    await runJob('incoming/slow.parquet', readFileSync(FIXTURE));
    expect(invocationsOf('stats', since)).toHaveLength(3);
    const error = JSON.parse((await getObject('embeddings/slow/error.json'))!.toString());
    expect(error.error.message).toMatch(
      /incoming\/slow\.parquet: job [0-9a-f]+: the statistics step failed after 3 attempt\(s\): out of time/,
    );
    expect(await jobStatus(new JobStore(s3Store(s3, bucket), DEFAULT_PREFIXES), 'incoming/slow.parquet')).toMatchObject({
      state: 'failed',
    });
  });

  it('publishes one version’s outputs when a new version is uploaded while a job runs', async () => {
    const v1 = readFileSync(FIXTURE);
    const v2 = readFileSync(fixture('edge', 'many-rowgroups.parquet'));
    expect(await jobStatus(new JobStore(s3Store(s3, bucket), DEFAULT_PREFIXES), 'incoming/live.parquet')).toEqual({
      state: 'missing',
      key: 'incoming/live.parquet',
    });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let planned!: () => void;
    const job1Planned = new Promise<void>((r) => (planned = r));
    let published!: () => void;
    const job2Published = new Promise<void>((r) => (published = r));
    const etag1 = await upload('incoming/live.parquet', v1);
    const job1 = jobIdFor(bucket, 'incoming/live.parquet', etag1);
    expect(await jobStatus(new JobStore(s3Store(s3, bucket), DEFAULT_PREFIXES), 'incoming/live.parquet')).toEqual({
      state: 'queued',
      key: 'incoming/live.parquet',
      jobId: job1,
    });
    let job2 = '';
    hooks.before = async (fn, { jobId }) => {
      if (fn === 'embed' && jobId === job1) await gate;
    };
    hooks.after = (fn, { jobId }) => {
      if (fn === 'stats') planned();
      if (fn === 'reduce' && jobId === job2) published();
    };
    await notify('incoming/live.parquet', etag1);
    await job1Planned;
    expect(await jobStatus(new JobStore(s3Store(s3, bucket), DEFAULT_PREFIXES), 'incoming/live.parquet')).toMatchObject({
      state: 'running',
      jobId: job1,
      shardsDone: 0,
      shards: 20,
    });
    // Job 1 is planned and its shards wait; version 2 arrives and runs to the end.
    const etag2 = await upload('incoming/live.parquet', v2);
    job2 = jobIdFor(bucket, 'incoming/live.parquet', etag2);
    await notify('incoming/live.parquet', etag2);
    await job2Published;
    release();
    await local.idle();

    const manifest = JSON.parse((await getObject('embeddings/live/manifest.json'))!.toString());
    expect(manifest.input.etag).toBe(etag2);
    expect(manifest.input.rows).toBe(1000);
    const npy = (await getObject('embeddings/live/spotify_vectors_14d.npy'))!;
    expect(npy.length).toBe(128 + 1000 * 14 * 4);
    expect(Object.keys(JSON.parse((await getObject('embeddings/live/id_to_index.json'))!.toString()))).toHaveLength(1000);
    expect(await getObject('embeddings/live/error.json')).toBeNull();
    // Job 1 really ran into the new version: its shards failed on the pinned ETag, and only its own record says so.
    const failed = JSON.parse((await getObject(jobKeys(job1).failed))!.toString());
    expect(failed.message).toMatch(/changed while it was being read/);
  });

  it.each([
    ['incoming/My Song + Mix.parquet', 'embeddings/My Song + Mix/'],
    ['incoming/nested/dir/café 中文 🎵.parquet', 'embeddings/nested/dir/café 中文 🎵/'],
  ])('handles the key %s', async (key, out) => {
    config.shardRows = 2500;
    await runJob(key, readFileSync(FIXTURE));
    expect(await keysUnder(out)).toEqual([`${out}id_to_index.json`, `${out}manifest.json`, `${out}spotify_vectors_14d.npy`]);
  });

  it('refuses a file whose page data is corrupt (a decoder panic) with error.json naming the row group', async () => {
    const body = readFileSync(FIXTURE);
    for (let i = 200_000; i < 200_400; i++) body[i]! ^= 0x5a;
    await runJob('incoming/corrupt.parquet', body);
    const error = JSON.parse((await getObject('embeddings/corrupt/error.json'))!.toString());
    expect(error.error.message).toMatch(/corrupt\.parquet: corrupt data in row group 1 .*the Parquet decoder failed/);
    expect(await keysUnder('embeddings/corrupt/')).toEqual(['embeddings/corrupt/error.json']);
  });

  it("keeps each job's errors its own when a corrupt file and a valid one run at once (3 rounds)", async () => {
    const cli = await runLocal({ input: FIXTURE, outDir: tmp(), workers: 1 });
    const corrupt = readFileSync(FIXTURE);
    for (let i = 200_000; i < 200_400; i++) corrupt[i]! ^= 0x5a;
    for (let round = 0; round < 3; round++) {
      const [bad, good] = [`incoming/bad-${round}.parquet`, `incoming/good-${round}.parquet`];
      const etags = await Promise.all([upload(bad, corrupt), upload(good, readFileSync(FIXTURE))]);
      await Promise.all([notify(bad, etags[0]), notify(good, etags[1])]);
      await local.idle();
      const error = JSON.parse((await getObject(`embeddings/bad-${round}/error.json`))!.toString());
      expect(error.error.message).toMatch(new RegExp(`bad-${round}\\.parquet: corrupt data in row group 1 `));
      expect(await getObject(`embeddings/good-${round}/error.json`)).toBeNull();
      await expectCommandLineBytes(`good-${round}`, cli);
    }
  });

  it.each([
    ['not-parquet.parquet', /not a Parquet file/],
    ['empty.parquet', /empty file \(0 bytes\)/],
    ['truncated.parquet', /truncated Parquet file/],
    ['missing-column.parquet', /column 'tempo': required column is missing/],
    ['string-column.parquet', /column 'tempo': expected a number or boolean column, found string/],
    ['zero-rows.parquet', /the file has no rows/],
    ['null-id.parquet', /column 'id': 1 null id\(s\)/],
  ])('refuses %s with error.json, no fan-out, the input untouched', async (name, message) => {
    const since = local.invocations.length;
    const key = `incoming/${name}`;
    const body = readFileSync(fixture('bad', name));
    await runJob(key, body);
    const stem = name.replace(/\.parquet$/, '');
    const error = JSON.parse((await getObject(`embeddings/${stem}/error.json`))!.toString());
    expect(error.error.message).toMatch(message);
    expect(error.error.message).toContain(`s3://${bucket}/${key}`);
    expect(await keysUnder(`embeddings/${stem}/`)).toEqual([`embeddings/${stem}/error.json`]);
    expect(invocationsOf('embed', since)).toHaveLength(0);
    expect((await getObject(key))!.equals(body)).toBe(true);
  });
});
