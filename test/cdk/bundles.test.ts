/**
 * The synthesized bundles actually run: the six NodejsFunction assets, loaded from a directory
 * outside the repo (no node_modules anywhere above them), carry the whole pipeline against a real
 * S3 API and the Lambda Invoke API — the job bundle's durable handler driven by the SDK's local
 * engine, its invokes going to the stats, embed and reduce bundles — and the SAM example events
 * under events/ fit the stack.
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
import { eventBridgeObjectCreated, uploadsOf } from '../../lib/aws/s3-event.ts';
import { isEmbedPayload, isReducePayload, isStatsPayload } from '../../lib/pipeline/payloads.ts';
import { LocalEngine, invokeThrough } from '../../lib/emulators/local-engine.ts';
import type { DurableLambdaHandler } from '@aws/durable-execution-sdk-js';
import { parseQuery } from '../../lib/search/query.ts';
import { runLocal, type RunResult } from '../../lib/local/runner.ts';
import { getObjectOrNull, keysUnder as keysUnderBucket } from '../helpers/s3.ts';
import { fixture } from '../helpers/tmp.ts';
import { ENV } from '../../lib/aws/env.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const EVENTS = join(ROOT, 'events');
const FUNCTIONS = ['start', 'job', 'stats', 'embed', 'reduce', 'query'] as const;
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
    [ENV.jobFunction]: 'job:live',
    [ENV.statsFunction]: 'stats',
    [ENV.embedFunction]: 'embed',
    [ENV.reduceFunction]: 'reduce',
    [ENV.shardRows]: '1000',
    // The fixture's 5 row groups of 1,000 rows: statistics in 3 parts, through the bundled stats function.
    [ENV.statsPartRows]: '2000',
    [ENV.retryDelaySeconds]: '1',
    // The bucket the query function reads.
    [ENV.bucket]: bucket,
  };
  const savedEnv = new Map<string, string | undefined>();
  let outdir = '';
  let cliOut = '';
  const assetDirs = {} as Record<FunctionId, string>;
  const handlerSettings = {} as Record<FunctionId, unknown>;
  const handlers = {} as Record<FunctionId, Handler>;
  let local: LocalLambda | undefined;
  let engine: LocalEngine | undefined;
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
        start: { handler: traced('start'), maxRetries: 2 },
        // The engine's door, as in lib/emulators/local-stack.ts: one execution per name, of the job bundle's durable handler.
        job: {
          durable: true,
          maxRetries: 0,
          executions: (name) => [...engine!.executions.values()].filter((x) => name === undefined || x.name === name),
          handler: async (e, c) => {
            const run = engine!.start(c.durableExecutionName ?? c.awsRequestId, e);
            trace.push(`job ${run.name} -> ${(await run.done).status}`);
            return { status: run.status };
          },
        },
        stats: { handler: traced('stats') },
        embed: { handler: traced('embed') },
        reduce: { handler: traced('reduce') },
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
    lambda = new LambdaClient({ endpoint: local.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    engine = await LocalEngine.start(handlers.job as unknown as DurableLambdaHandler, ['stats', 'embed', 'reduce'], invokeThrough(lambda));

    // The reference the bundles must reproduce byte for byte.
    cliOut = mkdtempSync(join(tmpdir(), 'track-embeddings-bundles-cli-'));
    cli = await runLocal({ input: fixture('tracks-5k.parquet'), outDir: cliOut, workers: 1 });

    s3 = s3ClientFor(s3Endpoint());
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  }, 120_000);

  afterAll(async () => {
    for (const [k, v] of savedEnv) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    await engine?.close();
    await local?.close();
    lambda?.destroy();
    for (const d of [outdir, cliOut]) if (d) rmSync(d, { recursive: true, force: true });
  });

  const getObject = (key: string) => getObjectOrNull(s3, bucket, key);
  const keysUnder = (prefix: string) => keysUnderBucket(s3, bucket, prefix);

  /** Uploads `body` to `key` and sends the S3 event as EventBridge would: an async invoke of start. */
  async function uploadAndNotify(key: string, body: Uint8Array): Promise<string> {
    const etag = (await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }))).ETag!;
    const event = eventBridgeObjectCreated(bucket, key, etag);
    const out = await lambda.send(
      new InvokeCommand({ FunctionName: 'start', InvocationType: 'Event', Payload: new TextEncoder().encode(JSON.stringify(event)) }),
    );
    expect(out.StatusCode).toBe(202);
    return etag;
  }

  /** Until every invocation and execution has settled. */
  async function idle(): Promise<void> {
    await local!.idle();
    await engine!.settled();
    await local!.idle();
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
    await idle();

    const out = 'embeddings/tracks 5k/';
    expect(await keysUnder(out)).toEqual([
      `${out}id_index.bin`,
      `${out}id_to_index.json`,
      `${out}manifest.json`,
      `${out}spotify_vectors_14d.npy`,
    ]);
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
      ['start', 1],
      ['job', 1],
      // Three parts' sums, then their deviations.
      ['stats', 3 + 3],
      ['embed', 5],
      // The id index's one partition, then the reduce: one bundle serves both.
      ['reduce', 1 + 1],
      ['query', 0],
    ]);
    expect(engine!.executions.get(jobIdFor(bucket, key, etag))?.status).toBe('SUCCEEDED');

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
    const etag = await uploadAndNotify(key, readFileSync(fixture('bad', 'missing-column.parquet')));
    await idle();

    expect(await keysUnder('embeddings/missing-column/')).toEqual(['embeddings/missing-column/error.json']);
    const error = JSON.parse((await getObject('embeddings/missing-column/error.json'))!.toString());
    expect(error.error.message).toMatch(/column 'tempo': required column is missing/);
    expect(error.error.message).toContain(`s3://${bucket}/${key}`);
    const runs = local!.invocations.slice(since);
    // Refused in the job's first step: no statistics, no shards.
    expect(runs.map((i) => `${i.functionName} ${i.outcome}`).sort()).toEqual(['job succeeded', 'start succeeded']);
    expect(engine!.executions.get(jobIdFor(bucket, key, etag))?.status).toBe('FAILED');
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

  it('are valid JSON, and s3-put.json is the EventBridge event of an upload the stack would start a job for', () => {
    const files = readdirSync(EVENTS)
      .filter((f) => f.endsWith('.json'))
      .sort();
    expect(files).toEqual(['embed.json', 'env.json', 'job.json', 'query.json', 'reduce.json', 's3-put.json', 'stats.json']);
    for (const f of files) expect(() => readJson<unknown>(join(EVENTS, f)), f).not.toThrow();

    const put = readJson<unknown>(join(EVENTS, 's3-put.json'));
    expect(put).toMatchObject({ source: 'aws.s3', 'detail-type': 'Object Created' });
    const [upload] = uploadsOf(put);
    expect(upload!.key.startsWith(DEFAULT_PREFIXES.input) && upload!.key.endsWith('.parquet')).toBe(true);
    // The rule the stack creates matches it: the bucket's events, keys under the input prefix.
    const rule = Object.values(template.Resources).find((r) => r.Type === 'AWS::Events::Rule') as unknown as {
      Properties: { EventPattern: { source: string[]; 'detail-type': string[]; detail: { object: { key: { prefix: string }[] } } } };
    };
    expect(rule.Properties.EventPattern).toMatchObject({ source: ['aws.s3'], 'detail-type': ['Object Created'] });
    expect(upload!.key.startsWith(rule.Properties.EventPattern.detail.object.key[0]!.prefix)).toBe(true);

    // job.json is what start starts for it; stats, embed and reduce continue that job.
    const jobId = jobIdFor(upload!.bucket, upload!.key, upload!.etag!);
    expect(readJson<unknown>(join(EVENTS, 'job.json'))).toEqual({
      bucket: upload!.bucket,
      key: upload!.key,
      etag: upload!.etag,
      jobId,
      generation: 0,
    });
    const stats = readJson<unknown>(join(EVENTS, 'stats.json'));
    expect(isStatsPayload(stats)).toBe(true);
    expect(stats).toMatchObject({ bucket: upload!.bucket, jobId });
    const embed = readJson<unknown>(join(EVENTS, 'embed.json'));
    expect(isEmbedPayload(embed)).toBe(true);
    expect(embed).toEqual({ bucket: upload!.bucket, jobId, shard: 0 });
    const reduce = readJson<unknown>(join(EVENTS, 'reduce.json'));
    expect(isReducePayload(reduce)).toBe(true);
    expect(reduce).toEqual({ bucket: upload!.bucket, jobId });

    // query.json is what the Function URL delivers for a query of that upload's outputs.
    const query = readJson<{ requestContext: { http: { method: string } }; body: string }>(join(EVENTS, 'query.json'));
    expect(query.requestContext.http.method).toBe('POST');
    expect(parseQuery(JSON.parse(query.body))).toMatchObject({ name: outputName(upload!.key), ids: [expect.any(String)], k: 10 });
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
      // The function names env.json gives are the template's own.
      for (const name of ['JOB_FUNCTION_NAME', 'STATS_FUNCTION_NAME', 'EMBED_FUNCTION_NAME', 'REDUCE_FUNCTION_NAME'])
        if (name in vars) expect(String(vars[name]), `${logicalId} ${name}`).toMatch(/^TrackEmbeddings-(job:live|stats|embed|reduce)$/);
      expect(String(vars.AWS_ENDPOINT_URL_S3)).toMatch(/^http:\/\//);
      // SAM only overrides variables the template declares: every one in env.json must be.
      expect(
        Object.keys(vars).filter((k) => !Object.hasOwn(declared, k)),
        logicalId,
      ).toEqual([]);
    }
  });
});
