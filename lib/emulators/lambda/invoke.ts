/**
 * Running handlers as Lambda runs them: one attempt with a context and a timeout, and for an
 * asynchronous event its retries and then the on-failure destination's invocation record.
 */
import { randomUUID } from 'node:crypto';
import { functionArn, type FunctionErrorPayload, type InvocationLogEntry, type LambdaContextLike, type LocalFunction } from './types.ts';

// Lambda's maximum timeout: a local default of 3 s (AWS's) would cut off real shard work.
const DEFAULT_TIMEOUT_MS = 900_000;
// A symbol, so that no handler result can be mistaken for a timeout.
const TIMED_OUT: unique symbol = Symbol('timed out');

export type AttemptResult = { ok: true; body: string } | { ok: false; error: FunctionErrorPayload };

type AttemptInfo = Omit<InvocationLogEntry, 'functionName' | 'outcome' | 'errorMessage'>;

/** Converts a thrown value the way the Node.js runtime interface client does. */
function toErrorPayload(e: unknown): FunctionErrorPayload {
  if (e instanceof Error) return { errorType: e.name, errorMessage: e.message, trace: (e.stack ?? '').split('\n') };
  return { errorType: typeof e, errorMessage: String(e), trace: [] };
}

function contextFor(
  name: string,
  fn: LocalFunction,
  requestId: string,
  deadline: number,
  durableExecutionName?: string,
): LambdaContextLike {
  return {
    ...(durableExecutionName !== undefined && { durableExecutionName }),
    awsRequestId: requestId,
    functionName: name,
    functionVersion: '$LATEST',
    invokedFunctionArn: functionArn(name),
    memoryLimitInMB: String(fn.memoryLimitInMB ?? 128),
    logGroupName: `/aws/lambda/${name}`,
    logStreamName: 'local',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
}

/** The record Lambda sends to an on-failure destination when every attempt of an event failed. */
export function failureRecord(name: string, requestId: string, attempts: number, payload: string, last: FunctionErrorPayload) {
  return {
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
}

/** Runs the hosted functions and logs every attempt. */
export class Invocations {
  readonly log: InvocationLogEntry[] = [];

  constructor(
    private readonly functions: Record<string, LocalFunction>,
    private readonly print: (line: string) => void,
  ) {}

  lookup(name: string): LocalFunction | undefined {
    return Object.hasOwn(this.functions, name) ? this.functions[name] : undefined;
  }

  /** One attempt of `name` on `payload`, bounded by the function's timeout. */
  async attempt(name: string, fn: LocalFunction, payload: string, info: AttemptInfo): Promise<AttemptResult> {
    const timeoutMs = fn.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const context = contextFor(name, fn, info.requestId, Date.now() + timeoutMs, info.durableExecutionName);
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
        const message = `RequestId: ${info.requestId} Error: Task timed out after ${(timeoutMs / 1000).toFixed(2)} seconds`;
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
    this.log.push({ ...info, functionName: name, outcome, ...(errorMessage === undefined ? {} : { errorMessage }) });
    this.print(
      `${info.invocationType} ${name} ${info.requestId} attempt ${info.attempt}: ${outcome}${errorMessage ? ` (${errorMessage})` : ''}`,
    );
    return result;
  }

  /** One asynchronous event: the first attempt, its retries, then the on-failure destination. */
  async deliver(name: string, payload: string, requestId: string, destinationOf?: string, durableExecutionName?: string): Promise<void> {
    const fn = this.lookup(name);
    if (fn === undefined) return;
    const payloadBytes = Buffer.byteLength(payload);
    const attempts = 1 + (fn.maxRetries ?? 2);
    let last: FunctionErrorPayload | undefined;
    for (let n = 1; n <= attempts; n += 1) {
      // Yield between attempts instead of AWS's 1 and 2 minute back-off: ordered, but not slow.
      await new Promise<void>((resolve) => setImmediate(resolve));
      const base = {
        requestId,
        invocationType: 'Event' as const,
        attempt: n,
        payloadBytes,
        ...(durableExecutionName !== undefined && { durableExecutionName }),
      };
      const result = await this.attempt(name, fn, payload, destinationOf === undefined ? base : { ...base, destinationOf });
      if (result.ok) return;
      last = result.error;
    }
    if (fn.onFailure === undefined || last === undefined) return;
    await this.deliver(fn.onFailure, JSON.stringify(failureRecord(name, requestId, attempts, payload, last)), randomUUID(), name);
  }
}
