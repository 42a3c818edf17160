/**
 * The synthesized bundles actually run: the six NodejsFunction assets, loaded from a directory
 * outside the repo (no node_modules anywhere above them), carry the whole pipeline against a real
 * S3 API and the Lambda Invoke API; and the SAM example events under events/ fit the stack.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { s3Endpoint } from '../helpers/s3.ts';
import { App } from 'aws-cdk-lib';
import { CreateBucketCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { PipelineStack } from '../../cdk/pipeline-stack.ts';
import { propsFromContext } from '../../cdk/props.ts';
import { s3ClientFor } from '../../lib/emulators/moto.ts';
import { startLocalLambda, type LocalFunction, type LocalLambda } from '../../lib/emulators/lambda/index.ts';
import { DEFAULT_PREFIXES, jobIdFor, outputName } from '../../lib/pipeline/keys.ts';
import { decodeEventKey, encodeEventKey, s3PutEvent } from '../../lib/aws/s3-event.ts';
import { isEmbedPayload } from '../../lib/pipeline/payloads.ts';
import { parseQuery } from '../../lib/search/query.ts';
import { runLocal, type RunResult } from '../../lib/local/runner.ts';
import { getObjectOrNull, keysUnder as keysUnderBucket } from '../helpers/s3.ts';
import { fixture } from '../helpers/tmp.ts';
import { ENV } from '../../lib/aws/env.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const EVENTS = join(ROOT, 'events');
const FUNCTIONS = ['stats', 'embed', 'reduce', 'failure', 'reconcile', 'query'] as const;
type FunctionId = (typeof FUNCTIONS)[number];
type Handler = LocalFunction['handler'];

interface CfnResource {
  Type: string;
  Properties?: {
    FunctionName?: unknown;
    Handler?: unknown;
    Code?: { S3Key?: unknown };
    Environment?: { Variables?: Record<string, unknown> };
  };
}
interface CfnTemplate {
  Resources: Record<string, CfnResource>;
}
interface AssetManifest {
  files: Record<string, { source: { path: string; packaging?: string } }>;
}

const readJson = <T>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T;

/** Synthesizes the stack as `cdk synth` would, into `outdir`; returns the template. */
function synth(outdir: string, stackName: string, context: Record<string, unknown>): CfnTemplate {
  const app = new App({ outdir, context });
  new PipelineStack(app, stackName, { ...propsFromContext(app.node) });
  app.synth();
  return readJson<CfnTemplate>(join(outdir, `${stackName}.template.json`));
}

/** Each pipeline function's logical ID and resource, found by its `FunctionName` suffix. */
function pipelineFunctions(template: CfnTemplate): Record<FunctionId, { logicalId: string; resource: CfnResource }> {
  const found: Partial<Record<FunctionId, { logicalId: string; resource: CfnResource }>> = {};
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    const name = resource.Properties?.FunctionName;
    if (resource.Type !== 'AWS::Lambda::Function' || typeof name !== 'string') continue;
    const id = FUNCTIONS.find((f) => name.endsWith(`-${f}`));
    if (id) found[id] = { logicalId, resource };
  }
  for (const id of FUNCTIONS) if (!found[id]) throw new Error(`no AWS::Lambda::Function named *-${id} in the template`);
  return found as Record<FunctionId, { logicalId: string; resource: CfnResource }>;
}

/** The key as S3 puts it in an event: URL-encoded, spaces as `+`. */

