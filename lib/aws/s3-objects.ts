import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { PipelineError, SourceError, messageOf } from '../errors.ts';

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

/** True when S3 says the object does not exist (a missing bucket is a different, louder problem). */
export function isNotFound(e: unknown): boolean {
  const { name, status } = s3ErrorOf(e);
  // HEAD responses have no body, so the SDK can only name them after the status ("NotFound").
  return name === 'NoSuchKey' || name === 'NotFound' || (status === 404 && name !== 'NoSuchBucket');
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
    await client.send(
      new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType, IfNoneMatch: '*' }),
    );
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

/** The object parsed as JSON, or null when it does not exist. */
export async function getJson<T>(client: S3Client, bucket: string, key: string): Promise<T | null> {
  let bytes: Uint8Array;
  try {
    bytes = await getBytes(client, bucket, key);
  } catch (e: unknown) {
    if (isNotFound(e)) return null;
    throw e;
  }
  try {
    return JSON.parse(new TextDecoder().decode(bytes)) as T;
  } catch (e: unknown) {
    throw new PipelineError(`${s3Url(bucket, key)}: not valid JSON: ${messageOf(e)}`, { cause: e });
  }
}

/** Writes `value` as JSON (application/json), replacing whatever was there. */
export async function putJson(client: S3Client, bucket: string, key: string, value: unknown): Promise<void> {
  await client.send(
    new PutObjectCommand({ Bucket: bucket, Key: key, Body: JSON.stringify(value), ContentType: 'application/json' }),
  );
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

/** Every key under `prefix`, following continuation tokens past S3's 1,000-key pages. */
export async function listKeys(client: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const o of page.Contents ?? []) if (o.Key !== undefined) keys.push(o.Key);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys;
}
