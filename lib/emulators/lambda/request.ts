/**
 * The Invoke API's request, parsed without any I/O: method, path, invocation type and body in,
 * either an invocation or the error Lambda would answer with out.
 */
import { ASYNC_PAYLOAD_LIMIT, SYNC_PAYLOAD_LIMIT, functionArn } from './types.ts';

const INVOKE_PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;

export type InvocationType = 'RequestResponse' | 'Event' | 'DryRun';

/** An invocation to run, or a service error to send (the SDK picks its exception class from `errorType`). */
export type ParsedRequest =
  | { ok: true; name: string; qualified: boolean; type: InvocationType; payload: string; size: number }
  | { ok: false; status: number; errorType: string; message: string };

/** What the parser needs of an HTTP request. */
export interface RawRequest {
  method: string | undefined;
  url: string | undefined;
  invocationType: string | string[] | undefined;
}

/** Function name from a name, `name:qualifier`, partial ARN or full ARN (qualifiers are ignored). */
export function functionNameOf(ref: string): string {
  const parts = ref.split(':');
  if (parts[0] === 'arn') return parts[6] ?? '';
  if (parts[1] === 'function') return parts[2] ?? '';
  return parts[0] ?? '';
}

/** The route and invocation type, before the body is read; also says how much body to keep. */
export function parseHead(
  req: RawRequest,
): { ok: true; name: string; qualified: boolean; type: InvocationType; limit: number } | Extract<ParsedRequest, { ok: false }> {
  const path = new URL(req.url ?? '/', 'http://local').pathname;
  const match = req.method === 'POST' ? INVOKE_PATH.exec(path) : null;
  if (!match?.[1])
    return { ok: false, status: 404, errorType: 'UnknownOperationException', message: `No Lambda operation at ${req.method} ${path}` };
  const ref = decodeURIComponent(match[1]);
  const name = functionNameOf(ref);
  const qualified = new URL(req.url ?? '/', 'http://local').searchParams.has('Qualifier') || ref.split(':').length % 2 === 0;
  const type = req.invocationType ?? 'RequestResponse';
  if (type !== 'RequestResponse' && type !== 'Event' && type !== 'DryRun') {
    return {
      ok: false,
      status: 400,
      errorType: 'InvalidParameterValueException',
      message: `Unsupported X-Amz-Invocation-Type: ${String(type)}`,
    };
  }
  return { ok: true, name, qualified, type, limit: type === 'Event' ? ASYNC_PAYLOAD_LIMIT : SYNC_PAYLOAD_LIMIT };
}

/** The body's checks: within the limit, and JSON (an empty body is `{}`, as Lambda hands it over). */
export function parseBody(
  head: { name: string; qualified: boolean; type: InvocationType; limit: number },
  body: { bytes: Buffer | undefined; size: number },
  exists: (name: string) => boolean,
): ParsedRequest {
  if (body.bytes === undefined) {
    const message = `Request must be smaller than ${head.limit} bytes for the InvokeFunction operation`;
    return { ok: false, status: 413, errorType: 'RequestEntityTooLargeException', message };
  }
  if (!exists(head.name))
    return { ok: false, status: 404, errorType: 'ResourceNotFoundException', message: `Function not found: ${functionArn(head.name)}` };
  const payload = body.size === 0 ? '{}' : body.bytes.toString('utf8');
  try {
    JSON.parse(payload);
  } catch (e: unknown) {
    const why = e instanceof Error ? e.message : String(e);
    return {
      ok: false,
      status: 400,
      errorType: 'InvalidRequestContentException',
      message: `Could not parse request body into json: ${why}`,
    };
  }
  return { ok: true, name: head.name, qualified: head.qualified, type: head.type, payload, size: body.size };
}
