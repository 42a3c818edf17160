/**
 * The stack's functions on one machine: the real handler factories behind the local Lambda
 * Invoke endpoint, wired as the CDK stack wires them (async retries, on-failure destinations),
 * with a Lambda client pointed at the endpoint for the handlers' own fan-out.
 */
import { LambdaClient } from '@aws-sdk/client-lambda';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Config } from '../aws/config.ts';
import { embedHandler, failureHandler, reconcileHandler, reduceHandler, statsHandler, type HandlerDeps } from '../aws/handlers.ts';
import { startLocalLambda, type LocalLambda } from './lambda/index.ts';
import { queryHandler } from '../aws/query-handler.ts';
import { DEFAULT_QUERY_MAX_ROWS } from '../aws/env.ts';

export type FunctionName = 'stats' | 'embed' | 'reduce' | 'failure' | 'reconcile' | 'query';
type Handler = (event: unknown, context?: { awsRequestId?: string }) => Promise<unknown>;

export interface LocalStackOptions {
  s3: S3Client;
  config: Config;
  /** Wraps each handler (tests inject faults or observe results through it). */
  wrap?: (name: FunctionName, handler: Handler) => Handler;
  /** How the reducer waits for a publish lock. */
  wait?: (ms: number) => Promise<void>;
  /** The handlers' clock, and the fault injection hooks of `HandlerDeps`. */
  now?: HandlerDeps['now'];
  wrapStore?: HandlerDeps['wrapStore'];
  wrapInvoker?: HandlerDeps['wrapInvoker'];
  /** The bucket the reconciler sweeps when its event names none, and the query function reads. */
  bucket?: string;
  /** The query function's row limit (the stack's queryMaxRows); default 2,000,000. */
  queryMaxRows?: number;
}

export interface LocalStack {
  local: LocalLambda;
  /** A client of the local endpoint, as a caller (the S3 notification, a test) invokes through. */
  lambda: LambdaClient;
  close(): Promise<void>;
}

/** Starts the endpoint serving stats, embed, reduce, failure, reconcile and query; the pipeline's function names are the config's. */
export async function startLocalStack(opts: LocalStackOptions): Promise<LocalStack> {
  const wrap = opts.wrap ?? ((_name: FunctionName, h: Handler) => h);
  // The handlers invoke through a client of the endpoint, which exists only once it listens.
  const handlers = {} as Record<FunctionName, Handler>;
  const call = (name: FunctionName) => (event: unknown, context: { awsRequestId?: string }) => handlers[name](event, context);
  const { config } = opts;
  const local = await startLocalLambda({
    functions: {
      [config.statsFunction]: { handler: call('stats'), maxRetries: 2, onFailure: 'failure' },
      [config.embedFunction]: { handler: call('embed'), maxRetries: 2, onFailure: 'failure' },
      [config.reduceFunction]: { handler: call('reduce'), maxRetries: 2, onFailure: 'failure' },
      failure: { handler: call('failure') },
      reconcile: { handler: call('reconcile') },
      query: { handler: call('query') },
    },
  });
  const lambda = new LambdaClient({
    endpoint: local.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const { wait, now, wrapStore, wrapInvoker } = opts;
  const deps: HandlerDeps = { s3: opts.s3, lambda, config, ...{ wait, now, wrapStore, wrapInvoker } };
  const failure = failureHandler(deps);
  Object.assign(handlers, {
    stats: wrap('stats', statsHandler(deps)),
    embed: wrap('embed', embedHandler(deps)),
    reduce: wrap('reduce', reduceHandler(deps)),
    failure: wrap('failure', (record) => failure(record as Parameters<typeof failure>[0])),
    reconcile: wrap('reconcile', reconcileHandler({ ...deps, bucket: opts.bucket ?? '' })),
    query: wrap(
      'query',
      queryHandler({
        s3: opts.s3,
        bucket: opts.bucket ?? '',
        outputPrefix: config.prefixes.output,
        maxRows: opts.queryMaxRows ?? DEFAULT_QUERY_MAX_ROWS,
      }),
    ),
  });
  return {
    local,
    lambda,
    async close() {
      await local.close();
      lambda.destroy();
    },
  };
}
