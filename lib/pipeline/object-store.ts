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
  put(key: string, body: Uint8Array | string, contentType?: string): Promise<void>;
  /** Writes only if nothing is there yet; false when another writer got there first. */
  putIfAbsent(key: string, body: Uint8Array | string, contentType?: string): Promise<boolean>;
  exists(key: string): Promise<boolean>;
  /** The object's current ETag, or null when it does not exist. */
  currentEtag(key: string): Promise<string | null>;
  list(prefix: string): Promise<string[]>;
  /** Every object under `prefix` with its last-modified time (ms since the epoch). */
  listObjects(prefix: string): Promise<{ key: string; lastModified: number }[]>;
  delete(keys: readonly string[]): Promise<void>;
  /** Writes the concatenation of the segments to `key` without holding it in memory. */
  stitch(key: string, segments: readonly StitchSegment[], contentType?: string): Promise<void>;
}