describe('the synthesized Lambda bundles', () => {
  // Unique per run: the moto server outlives a watch-mode rerun, and a repeated upload would be a duplicate job.
  const bucket = `bundle-test-${randomUUID().slice(0, 8)}`;
  // What the bundles read besides the two endpoints; every variable set is saved and restored in afterAll.
  const BUNDLE_ENV = {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    [ENV.statsFunction]: 'stats',
    [ENV.embedFunction]: 'embed',
    [ENV.reduceFunction]: 'reduce',
    [ENV.shardRows]: '1000',
    // The fixture's 5 row groups of 1,000 rows: statistics in 3 parts, through the bundled stats function.
    [ENV.statsPartRows]: '2000',
    // The bucket the reconciler sweeps and the query function reads.
    [ENV.bucket]: bucket,
  };
  const savedEnv = new Map<string, string | undefined>();
  let outdir = '';
  let cliOut = '';
  const assetDirs = {} as Record<FunctionId, string>;
  const handlerSettings = {} as Record<FunctionId, unknown>;
  const handlers = {} as Record<FunctionId, Handler>;
  let local: LocalLambda | undefined;
  let s3: S3Client;
  let lambda: LambdaClient;
  let cli: RunResult;
  const trace: string[] = [];

  beforeAll(async () => {
    outdir = mkdtempSync(join(tmpdir(), 'track-embeddings-bundles-'));
    const template = synth(outdir, 'BundleTest', { shardRows: 1000 });
    const assets = readJson<AssetManifest>(join(outdir, 'BundleTest.assets.json'));
    for (const [id, { resource }] of Object.entries(pipelineFunctions(template)) as [FunctionId, { resource: CfnResource }][]) {
      const s3Key = resource.Properties?.Code?.S3Key;
      if (typeof s3Key !== 'string') throw new Error(`${id}: Code.S3Key is not a string: ${JSON.stringify(s3Key)}`);
      const hash = s3Key.replace(/\.zip$/, '');
      const asset = assets.files[hash];
      if (!asset) throw new Error(`${id}: asset ${hash} is not in BundleTest.assets.json`);
      assetDirs[id] = join(outdir, asset.source.path);
      handlerSettings[id] = resource.Properties?.Handler;
    }
    // The bundles build their clients and read their configuration on first use; set it all before they load.
    const setEnv = (k: string, v: string) => {
      if (!savedEnv.has(k)) savedEnv.set(k, process.env[k]);
      process.env[k] = v;
    };
    for (const [k, v] of Object.entries(BUNDLE_ENV)) setEnv(k, v);
    setEnv('AWS_ENDPOINT_URL_S3', s3Endpoint());
    // Each call's event and outcome, shown when an invocation count is not what a test expects.
    const traced =
      (id: FunctionId): Handler =>
      async (e, c) => {
        const result = await handlers[id](e, c);
        trace.push(
          `${id} ${JSON.stringify(e).slice(0, 120)} -> ${String((result as { status?: unknown } | undefined)?.status)} (${c.awsRequestId})`,
        );
        return result;
      };
    local = await startLocalLambda({
      functions: {
        stats: { handler: traced('stats') },
        embed: { handler: traced('embed'), maxRetries: 2, onFailure: 'failure' },
        reduce: { handler: traced('reduce') },
        failure: { handler: traced('failure') },
        reconcile: { handler: traced('reconcile') },
        query: { handler: traced('query') },
      },
    });
    setEnv('AWS_ENDPOINT_URL_LAMBDA', local.endpoint);

    // Loading the bundles is part of what is tested; a failure here names the bundle.
    for (const id of FUNCTIONS) {
      const entry = join(assetDirs[id], 'index.js');
      const mod = createRequire(import.meta.url)(entry) as { handler?: unknown };
      if (typeof mod.handler !== 'function') throw new Error(`${entry}: exports no handler function`);
      handlers[id] = mod.handler as Handler;
    }

    // The reference the bundles must reproduce byte for byte.
    cliOut = mkdtempSync(join(tmpdir(), 'track-embeddings-bundles-cli-'));
    cli = await runLocal({ input: fixture('tracks-5k.parquet'), outDir: cliOut, workers: 1 });

    s3 = s3ClientFor(s3Endpoint());
    lambda = new LambdaClient({ endpoint: local.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  }, 120_000);

  afterAll(async () => {
    for (const [k, v] of savedEnv) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    await local?.close();
    for (const d of [outdir, cliOut]) if (d) rmSync(d, { recursive: true, force: true });
  });

  const getObject = (key: string) => getObjectOrNull(s3, bucket, key);
  const keysUnder = (prefix: string) => keysUnderBucket(s3, bucket, prefix);

  /** Uploads `body` to `key` and sends the S3 event as the bucket would: an async invoke of stats. */
  async function uploadAndNotify(key: string, body: Uint8Array): Promise<string> {
    const etag = (await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }))).ETag!;
    const event = s3PutEvent(bucket, key, etag);
    const out = await lambda.send(
      new InvokeCommand({ FunctionName: 'stats', InvocationType: 'Event', Payload: new TextEncoder().encode(JSON.stringify(event)) }),
    );
    expect(out.StatusCode).toBe(202);
    return etag;
  }

  it.each(FUNCTIONS)('%s: its asset holds index.js, its source map and the parquet-wasm binary, outside the repo', (id) => {
    const dir = assetDirs[id];
    // What Lambda calls: the `handler` export of index.js, which the flow below calls too.
    expect(handlerSettings[id]).toBe('index.handler');
    expect(readdirSync(dir).sort()).toEqual(['index.js', 'index.js.map', 'parquet_wasm_bg.wasm']);
    expect(relative(ROOT, dir).startsWith('..')).toBe(true);
    // Nothing the bundle could fall back on: no node_modules on its resolution path.
    const lookups = createRequire(join(dir, 'index.js')).resolve.paths('@aws-sdk/client-s3') ?? [];
    expect(lookups.filter((p) => existsSync(p))).toEqual([]);
    expect(readFileSync(join(dir, 'parquet_wasm_bg.wasm')).subarray(0, 4)).toEqual(Buffer.from([0x00, 0x61, 0x73, 0x6d]));
  });

  it('run the 5k fixture end to end, statistics in 3 parts and 5 shards, byte-identical to the command line', async () => {
    const since = local!.invocations.length;
    const key = 'incoming/tracks 5k.parquet';
    const etag = await uploadAndNotify(key, readFileSync(fixture('tracks-5k.parquet')));
    await local!.idle();

    const out = 'embeddings/tracks 5k/';
    expect(await keysUnder(out)).toEqual([`${out}id_to_index.json`, `${out}manifest.json`, `${out}spotify_vectors_14d.npy`]);
    expect((await getObject(`${out}spotify_vectors_14d.npy`))!.equals(readFileSync(cli.vectorsPath))).toBe(true);
    expect((await getObject(`${out}id_to_index.json`))!.equals(readFileSync(cli.mappingPath))).toBe(true);
    const manifest = JSON.parse((await getObject(`${out}manifest.json`))!.toString());
    expect(manifest.input).toMatchObject({ name: `s3://${bucket}/${key}`, etag, rows: 5000 });
    expect(manifest.shards.count).toBe(5);
    expect(manifest.scaler).toEqual(cli.manifest.scaler);

    const runs = local!.invocations.slice(since);
    expect(runs.filter((i) => i.outcome !== 'succeeded')).toEqual([]);
    const count = (fn: FunctionId) => runs.filter((i) => i.functionName === fn).length;
    expect(
      FUNCTIONS.map((fn) => [fn, count(fn)]),
      trace.join('\n'),
    ).toEqual([
      ['stats', 1 + 3],
      ['embed', 5],
      ['reduce', 1],
      ['failure', 0],
      ['reconcile', 0],
      ['query', 0],
    ]);

    // The bundled query function answers over what was just published.
    const [seed] = Object.keys(JSON.parse((await getObject(`${out}id_to_index.json`))!.toString()) as Record<string, number>);
    const answer = await lambda.send(
      new InvokeCommand({ FunctionName: 'query', Payload: JSON.stringify({ name: 'tracks 5k', id: seed, k: 3 }) }),
    );
    const response = JSON.parse(new TextDecoder().decode(answer.Payload)) as { statusCode: number; body: string };
    expect(response.statusCode).toBe(200);
    const body = JSON.parse(response.body) as { rows: number; neighbours: { id: string }[] };
    expect(body.rows).toBe(5000);
    expect(body.neighbours).toHaveLength(3);
    expect(body.neighbours.map((n) => n.id)).not.toContain(seed);
  });

  it('refuse a file without a required column with error.json and no fan-out', async () => {
    const since = local!.invocations.length;
    const key = 'incoming/missing-column.parquet';
    await uploadAndNotify(key, readFileSync(fixture('bad', 'missing-column.parquet')));
    await local!.idle();

    expect(await keysUnder('embeddings/missing-column/')).toEqual(['embeddings/missing-column/error.json']);
    const error = JSON.parse((await getObject('embeddings/missing-column/error.json'))!.toString());
    expect(error.error.message).toMatch(/column 'tempo': required column is missing/);
    expect(error.error.message).toContain(`s3://${bucket}/${key}`);
    const runs = local!.invocations.slice(since);
    expect(runs.map((i) => [i.functionName, i.outcome])).toEqual([['stats', 'succeeded']]);
  });
});

