/**
 * A simulated S3 bucket behind the job's own object port (`ObjectStore`): objects are sizes and
 * ETags, with bodies kept only where the code wrote real bytes (plans, records, the input's
 * footer); every request pays first-byte latency and its transfer at the platform's rates, is
 * counted per prefix, and past a prefix's request rate gets 503 SlowDown, retried as the SDK
 * retries. Multipart stitches follow the real part plan (lib/aws/multipart-plan.ts).
 */
import type { ByteSource } from '../io/byte-source.ts';
import type { ObjectStore, StitchSegment } from '../pipeline/object-store.ts';
import { MULTIPART, type Platform } from './figures.ts';
import { SharedRate, type Clock } from './clock.ts';
import { planParts, partBytes } from '../aws/multipart-plan.ts';
import { STITCH_CONCURRENCY } from '../aws/s3-stitch.ts';
import { mapLimit } from '../io/concurrency.ts';
import { DELETE_BATCHES } from '../aws/s3-store.ts';

/** Sizes of bodies written as stubs: the bytes are not materialised, only their length. */
const stubSizes = new WeakMap<Uint8Array, number>();

/** A body of `size` bytes that is not materialised (the simulated S3 keeps only its size). */
export function stub(size: number): Uint8Array {
  const b = new Uint8Array(0);
  stubSizes.set(b, size);
  return b;
}

const sizeOf = (b: Uint8Array | string) => (typeof b === 'string' ? Buffer.byteLength(b) : (stubSizes.get(b) ?? b.byteLength));

interface SimObject {
  size: number;
  /** Real bytes, when the writer gave real bytes. */
  body: Uint8Array | null;
  /** Real bytes at the end of the object (the input's footer), served for reads there. */
  tail?: Uint8Array;
  etag: string;
}

export type RequestKind = 'GET' | 'PUT' | 'LIST' | 'DELETE' | 'COPY';
const RATE_KIND: Record<RequestKind, 'get' | 'put'> = { GET: 'get', PUT: 'put', LIST: 'get', DELETE: 'put', COPY: 'put' };

/** S3's answer past a prefix's request rate, after the SDK's retries. */
export class SlowDown extends Error {
  override name = 'SlowDown';
}

/** Counts of one prefix. */
export interface PrefixCount {
  requests: Record<RequestKind, number>;
  slowDowns: number;
  bytesIn: number;
  bytesOut: number;
  /** The most requests of one rate kind within one second. */
  peakPerSecond: number;
}

const enc = new TextEncoder();
const NEVER = new Promise<never>(() => undefined);
let ZEROS = new Uint8Array(0);
const zeros = (n: number) => {
  if (ZEROS.length < n) ZEROS = new Uint8Array(Math.max(n, 2 * ZEROS.length));
  return ZEROS.subarray(0, n);
};

/** The bucket: objects, counters, request-rate buckets. */
export class SimBucket {
  readonly objects = new Map<string, SimObject>();
  readonly prefixes = new Map<string, PrefixCount>();
  private readonly tokens = new Map<string, { left: number; at: number }>();
  private readonly perSecond = new Map<string, { second: number; n: number }>();
  private etags = 0;
  private rng = 0x2545f491;
  /** moto: one server's rate, shared by every caller. */
  readonly server: SharedRate | null;
  private readonly putServer: SharedRate | null;

  constructor(
    readonly clock: Clock,
    readonly platform: Platform,
    readonly name = 'sim-bucket',
  ) {
    const s = platform.s3;
    this.server = s.sharedServer ? new SharedRate(clock, s.callerMBps.value * 1e3, s.connectionMBps.value * 1e3) : null;
    this.putServer = s.sharedServer ? new SharedRate(clock, s.putMBps.value * 1e3) : null;
  }

  /** Places an object without a request (the upload that starts the job). */
  place(key: string, size: number, tail?: Uint8Array): string {
    const etag = `"sim-${++this.etags}"`;
    this.objects.set(key, { size, body: null, tail, etag });
    return etag;
  }

  /** A view of the bucket as one caller sees it: its own network (a Lambda environment's). */
  client(network?: SharedRate, alive: () => boolean = () => true): ObjectStore {
    return new SimObjects(
      this,
      alive,
      network ?? new SharedRate(this.clock, this.platform.s3.callerMBps.value * 1e3, this.platform.s3.connectionMBps.value * 1e3),
    );
  }

  newEtag(): string {
    return `"sim-${++this.etags}"`;
  }

