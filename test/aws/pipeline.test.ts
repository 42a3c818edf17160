/**
 * The serverless pipeline end to end on one machine: moto_server as S3, the real handlers behind
 * the local Lambda Invoke endpoint, and each upload's job run as a durable execution by the SDK's
 * local engine — started, as on AWS, by the start function from the bucket's event.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CreateBucketCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { s3ClientFor } from '../../lib/emulators/moto.ts';
import type { LocalLambda } from '../../lib/emulators/lambda/index.ts';
import { startLocalStack, type LocalStack } from '../../lib/emulators/local-stack.ts';
import { localJobSettings } from '../../lib/emulators/serverless-pipeline.ts';
import type { EmbedOutcome } from '../../lib/pipeline/embed-step.ts';
import { JobStore } from '../../lib/pipeline/job-store.ts';
import { DEFAULT_PREFIXES, jobIdFor, rejectedKeyErrorKey } from '../../lib/pipeline/keys.ts';
import { eventBridgeObjectCreated, s3PutEvent } from '../../lib/aws/s3-event.ts';
import { runLocal } from '../../lib/local/runner.ts';
import { describeStatus, jobStatus } from '../../lib/pipeline/status.ts';
import { s3Store } from '../../lib/aws/s3-store.ts';
import type { JobConfig } from '../../lib/aws/config.ts';
import type { Manifest } from '../../lib/outputs/manifest.ts';
import { getObjectOrNull, keysUnder as keysUnderBucket, s3Endpoint } from '../helpers/s3.ts';
import { fixture, useTmp } from '../helpers/tmp.ts';
import { expectRowsMatch, readEmbeddingsWithDuckDb } from '../helpers/duckdb.ts';
import { parseNpy } from '../../lib/search/embeddings.ts';
import { openIdIndex } from '../../lib/search/id-lookup.ts';

const FIXTURE = fixture('tracks-5k.parquet');
const config: JobConfig = {
  ...localJobSettings,
  shardRows: 1000,
  statsPartRows: 1 << 24,
  parquet: false,
  prefixes: DEFAULT_PREFIXES,
};
type Event = { jobId?: string; shard?: number; task?: string; part?: number };
interface Hooks {
  /** Runs before every attempt of a function: tests make items fail or wait through it. */
  before?: (fn: string, event: Event) => Promise<void>;
  /** Runs after every successful attempt, with its result; a throw loses the response. */
  after?: (fn: string, event: Event, result: unknown) => void;
  /** Sees the key of every object a handler writes, as the write goes out. */
  write?: (key: string) => void;
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
    wrap: (fn, handler) => async (e, context) => {
      const event = e as Event;
      await hooks.before?.(fn, event);
      const result = await handler(e, context);
      hooks.after?.(fn, event, result);
      return result;
    },
    wrapStore: (inner) => ({
      ...inner,
      put: (key, body, ct) => (hooks.write?.(key), inner.put(key, body, ct)),
      putIfAbsent: (key, body, ct) => (hooks.write?.(key), inner.putIfAbsent(key, body, ct)),
      replaceIfMatch: (key, etag, body, ct) => (hooks.write?.(key), inner.replaceIfMatch(key, etag, body, ct)),
    }),
  });
  ({ local, lambda } = stack);
});

afterAll(async () => {
  await stack?.close();
  s3?.destroy();
});

let bucketCount = 0;
let bucket = '';
beforeEach(async () => {
  bucket = `pipeline-${++bucketCount}`;
  // Five shards: enough for a map, cheaper than the 20 the first test checks.
  Object.assign(config, { shardRows: 1000, statsPartRows: 1 << 24, parquet: false, idPartitionRows: undefined });
  hooks = {};
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
});

async function upload(key: string, body: Uint8Array): Promise<string> {
  return (await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }))).ETag!;
}

