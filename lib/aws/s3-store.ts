/** The ObjectStore port over one S3 bucket. */
import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  ListMultipartUploadsCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { ObjectStore, StitchSegment } from '../pipeline/object-store.ts';
import { getRange, openS3Source } from './s3-source.ts';
import { exists, getBytes, isNotFound, isPreconditionFailed, listKeys, putIfAbsent } from './s3-objects.ts';
import { stitchObjects } from './s3-stitch.ts';
import { mapLimit } from '../io/concurrency.ts';

/** DeleteObjects requests (1,000 keys each) in flight at once: a job's clean-up. */
export const DELETE_BATCHES = 8;

/** An ObjectStore for `bucket` through `client`. */
export function s3Store(client: S3Client, bucket: string): ObjectStore {
  const orNull = async <T>(op: () => Promise<T>): Promise<T | null> => {
    try {
      return await op();
    } catch (e: unknown) {
      if (isNotFound(e)) return null;
      throw e;
    }
  };
  /** True when the conditional request was applied; false when its condition failed (412) or the object is gone. */
  const conditional = async (op: () => Promise<unknown>): Promise<boolean> => {
    try {
      await op();
      return true;
    } catch (e: unknown) {
      if (isPreconditionFailed(e) || isNotFound(e)) return false;
      throw e;
    }
  };
  return {
    bucket,
    source: (key, etag) => openS3Source(client, { bucket, key, etag }),
    get: (key) => orNull(() => getBytes(client, bucket, key)),
    getRange: (key, offset, length) => getRange(client, { bucket, key }, offset, length),
    getVersioned: (key) =>
      orNull(async () => {
        const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        return { body: await out.Body!.transformToByteArray(), etag: out.ETag ?? '' };
      }),
    async put(key, body, contentType) {
      return (await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType }))).ETag ?? '';
    },
    putIfAbsent: (key, body, contentType) => putIfAbsent(client, bucket, key, body, contentType),
    replaceIfMatch: (key, etag, body, contentType) =>
      conditional(() =>
        client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType, IfMatch: etag })),
      ),
    deleteIfMatch: (key, etag) => conditional(() => client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key, IfMatch: etag }))),
    exists: (key) => exists(client, bucket, key),
    currentEtag: async (key) => (await orNull(() => client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))))?.ETag ?? null,
    list: (prefix) => listKeys(client, bucket, prefix),
    async delete(keys) {
      const batches = Array.from({ length: Math.ceil(keys.length / 1000) }, (_, i) => keys.slice(i * 1000, (i + 1) * 1000));
      await mapLimit(batches, DELETE_BATCHES, (batch) =>
        client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } })),
      );
    },
    async stitch(key: string, segments: readonly StitchSegment[], contentType?: string) {
      return (await stitchObjects(client, { bucket, key, contentType, segments: [...segments] })).etag;
    },
    async abortUploads(prefix) {
      let aborted = 0;
      let markers: { KeyMarker?: string; UploadIdMarker?: string } = {};
      for (;;) {
        const page = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: prefix, ...markers }));
        for (const u of page.Uploads ?? []) {
          await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: u.Key, UploadId: u.UploadId }));
          aborted++;
        }
        if (!page.IsTruncated) return aborted;
        markers = { KeyMarker: page.NextKeyMarker, UploadIdMarker: page.NextUploadIdMarker };
      }
    },
  };
}