  /** One request: rate limit (503 and the SDK's retries), latency, transfer of `bytes` over `network`. */
  async request(kind: RequestKind, key: string, bytes: number, network: SharedRate, direction: 'in' | 'out'): Promise<void> {
    const prefix = prefixOf(key);
    const count = this.count(prefix);
    const s = this.platform.s3;
    for (let attempt = 1; ; attempt++) {
      count.requests[kind]++;
      if (this.admit(prefix, kind)) break;
      count.slowDowns++;
      if (attempt >= s.sdkAttempts.value) throw new SlowDown(`SlowDown: ${kind} rate of prefix ${prefix} exceeded (${attempt} attempts)`);
      const cap = Math.min(s.sdkMaxBackoffMs.value, s.sdkBaseBackoffMs.value * 2 ** (attempt - 1));
      await this.clock.sleep(this.random() * cap);
    }
    await this.clock.sleep(s.firstByteMs.value);
    if (direction === 'in') count.bytesIn += bytes;
    else count.bytesOut += bytes;
    // moto is one process: its copies share its one rate with its PUTs, as S3's do not.
    if (kind === 'COPY' && this.putServer) await this.putServer.use(bytes);
    else if (kind === 'COPY') await this.clock.sleep(bytes / (s.copyMBps.value * 1e3));
    else if (this.server && this.putServer) await (direction === 'in' ? this.putServer : this.server).use(bytes);
    else await network.use(bytes);
  }

  private admit(prefix: string, kind: RequestKind): boolean {
    const rk = RATE_KIND[kind];
    const rate = rk === 'get' ? this.platform.s3.getPerPrefixPerS.value : this.platform.s3.putPerPrefixPerS.value;
    const id = `${rk} ${prefix}`;
    const second = Math.floor(this.clock.now / 1000);
    const ps = this.perSecond.get(id);
    if (!ps || ps.second !== second) this.perSecond.set(id, { second, n: 1 });
    else ps.n++;
    const c = this.count(prefix);
    c.peakPerSecond = Math.max(c.peakPerSecond, this.perSecond.get(id)!.n);
    if (!Number.isFinite(rate)) return true;
    // A token bucket of one second's burst, refilled at the documented rate.
    const t = this.tokens.get(id) ?? { left: rate, at: this.clock.now };
    t.left = Math.min(rate, t.left + ((this.clock.now - t.at) / 1000) * rate);
    t.at = this.clock.now;
    this.tokens.set(id, t);
    if (t.left < 1) return false;
    t.left -= 1;
    return true;
  }

  private count(prefix: string): PrefixCount {
    let c = this.prefixes.get(prefix);
    if (!c) {
      c = { requests: { GET: 0, PUT: 0, LIST: 0, DELETE: 0, COPY: 0 }, slowDowns: 0, bytesIn: 0, bytesOut: 0, peakPerSecond: 0 };
      this.prefixes.set(prefix, c);
    }
    return c;
  }

  private random(): number {
    this.rng ^= this.rng << 13;
    this.rng ^= this.rng >>> 17;
    this.rng ^= this.rng << 5;
    return (this.rng >>> 0) / 2 ** 32;
  }
}

/** The prefix S3 partitions a key under, as this simulator counts it: everything up to the last '/'. */
export function prefixOf(key: string): string {
  const i = key.lastIndexOf('/');
  return i < 0 ? '' : key.slice(0, i + 1);
}

/** The object port over the simulated bucket, as one caller (with its network) sees it. */
class SimObjects implements ObjectStore {
  constructor(
    private readonly b: SimBucket,
    private readonly alive: () => boolean,
    private readonly net: SharedRate,
  ) {}

  /** A request of this caller; once its invocation was ended (timed out), nothing it asks ever answers. */
  private async req(kind: RequestKind, key: string, bytes: number, net: SharedRate, direction: 'in' | 'out'): Promise<void> {
    if (!this.alive()) return NEVER;
    await this.b.request(kind, key, bytes, net, direction);
    if (!this.alive()) return NEVER;
  }

  get bucket(): string {
    return this.b.name;
  }

  async source(key: string, etag?: string): Promise<ByteSource & { etag: string }> {
    await this.req('GET', key, 0, this.net, 'out');
    const obj = this.b.objects.get(key);
    if (!obj) throw new Error(`NoSuchKey: ${key}`);
    if (etag && obj.etag !== etag) throw new Error(`s3://${this.bucket}/${key}: the object changed (ETag ${obj.etag}, expected ${etag})`);
    const { net } = this;
    const req = this.req.bind(this);
    return {
      name: `s3://${this.bucket}/${key}`,
      size: obj.size,
      etag: obj.etag,
      async read(offset: number, length: number): Promise<Uint8Array> {
        await req('GET', key, length, net, 'out');
        return bytesOf(obj, offset, length);
      },
    } as ByteSource & { etag: string };
  }

  /** One ranged GET, no HEAD before it (JobStore.readShardRange). */
  async getRange(key: string, offset: number, length: number): Promise<Uint8Array> {
    const obj = this.b.objects.get(key);
    await this.req('GET', key, obj ? length : 0, this.net, 'out');
    if (!obj) throw new Error(`NoSuchKey: ${key}`);
    return bytesOf(obj, offset, length);
  }

  async get(key: string): Promise<Uint8Array | null> {
    return (await this.getVersioned(key))?.body ?? null;
  }

  async getVersioned(key: string): Promise<{ body: Uint8Array; etag: string } | null> {
    const obj = this.b.objects.get(key);
    await this.req('GET', key, obj?.size ?? 0, this.net, 'out');
    if (!obj) return null;
    return { body: obj.body ?? new Uint8Array(0), etag: obj.etag };
  }

