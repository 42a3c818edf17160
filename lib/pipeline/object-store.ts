/**
 * The port through which the job logic reads and writes objects: S3 in production and in the
 * tests (against moto), so the job code itself never imports the SDK.
 */
import type { ByteSource } from '../io/byte-source.ts';

/** A piece of a stitched object: literal bytes, or a whole existing object. */
export type StitchSegment = { bytes: Uint8Array } | { key: string; size: number };

export interface ObjectStore {
  /** The bucket, for messages and payloads. */
  readonly bucket: string;
  /** A byte source over one version of an object (every read pinned to `etag` when given). */
  source(key: string, etag?: string): Promise<ByteSource & { etag: string }>;
  get(key: string): Promise<Uint8Array | null>;
  /** Bytes [offset, offset + length) of an object whose size the caller knows: one ranged GET, no HEAD first. Absent: `source` serves. */
  getRange?(key: string, offset: number, length: number): Promise<Uint8Array>;
  /** The object with its ETag, for a conditional replace or delete of exactly that version. */
  getVersioned(key: string): Promise<{ body: Uint8Array; etag: string } | null>;
  /** Writes the object; resolves to its new ETag. */
  put(key: string, body: Uint8Array | string, contentType?: string): Promise<string>;
  /** Writes only if nothing is there yet; false when another writer got there first. */
  putIfAbsent(key: string, body: Uint8Array | string, contentType?: string): Promise<boolean>;
  /** Replaces the object only while it is still version `etag`; false when it changed or is gone. */
  replaceIfMatch(key: string, etag: string, body: Uint8Array | string, contentType?: string): Promise<boolean>;
  /** Deletes the object only while it is still version `etag`; false when it changed or is gone. */
  deleteIfMatch(key: string, etag: string): Promise<boolean>;
  exists(key: string): Promise<boolean>;
  /** The object's current ETag, or null when it does not exist. */
  currentEtag(key: string): Promise<string | null>;
  list(prefix: string): Promise<string[]>;
  delete(keys: readonly string[]): Promise<void>;
  /** Writes the concatenation of the segments to `key` without holding it in memory; resolves to its ETag. */
  stitch(key: string, segments: readonly StitchSegment[], contentType?: string): Promise<string>;
  /** Aborts every unfinished multipart upload under `prefix` (what a killed writer left); how many. */
  abortUploads(prefix: string): Promise<number>;
}
