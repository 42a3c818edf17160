/**
 * Fault injection for the crash-point suite: an object store and an invoker that, at one chosen
 * point of one function, crash before or after the operation, lose the response of a
 * conditional write that S3 committed, or drop or duplicate an async event; and an S3 request
 * handler that answers a share of requests with 503 (before or after S3 did the work).
 * Every function's operations are recorded, so a fault-free run lists the points.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import type { ObjectStore } from '../../lib/pipeline/object-store.ts';
import type { Invoker } from '../../lib/pipeline/invoker.ts';
import type { FunctionName } from '../../lib/emulators/local-stack.ts';

export type Fault = 'crash-before' | 'crash-after' | 'lost-response' | 'drop' | 'duplicate' | 'fail-always' | 'drop-always';

/** One operation of one function: `put jobs/<job>/done/<i>`, `invoke embed`. */
export interface Point {
  fn: FunctionName;
  op: string;
}

/** The error an injected crash throws: to Lambda, a failed attempt like any other. */
export class InjectedCrash extends Error {
  override name = 'InjectedCrash';
}

/** Which function is running, for the wrappers below (handlers of many functions run at once). */
export const running = new AsyncLocalStorage<FunctionName>();

/** A fault at a point; the first rule of an injector is the case's own, the others provoke the functions it lives in. */
export interface Rule {
  point: Point;
  fault: Fault;
}

export class Injector {
  /** Every (function, operation) seen, in first-seen order. */
  readonly seen = new Map<string, Point>();
  private readonly fired = new Set<Rule>();
  /** Set when the case's own point was reached and its fault applied. */
  firedAt: string | null = null;

  constructor(
    private readonly rules: readonly Rule[],
    /** Job id and output name to normalise out of keys. */
    private readonly names: { jobId: () => string; name: string },
  ) {}

  /** The operation's name with the job id, output name and indices replaced by placeholders. */
  opName(kind: string, key?: string): string {
    if (key === undefined) return kind;
    const jobId = this.names.jobId();
    let k = jobId ? key.split(jobId).join('<job>') : key;
    k = k.split(`/${this.names.name}/`).join('/<name>/');
    k = k.replace(/publish-locks\/[0-9a-f]+/, 'publish-locks/<lock>').replace(/\/\d+(\.\w+)?$/, '/<i>$1');
    return `${kind} ${k}`;
  }

  /** Runs `op` under the fault if this is the chosen point (the first time it is reached). */
  async at<T>(kind: string, key: string | undefined, op: () => Promise<T>, lostResponse?: () => Promise<T>): Promise<T> {
    const fn = running.getStore();
    const name = this.opName(kind, key);
    if (fn) this.seen.set(`${fn} ${name}`, { fn, op: name });
    const rule = this.rules.find((r) => r.point.fn === fn && r.point.op === name && (r.fault.endsWith('-always') || !this.fired.has(r)));
    if (!rule) return op();
    this.fired.add(rule);
    if (rule === this.rules[0]) this.firedAt ??= `${fn} ${name}`;
    switch (rule.fault) {
      case 'crash-before':
      case 'fail-always':
        throw new InjectedCrash(`injected ${rule.fault} at ${fn}: ${name}`);
      case 'crash-after':
        await op();
        throw new InjectedCrash(`injected crash after ${fn}: ${name}`);
      case 'lost-response':
        await op();
        // The SDK's retry of a write S3 committed: a conditional write now answers 412.
        return lostResponse ? lostResponse() : op();
      case 'drop':
      case 'drop-always':
        return undefined as T;
      case 'duplicate':
        await op();
        return op();
      default:
        return op();
    }
  }

  store(inner: ObjectStore): ObjectStore {
    return {
      bucket: inner.bucket,
      source: (key, etag) => inner.source(key, etag),
      get: (key) => inner.get(key),
      exists: (key) => inner.exists(key),
      currentEtag: (key) => inner.currentEtag(key),
      list: (prefix) => inner.list(prefix),
      listObjects: (prefix) => inner.listObjects(prefix),
      put: (key, body, ct) => this.at('put', key, () => inner.put(key, body, ct)),
      putIfAbsent: (key, body, ct) =>
        this.at(
          'putIfAbsent',
          key,
          () => inner.putIfAbsent(key, body, ct),
          () => inner.putIfAbsent(key, body, ct),
        ),
      delete: (keys) => this.at('delete', keys[0], () => inner.delete(keys)),
      stitch: (key, segments, ct) => this.at('stitch', key, () => inner.stitch(key, segments, ct)),
    };
  }

  invoker(inner: Invoker): Invoker {
    return {
      stats: (p) => this.at('invoke stats', undefined, () => inner.stats(p)),
      embed: (p) => this.at('invoke embed', undefined, () => inner.embed(p)),
      statsPart: (p) => this.at('invoke statsPart', undefined, () => inner.statsPart(p)),
      reduce: (p) => this.at('invoke reduce', undefined, () => inner.reduce(p)),
    };
  }
}

/**
 * Makes `client` answer a share `rate` of its requests with HTTP 503 SlowDown, half of them
 * before the request reaches S3 and half after S3 did the work (a lost response), below the
 * SDK's retries. `random` decides, so a seeded generator makes a run repeatable.
 */
export function injectS3Errors(client: S3Client, rate: number, random: () => number): { injected: () => number } {
  type Handle = (request: unknown, options?: unknown) => Promise<{ response: { body?: unknown } }>;
  const handler = client.config.requestHandler as unknown as { handle: Handle };
  const real: Handle = handler.handle.bind(handler);
  let injected = 0;
  // What the SDK's deserializer reads of a response (an HttpResponse is checked by its shape).
  const slowDown = () => ({
    statusCode: 503,
    reason: 'Slow Down',
    headers: { 'content-type': 'application/xml' },
    body: Readable.from([Buffer.from('<?xml version="1.0"?><Error><Code>SlowDown</Code><Message>injected</Message></Error>')]),
  });
  handler.handle = async (request, options) => {
    const r = random();
    if (r >= rate) return real(request, options);
    injected++;
    if (r < rate / 2) return { response: slowDown() };
    const done = await real(request, options);
    (done.response.body as Readable | undefined)?.resume?.();
    return { response: slowDown() };
  };
  return { injected: () => injected };
}