  async put(key: string, body: Uint8Array | string): Promise<string> {
    const size = sizeOf(body);
    await this.req('PUT', key, size, this.net, 'in');
    const real = typeof body === 'string' ? enc.encode(body) : stubSizes.has(body) ? null : body.slice();
    const etag = this.b.newEtag();
    this.b.objects.set(key, { size, body: real, etag });
    return etag;
  }

  async putIfAbsent(key: string, body: Uint8Array | string): Promise<boolean> {
    if (this.b.objects.has(key)) {
      await this.req('PUT', key, 0, this.net, 'in');
      return false;
    }
    await this.put(key, body);
    return true;
  }

  async replaceIfMatch(key: string, etag: string, body: Uint8Array | string): Promise<boolean> {
    if (this.b.objects.get(key)?.etag !== etag) {
      await this.req('PUT', key, 0, this.net, 'in');
      return false;
    }
    await this.put(key, body);
    return true;
  }

  async deleteIfMatch(key: string, etag: string): Promise<boolean> {
    await this.req('DELETE', key, 0, this.net, 'in');
    if (this.b.objects.get(key)?.etag !== etag) return false;
    this.b.objects.delete(key);
    return true;
  }

  async exists(key: string): Promise<boolean> {
    return (await this.currentEtag(key)) !== null;
  }

  async currentEtag(key: string): Promise<string | null> {
    await this.req('GET', key, 0, this.net, 'out');
    return this.b.objects.get(key)?.etag ?? null;
  }

  async list(prefix: string): Promise<string[]> {
    const keys = [...this.b.objects.keys()].filter((k) => k.startsWith(prefix)).sort();
    // 1,000 keys per ListObjectsV2 page.
    for (let i = 0; i === 0 || i < keys.length; i += 1000) await this.req('LIST', prefix, 0, this.net, 'out');
    return keys;
  }

  async delete(keys: readonly string[]): Promise<void> {
    // DeleteObjects: 1,000 keys per request, DELETE_BATCHES at once (lib/aws/s3-store.ts).
    const batches = Array.from({ length: Math.ceil(keys.length / 1000) }, (_, i) => keys.slice(i * 1000, (i + 1) * 1000));
    await mapLimit(batches, DELETE_BATCHES, async (batch) => {
      await this.req('DELETE', batch[0]!, 0, this.net, 'in');
      for (const k of batch) this.b.objects.delete(k);
    });
  }

  /** What lib/aws/s3-stitch.ts does: one PUT when small, else a multipart upload of the planned parts, STITCH_CONCURRENCY at once. */
  async stitch(key: string, segments: readonly StitchSegment[]): Promise<string> {
    const total = segments.reduce((n, s) => n + ('bytes' in s ? sizeOf(s.bytes) : s.size), 0);
    const parts = planParts(segments);
    if (parts.length > MULTIPART.maxParts.value)
      throw new Error(`${key}: ${parts.length} parts, more than S3's ${MULTIPART.maxParts.value}`);
    if (parts.length <= 1) {
      for (const s of segments) if ('key' in s) await this.req('GET', s.key, s.size, this.net, 'out');
      await this.req('PUT', key, total, this.net, 'in');
    } else {
      await this.req('PUT', key, 0, this.net, 'in'); // CreateMultipartUpload
      let next = 0;
      const worker = async () => {
        while (next < parts.length) {
          const part = parts[next++]!;
          if (part.kind === 'copy') await this.req('COPY', key, part.end - part.start, this.net, 'in');
          else {
            for (const piece of part.pieces) if ('key' in piece) await this.req('GET', piece.key, piece.end - piece.start, this.net, 'out');
            await this.req('PUT', key, partBytes(part), this.net, 'in');
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(STITCH_CONCURRENCY, parts.length) }, worker));
      await this.req('PUT', key, 0, this.net, 'in'); // CompleteMultipartUpload
    }
    const etag = this.b.newEtag();
    this.b.objects.set(key, { size: total, body: null, etag });
    return etag;
  }

  async abortUploads(prefix: string): Promise<number> {
    await this.req('LIST', prefix, 0, this.net, 'out'); // ListMultipartUploads
    return 0;
  }
}

/** Bytes of a simulated object: its real bytes where it has them; never materialised ones read as zeros (callers only count them). */
function bytesOf(obj: { size: number; body?: Uint8Array | null; tail?: Uint8Array }, offset: number, length: number): Uint8Array {
  const tailStart = obj.tail ? obj.size - obj.tail.length : obj.size;
  if (!obj.body && offset + length <= tailStart) return zeros(length);
  const out = new Uint8Array(length);
  if (obj.body) out.set(obj.body.subarray(offset, offset + length));
  else if (obj.tail) {
    const from = Math.max(offset, tailStart);
    if (from < offset + length) out.set(obj.tail.subarray(from - tailStart, offset + length - tailStart), from - offset);
  }
  return out;
}
