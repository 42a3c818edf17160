/**
 * Fault injection for the crash-point suite, at the ports the stack exposes: an object store
 * that, at one chosen point of one function (the job's own steps included), crashes before or
 * after a write or loses the response of a conditional write S3 committed; and an invoke that
 * fails before the function runs or loses its response after. Every write and invoke passes
 * through here and is recorded, so a fault-free run lists the points; every manifest.json and
 * error.json written is logged with what it names, in order.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { ObjectStore } from '../../lib/pipeline/object-store.ts';
import type { InvokeThrough } from '../../lib/emulators/local-engine.ts';
import type { FunctionName } from '../../lib/emulators/local-stack.ts';

/** What happens at a point: its op fails unrun, fails after running, or (conditional writes) runs and its retry answers 412. */
export type Fault = 'crash-before' | 'crash-after' | 'lost-response';

/** One write or invoke of one function: `embed: put jobs/<job>/shards/<i>.f32`, `job: invoke embed`. */
export interface Point {
  fn: FunctionName;
  op: string;
}

/** The error an injected crash throws: to Lambda and to the engine, a failed attempt like any other. */
export class InjectedCrash extends Error {
  override name = 'InjectedCrash';
}

/**
 * Which function an operation runs in. The handlers set it (through the stack's `wrap`); the
 * job's steps run inside the engine's runner, where it may be unset: an operation with no
 * function is the job's.
 */
export const running = new AsyncLocalStorage<FunctionName>();
const currentFunction = (): FunctionName => running.getStore() ?? 'job';

/** Something the case does at a point, the first time it is reached: a fault, an action (upload a new version), or both. */
export interface Rule {
  point: Point;
  fault?: Fault;
  /** Runs before the op (`crash-before`) or after it (otherwise), awaited. */
  action?: () => Promise<void>;
  /** Only where the op's key or payload names this job. */
  job?: () => string;
}

/** A manifest.json or error.json written (its request sent): which upload (ETag) or job it names. */
export interface Written {
  file: 'manifest' | 'error';
  etag: string;
  jobId?: string;
}

const CONDITIONAL = new Set(['putIfAbsent', 'replaceIfMatch', 'deleteIfMatch']);

