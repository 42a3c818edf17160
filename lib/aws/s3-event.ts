/** S3 event notifications: the uploads they announce, and the event a bucket sends for one. */
import { PipelineError } from '../errors.ts';

/** One upload an event announces; `etag` is null when the record carries none. */
export interface Upload {
  bucket: string;
  key: string;
  etag: string | null;
}

/** An S3 event's object key as S3 sends it: `+` is a space, then percent-decoding. */
export function decodeEventKey(raw: string): string {
  return decodeURIComponent(raw.replace(/\+/g, ' '));
}

/** A key as S3 writes it into an event: each path segment URL-encoded, spaces as `+`. */
export function encodeEventKey(key: string): string {
  return key
    .split('/')
    .map((segment) => encodeURIComponent(segment).replace(/%20/g, '+'))
    .join('/');
}

/** An ETag in the quoted form S3's HeadObject returns (events carry it unquoted). */
export function quotedEtag(etag: string): string {
  return `"${etag.replace(/"/g, '')}"`;
}

/** True when the value has the shape of an S3 event notification (a Records array). */
export function isS3Event(event: unknown): boolean {
  return Array.isArray((event as { Records?: unknown } | null)?.Records);
}

interface EventBridgeS3 {
  source?: string;
  'detail-type'?: string;
  detail?: { bucket?: { name?: string }; object?: { key?: string; etag?: string } };
}

/** True when the value is an EventBridge event from S3 ("Object Created"). */
export function isEventBridgeS3Event(event: unknown): boolean {
  return (event as EventBridgeS3 | null)?.source === 'aws.s3' && typeof (event as EventBridgeS3).detail === 'object';
}

interface S3Record {
  s3?: { bucket?: { name?: string }; object?: { key?: string; eTag?: string } };
}

/**
 * Every upload of an S3 event — a bucket notification (keys URL-encoded) or an EventBridge
 * "Object Created" event (keys as they are) — ETags quoted; a malformed record is an error naming it.
 */
export function uploadsOf(event: unknown): Upload[] {
  if (isEventBridgeS3Event(event)) {
    const { bucket, object } = (event as EventBridgeS3).detail!;
    if (!bucket?.name || !object?.key) throw new PipelineError('EventBridge S3 event: missing detail.bucket.name or detail.object.key');
    return [{ bucket: bucket.name, key: object.key, etag: object.etag ? quotedEtag(object.etag) : null }];
  }
  if (!isS3Event(event)) throw new PipelineError('not an S3 event: neither a Records array nor an EventBridge event from aws.s3');
  return (event as { Records: S3Record[] }).Records.map((r, i) => {
    const bucket = r.s3?.bucket?.name;
    const key = r.s3?.object?.key;
    if (!bucket || !key) throw new PipelineError(`record ${i}: missing s3.bucket.name or s3.object.key`);
    const etag = r.s3?.object?.eTag;
    return { bucket, key: decodeEventKey(key), etag: etag ? quotedEtag(etag) : null };
  });
}

/** The "Object Created" event S3 sends to EventBridge for one upload (the fields start reads). */
export function eventBridgeObjectCreated(bucket: string, key: string, etag: string) {
  return {
    version: '0',
    source: 'aws.s3',
    'detail-type': 'Object Created',
    detail: { version: '0', bucket: { name: bucket }, object: { key, etag: etag.replace(/"/g, '') }, reason: 'PutObject' },
  };
}

/** The ObjectCreated:Put event the bucket notification sends for one upload (the fields start reads). */
export function s3PutEvent(bucket: string, key: string, etag: string) {
  return {
    Records: [
      {
        eventName: 'ObjectCreated:Put',
        s3: { bucket: { name: bucket }, object: { key: encodeEventKey(key), eTag: etag.replace(/"/g, '') } },
      },
    ],
  };
}
