import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateBucketCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { InvokeCommand } from '@aws-sdk/client-lambda';
import { s3ClientFor } from '../../lib/emulators/moto.ts';
import { startLocalStack, type LocalStack } from '../../lib/emulators/local-stack.ts';
import { DEFAULT_PREFIXES } from '../../lib/pipeline/keys.ts';
import { runLocal } from '../../lib/local/runner.ts';
import { writeTracksParquet } from '../../lib/generate/write-parquet.ts';
import { DEFAULT_SPEC } from '../../lib/embedding/spec.ts';
import type { JobConfig } from '../../lib/aws/config.ts';
import { localJobSettings } from '../../lib/emulators/serverless-pipeline.ts';
import { s3ChildEnv, s3Endpoint } from '../helpers/s3.ts';
import { fixture, useTmp } from '../helpers/tmp.ts';
import { readParquet } from '../helpers/parquet-write.ts';
import { runCli } from '../helpers/cli.ts';
import { eventBridgeObjectCreated } from '../../lib/aws/s3-event.ts';
import { queryHandler } from '../../lib/aws/query-handler.ts';

/** numpy brute force over the 5k reference outputs (test/fixtures/similar/make_neighbours.py). */
const expected = JSON.parse(readFileSync(fixture('similar', 'neighbours.json'), 'utf8')) as {
  ids: string[];
  metric: 'euclidean' | 'cosine';
  neighbours: { id: string; row: number; distance: number }[];
}[];

const BUCKET = 'query-function';
const config: JobConfig = {
  ...localJobSettings,
  shardRows: 1 << 20,
  statsPartRows: 1 << 24,
  parquet: false,
  prefixes: DEFAULT_PREFIXES,
};
const tmp = useTmp();
let s3: S3Client;
let stack: LocalStack;
/** GetObject requests the query function made: how many times it loaded outputs. */
let gets = 0;

/** Embeds `input` on this machine and publishes the outputs under embeddings/<name>/ as the reducer would. */
async function publish(name: string, input: string): Promise<void> {
  const out = join(tmp(), 'out');
  await runLocal({ input, outDir: out, workers: 1 });
  // The manifest last, as the reducer writes it.
  const files = readdirSync(out).sort((a, b) => Number(a === 'manifest.json') - Number(b === 'manifest.json'));
  for (const f of files) {
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `embeddings/${name}/${f}`, Body: readFileSync(join(out, f)) }));
  }
}

/** Calls the query function through the local Invoke endpoint with the event a Function URL sends. */
async function query(body: unknown, method = 'POST'): Promise<{ status: number; body: Record<string, unknown> }> {
  const event = {
    version: '2.0',
    requestContext: { http: { method } },
    body: typeof body === 'string' ? body : Buffer.from(JSON.stringify(body)).toString('base64'),
    isBase64Encoded: typeof body !== 'string',
  };
  const out = await stack.lambda.send(new InvokeCommand({ FunctionName: 'query', Payload: JSON.stringify(event) }));
  expect(out.FunctionError).toBeUndefined();
  const response = JSON.parse(new TextDecoder().decode(out.Payload)) as {
    statusCode: number;
    headers: Record<string, string>;
    body: string;
  };
  expect(response.headers['content-type']).toBe('application/json');
  return { status: response.statusCode, body: JSON.parse(response.body) as Record<string, unknown> };
}

const neighbourIds = (body: Record<string, unknown>) => (body.neighbours as { id: string }[]).map((n) => n.id);

beforeAll(async () => {
  s3 = s3ClientFor(s3Endpoint());
  s3.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'GetObjectCommand') gets++;
      return next(args);
    },
    { step: 'initialize' },
  );
  stack = await startLocalStack({ s3, config, bucket: BUCKET, queryMaxRows: 5_500 });
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  await publish('tracks-5k', fixture('tracks-5k.parquet'));
});

afterAll(async () => {
  await stack?.close();
});

