/** Small S3 operations the adapters share: reads, conditional writes, listing, and what an SDK error means. */
import {
  GetObjectCommand,
  HeadObjectCommand,
  NoSuchBucket,
  NoSuchKey,
  NotFound,
  PutObjectCommand,
  paginateListObjectsV2,
  type S3Client,
} from '@aws-sdk/client-s3';
import { SourceError } from '../errors.ts';

/** The s3:// URL users see for an object, used in every message about it. */
export function s3Url(bucket: string, key: string): string {
  return `s3://${bucket}/${key}`;
}

/** The error name and HTTP status of an SDK failure (both undefined for non-S3 errors). */
export function s3ErrorOf(e: unknown): { name: string | undefined; status: number | undefined } {
  if (typeof e !== 'object' || e === null) return { name: undefined, status: undefined };
  const { name, $metadata } = e as { name?: unknown; $metadata?: { httpStatusCode?: unknown } };
  const status = $metadata?.httpStatusCode;
  return {
    name: typeof name === 'string' ? name : undefined,
    status: typeof status === 'number' ? status : undefined,
  };
}

/**
 * True when S3 says the object does not exist. A missing bucket is a different, louder problem:
 * it is never "not found", so a misconfigured bucket fails instead of looking like an empty job.
 */
export function isNotFound(e: unknown): boolean {
  if (e instanceof NoSuchBucket) return false;
  if (e instanceof NoSuchKey || e instanceof NotFound) return true;
  // HEAD responses have no body, so the error can carry only its status; a 404 without a
  // NoSuchBucket code is the object's.
  const { name, status } = s3ErrorOf(e);
  return status === 404 && name !== 'NoSuchBucket';
}

/** True when a conditional request (If-Match / If-None-Match) lost. */
export function isPreconditionFailed(e: unknown): boolean {
  const { name, status } = s3ErrorOf(e);
  return status === 412 || name === 'PreconditionFailed';
}

/**
 * Copies a GetObject body into `target` from `at` on; returns how many bytes arrived. Fails
 * rather than overruns when the body is longer than the room left.
 */
export async function readBodyInto(body: unknown, target: Uint8Array, at: number, name: string): Promise<number> {
  if (typeof body !== 'object' || body === null || !(Symbol.asyncIterator in body)) {
    throw new SourceError(`${name}: S3 returned no readable body`);
  }
  let done = at;
  for await (const chunk of body as AsyncIterable<Uint8Array>) {
    if (done + chunk.byteLength > target.byteLength) {
      // Leaving the loop early destroys the stream, which frees the socket.
      throw new SourceError(`${name}: S3 returned more bytes than the ${target.byteLength - at} asked for`);
    }
    target.set(chunk, done);
    done += chunk.byteLength;
  }
  return done - at;
}

/**
 * Writes `body` only if nothing exists at `key` (`If-None-Match: *`); false when another writer
 * got there first, so exactly one of several racing callers wins.
 */
export async function putIfAbsent(
  client: S3Client,
  bucket: string,
  key: string,
  body: Uint8Array | string,
  contentType?: string,
): Promise<boolean> {
  try {
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType, IfNoneMatch: '*' }));
    return true;
  } catch (e: unknown) {
    // 409 ConditionalRequestConflict: a concurrent conditional write to the same key is in flight.
    const { name, status } = s3ErrorOf(e);
    if (isPreconditionFailed(e) || status === 409 || name === 'ConditionalRequestConflict') return false;
    throw e;
  }
}

/** The whole object as bytes; throws the SDK error when it is missing. */
export async function getBytes(client: S3Client, bucket: string, key: string): Promise<Uint8Array> {
  const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  if (!out.Body) throw new SourceError(`${s3Url(bucket, key)}: S3 returned no body`);
  return out.Body.transformToByteArray();
}

/** Whether an object exists at `key` (a HEAD request). */
export async function exists(client: S3Client, bucket: string, key: string): Promise<boolean> {
  try {
    await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return true;
  } catch (e: unknown) {
    if (isNotFound(e)) return false;
    throw e;
  }
}

/**
 * Every object under `prefix` with its last-modified time, page by page (the SDK's paginator
 * follows the continuation tokens); `pageSize` keys a page, S3's 1,000 when unset.
 */
export async function listObjects(
  client: S3Client,
  bucket: string,
  prefix: string,
  pageSize?: number,
): Promise<{ key: string; lastModified: number }[]> {
  const out: { key: string; lastModified: number }[] = [];
  for await (const page of paginateListObjectsV2({ client, pageSize }, { Bucket: bucket, Prefix: prefix })) {
    for (const o of page.Contents ?? []) if (o.Key !== undefined) out.push({ key: o.Key, lastModified: o.LastModified?.getTime() ?? 0 });
  }
  return out;
}

/** Every key under `prefix`. */
export async function listKeys(client: S3Client, bucket: string, prefix: string, pageSize?: number): Promise<string[]> {
  return (await listObjects(client, bucket, prefix, pageSize)).map((o) => o.key);
}