/** `key` with the job id, output name, lock hash and trailing indices replaced by placeholders. */
export function normalizeKey(key: string, name: string): string {
  return key
    .replace(/^jobs\/[0-9a-f]{24}(-g\d+)?\//, 'jobs/<job>/')
    .split(`/${name}/`)
    .join('/<name>/')
    .replace(/publish-locks\/[0-9a-f]{32}$/, 'publish-locks/<lock>')
    .replace(/\/\d+(\.\w+)?$/, '/<i>$1');
}

/** A delete's operand: its one key, or a job's scratch (`jobs/<job>/*`, however many keys are left), or the common prefix of many. */
function deleteOperand(keys: readonly string[]): string {
  if (keys.length === 0) return '<nothing>';
  const job = /^jobs\/[0-9a-f]{24}(-g\d+)?\//.exec(keys[0]!)?.[0];
  if (job && keys.every((k) => k.startsWith(job))) return `${job}*`;
  if (keys.length === 1) return keys[0]!;
  let prefix = keys[0]!;
  for (const k of keys) while (!k.startsWith(prefix)) prefix = prefix.slice(0, -1);
  return `${prefix.slice(0, prefix.lastIndexOf('/') + 1)}*`;
}

const utf8 = new TextDecoder();
function parsed(body: Uint8Array | string): Record<string, unknown> {
  try {
    return JSON.parse(typeof body === 'string' ? body : utf8.decode(body)) as Record<string, unknown>;
  } catch {
    return {};
  }
}

export class Injector {
  /** Every (function, operation) seen, in first-seen order. */
  readonly seen = new Map<string, Point>();
  /** Every manifest.json and error.json written, in order. */
  readonly written: Written[] = [];
  private readonly fired = new Set<Rule>();
  private readonly completed = new Map<string, number>();

  constructor(
    private readonly rules: readonly Rule[],
    /** The output name, to normalise out of keys. */
    private readonly name: string,
  ) {}

  /** Whether every rule was applied (each point was reached). */
  allFired(): boolean {
    return this.rules.every((r) => this.fired.has(r));
  }

  /** Runs `op` at point `kind key` of the current function, under the rule for it if this is the first time it is reached. */
  async at<T>(kind: string, key: string, op: () => Promise<T>, payload?: unknown): Promise<T> {
    const fn = currentFunction();
    const point = `${kind} ${normalizeKey(key, this.name)}`.trimEnd();
    const id = `${fn}: ${point}`;
    if (!this.seen.has(id)) this.seen.set(id, { fn, op: point });
    const names = (job: string) => key.includes(job) || (payload as { jobId?: string } | undefined)?.jobId === job;
    const rule = this.rules.find((r) => r.point.fn === fn && r.point.op === point && !this.fired.has(r) && (!r.job || names(r.job())));
    if (!rule) return op();
    this.fired.add(rule);
    if (rule.fault === 'crash-before') {
      await rule.action?.();
      throw new InjectedCrash(`injected crash before ${id}`);
    }
    const result = await op();
    await rule.action?.();
    if (rule.fault === 'crash-after') throw new InjectedCrash(`injected crash after ${id} (it ran; its response is lost)`);
    // The SDK's retry of a conditional write S3 committed: now its condition fails.
    if (rule.fault === 'lost-response' && CONDITIONAL.has(kind)) return op();
    return result;
  }

  /** An object store whose every write goes through `at`, manifests and errors logged. */
  store(inner: ObjectStore): ObjectStore {
    const log = (key: string, body: Uint8Array | string) => {
      const file = key.endsWith('/manifest.json') ? 'manifest' : key.endsWith('/error.json') ? 'error' : null;
      if (!file) return;
      const record = parsed(body);
      const input = (record.input ?? {}) as { etag?: string };
      this.written.push({ file, etag: input.etag ?? '', ...(typeof record.jobId === 'string' && { jobId: record.jobId }) });
    };
    return {
      bucket: inner.bucket,
      source: (key, etag) => inner.source(key, etag),
      get: (key) => inner.get(key),
      ...(inner.getRange && { getRange: inner.getRange.bind(inner) }),
      getVersioned: (key) => inner.getVersioned(key),
      exists: (key) => inner.exists(key),
      currentEtag: (key) => inner.currentEtag(key),
      list: (prefix) => inner.list(prefix),
      // Logged as the request goes out: S3 may commit a write whose response is lost.
      put: (key, body, ct) =>
        this.at('put', key, () => {
          log(key, body);
          return inner.put(key, body, ct);
        }),
      putIfAbsent: (key, body, ct) => this.at('putIfAbsent', key, () => inner.putIfAbsent(key, body, ct)),
      replaceIfMatch: (key, etag, body, ct) => this.at('replaceIfMatch', key, () => inner.replaceIfMatch(key, etag, body, ct)),
      deleteIfMatch: (key, etag) => this.at('deleteIfMatch', key, () => inner.deleteIfMatch(key, etag)),
      delete: (keys) => this.at('delete', deleteOperand(keys), () => inner.delete(keys)),
      stitch: (key, segments, ct) => this.at('stitch', key, () => inner.stitch(key, segments, ct)),
      abortUploads: (prefix) => this.at('abortUploads', prefix, () => inner.abortUploads(prefix)),
    };
  }

  /** The job's invokes of stats, embed and reduce through `at` (`invoke stats (moments)`, `invoke embed`). */
  invoke(inner: InvokeThrough): InvokeThrough {
    return (fn, payload) => {
      const task = (payload as { task?: string } | null)?.task;
      return this.at(
        `invoke ${fn}${task ? ` (${task})` : ''}`,
        '',
        async () => {
          const out = await inner(fn, payload);
          // The same work again: the payload without its attempt number (a retry carries the next one).
          const { attempt: _attempt, ...work } = (payload ?? {}) as Record<string, unknown>;
          const id = `${fn} ${JSON.stringify(work)}`;
          this.completed.set(id, (this.completed.get(id) ?? 0) + 1);
          return out;
        },
        payload,
      );
    };
  }

  /** Whether some invoke of `fn` ran to completion more than once with the same work (a lost response, retried). */
  ranTwice(fn: string): boolean {
    return [...this.completed].some(([id, n]) => id.startsWith(`${fn} `) && n > 1);
  }
}
