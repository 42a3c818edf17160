/**
 * The stack's functions on one machine: the real handler factories behind the local Lambda
 * Invoke endpoint, wired as the CDK stack wires them (async retries, on-failure destinations),
 * with a Lambda client pointed at the endpoint for the handlers' own fan-out.
 */
import { LambdaClient } from '@aws-sdk/client-lambda';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Config } from '../aws/config.ts';
import { embedHandler, failureHandler, reduceHandler, statsHandler, type HandlerDeps } from '../aws/handlers.ts';
import { startLocalLambda, type LocalLambda } from './lambda/index.ts';

export type FunctionName = 'stats' | 'embed' | 'reduce' | 'failure';
type Handler = (event: unknown) => Promise<unknown>;

export interface LocalStackOptions {
  s3: S3Client;
  config: Config;
  /** Wraps each handler (tests inject faults or observe results through it). */
  wrap?: (name: FunctionName, handler: Handler) => Handler;
  /** How the reducer waits for a publish lock. */
  wait?: (ms: number) => Promise<void>;
}

export interface LocalStack {
  local: LocalLambda;
  /** A client of the local endpoint, as a caller (the S3 notification, a test) invokes through. */
  lambda: LambdaClient;
  close(): Promise<void>;
}

/** Starts the endpoint serving stats, embed, reduce and failure; the function names are the config's. */
export async function startLocalStack(opts: LocalStackOptions): Promise<LocalStack> {
  const wrap = opts.wrap ?? ((_name: FunctionName, h: Handler) => h);
  // The handlers invoke through a client of the endpoint, which exists only once it listens.
  const handlers = {} as Record<FunctionName, Handler>;
  const call = (name: FunctionName) => (event: unknown) => handlers[name](event);
  const { config } = opts;
  const local = await startLocalLambda({
    functions: {
      [config.statsFunction]: { handler: call('stats'), maxRetries: 2, onFailure: 'failure' },
      [config.embedFunction]: { handler: call('embed'), maxRetries: 2, onFailure: 'failure' },
      [config.reduceFunction]: { handler: call('reduce') },
      failure: { handler: call('failure') },
    },
  });
  const lambda = new LambdaClient({
    endpoint: local.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const deps: HandlerDeps = { s3: opts.s3, lambda, config, ...(opts.wait ? { wait: opts.wait } : {}) };
  const failure = failureHandler(deps);
  Object.assign(handlers, {
    stats: wrap('stats', statsHandler(deps)),
    embed: wrap('embed', embedHandler(deps)),
    reduce: wrap('reduce', reduceHandler(deps)),
    failure: wrap('failure', (record) => failure(record as Parameters<typeof failure>[0])),
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