/** Sends the upload's event as EventBridge would (or as a bucket notification): an async invoke of start. */
async function notify(key: string, etag: string, via: 'eventbridge' | 'notification' = 'eventbridge'): Promise<void> {
  const event = via === 'eventbridge' ? eventBridgeObjectCreated(bucket, key, etag) : s3PutEvent(bucket, key, etag);
  const out = await lambda.send(
    new InvokeCommand({ FunctionName: 'start', InvocationType: 'Event', Payload: new TextEncoder().encode(JSON.stringify(event)) }),
  );
  expect(out.StatusCode).toBe(202);
}

/** Uploads, sends the event and waits until every invocation and execution it caused has ended; returns the ETag. */
async function runJob(key: string, body: Uint8Array, via?: 'eventbridge' | 'notification'): Promise<string> {
  const etag = await upload(key, body);
  await notify(key, etag, via);
  await stack.idle();
  return etag;
}

const getObject = (key: string) => getObjectOrNull(s3, bucket, key);
const getJson = async <T = Record<string, unknown>>(key: string) => JSON.parse((await getObject(key))!.toString()) as T;
const manifestOf = (name: string) => getJson<Manifest>(`embeddings/${name}/manifest.json`);
const keysUnder = (prefix: string) => keysUnderBucket(s3, bucket, prefix);
const status = (key: string) => jobStatus(new JobStore(s3Store(s3, bucket), DEFAULT_PREFIXES), key);
const invocationsOf = (fn: string, since: number) => local.invocations.slice(since).filter((i) => i.functionName === fn);

/** The published vectors and mapping of `name` are the command line's, byte for byte. */
async function expectCommandLineBytes(name: string, cli: { vectorsPath: string; mappingPath: string }): Promise<void> {
  expect((await getObject(`embeddings/${name}/spotify_vectors_14d.npy`))!.equals(readFileSync(cli.vectorsPath))).toBe(true);
  expect((await getObject(`embeddings/${name}/id_to_index.json`))!.equals(readFileSync(cli.mappingPath))).toBe(true);
}

/** The manifest names the version of every file its publish wrote: the ones there now. */
async function expectManifestEtagsCurrent(name: string, files: number): Promise<void> {
  const etags = Object.entries((await manifestOf(name)).outputs.etags ?? {});
  expect(etags).toHaveLength(files);
  for (const [file, etag] of etags) {
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: `embeddings/${name}/${file}` }));
    expect(head.ETag, file).toBe(etag);
  }
}

