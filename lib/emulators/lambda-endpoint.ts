import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PipelineError } from '../errors.ts';

/** Largest request body Lambda accepts for a synchronous invoke (6 MB). */
export const SYNC_PAYLOAD_LIMIT = 6 * 1024 * 1024;
/** Largest request body Lambda accepts for an asynchronous (`Event`) invoke (1 MB). */
export const ASYNC_PAYLOAD_LIMIT = 1024 * 1024;

const REGION = 'us-east-1';
const ACCOUNT = '000000000000';
// Lambda's maximum timeout: a local default of 3 s (AWS's) would cut off real shard work.
const DEFAULT_TIMEOUT_MS = 900_000;
// A symbol, so that no handler result can be mistaken for a timeout.
const TIMED_OUT: unique symbol = Symbol('timed out');
const INVOKE_PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;

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
interface FunctionErrorPayload {
  errorType: string;
  errorMessage: string;
  trace: string[];
}

type AttemptResult = { ok: true; body: string } | { ok: false; error: FunctionErrorPayload };

/** Converts a thrown value the way the Node.js runtime interface client does. */
function toErrorPayload(e: unknown): FunctionErrorPayload {
  if (e instanceof Error) {
    return { errorType: e.name, errorMessage: e.message, trace: (e.stack ?? '').split('\n') };
  }
  return { errorType: typeof e, errorMessage: String(e), trace: [] };
}

/** Function name from a name, `name:qualifier`, partial ARN or full ARN (qualifiers are ignored). */
export function functionNameOf(ref: string): string {
  const parts = ref.split(':');
  if (parts[0] === 'arn') return parts[6] ?? '';
  if (parts[1] === 'function') return parts[2] ?? '';
  return parts[0] ?? '';
}

function functionArn(name: string): string {
  return `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name}`;
}

function sendJson(res: ServerResponse, status: number, headers: Record<string, string>, body: string): void {
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

function sendServiceError(res: ServerResponse, status: number, errorType: string, message: string): void {
  // Lambda's own error shape; the SDK picks the exception class from x-amzn-ErrorType.
  sendJson(res, status, { 'x-amzn-ErrorType': errorType }, JSON.stringify({ Type: 'User', Message: message }));
}

/** Reads the whole body (so the client never sees a reset), keeping it only while within `limit`. */
async function readBody(req: IncomingMessage, limit: number): Promise<{ bytes: Buffer | undefined; size: number }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= limit) chunks.push(chunk);
  }
  return { bytes: size <= limit ? Buffer.concat(chunks) : undefined, size };
}

function validate(functions: Record<string, LocalFunction>): void {
  for (const [name, fn] of Object.entries(functions)) {
    const retries = fn.maxRetries ?? 2;
    if (!Number.isInteger(retries) || retries < 0 || retries > 2) {
      throw new LocalLambdaError(`local function '${name}': maxRetries must be 0, 1 or 2 (as on AWS), got ${retries}`);
    }
    if (fn.onFailure !== undefined && !Object.hasOwn(functions, fn.onFailure)) {
      throw new LocalLambdaError(`local function '${name}': onFailure names '${fn.onFailure}', which is not a local function`);
    }
  }
}

