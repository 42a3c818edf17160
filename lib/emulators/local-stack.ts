/**
 * The stack's functions on one machine: the real handler factories behind the local Lambda
 * Invoke endpoint, wired as the CDK stack wires them — S3 event → start (async, two retries,
 * then the dead-letter queue) → one durable execution of the job per upload, run by the SDK's
 * local engine, whose invokes of stats, embed and reduce go through the endpoint.
 */
import { LambdaClient } from '@aws-sdk/client-lambda';
import type { S3Client } from '@aws-sdk/client-s3';
import type { JobConfig } from '../aws/config.ts';
import { embedHandler, jobHandler, reduceHandler, startHandler, statsHandler, type StoreDeps } from '../aws/handlers.ts';
import { durableStarter } from '../aws/durable-starter.ts';
import { startLocalLambda, type LambdaContextLike, type LocalLambda } from './lambda/index.ts';
import { queryHandler } from '../aws/query-handler.ts';
import { DEFAULT_QUERY_MAX_ROWS } from '../aws/env.ts';
import { LocalEngine, invokeThrough, type InvokeThrough, type LocalExecution } from './local-engine.ts';
import type { ObjectStore } from '../pipeline/object-store.ts';
import type { Writable } from 'node:stream';
import { Telemetry, DISCARD } from '../observability/telemetry.ts';
import type { StepName } from '../observability/metric-names.ts';

export type FunctionName = 'start' | 'job' | 'stats' | 'embed' | 'reduce' | 'query' | 'dlq';
type Handler = (event: unknown, context: LambdaContextLike) => Promise<unknown>;

/** The job function's alias, as the start function addresses it (durable functions are invoked qualified). */
export const JOB_ALIAS = 'live';

export interface LocalStackOptions {
  s3: S3Client;
  /** The job's settings; its function names are the local functions'. */
  config: JobConfig;
  /** Wraps each function's handler (tests observe or inject faults through it). */
  wrap?: (name: FunctionName, handler: Handler) => Handler;
  /** Wraps every object store the handlers open (fault injection below the steps). */
  wrapStore?: (store: ObjectStore) => ObjectStore;
  /** Wraps the job's invokes of other functions (lost responses, duplicates). */
  wrapInvoke?: (invoke: InvokeThrough) => InvokeThrough;
  /** The bucket the query function reads. */
  bucket?: string;
  /** The query function's row limit (the stack's queryMaxRows); default 2,000,000. */
  queryMaxRows?: number;
  /** Where the functions' JSON log lines and EMF blobs go (what CloudWatch Logs would receive); default nowhere. */
  logs?: Writable;
}

export interface LocalStack {
  local: LocalLambda;
  /** A client of the local endpoint, as a caller (the S3 notification, a test) invokes through. */
  lambda: LambdaClient;
  engine: LocalEngine;
  /** What reached the dead-letter queue: start's events that failed every attempt. */
  deadLetters: unknown[];
  /** Resolves once no invocation and no execution is in progress. */
  idle(): Promise<void>;
  /** The execution of job `jobId`, if one was started. */
  execution(jobId: string): LocalExecution | undefined;
  close(): Promise<void>;
}

/** Starts the endpoint serving start, job, stats, embed, reduce and query, and the engine behind job. */
export async function startLocalStack(opts: LocalStackOptions): Promise<LocalStack> {
  const wrap = opts.wrap ?? ((_name: FunctionName, h: Handler) => h);
  const { config } = opts;
  // The handlers invoke through a client of the endpoint, which exists only once it listens.
  const handlers = {} as Record<FunctionName, Handler>;
  const call = (name: FunctionName) => (event: unknown, context: LambdaContextLike) => handlers[name](event, context);
  const deadLetters: unknown[] = [];
  // Assigned before the endpoint answers its first request.
  // eslint-disable-next-line prefer-const
  let engine: LocalEngine;
  const local = await startLocalLambda({
    functions: {
      start: { handler: call('start'), maxRetries: 2, onFailure: 'dlq' },
      job: {
        handler: call('job'),
        durable: true,
        maxRetries: 0,
        executions: (name) => [...engine.executions.values()].filter((e) => name === undefined || e.name === name),
      },
      [config.statsFunction]: { handler: call('stats') },
      [config.embedFunction]: { handler: call('embed') },
      [config.reduceFunction]: { handler: call('reduce') },
      query: { handler: call('query') },
      dlq: { handler: call('dlq') },
    },
  });
  const lambda = new LambdaClient({
    endpoint: local.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const base: StoreDeps = { s3: opts.s3, prefixes: config.prefixes, ...(opts.wrapStore && { wrapStore: opts.wrapStore }) };
  const telemetry = (step: StepName) => new Telemetry({ service: 'track-embeddings-local', step, out: opts.logs ?? DISCARD });
  const withTelemetry = (step: StepName): StoreDeps => ({ ...base, telemetry: telemetry(step) });
  const through = invokeThrough(lambda);
  engine = await LocalEngine.start(
    jobHandler({ ...withTelemetry('job'), config }),
    [config.statsFunction, config.embedFunction, config.reduceFunction],
    opts.wrapInvoke ? opts.wrapInvoke(through) : through,
  );
  Object.assign(handlers, {
    start: wrap('start', startHandler({ ...withTelemetry('start'), starter: durableStarter(lambda, `job:${JOB_ALIAS}`) })),
    // The engine's door: an invoke with an execution name starts that execution once.
    job: wrap('job', async (event, context) => {
      const name = context.durableExecutionName ?? `unnamed-${context.awsRequestId}`;
      const execution = engine.start(name, event);
      const ended = await execution.done;
      return { status: ended.status };
    }),
    stats: wrap('stats', statsHandler(withTelemetry('stats'))),
    embed: wrap('embed', embedHandler(withTelemetry('embed'))),
    reduce: wrap('reduce', reduceHandler(withTelemetry('reduce'))),
    dlq: wrap('dlq', async (record) => void deadLetters.push(record)),
    query: wrap(
      'query',
      queryHandler({
        s3: opts.s3,
        bucket: opts.bucket ?? '',
        outputPrefix: config.prefixes.output,
        maxRows: opts.queryMaxRows ?? DEFAULT_QUERY_MAX_ROWS,
        telemetry: telemetry('query'),
      }),
    ),
  });
  return {
    local,
    lambda,
    engine,
    deadLetters,
    async idle() {
      await local.idle();
      await engine.settled();
      await local.idle();
    },
    execution: (jobId) => engine.executions.get(jobId),
    async close() {
      await engine.close();
      await local.close();
      lambda.destroy();
    },
  };
}
