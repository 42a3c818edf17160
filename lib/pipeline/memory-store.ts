/**
 * The ObjectStore port in memory: what the job steps' unit tests run over (fast, no network).
 * It keeps S3's semantics that the protocol relies on — write-once and conditional puts, ETags that change with
 * every write, reads pinned to an ETag — and nothing else; S3's own behaviour is tested against
 * a real S3 API (moto_server).
 */
import { createHash } from 'node:crypto';
import type { ByteSource } from '../io/byte-source.ts';
import type { ObjectStore, StitchSegment } from './object-store.ts';
import { InvalidInputError, SourceError } from '../errors.ts';

const utf8 = new TextEncoder();

export class MemoryStore implements ObjectStore {
  readonly objects = new Map<string, { body: Uint8Array; etag: string; at: number }>();
  /** The clock that stamps each write (tests move it). */
  now: () => number = Date.now;

  constructor(readonly bucket = 'memory') {}

  /** Puts an object as an upload would (tests use it to stand up inputs); returns its ETag. */
  upload(key: string, body: Uint8Array | string): string {
    const bytes = typeof body === 'string' ? utf8.encode(body) : body;
    const etag = `"${createHash('md5').update(bytes).update(String(this.objects.size)).digest('hex')}"`;
    this.objects.set(key, { body: bytes, etag, at: this.now() });
    return etag;
  }

  async source(key: string, etag?: string): Promise<ByteSource & { etag: string }> {
    const name = `s3://${this.bucket}/${key}`;
    const at = this.objects.get(key);
    if (!at) throw new InvalidInputError(name, 'no such object');
    if (etag !== undefined && at.etag !== etag) throw new SourceError(`${name}: the object changed (ETag ${at.etag}, expected ${etag})`);
    const pinned = at;
    return {
      name,
      size: pinned.body.byteLength,
      etag: pinned.etag,
      read: async (offset, length) => {
        if (this.objects.get(key) !== pinned) throw new SourceError(`${name}: the object changed while being read`);
        if (offset < 0 || offset + length > pinned.body.byteLength) throw new SourceError(`${name}: read past the end`);
        return pinned.body.slice(offset, offset + length);
      },
    };
  }

  async get(key: string): Promise<Uint8Array | null> {
    return this.objects.get(key)?.body.slice() ?? null;
  }

  async getRange(key: string, offset: number, length: number): Promise<Uint8Array> {
    const at = this.objects.get(key);
    if (!at) throw new InvalidInputError(`s3://${this.bucket}/${key}`, 'no such object');
    if (offset < 0 || offset + length > at.body.byteLength) throw new SourceError(`s3://${this.bucket}/${key}: read past the end`);
    return at.body.slice(offset, offset + length);
  }

  async getVersioned(key: string): Promise<{ body: Uint8Array; etag: string } | null> {
    const at = this.objects.get(key);
    return at ? { body: at.body.slice(), etag: at.etag } : null;
  }

  async put(key: string, body: Uint8Array | string): Promise<string> {
    return this.upload(key, body);
  }

  async replaceIfMatch(key: string, etag: string, body: Uint8Array | string): Promise<boolean> {
    if (this.objects.get(key)?.etag !== etag) return false;
    this.upload(key, body);
    return true;
  }

  async deleteIfMatch(key: string, etag: string): Promise<boolean> {
    if (this.objects.get(key)?.etag !== etag) return false;
    this.objects.delete(key);
    return true;
  }

  async abortUploads(): Promise<number> {
    // Memory writes are atomic: there is never an unfinished upload.
    return 0;
  }

  async putIfAbsent(key: string, body: Uint8Array | string): Promise<boolean> {
    if (this.objects.has(key)) return false;
    this.upload(key, body);
    return true;
  }

  async exists(key: string): Promise<boolean> {
    return this.objects.has(key);
  }

  async currentEtag(key: string): Promise<string | null> {
    return this.objects.get(key)?.etag ?? null;
  }

  async list(prefix: string): Promise<string[]> {
    return [...this.objects.keys()].filter((k) => k.startsWith(prefix)).sort();
  }

  async delete(keys: readonly string[]): Promise<void> {
    for (const k of keys) this.objects.delete(k);
  }

  async stitch(key: string, segments: readonly StitchSegment[]): Promise<string> {
    const parts = segments.map((s) => {
      if ('bytes' in s) return s.bytes;
      const at = this.objects.get(s.key);
      if (!at) throw new SourceError(`s3://${this.bucket}/${s.key}: no such object to stitch`);
      if (at.body.byteLength !== s.size)
        throw new SourceError(`s3://${this.bucket}/${s.key}: ${at.body.byteLength} bytes, expected ${s.size}`);
      return at.body;
    });
    const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.byteLength;
    }
    return this.upload(key, out);
  }
}