function gate(): { opened: Promise<void>; open: () => void } {
  let open = (): void => {};
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

describe('the serverless pipeline on a real S3 API, the Lambda Invoke API and the durable engine', () => {
  const tmp = useTmp();

  it('embeds the 5k fixture in 20 shards, byte-identical to the command line, in one execution', async () => {
    config.shardRows = 300;
    const cli = await runLocal({ input: FIXTURE, outDir: tmp(), workers: 1 });
    const since = local.invocations.length;
    const shardOutcomes = new Map<number, EmbedOutcome>();
    hooks.after = (fn, e, result) => {
      if (fn === 'embed') shardOutcomes.set(e.shard!, result as EmbedOutcome);
    };

    const etag = await runJob('incoming/tracks.parquet', readFileSync(FIXTURE));

    await expectCommandLineBytes('tracks', cli);
    const manifest = await manifestOf('tracks');
    expect(manifest.input).toMatchObject({ name: `s3://${bucket}/incoming/tracks.parquet`, etag, rows: 5000 });
    expect(manifest.shards.count).toBe(20);
    expect(manifest.scaler).toEqual(cli.manifest.scaler);
    await expectManifestEtagsCurrent('tracks', 3);
    const jobId = jobIdFor(bucket, 'incoming/tracks.parquet', etag);
    expect(stack.execution(jobId)).toMatchObject({ status: 'SUCCEEDED', result: { status: 'published', rows: 5000, shards: 20 } });
    const counts = ['start', 'job', 'stats', 'embed', 'reduce'].map((fn) => invocationsOf(fn, since).length);
    // The reduce function also serves the id index's one partition (5,000 ids, none repeated: no rewrite).
    expect(counts).toEqual([1, 1, 1, 20, 2]);
    for (const inv of local.invocations.slice(since)) expect(inv.payloadBytes).toBeLessThan(1024);
    // The job's scratch is removed and its publish lock released.
    expect(await keysUnder('jobs/')).toEqual([]);
    // Each shard says where its time went and how much of the input it read.
    const done = shardOutcomes.get(3)!;
    expect(Object.keys(done.timingsMs!).sort()).toEqual(['decode', 'embed', 'read', 'write']);
    for (const ms of Object.values(done.timingsMs!)) expect(ms).toBeGreaterThanOrEqual(0);
    expect(done.bytesRead).toBeGreaterThan(0);
    expect(done.bytesRead).toBeLessThan(readFileSync(FIXTURE).length);
    expect(manifest.timingsMs.statsDecode).toBeGreaterThan(0);
  });

  describe('with the statistics fanned out (5 row groups of 1,000 rows, parts of 2,000 rows: 3 parts)', () => {
    beforeEach(() => {
      config.statsPartRows = 2000;
    });

    it('computes sums and then deviations in parts, one stats invocation each, says so while they run, and publishes the command line’s bytes', async () => {
      const cli = await runLocal({ input: FIXTURE, outDir: tmp(), workers: 1 });
      const since = local.invocations.length;
      const held = gate();
      const arrived = gate();
      hooks.before = async (fn, e) => {
        if (fn !== 'stats' || e.task !== 'moments' || e.part !== 2) return;
        arrived.open();
        await held.opened;
      };
      const key = 'incoming/parts.parquet';
      const etag = await upload(key, readFileSync(FIXTURE));
      await notify(key, etag);
      await arrived.opened;
      const jobId = jobIdFor(bucket, key, etag);
      const during = await status(key);
      held.open();
      await stack.idle();

      expect(during).toEqual({ state: 'statistics', key, jobId, parts: 3 });
      expect(describeStatus(during, bucket)).toBe(`s3://${bucket}/${key}: computing statistics (job ${jobId}, 3 parts)`);
      await expectCommandLineBytes('parts', cli);
      const manifest = await manifestOf('parts');
      expect(manifest.scaler).toEqual(cli.manifest.scaler);
      expect(manifest.timingsMs.statsParts).toBe(3);
      const stats = invocationsOf('stats', since);
      expect(stats).toHaveLength(2 * 3);
      expect(stats.every((i) => i.outcome === 'succeeded')).toBe(true);
      expect(invocationsOf('embed', since)).toHaveLength(5);
      expect(await keysUnder('jobs/')).toEqual([]);
    });

    it('refuses corrupt page data found by a part, with no plan and no fan-out', async () => {
      const body = readFileSync(FIXTURE);
      for (let i = 200_000; i < 200_400; i++) body[i]! ^= 0x5a;
      const since = local.invocations.length;

      const etag = await runJob('incoming/corrupt-part.parquet', body);

      const error = await getJson<{ error: { message: string } }>('embeddings/corrupt-part/error.json');
      expect(error.error.message).toMatch(/corrupt-part\.parquet: corrupt data in row group 1 .*the Parquet decoder failed/);
      expect(invocationsOf('embed', since)).toHaveLength(0);
      expect(stack.execution(jobIdFor(bucket, 'incoming/corrupt-part.parquet', etag))?.status).toBe('FAILED');
      expect(await keysUnder('jobs/')).toEqual([]);
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
      const mapping = await getJson<Record<string, number>>(`embeddings/${name}/id_to_index.json`);
      expectRowsMatch(await readEmbeddingsWithDuckDb(join(dir, '*.parquet')), npy.data, mapping);
    }

    it('publishes one part per shard, read by DuckDB as one data set equal to the .npy row for row; a later publish leaves none of an earlier one’s parts', async () => {
      Object.assign(config, { parquet: true, shardRows: 300 });
      // Another output whose name puts it inside this one's parquet/ folder: never taken for a part.
      await runJob('incoming/songs/parquet.parquet', readFileSync(fixture('writers', 'pyarrow-zstd.parquet')));
      const sibling = await keysUnder('embeddings/songs/parquet/');

      await runJob('incoming/songs.parquet', readFileSync(FIXTURE));
      expect((await manifestOf('songs')).outputs.parquet).toBe('parquet/');
      await expectPartsMatch('songs', 20);
      await expectManifestEtagsCurrent('songs', 3 + 20);

      // A new version in fewer shards: parts 4 to 19 of the first would join the data set.
      await runJob('incoming/songs.parquet', readFileSync(fixture('edge', 'many-rowgroups.parquet')));
      expect((await manifestOf('songs')).shards.count).toBe(4);
      await expectPartsMatch('songs', 4);
      await expectManifestEtagsCurrent('songs', 3 + 4);

      // Parquet no longer asked for: the folder goes, the other output in it stays.
      config.parquet = false;
      await runJob('incoming/songs.parquet', readFileSync(fixture('writers', 'pyarrow-snappy.parquet')));
      expect((await manifestOf('songs')).outputs.parquet).toBeUndefined();
      await expectManifestEtagsCurrent('songs', 3);
      expect(await keysUnder('embeddings/songs/parquet/')).toEqual(sibling);
      expect(sibling.map((k) => k.slice('embeddings/songs/parquet/'.length)).sort()).toEqual([
        'id_index.bin',
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

    await runJob('incoming/tricky.parquet', readFileSync(fixture('edge', 'tricky-ids.parquet')));

    const manifest = await manifestOf('tricky');
    expect(manifest.outputs.repeatedIds).toBe(true);
    expect(manifest.shards.count).toBeGreaterThan(1);
    const want = readFileSync(fixture('edge', 'tricky-ids.reference', 'id_to_index.json'));
    expect((await getObject('embeddings/tricky/id_to_index.json'))!.toString('latin1')).toBe(want.toString('latin1'));
  });

  it('finds repeated ids in parallel over forced small hash partitions, one invoke each, rewriting only the shards they touch; the index answers as the mapping does', async () => {
    Object.assign(config, { shardRows: 50, idPartitionRows: 16 });
    const tasks: string[] = [];
    hooks.after = (fn, e) => {
      if (fn === 'reduce') tasks.push(e.task ?? 'reduce');
    };

    await runJob('incoming/tricky.parquet', readFileSync(fixture('edge', 'tricky-ids.parquet')));

    const want = readFileSync(fixture('edge', 'tricky-ids.reference', 'id_to_index.json'));
    const mapping = (await getObject('embeddings/tricky/id_to_index.json'))!;
    expect(mapping.equals(want)).toBe(true);
    const manifest = await manifestOf('tricky');
    expect(manifest.outputs).toMatchObject({ repeatedIds: true, idIndex: 'id_index.bin' });
    const rows = manifest.input.rows;
    const partitions = 2 ** Math.ceil(Math.log2(rows / 16));
    expect(tasks.filter((t) => t === 'index partition')).toHaveLength(partitions);
    const rewrites = tasks.filter((t) => t === 'rewrite fragment').length;
    expect(rewrites).toBeGreaterThan(0);
    expect(rewrites).toBeLessThanOrEqual(manifest.shards.count);
    expect(tasks.filter((t) => t === 'reduce')).toHaveLength(1);
    await expectManifestEtagsCurrent('tricky', 3);

    const index = (await getObject('embeddings/tricky/id_index.bin'))!;
    const lookup = await openIdIndex(
      { name: 'id_index.bin', size: index.length, read: async (o, n) => index.subarray(o, o + n) },
      rows,
      true,
    );
    const dict = new Map(Object.entries(JSON.parse(mapping.toString('utf8')) as Record<string, number>));
    expect(manifest.outputs.uniqueIds).toBe(dict.size);
    for (const [id, row] of dict) expect(await lookup.rowOf(id)).toBe(row);
    const named = new Map([...dict].map(([id, row]) => [row, id]));
    for (let row = 0; row < rows; row++) expect(await lookup.idOf(row)).toBe(named.get(row) ?? null);
    expect(await keysUnder('jobs/')).toEqual([]);
  });

  it('runs one execution, and reduces once, when the same event arrives twice at the same time', async () => {
    const since = local.invocations.length;
    const executions = stack.engine.executions.size;
    // Both start invocations wait here until both have begun, so they race to start the job.
    let arrived = 0;
    const both = gate();
    hooks.before = async (fn) => {
      if (fn !== 'start') return;
      if (++arrived === 2) both.open();
      await both.opened;
    };
    const etag = await upload('incoming/twice.parquet', readFileSync(FIXTURE));

    await Promise.all([notify('incoming/twice.parquet', etag), notify('incoming/twice.parquet', etag)]);
    await stack.idle();

    expect(arrived).toBe(2);
    expect(await status('incoming/twice.parquet')).toMatchObject({ state: 'done', manifest: { input: { etag } } });
    expect(stack.engine.executions.size).toBe(executions + 1);
    const counts = ['start', 'stats', 'embed', 'reduce'].map((fn) => invocationsOf(fn, since).length);
    // The reduce function: the id index's one partition, then the reduce.
    expect(counts).toEqual([2, 1, 5, 2]);
    // The second start finds the execution running (no invoke) or invokes the same name (the engine's one execution): never a second name.
    const jobId = jobIdFor(bucket, 'incoming/twice.parquet', etag);
    const named = invocationsOf('job', since).map((i) => i.durableExecutionName);
    expect(named.length).toBeGreaterThanOrEqual(1);
    expect(new Set(named)).toEqual(new Set([jobId]));
  });

  it('gives identical outputs when a shard fails once, or runs twice because its response was lost, and the engine retries it', async () => {
    const reference = await runLocal({ input: FIXTURE, outDir: tmp(), workers: 1 });
    const failBefore = new Set<number>([3]);
    const loseAfter = new Set<number>([1]);
    hooks.before = async (fn, { shard }) => {
      if (fn === 'embed' && failBefore.delete(shard!)) throw new Error('transient failure');
    };
    hooks.after = (fn, { shard }) => {
      if (fn === 'embed' && loseAfter.delete(shard!)) throw new Error('response lost');
    };
    const since = local.invocations.length;

    const etag = await runJob('incoming/retry.parquet', readFileSync(FIXTURE));

    const embeds = invocationsOf('embed', since);
    expect(
      embeds
        .filter((i) => i.outcome === 'failed')
        .map((i) => i.errorMessage)
        .sort(),
    ).toEqual(['response lost', 'transient failure']);
    expect(embeds).toHaveLength(5 + 2);
    // The id index's one partition, then the reduce.
    expect(invocationsOf('reduce', since)).toHaveLength(2);
    expect(stack.execution(jobIdFor(bucket, 'incoming/retry.parquet', etag))?.status).toBe('SUCCEEDED');
    await expectCommandLineBytes('retry', reference);
  });

  it('fails the job with error.json naming the job and shard when a shard always fails; the same bytes uploaded again run as generation 1 and publish', async () => {
    const key = 'incoming/doomed.parquet';
    const body = readFileSync(FIXTURE);
    let doomed = '';
    hooks.before = async (fn, { shard, jobId }) => {
      if (fn === 'embed' && shard === 3 && jobId === doomed) throw new Error('disk on fire');
    };
    const first = await upload(key, body);
    doomed = jobIdFor(bucket, key, first);
    const since = local.invocations.length;
    await notify(key, first);
    await stack.idle();

    expect(await status(key)).toMatchObject({ state: 'failed', jobId: doomed });
    const error = await getJson<{ error: { message: string } }>('embeddings/doomed/error.json');
    expect(error).toMatchObject({
      jobId: doomed,
      generation: 0,
      input: { bucket, key, etag: first },
      error: { type: 'StepFailed', shard: 3 },
    });
    expect(error.error.message).toBe(`s3://${bucket}/${key}: job ${doomed}: shard 3 of 5 failed after 3 attempt(s): disk on fire`);
    expect(stack.execution(doomed)).toMatchObject({
      status: 'FAILED',
      error: { errorType: 'JobFailedError', errorMessage: error.error.message },
    });
    expect(invocationsOf('embed', since).filter((i) => i.outcome === 'failed')).toHaveLength(3);
    expect(invocationsOf('reduce', since)).toHaveLength(0);
    expect(await keysUnder('embeddings/doomed/')).toEqual(['embeddings/doomed/error.json']);
    expect(await keysUnder('jobs/')).toEqual([]);

    const again = await runJob(key, body);

    expect(again).toBe(first);
    expect(stack.execution(`${doomed}-g1`)).toMatchObject({ status: 'SUCCEEDED', result: { status: 'published', jobId: `${doomed}-g1` } });
    expect(await status(key)).toMatchObject({
      state: 'done',
      jobId: `${doomed}-g1`,
      manifest: { input: { etag: first }, jobId: `${doomed}-g1` },
    });
    expect(await keysUnder('embeddings/doomed/')).toEqual([
      'embeddings/doomed/id_index.bin',
      'embeddings/doomed/id_to_index.json',
      'embeddings/doomed/manifest.json',
      'embeddings/doomed/spotify_vectors_14d.npy',
    ]);
  });

  it('ends a job whose shard fails for good only once every shard it started has ended: none writes into the scratch its failure removed', async () => {
    const key = 'incoming/straggler.parquet';
    const body = readFileSync(FIXTURE);
    let job = '';
    let failures = 0;
    const failedForGood = gate();
    const ended = gate();
    let endedWhileShardRan = false;
    hooks.write = (k) => {
      if (k === 'embeddings/straggler/error.json') ended.open();
    };
    hooks.before = async (fn, { shard, jobId }) => {
      if (fn !== 'embed' || jobId !== job) return;
      if (shard === 0) {
        if (++failures === 3) failedForGood.open();
        throw new Error('disk on fire');
      }
      if (shard === 4) {
        // Still running when shard 0 has failed for good. The job's ending must wait for it: a
        // window for what must not happen (error.json written meanwhile), then the shard goes on.
        await failedForGood.opened;
        endedWhileShardRan = await Promise.race([ended.opened.then(() => true), delay(1500).then(() => false)]);
      }
    };
    const etag = await upload(key, body);
    job = jobIdFor(bucket, key, etag);
    await notify(key, etag);
    await stack.idle();

    expect(endedWhileShardRan).toBe(false);
    expect(stack.execution(job)?.status).toBe('FAILED');
    expect((await getJson<{ error: { shard: number } }>('embeddings/straggler/error.json')).error.shard).toBe(0);
    expect(await keysUnder('jobs/')).toEqual([]);
  });

  it('publishes an earlier version uploaded again after a later one (A, B, A): a name the engine has run is never reused', async () => {
    const key = 'incoming/flip.parquet';
    const a = readFileSync(FIXTURE);
    const b = readFileSync(fixture('edge', 'many-rowgroups.parquet'));
    const first = await runJob(key, a);
    await runJob(key, b);
    expect((await manifestOf('flip')).input.rows).toBe(1000);

    const again = await runJob(key, a);

    expect(again).toBe(first);
    const base = jobIdFor(bucket, key, first);
    expect(stack.execution(`${base}-g1`)).toMatchObject({ status: 'SUCCEEDED', result: { status: 'published' } });
    expect(await status(key)).toMatchObject({ state: 'done', jobId: `${base}-g1`, manifest: { input: { etag: first, rows: 5000 } } });
  });

  it('fails the job with error.json when the statistics keep failing', async () => {
    hooks.before = async (fn) => {
      if (fn === 'stats') throw new Error('out of time');
    };
    const since = local.invocations.length;

    const etag = await runJob('incoming/slow.parquet', readFileSync(FIXTURE));

    const jobId = jobIdFor(bucket, 'incoming/slow.parquet', etag);
    expect(invocationsOf('stats', since)).toHaveLength(3);
    expect(invocationsOf('embed', since)).toHaveLength(0);
    const error = await getJson<{ error: { message: string } }>('embeddings/slow/error.json');
    expect(error.error.message).toBe(
      `s3://${bucket}/incoming/slow.parquet: job ${jobId}: statistics failed after 3 attempt(s): out of time`,
    );
    expect(await status('incoming/slow.parquet')).toMatchObject({ state: 'failed', jobId });
    expect(stack.execution(jobId)?.status).toBe('FAILED');
  });

  it('fails the job with error.json naming the reduce when the reducer keeps failing (not the lock release after it)', async () => {
    hooks.before = async (fn, e) => {
      if (fn === 'reduce' && !('task' in e)) throw new Error('disk full');
    };
    const etag = await runJob('incoming/stuck.parquet', readFileSync(FIXTURE));

    const jobId = jobIdFor(bucket, 'incoming/stuck.parquet', etag);
    const error = await getJson<{ error: { message: string } }>('embeddings/stuck/error.json');
    expect(error.error.message).toBe(
      `s3://${bucket}/incoming/stuck.parquet: job ${jobId}: reduce and publish failed after 3 attempt(s): disk full`,
    );
    expect(await status('incoming/stuck.parquet')).toMatchObject({ state: 'failed', jobId });
  });

  it('publishes the newer version’s outputs when a new version is uploaded while a job runs; the older job ends superseded', async () => {
    const key = 'incoming/live.parquet';
    expect(await status(key)).toEqual({ state: 'missing', key });
    const held = gate();
    const job1Planned = gate();
    const job2Published = gate();
    const etag1 = await upload(key, readFileSync(FIXTURE));
    const job1 = jobIdFor(bucket, key, etag1);
    expect(await status(key)).toEqual({ state: 'queued', key, jobId: job1 });
    let job2 = '';
    hooks.before = async (fn, { jobId }) => {
      if (fn === 'embed' && jobId === job1) await held.opened;
    };
    hooks.after = (fn, { jobId }) => {
      if (fn === 'stats' && jobId === job1) job1Planned.open();
      if (fn === 'reduce' && jobId === job2) job2Published.open();
    };
    const since = local.invocations.length;

    await notify(key, etag1);
    await job1Planned.opened;
    const running = await status(key);
    // Job 1 is planned and its shards wait; version 2 arrives and runs to the end.
    const etag2 = await upload(key, readFileSync(fixture('edge', 'many-rowgroups.parquet')));
    job2 = jobIdFor(bucket, key, etag2);
    await notify(key, etag2);
    await job2Published.opened;
    held.open();
    await stack.idle();

    expect(running).toEqual({ state: 'running', key, jobId: job1, shardsDone: 0, shards: 5 });
    const manifest = await manifestOf('live');
    expect(manifest.input).toMatchObject({ etag: etag2, rows: 1000 });
    expect((await getObject('embeddings/live/spotify_vectors_14d.npy'))!.length).toBe(128 + 1000 * 14 * 4);
    expect(Object.keys(await getJson('embeddings/live/id_to_index.json'))).toHaveLength(1000);
    await expectManifestEtagsCurrent('live', 3);
    expect(await getObject('embeddings/live/error.json')).toBeNull();
    expect(stack.execution(job1)).toMatchObject({ status: 'SUCCEEDED', result: { status: 'superseded', jobId: job1 } });
    expect(stack.execution(job2)).toMatchObject({ status: 'SUCCEEDED', result: { status: 'published', rows: 1000 } });
    // Job 1 really ran into the new version: its shards failed on the pinned ETag.
    const failed = invocationsOf('embed', since).filter((i) => i.outcome === 'failed');
    expect(failed.length).toBeGreaterThan(0);
    // Not retried: a replaced input will not change back (at most one failed attempt per shard).
    expect(failed.length).toBeLessThanOrEqual(5);
    expect(failed.map((i) => i.errorMessage)).toEqual(
      failed.map(() => `s3://${bucket}/${key} changed while it was being read (expected ETag ${etag1})`),
    );
    expect(await keysUnder('jobs/')).toEqual([]);
  });

  it.each([
    ['incoming/My Song + Mix.parquet', 'notification', 'embeddings/My Song + Mix/'],
    ['incoming/nested/dir/café 中文 🎵.parquet', 'eventbridge', 'embeddings/nested/dir/café 中文 🎵/'],
  ] as const)('handles the key %s (its event from a bucket %s)', async (key, via, out) => {
    config.shardRows = 2500;

    await runJob(key, readFileSync(FIXTURE), via);

    expect(await keysUnder(out)).toEqual([
      `${out}id_index.bin`,
      `${out}id_to_index.json`,
      `${out}manifest.json`,
      `${out}spotify_vectors_14d.npy`,
    ]);
  });

  it.each([
    ['incoming/X.PARQUET', "its suffix is '.PARQUET': the pipeline takes '.parquet', in lower case"],
    [
      'incoming/a/../b.parquet',
      "its name 'a/../b' has an empty, '.' or '..' path segment, which S3 clients and file systems resolve differently",
    ],
    [`incoming/${'x'.repeat(1000)}.parquet`, "its outputs' keys would be 1038 bytes, past S3's 1024: shorten the name by 14 bytes"],
    ['incoming/bell\u0007.parquet', 'it contains control characters'],
  ])('refuses the key %j at once, with error.json naming the problem and no execution', async (key, problem) => {
    const since = local.invocations.length;
    const executions = stack.engine.executions.size;

    const etag = await runJob(key, readFileSync(FIXTURE));

    const message = `s3://${bucket}/${key}: cannot be embedded: ${problem}`;
    const error = await getJson(rejectedKeyErrorKey(key));
    expect(error).toMatchObject({ input: { bucket, key, etag }, error: { type: 'InvalidKey', message } });
    const refused = await status(key);
    expect(refused).toMatchObject({ state: 'refused', key });
    expect(describeStatus(refused, bucket)).toBe(`s3://${bucket}/${key}: refused: ${message}`);
    expect(local.invocations.slice(since).map((i) => [i.functionName, i.outcome])).toEqual([['start', 'succeeded']]);
    expect(stack.engine.executions.size).toBe(executions);
    expect(await keysUnder('embeddings/')).toEqual([rejectedKeyErrorKey(key)]);
    expect(await keysUnder('jobs/')).toEqual([]);
  });

  it('refuses a file whose page data is corrupt (a decoder panic) with error.json naming the row group', async () => {
    const body = readFileSync(FIXTURE);
    for (let i = 200_000; i < 200_400; i++) body[i]! ^= 0x5a;

    await runJob('incoming/corrupt.parquet', body);

    const error = await getJson<{ error: { message: string } }>('embeddings/corrupt/error.json');
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
      await stack.idle();
      const error = await getJson<{ error: { message: string } }>(`embeddings/bad-${round}/error.json`);
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

    const etag = await runJob(key, body);

    const stem = name.replace(/\.parquet$/, '');
    const error = await getJson<{ error: { message: string } }>(`embeddings/${stem}/error.json`);
    expect(error.error.message).toMatch(message);
    expect(error.error.message).toContain(`s3://${bucket}/${key}`);
    expect(await keysUnder(`embeddings/${stem}/`)).toEqual([`embeddings/${stem}/error.json`]);
    expect(invocationsOf('embed', since)).toHaveLength(0);
    expect(stack.execution(jobIdFor(bucket, key, etag))?.status).toBe('FAILED');
    expect((await getObject(key))!.equals(body)).toBe(true);
  });
});