describe('the query function, through the local Lambda endpoint over moto', () => {
  it.each(expected)('$ids ($metric): the neighbours numpy brute force finds', async ({ ids, metric, neighbours }) => {
    const r = await query(ids.length === 1 ? { name: 'tracks-5k', id: ids[0], metric } : { name: 'tracks-5k', ids, metric });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ name: 'tracks-5k', k: 10, metric, rows: 5000, ids });
    expect(neighbourIds(r.body)).toEqual(neighbours.map((n) => n.id));
    (r.body.neighbours as { rank: number; distance: number }[]).forEach((n, i) => {
      expect(n.rank).toBe(i + 1);
      expect(Math.abs(n.distance - neighbours[i]!.distance)).toBeLessThan(1e-9);
    });
  });

  it('embeds a track from its features with the published scaler: a row’s own features find that row first, at distance 0', async () => {
    const table = await readParquet(fixture('tracks-5k.parquet'));
    const features = Object.fromEntries(
      DEFAULT_SPEC.features.map((f) => [f.column, ((v) => (typeof v === 'bigint' ? Number(v) : v))(table.getChild(f.column)!.get(42))]),
    );
    const r = await query({ name: 'tracks-5k', features, k: 4 });
    expect(r.status).toBe(200);
    const found = r.body.neighbours as { id: string; distance: number }[];
    expect(found[0]).toEqual({ rank: 1, id: expected[0]!.ids[0], distance: 0 });
    expect(found.slice(1).map((n) => n.id)).toEqual(expected[0]!.neighbours.slice(0, 3).map((n) => n.id));
  });

  it('keeps a loaded output warm: later queries read only its manifest’s ETag', async () => {
    await query({ name: 'tracks-5k', id: expected[0]!.ids[0], k: 1 });
    const before = gets;
    for (let i = 0; i < 3; i++) expect((await query({ name: 'tracks-5k', id: expected[1]!.ids[0], k: 2 })).status).toBe(200);
    expect(gets).toBe(before);
  });

  it('reloads an output when it is republished (its manifest’s ETag changes)', async () => {
    const dir = tmp();
    const first = join(dir, 'first.parquet');
    const second = join(dir, 'second.parquet');
    await writeTracksParquet(first, { rows: 300, seed: 1 });
    await writeTracksParquet(second, { rows: 300, seed: 2 });
    const idOf = async (path: string) => String((await readParquet(path)).getChild('id')!.get(0));
    await publish('weekly', first);
    expect((await query({ name: 'weekly', id: await idOf(first), k: 3 })).status).toBe(200);
    await publish('weekly', second);
    const r = await query({ name: 'weekly', id: await idOf(second), k: 3 });
    expect(r.status).toBe(200);
    expect(r.body.rows).toBe(300);
    expect((await query({ name: 'weekly', id: await idOf(first), k: 3 })).status).toBe(404);
  });

  it('refuses an output larger than its limit with one message naming the limit, and still answers after', async () => {
    const big = join(tmp(), 'big.parquet');
    await writeTracksParquet(big, { rows: 6_000 });
    await publish('big', big);
    const r = await query({ name: 'big', id: 'anything' });
    expect(r.status).toBe(413);
    expect(r.body.error).toBe('the output is larger than this function serves');
    expect((await query({ name: 'tracks-5k', id: expected[0]!.ids[0], k: 1 })).status).toBe(200);
  });

  it.each([
    [{ name: 'tracks-5k', id: 'no-such-id' }, 404, /^'tracks-5k' has no track with id 'no-such-id'$/],
    [{ name: 'nothing-here', id: 'x' }, 404, /^no published outputs named 'nothing-here'$/],
    [{ name: 'tracks-5k', id: 'x', k: 0 }, 400, /^'k' must be an integer from 1 to 1000$/],
    [{ name: 'tracks-5k' }, 400, /^give exactly one of 'id', 'ids' and 'features'$/],
    [{ name: 'tracks-5k', id: 'x', features: {} }, 400, /^give exactly one of 'id', 'ids' and 'features' \(got id, features\)$/],
    [{ name: '../etc', id: 'x' }, 400, /^'name' must be an output name/],
    [{ name: 'tracks-5k', id: 'x', limit: 3 }, 400, /^1 unknown field: the request takes name, id, ids, features, k, metric$/],
    [{ name: 'tracks-5k', features: { danceability: 0.5 } }, 400, /^features: missing energy, valence, .*year \(the spec needs /],
    ['{not json', 400, /^the body is not valid JSON$/],
  ])('answers %j with %i and one message', async (body, status, message) => {
    const r = await query(body);
    expect(r.status).toBe(status);
    expect(Object.keys(r.body)).toEqual(['error']);
    expect(r.body.error).toMatch(message);
  });

  it('answers GET with 400: queries are POSTed', async () => {
    const r = await query('', 'GET');
    expect(r).toEqual({ status: 400, body: { error: 'use POST with a JSON body' } });
  });
});

/** Features of row 42 of the 5k fixture, which the spec takes. */
async function rowFeatures(): Promise<Record<string, unknown>> {
  const table = await readParquet(fixture('tracks-5k.parquet'));
  return Object.fromEntries(
    DEFAULT_SPEC.features.map((f) => [f.column, ((v) => (typeof v === 'bigint' ? Number(v) : v))(table.getChild(f.column)!.get(42))]),
  );
}

const HUGE_ID = 'x'.repeat(10_000);
const SECRET_FIELD = 'passwordOfTheCaller';

