/** The ByteSource port over one version of an S3 object: ranged GETs pinned to its ETag, a bounded number in flight. */
import { GetObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { ByteSource } from '../io/byte-source.ts';
import { InvalidInputError, SourceError } from '../errors.ts';
import { semaphore } from '../io/concurrency.ts';
import { isNotFound, isPreconditionFailed, readBodyInto, s3ErrorOf, s3Url } from './s3-objects.ts';

/** A ByteSource over one version of an S3 object: every read is pinned to `etag`. */
export interface S3Source extends ByteSource {
  readonly etag: string;
  readonly versionId?: string;
}

/** Where the object is and, optionally, the ETag it must still have (from the triggering event). */
export interface S3ObjectRef {
  bucket: string;
  key: string;
  etag?: string;
}

// Callers (the Parquet reader) fire one read per column chunk at once; past a handful in flight
// more sockets only add throttling risk and memory, not speed.
const MAX_IN_FLIGHT = 8;

/**
 * Opens an S3 object for ranged reads: a HEAD for its size and ETag (which must equal `etag`
 * when given), then GETs with `Range` and `If-Match`, so a job never mixes two versions.
 */
export async function openS3Source(client: S3Client, ref: S3ObjectRef): Promise<S3Source> {
  const { bucket, key } = ref;
  const name = s3Url(bucket, key);
  let size: number;
  let etag: string;
  let versionId: string | undefined;
  try {
    const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key, IfMatch: ref.etag }));
    if (head.ContentLength === undefined || head.ETag === undefined) {
      throw new SourceError(`${name}: S3 did not report the object's size and ETag`);
    }
    size = head.ContentLength;
    etag = head.ETag;
    versionId = head.VersionId;
  } catch (e: unknown) {
    throw toSourceError(e, name, ref.etag);
  }

  const slot = semaphore(MAX_IN_FLIGHT);
  return {
    name,
    size,
    etag,
    ...(versionId === undefined ? {} : { versionId }),
    async read(offset, length) {
      if (offset >= 0 && length >= 0 && offset + length > size) {
        throw new SourceError(`${name}: read of ${length} bytes at ${offset} is past the end (${size} bytes)`);
      }
      const release = await slot();
      try {
        return await getRange(client, { bucket, key, etag }, offset, length);
      } finally {
        release();
      }
    },
  };
}

/**
 * Bytes [offset, offset + length) of an object in one ranged GET (of version `ref.etag`, when
 * given): exactly that many, or a SourceError naming the object.
 */
export async function getRange(client: S3Client, ref: S3ObjectRef, offset: number, length: number): Promise<Uint8Array> {
  const name = s3Url(ref.bucket, ref.key);
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
    throw new SourceError(`${name}: invalid read of ${length} bytes at ${offset}`);
  }
  // An empty Range header is invalid HTTP; there is nothing to fetch anyway.
  if (length === 0) return new Uint8Array(0);
  try {
    const out = await client.send(
      new GetObjectCommand({ Bucket: ref.bucket, Key: ref.key, Range: `bytes=${offset}-${offset + length - 1}`, IfMatch: ref.etag }),
    );
    const bytes = new Uint8Array(length);
    const got = await readBodyInto(out.Body, bytes, 0, name);
    if (got !== length) throw new SourceError(`${name}: wanted ${length} bytes at ${offset}, S3 returned ${got}`);
    return bytes;
  } catch (e: unknown) {
    throw toSourceError(e, name, ref.etag);
  }
}

/** Maps an SDK failure to the error a user can act on; our own errors pass through. */
function toSourceError(e: unknown, name: string, etag: string | undefined): Error {
  if (e instanceof SourceError || e instanceof InvalidInputError) return e;
  if (isPreconditionFailed(e)) {
    return new SourceError(`${name} changed while it was being read (expected ETag ${etag})`, { cause: e });
  }
  if (isNotFound(e)) return new InvalidInputError(name, 'no such object', { cause: e });
  const { name: code, status } = s3ErrorOf(e);
  const message = e instanceof Error ? e.message : String(e);
  return new SourceError(`${name}: S3 ${code ?? 'error'}${status ? ` (HTTP ${status})` : ''}: ${message}`, {
    cause: e,
  });
}
