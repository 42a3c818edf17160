/**
 * Faults below the SDK, in a client's request handler, so the real SDK's retries and error
 * classes see them: S3 answering 503 (before or after it did the work), a writer killed in the
 * middle of a multipart upload (its parts fail, its abort is never sent), and Lambda throttling
 * the invokes of one shard (429 TooManyRequestsException).
 */
import { Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import { InjectedCrash } from './faults.ts';

interface WireRequest {
  method: string;
  path: string;
  query?: Record<string, string | string[] | null>;
  body?: unknown;
}
type Handle = (request: WireRequest, options?: unknown) => Promise<{ response: { body?: unknown } }>;

/** Replaces the client's request handler with `wrap(real)`. */
function intercept(client: S3Client | LambdaClient, wrap: (real: Handle) => Handle): void {
  const handler = client.config.requestHandler as unknown as { handle: Handle };
  handler.handle = wrap(handler.handle.bind(handler));
}

/** An HTTP response as the SDK's deserializers read it (an HttpResponse is checked by its shape). */
function response(statusCode: number, headers: Record<string, string>, body: string) {
  return { response: { statusCode, reason: '', headers, body: Readable.from([Buffer.from(body)]) } };
}

/**
 * Makes `client` answer a share `rate` of its requests with HTTP 503 SlowDown, half of them
 * before the request reaches S3 and half after S3 did the work (a lost response), below the
 * SDK's retries. `random` decides, so a seeded generator makes a run repeatable.
 */
export function injectS3Errors(client: S3Client, rate: number, random: () => number): { injected: () => number } {
  let injected = 0;
  const slowDown = () =>
    response(
      503,
      { 'content-type': 'application/xml' },
      '<?xml version="1.0"?><Error><Code>SlowDown</Code><Message>injected</Message></Error>',
    );
  intercept(client, (real) => async (request, options) => {
    const r = random();
    if (r >= rate) return real(request, options);
    injected++;
    if (r < rate / 2) return slowDown();
    const done = await real(request, options);
    (done.response.body as Readable | undefined)?.resume?.();
    return slowDown();
  });
  return { injected: () => injected };
}

/**
 * Kills the first multipart upload of a key ending in `suffix` after S3 created it: every part
 * of that upload fails, and the writer's own abort of it is never sent, as when Lambda ends a
 * process mid-upload. What is left is an unfinished upload that only a later attempt can abort.
 */
export function killMultipartUpload(client: S3Client, suffix: string) {
  const state = { killedUpload: null as string | null, orphanAborted: false };
  let abortSwallowed = false;
  intercept(client, (real) => async (request, options) => {
    const uploadId = request.query?.uploadId;
    if (!request.path.endsWith(suffix) || typeof uploadId !== 'string') return real(request, options);
    const isPart = request.method === 'PUT' && request.query?.partNumber !== undefined;
    if (isPart && state.killedUpload === null) state.killedUpload = uploadId;
    if (uploadId !== state.killedUpload) return real(request, options);
    if (isPart) throw new InjectedCrash(`injected: the writer of ${request.path} was killed mid multipart upload`);
    if (request.method === 'DELETE' && !abortSwallowed) {
      abortSwallowed = true;
      throw new InjectedCrash('injected: the killed writer never sent its abort');
    }
    if (request.method === 'DELETE') state.orphanAborted = true;
    return real(request, options);
  });
  return state;
}

/** Lambda refuses every invoke of `fn` whose payload satisfies `match` with 429 TooManyRequestsException; how many it refused. */
export function throttleInvokes(client: LambdaClient, fn: string, match: (payload: Record<string, unknown>) => boolean) {
  const state = { throttled: 0 };
  intercept(client, (real) => async (request, options) => {
    if (!request.path.includes(`/functions/${fn}/invocations`)) return real(request, options);
    const body = request.body instanceof Uint8Array ? new TextDecoder().decode(request.body) : String(request.body ?? '');
    const payload = JSON.parse(body || '{}') as Record<string, unknown>;
    if (!match(payload)) return real(request, options);
    state.throttled++;
    const error = JSON.stringify({ Type: 'User', message: 'Rate Exceeded.', Reason: 'ReservedFunctionConcurrentInvocationLimitExceeded' });
    return response(429, { 'content-type': 'application/json', 'x-amzn-errortype': 'TooManyRequestsException' }, error);
  });
  return state;
}