describe('the query function, against hostile requests: a clear 4xx, and nothing of its insides', () => {
  const features = (over: Record<string, unknown>) => async () => ({ name: 'tracks-5k', features: { ...(await rowFeatures()), ...over } });
  const hostile: [string, () => Promise<unknown> | unknown, number, RegExp][] = [
    [
      'a body over 64 KiB',
      () => JSON.stringify({ name: 'tracks-5k', id: 'y'.repeat(70_000) }),
      413,
      /^the body must be at most 65536 bytes$/,
    ],
    ['an id of 10 KB', () => ({ name: 'tracks-5k', id: HUGE_ID }), 400, /^'id' must be a track id of at most 256 characters$/],
    ['ids of 10 KB', () => ({ name: 'tracks-5k', ids: ['a', HUGE_ID] }), 400, /^'ids' must hold track ids of at most 256/],
    [
      '1001 ids',
      () => ({ name: 'tracks-5k', ids: Array.from({ length: 1001 }, (_, i) => `id${i}`) }),
      400,
      /^'ids' must be a list of 1 to 1000/,
    ],
    ['a name of 10 KB', () => ({ name: HUGE_ID, id: 'x' }), 400, /^'name' must be an output name/],
    ['a name that climbs out', () => ({ name: '..', id: 'x' }), 400, /^'name' must be an output name/],
    ['unknown fields', () => ({ name: 'tracks-5k', id: 'x', [SECRET_FIELD]: 1, other: 2 }), 400, /^2 unknown fields: the request takes /],
    ['a string k', () => ({ name: 'tracks-5k', id: 'x', k: '10' }), 400, /^'k' must be an integer from 1 to 1000$/],
    ['a huge k', () => ({ name: 'tracks-5k', id: 'x', k: 1e300 }), 400, /^'k' must be an integer from 1 to 1000$/],
    ['an object metric', () => ({ name: 'tracks-5k', id: 'x', metric: { $gt: '' } }), 400, /^'metric' must be one of euclidean, cosine$/],
    ['a numeric id', () => ({ name: 'tracks-5k', id: 42 }), 400, /^'id' must be a track id/],
    ['an array body', () => [1, 2, 3], 400, /^the request must be a JSON object/],
    ['a null body', () => 'null', 400, /^the request must be a JSON object/],
    ['features as a list', () => ({ name: 'tracks-5k', features: [1, 2] }), 400, /^'features' must be an object/],
    ['a feature of 1e300', features({ tempo: 1e300 }), 400, /^features: 'tempo' is 1e\+300: standardised .*float32/],
    ['a feature of -1e300', features({ loudness: -1e300 }), 400, /^features: 'loudness' is -1e\+300: standardised .*float32/],
    [
      'a feature given as a string',
      features({ tempo: '120' }),
      400,
      /^'features': every value must be a number, a boolean or null \('tempo' is not\)$/,
    ],
    ['a feature of a nested object', features({ energy: { a: HUGE_ID } }), 400, /^'features': every value must be a number/],
    [
      `an unknown feature named ${SECRET_FIELD}`,
      features({ [SECRET_FIELD]: 1 }),
      400,
      /^'features': 1 field\(s\) the output's spec does not have/,
    ],
    ['too many features', features(Object.fromEntries(Array.from({ length: 70 }, (_, i) => [`f${i}`, i]))), 400, /at most 64 fields$/],
  ];

  it.each(hostile)('%s: answered %#', async (_what, make, status, message) => {
    const r = await query(await make());
    expect(r.status).toBe(status);
    expect(Object.keys(r.body)).toEqual(['error']);
    const error = r.body.error as string;
    expect(error).toMatch(message);
    // No bucket, no SDK or V8 text, no echo of what was sent.
    expect(error).not.toContain(BUCKET);
    expect(error).not.toMatch(/s3:\/\/|Exception|TypeError|at .*\.ts|Unexpected token|undefined/);
    expect(error).not.toContain(SECRET_FIELD);
    expect(error).not.toContain('xxxxxxxxxx');
    expect(error.length).toBeLessThan(400);
  });

  it('sizes an output by its bytes before loading it: ids of 10 KB make a 400-row output too large, and nothing is read', async () => {
    const ids = Object.fromEntries(Array.from({ length: 400 }, (_, i) => [`${i}`.padStart(10_000, 'i'), i]));
    const key = (f: string) => `embeddings/long-ids/${f}`;
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key('id_to_index.json'), Body: JSON.stringify(ids) }));
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key('manifest.json'), Body: '{}' }));
    const before = gets;
    const r = await query({ name: 'long-ids', id: 'x' });
    expect(r).toEqual({
      status: 413,
      body: {
        error:
          "the outputs of 'long-ids' are larger than this function serves (the CDK context values queryMaxRows and queryMemoryMb raise it)",
      },
    });
    expect(gets).toBe(before);
  });

  it('makes room before it loads: with a budget for one output, a second name evicts the first', async () => {
    await publish('copy-a', fixture('tracks-5k.parquet'));
    await publish('copy-b', fixture('tracks-5k.parquet'));
    // 5,000 rows: a .npy of 280 KB and an id index of about 350 KB, held in memory: room for one output, not two.
    const handler = queryHandler({ s3, bucket: BUCKET, outputPrefix: 'embeddings/', maxRows: 100_000, maxBytes: 1_000_000 });
    const ask = async (name: string) => JSON.parse((await handler({ name, id: expected[0]!.ids[0], k: 1 })).body) as { rows: number };
    const loads = async (name: string) => {
      const before = gets;
      expect((await ask(name)).rows).toBe(5000);
      return gets - before;
    };
    expect(await loads('copy-a')).toBeGreaterThan(0);
    expect(await loads('copy-a')).toBe(0);
    expect(await loads('copy-b')).toBeGreaterThan(0);
    // copy-a made room for copy-b: it is read again.
    expect(await loads('copy-a')).toBeGreaterThan(0);
  });

  it('searches an output larger than its budget as it reads it: numpy’s neighbours, the vectors read again by every query', async () => {
    // 5,000 rows: a .npy of 280 KB and an id index of about 350 KB, a budget of 200 KB: neither is held.
    const handler = queryHandler({ s3, bucket: BUCKET, outputPrefix: 'embeddings/', maxRows: 100_000, maxBytes: 200_000 });
    for (const { ids, metric, neighbours } of expected) {
      const before = gets;
      const r = await handler(ids.length === 1 ? { name: 'tracks-5k', id: ids[0], metric } : { name: 'tracks-5k', ids, metric });
      expect(r.statusCode).toBe(200);
      const body = JSON.parse(r.body) as Record<string, unknown>;
      expect(body).toMatchObject({ name: 'tracks-5k', rows: 5000, metric });
      expect(neighbourIds(body)).toEqual(neighbours.map((n) => n.id));
      (body.neighbours as { distance: number }[]).forEach((n, i) =>
        expect(Math.abs(n.distance - neighbours[i]!.distance)).toBeLessThan(1e-9),
      );
      // The vectors (one chunk at this size) and the seeds' rows, read for this query.
      expect(gets - before).toBeGreaterThanOrEqual(1 + ids.length);
    }
    const refused = queryHandler({
      s3,
      bucket: BUCKET,
      outputPrefix: 'embeddings/',
      maxRows: 100_000,
      maxBytes: 200_000,
      maxStreamRows: 4_000,
    });
    const r = await refused({ name: 'tracks-5k', id: expected[0]!.ids[0] });
    expect(r.statusCode).toBe(413);
  });

  it('answers a hostile request in full and then still serves good ones', async () => {
    expect((await query({ name: 'tracks-5k', id: expected[0]!.ids[0], k: 1 })).status).toBe(200);
  });
});