/** Starts an HTTP server on 127.0.0.1 that serves the Lambda Invoke API for in-process handlers. */
export async function startLocalLambda(options: LocalLambdaOptions): Promise<LocalLambda> {
  const { functions } = options;
  const log = options.log ?? (() => {});
  validate(functions);
  const invocations: InvocationLogEntry[] = [];

  // Everything in flight is counted, so idle() is exact rather than polled.
  let active = 0;
  let waiters: Array<() => void> = [];
  const begin = (): void => {
    active += 1;
  };
  const end = (): void => {
    active -= 1;
    if (active > 0) return;
    const ready = waiters;
    waiters = [];
    for (const resolve of ready) resolve();
  };
  const idle = (): Promise<void> => (active === 0 ? Promise.resolve() : new Promise<void>((resolve) => waiters.push(resolve)));

  const lookup = (name: string): LocalFunction | undefined => (Object.hasOwn(functions, name) ? functions[name] : undefined);

  async function attempt(
    name: string,
    fn: LocalFunction,
    payload: string,
    entry: Omit<InvocationLogEntry, 'functionName' | 'outcome' | 'errorMessage'>,
  ): Promise<AttemptResult> {
    const timeoutMs = fn.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const deadline = Date.now() + timeoutMs;
    const context: LambdaContextLike = {
      awsRequestId: entry.requestId,
      functionName: name,
      functionVersion: '$LATEST',
      invokedFunctionArn: functionArn(name),
      memoryLimitInMB: String(fn.memoryLimitInMB ?? 128),
      logGroupName: `/aws/lambda/${name}`,
      logStreamName: 'local',
      callbackWaitsForEmptyEventLoop: true,
      getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    };
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<typeof TIMED_OUT>((resolve) => {
      timer = setTimeout(() => resolve(TIMED_OUT), timeoutMs);
    });
    // Each attempt parses the original bytes, so a handler that mutates its event cannot change a retry.
    const run = Promise.resolve().then(() => fn.handler(JSON.parse(payload) as unknown, context));
    let result: AttemptResult;
    let outcome: InvocationLogEntry['outcome'];
    try {
      const settled = await Promise.race([run, timedOut]);
      if (settled === TIMED_OUT) {
        // The handler cannot be killed in-process; its late result is dropped, as Lambda drops it.
        run.catch(() => {});
        const message = `RequestId: ${entry.requestId} Error: Task timed out after ${(timeoutMs / 1000).toFixed(2)} seconds`;
        result = { ok: false, error: { errorType: 'Sandbox.Timedout', errorMessage: message, trace: [] } };
        outcome = 'timed-out';
      } else {
        result = { ok: true, body: JSON.stringify(settled === undefined ? null : settled) };
        outcome = 'succeeded';
      }
    } catch (e: unknown) {
      result = { ok: false, error: toErrorPayload(e) };
      outcome = 'failed';
    } finally {
      clearTimeout(timer);
    }
    const errorMessage = result.ok ? undefined : result.error.errorMessage;
    invocations.push({ ...entry, functionName: name, outcome, ...(errorMessage === undefined ? {} : { errorMessage }) });
    log(
      `${entry.invocationType} ${name} ${entry.requestId} attempt ${entry.attempt}: ${outcome}${errorMessage ? ` (${errorMessage})` : ''}`,
    );
    return result;
  }

  /** One asynchronous event: the first attempt, its retries, then the on-failure destination. */
  async function deliver(name: string, payload: string, requestId: string, destinationOf?: string): Promise<void> {
    const fn = lookup(name);
    if (fn === undefined) return;
    const payloadBytes = Buffer.byteLength(payload);
    const attempts = 1 + (fn.maxRetries ?? 2);
    let last: FunctionErrorPayload | undefined;
    for (let n = 1; n <= attempts; n += 1) {
      // Yield between attempts instead of AWS's 1 and 2 minute back-off: ordered, but not slow.
      await new Promise<void>((resolve) => setImmediate(resolve));
      const base = { requestId, invocationType: 'Event' as const, attempt: n, payloadBytes };
      const result = await attempt(name, fn, payload, destinationOf === undefined ? base : { ...base, destinationOf });
      if (result.ok) return;
      last = result.error;
    }
    if (fn.onFailure === undefined || last === undefined) return;
    const record = {
      version: '1.0',
      timestamp: new Date().toISOString(),
      requestContext: {
        requestId,
        functionArn: `${functionArn(name)}:$LATEST`,
        condition: 'RetriesExhausted',
        approximateInvokeCount: attempts,
      },
      requestPayload: JSON.parse(payload) as unknown,
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      responsePayload: last,
    };
    await deliver(fn.onFailure, JSON.stringify(record), randomUUID(), name);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://local');
    const match = req.method === 'POST' ? INVOKE_PATH.exec(url.pathname) : null;
    if (!match?.[1]) {
      req.resume();
      sendServiceError(res, 404, 'UnknownOperationException', `No Lambda operation at ${req.method} ${url.pathname}`);
      return;
    }
    const ref = decodeURIComponent(match[1]);
    const name = functionNameOf(ref);
    const type = req.headers['x-amz-invocation-type'] ?? 'RequestResponse';
    if (type !== 'RequestResponse' && type !== 'Event' && type !== 'DryRun') {
      req.resume();
      sendServiceError(res, 400, 'InvalidParameterValueException', `Unsupported X-Amz-Invocation-Type: ${String(type)}`);
      return;
    }
    const limit = type === 'Event' ? ASYNC_PAYLOAD_LIMIT : SYNC_PAYLOAD_LIMIT;
    const { bytes, size } = await readBody(req, limit);
    if (bytes === undefined) {
      const message = `Request must be smaller than ${limit} bytes for the InvokeFunction operation`;
      sendServiceError(res, 413, 'RequestEntityTooLargeException', message);
      return;
    }
    const fn = lookup(name);
    if (fn === undefined) {
      sendServiceError(res, 404, 'ResourceNotFoundException', `Function not found: ${functionArn(name)}`);
      return;
    }
    // Lambda hands an empty payload to the handler as {}.
    const payload = size === 0 ? '{}' : bytes.toString('utf8');
    try {
      JSON.parse(payload);
    } catch (e: unknown) {
      const why = e instanceof Error ? e.message : String(e);
      sendServiceError(res, 400, 'InvalidRequestContentException', `Could not parse request body into json: ${why}`);
      return;
    }
    const requestId = randomUUID();
    const headers = { 'x-amzn-RequestId': requestId };
    if (type === 'DryRun') {
      res.writeHead(204, headers).end();
      return;
    }
    if (type === 'Event') {
      // Counted before the 202 goes out, so a caller's idle() right after the SDK returns sees it.
      begin();
      deliver(name, payload, requestId)
        .catch((e: unknown) => log(`Event ${name} ${requestId}: delivery failed: ${e instanceof Error ? e.message : String(e)}`))
        .finally(end);
      res.writeHead(202, { ...headers, 'content-length': 0 }).end();
      return;
    }
    const result = await attempt(name, fn, payload, { requestId, invocationType: 'RequestResponse', attempt: 1, payloadBytes: size });
    const withVersion = { ...headers, 'X-Amz-Executed-Version': '$LATEST' };
    if (!result.ok) {
      sendJson(res, 200, { ...withVersion, 'X-Amz-Function-Error': 'Unhandled' }, JSON.stringify(result.error));
    } else if (Buffer.byteLength(result.body) > SYNC_PAYLOAD_LIMIT) {
      const error = {
        errorType: 'Function.ResponseSizeTooLarge',
        errorMessage: `Response payload size exceeded maximum allowed payload size (${SYNC_PAYLOAD_LIMIT} bytes).`,
      };
      sendJson(res, 200, { ...withVersion, 'X-Amz-Function-Error': 'Unhandled' }, JSON.stringify(error));
    } else {
      sendJson(res, 200, withVersion, result.body);
    }
  }

  const server = createServer((req, res) => {
    begin();
    res.on('close', end);
    handle(req, res).catch((e: unknown) => {
      log(`local lambda: request failed: ${e instanceof Error ? e.message : String(e)}`);
      if (!res.headersSent) sendServiceError(res, 500, 'ServiceException', 'local Lambda endpoint failed');
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e) => reject(new LocalLambdaError(`local Lambda endpoint could not listen: ${e.message}`, { cause: e })));
    server.listen(options.port ?? 0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  log(`local Lambda endpoint at ${endpoint}: ${Object.keys(functions).join(', ')}`);

  return {
    endpoint,
    port,
    invocations,
    idle,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      await idle();
      server.closeAllConnections();
      await closed;
    },
  };
}
