/**
 * A local endpoint that serves the Lambda Invoke API (`POST /2015-03-31/functions/{name}/invocations`,
 * `RequestResponse`, `Event` and `DryRun`) for in-process handlers: the API `sam local
 * start-lambda` serves, so the real `@aws-sdk/client-lambda` drives it; and, for a durable
 * function, ListDurableExecutionsByFunction (`GET /2025-12-01/functions/{name}/durable-executions`).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { InFlight } from './in-flight.ts';
import { Invocations } from './invoke.ts';
import { functionNameOf, parseBody, parseHead, type ParsedRequest } from './request.ts';
import {
  LocalLambdaError,
  SYNC_PAYLOAD_LIMIT,
  functionArn,
  type LocalFunction,
  type LocalLambda,
  type LocalLambdaOptions,
} from './types.ts';

function sendJson(res: ServerResponse, status: number, headers: Record<string, string>, body: string): void {
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

/** Lambda's own error shape; the SDK picks the exception class from x-amzn-ErrorType. */
function sendServiceError(res: ServerResponse, e: Extract<ParsedRequest, { ok: false }>): void {
  sendJson(res, e.status, { 'x-amzn-ErrorType': e.errorType }, JSON.stringify({ Type: 'User', Message: e.message }));
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

/** Answers one HTTP request: a service error, a DryRun, a queued event (202) or a synchronous result. */
async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  invocations: Invocations,
  inFlight: InFlight,
  log: (line: string) => void,
) {
  const listing = listExecutions(req, invocations);
  if (listing) return sendJson(res, listing.status, {}, JSON.stringify(listing.body));
  const head = parseHead({ method: req.method, url: req.url, invocationType: req.headers['x-amz-invocation-type'] });
  if (!head.ok) {
    req.resume();
    return sendServiceError(res, head);
  }
  const parsed = parseBody(head, await readBody(req, head.limit), (name) => invocations.lookup(name) !== undefined);
  if (!parsed.ok) return sendServiceError(res, parsed);
  const fn = invocations.lookup(parsed.name)!;
  if (fn.durable && !parsed.qualified) {
    const message = 'You cannot invoke a durable function using an unqualified ARN.';
    return sendServiceError(res, { ok: false, status: 400, errorType: 'InvalidParameterValueException', message });
  }
  const durableName = req.headers['x-amz-durable-execution-name'];
  const durableExecutionName = typeof durableName === 'string' ? durableName : undefined;
  const requestId = randomUUID();
  const headers = { 'x-amzn-RequestId': requestId };
  if (parsed.type === 'DryRun') return void res.writeHead(204, headers).end();
  if (parsed.type === 'Event') {
    // Counted before the 202 goes out, so a caller's idle() right after the SDK returns sees it.
    inFlight.begin();
    invocations
      .deliver(parsed.name, parsed.payload, requestId, undefined, durableExecutionName)
      .catch((e: unknown) => log(`Event ${parsed.name} ${requestId}: delivery failed: ${e instanceof Error ? e.message : String(e)}`))
      .finally(() => inFlight.end());
    return void res.writeHead(202, { ...headers, 'content-length': 0 }).end();
  }
  const info = { requestId, invocationType: 'RequestResponse' as const, attempt: 1, payloadBytes: parsed.size, durableExecutionName };
  const result = await invocations.attempt(parsed.name, fn, parsed.payload, info);
  const withVersion = { ...headers, 'X-Amz-Executed-Version': '$LATEST' };
  if (!result.ok) return sendJson(res, 200, { ...withVersion, 'X-Amz-Function-Error': 'Unhandled' }, JSON.stringify(result.error));
  if (Buffer.byteLength(result.body) > SYNC_PAYLOAD_LIMIT) {
    const error = {
      errorType: 'Function.ResponseSizeTooLarge',
      errorMessage: `Response payload size exceeded maximum allowed payload size (${SYNC_PAYLOAD_LIMIT} bytes).`,
    };
    return sendJson(res, 200, { ...withVersion, 'X-Amz-Function-Error': 'Unhandled' }, JSON.stringify(error));
  }
  sendJson(res, 200, withVersion, result.body);
}

const LIST_PATH = /^\/2025-12-01\/functions\/([^/]+)\/durable-executions$/;

/** ListDurableExecutionsByFunction of a local durable function, filtered by name as Lambda filters; null for another route. */
function listExecutions(req: IncomingMessage, invocations: Invocations): { status: number; body: unknown } | null {
  const url = new URL(req.url ?? '/', 'http://local');
  const match = req.method === 'GET' ? LIST_PATH.exec(url.pathname) : null;
  if (!match?.[1]) return null;
  req.resume();
  const name = functionNameOf(decodeURIComponent(match[1]));
  const fn = invocations.lookup(name);
  if (!fn?.executions) return { status: 404, body: { Type: 'User', message: `Function not found or not durable: ${functionArn(name)}` } };
  const executions = fn.executions(url.searchParams.get('DurableExecutionName') ?? undefined).map((e) => ({
    DurableExecutionArn: `${functionArn(name)}:$LATEST/durable-execution/${e.name}/local`,
    DurableExecutionName: e.name,
    FunctionArn: `${functionArn(name)}:$LATEST`,
    Status: e.status,
    StartTimestamp: e.startedAt / 1000,
  }));
  return { status: 200, body: { DurableExecutions: executions } };
}

/** Starts an HTTP server on 127.0.0.1 that serves the Lambda Invoke API for in-process handlers. */
export async function startLocalLambda(options: LocalLambdaOptions): Promise<LocalLambda> {
  const log = options.log ?? (() => {});
  validate(options.functions);
  const invocations = new Invocations(options.functions, log);
  // Every request, handler, retry and destination delivery is counted, so idle() is exact.
  const inFlight = new InFlight();
  const server = createServer((req, res) => {
    inFlight.begin();
    res.on('close', () => inFlight.end());
    handle(req, res, invocations, inFlight, log).catch((e: unknown) => {
      log(`local lambda: request failed: ${e instanceof Error ? e.message : String(e)}`);
      if (!res.headersSent)
        sendServiceError(res, { ok: false, status: 500, errorType: 'ServiceException', message: 'local Lambda endpoint failed' });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e) => reject(new LocalLambdaError(`local Lambda endpoint could not listen: ${e.message}`, { cause: e })));
    server.listen(options.port ?? 0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  log(`local Lambda endpoint at ${endpoint}: ${Object.keys(options.functions).join(', ')}`);

  return {
    endpoint,
    port,
    invocations: invocations.log,
    idle: () => inFlight.idle(),
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      await inFlight.idle();
      server.closeAllConnections();
      await closed;
    },
  };
}