describe('track-embeddings similar s3://…, over outputs the pipeline published', () => {
  const env = s3ChildEnv;

  beforeAll(async () => {
    const key = 'incoming/published.parquet';
    const etag = (await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: readFileSync(fixture('tracks-5k.parquet')) })))
      .ETag!;
    await stack.lambda.send(
      new InvokeCommand({
        FunctionName: 'start',
        InvocationType: 'Event',
        Payload: JSON.stringify(eventBridgeObjectCreated(BUCKET, key, etag)),
      }),
    );
    await stack.idle();
  });

  it('finds the neighbours numpy brute force finds, with the columns of the input it names in S3', async () => {
    const { ids, neighbours } = expected[0]!;
    const r = runCli(['similar', `s3://${BUCKET}/embeddings/published/`, '--id', ids[0]!, '--with', 'name,artists', '--json'], env());
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const got = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { id: string; row: number; name: string; artists: string });
    expect(got.map((g) => g.id)).toEqual(neighbours.map((n) => n.id));
    const table = await readParquet(fixture('tracks-5k.parquet'));
    for (const g of got) expect([g.name, g.artists]).toEqual([table.getChild('name')!.get(g.row), table.getChild('artists')!.get(g.row)]);
  });

  it('says in one line that a prefix holds no outputs, and what the SDK could not do', () => {
    const missing = runCli(['similar', `s3://${BUCKET}/embeddings/nothing/`, '--id', 'x'], env());
    expect(missing.code).toBe(1);
    expect(missing.lines).toEqual([`error: s3://${BUCKET}/embeddings/nothing/: not an output folder (no manifest.json)`]);
    const noBucket = runCli(['similar', 's3://no-such-bucket-here/embeddings/x/', '--id', 'x'], env());
    expect(noBucket.code).toBe(1);
    expect(noBucket.lines).toHaveLength(1);
    expect(noBucket.lines[0]).toMatch(/^error: s3:\/\/no-such-bucket-here\/embeddings\/x\/: cannot read manifest\.json: /);
  });
});
