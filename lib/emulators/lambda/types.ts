/** The local Lambda endpoint's public shapes: hosted functions, the invocation log, the running endpoint. */
import { PipelineError } from '../../errors.ts';

/** Largest request body Lambda accepts for a synchronous invoke (6 MB). */
export const SYNC_PAYLOAD_LIMIT = 6 * 1024 * 1024;
/** Largest request body Lambda accepts for an asynchronous (`Event`) invoke (1 MB). */
export const ASYNC_PAYLOAD_LIMIT = 1024 * 1024;

export const REGION = 'us-east-1';
const ACCOUNT = '000000000000';

/** The ARN a function of the endpoint answers to. */
export function functionArn(name: string): string {
  return `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name}`;
}

/** The subset of the Lambda `Context` object that in-process handlers receive. */
export interface LambdaContextLike {
  awsRequestId: string;
  functionName: string;
  functionVersion: '$LATEST';
  invokedFunctionArn: string;
  memoryLimitInMB: string;
  logGroupName: string;
  logStreamName: string;
  callbackWaitsForEmptyEventLoop: boolean;
  getRemainingTimeInMillis(): number;
  /** The `X-Amz-Durable-Execution-Name` of the invoke, for a durable function. */
  durableExecutionName?: string;
}

/** One function hosted by the local endpoint, with its async-invocation settings. */
export interface LocalFunction {
  handler: (event: unknown, context: LambdaContextLike) => Promise<unknown>;
  /** Retries after a failed `Event` invocation, 0–2 as on AWS; default 2. */
  maxRetries?: number;
  /** Name of another local function that receives the record when every async attempt failed. */
  onFailure?: string;
  /** Per-attempt timeout; default 900 000 ms. */
  timeoutMs?: number;
  /** Reported in the context only; default 128. */
  memoryLimitInMB?: number;
  /** A durable function: as on AWS, it can be invoked only by a qualified name or ARN (`name:alias`). */
  durable?: boolean;
  /** A durable function's executions of that name, for ListDurableExecutionsByFunction. */
  executions?: (name: string | undefined) => { name: string; status: string; startedAt: number }[];
}

/** Options of `startLocalLambda`. */
export interface LocalLambdaOptions {
  functions: Record<string, LocalFunction>;
  /** Port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
  log?: (line: string) => void;
}

/** One attempt of one handler, in the order the attempts finished. */
export interface InvocationLogEntry {
  requestId: string;
  functionName: string;
  invocationType: 'RequestResponse' | 'Event';
  /** 1 for the first attempt, 2 and 3 for async retries. */
  attempt: number;
  payloadBytes: number;
  durableExecutionName?: string;
  outcome: 'succeeded' | 'failed' | 'timed-out';
  errorMessage?: string;
  /** Set when this invocation is an on-failure destination: the function whose event failed. */
  destinationOf?: string;
}

/** A running local Lambda endpoint. */
export interface LocalLambda {
  /** `http://127.0.0.1:<port>`, for `new LambdaClient({ endpoint })`. */
  endpoint: string;
  port: number;
  invocations: readonly InvocationLogEntry[];
  /** Resolves once no request, handler, async retry or destination delivery is in progress. */
  idle(): Promise<void>;
  /** Stops accepting connections, waits for `idle()`, then closes the server. */
  close(): Promise<void>;
}

/** The local Lambda endpoint was configured wrongly or could not start. */
export class LocalLambdaError extends PipelineError {
  override name = 'LocalLambdaError';
}

/** The JSON body Lambda returns for a function error (the Node.js runtime's shape). */
export interface FunctionErrorPayload {
  errorType: string;
  errorMessage: string;
  trace?: string[];
}