describe('the SAM example events (events/)', () => {
  let outdir = '';
  let template: CfnTemplate;

  beforeAll(() => {
    outdir = mkdtempSync(join(tmpdir(), 'track-embeddings-sam-'));
    // The default stack name, as `npx cdk synth` writes cdk.out/TrackEmbeddings.template.json. Logical IDs
    // do not depend on the bundles, so bundling is skipped here (the suite above runs the bundles).
    template = synth(outdir, 'TrackEmbeddings', { 'aws:cdk:bundling-stacks': [] });
  }, 120_000);

  afterAll(() => {
    if (outdir) rmSync(outdir, { recursive: true, force: true });
  });

  it('are valid JSON, and s3-put.json is an ObjectCreated:Put of the intended key that the stack would react to', () => {
    const files = readdirSync(EVENTS)
      .filter((f) => f.endsWith('.json'))
      .sort();
    expect(files).toEqual(['embed.json', 'env.json', 'query.json', 'reduce.json', 's3-put.json']);
    for (const f of files) expect(() => readJson<unknown>(join(EVENTS, f)), f).not.toThrow();

    const put = readJson<{
      Records: {
        eventVersion: string;
        eventSource: string;
        eventName: string;
        s3: { bucket: { name: string; arn: string }; object: { key: string; eTag: string } };
      }[];
    }>(join(EVENTS, 's3-put.json'));
    expect(put.Records).toHaveLength(1);
    const record = put.Records[0]!;
    expect(record).toMatchObject({ eventVersion: '2.1', eventSource: 'aws:s3', eventName: 'ObjectCreated:Put' });
    expect(record.s3.bucket).toMatchObject({ name: 'track-embeddings-example', arn: 'arn:aws:s3:::track-embeddings-example' });
    const key = decodeEventKey(record.s3.object.key);
    expect(key).toBe('incoming/my tracks été.parquet');
    // Encoded as S3 encodes it, so the example exercises the decoding the handler must do.
    expect(record.s3.object.key).toBe(encodeEventKey(key));
    expect(key.startsWith(DEFAULT_PREFIXES.input) && key.endsWith('.parquet')).toBe(true);
    expect(outputName(key)).toBe('my tracks été');

    // embed.json and reduce.json continue the job that s3-put.json starts.
    const jobId = jobIdFor(record.s3.bucket.name, key, `"${record.s3.object.eTag}"`);
    const embed = readJson<unknown>(join(EVENTS, 'embed.json'));
    expect(isEmbedPayload(embed)).toBe(true);
    expect(embed).toEqual({ bucket: record.s3.bucket.name, jobId, shard: 0 });
    expect(readJson<unknown>(join(EVENTS, 'reduce.json'))).toEqual({ bucket: record.s3.bucket.name, jobId });

    // query.json is what the Function URL delivers for a query of that upload's outputs.
    const query = readJson<{ requestContext: { http: { method: string } }; body: string }>(join(EVENTS, 'query.json'));
    expect(query.requestContext.http.method).toBe('POST');
    expect(parseQuery(JSON.parse(query.body))).toMatchObject({ name: outputName(key), ids: [expect.any(String)], k: 10 });
  });

  it('env.json is keyed by the functions’ logical IDs and names what the template names', () => {
    const env = readJson<Record<string, Record<string, unknown>>>(join(EVENTS, 'env.json'));
    const fns = pipelineFunctions(template);
    expect(Object.keys(env).sort()).toEqual(FUNCTIONS.map((id) => fns[id].logicalId).sort());
    for (const id of FUNCTIONS) {
      const { logicalId, resource } = fns[id];
      const vars = env[logicalId]!;
      const declared = resource.Properties?.Environment?.Variables ?? {};
      for (const v of Object.values(vars)) expect(typeof v, `${logicalId}: SAM wants string values`).toBe('string');
      expect(vars, logicalId).toMatchObject({
        STATS_FUNCTION_NAME: 'TrackEmbeddings-stats',
        EMBED_FUNCTION_NAME: 'TrackEmbeddings-embed',
        REDUCE_FUNCTION_NAME: 'TrackEmbeddings-reduce',
      });
      expect(declared, logicalId).toMatchObject({
        STATS_FUNCTION_NAME: vars.STATS_FUNCTION_NAME,
        EMBED_FUNCTION_NAME: vars.EMBED_FUNCTION_NAME,
        REDUCE_FUNCTION_NAME: vars.REDUCE_FUNCTION_NAME,
      });
      expect(Number(vars.SHARD_ROWS)).toBeGreaterThan(0);
      expect(String(vars.AWS_ENDPOINT_URL_S3)).toMatch(/^http:\/\//);
      // SAM only overrides variables the template declares: every one in env.json must be.
      expect(
        Object.keys(vars).filter((k) => !Object.hasOwn(declared, k)),
        logicalId,
      ).toEqual([]);
    }
  });
});
