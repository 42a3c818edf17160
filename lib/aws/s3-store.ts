/** The ObjectStore port over one S3 bucket. */
import { DeleteObjectsCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { ObjectStore, StitchSegment } from '../pipeline/object-store.ts';
import { openS3Source } from './s3-source.ts';
import { exists, getBytes, isNotFound, listKeys, listObjects, putIfAbsent } from './s3-objects.ts';
import { stitchObjects } from './s3-stitch.ts';

/** An ObjectStore for `bucket` through `client`. */
export function s3Store(client: S3Client, bucket: string): ObjectStore {
  return {
    bucket,
    source: (key, etag) => openS3Source(client, { bucket, key, etag }),
    async get(key) {
      try {
        return await getBytes(client, bucket, key);
      } catch (e: unknown) {
        if (isNotFound(e)) return null;
        throw e;
      }
    },
    async put(key, body, contentType) {
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType }));
    },
    putIfAbsent: (key, body, contentType) => putIfAbsent(client, bucket, key, body, contentType),
    exists: (key) => exists(client, bucket, key),
    async currentEtag(key) {
      try {
        return (await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))).ETag ?? null;
      } catch (e: unknown) {
        if (isNotFound(e)) return null;
        throw e;
      }
    },
    list: (prefix) => listKeys(client, bucket, prefix),
    listObjects: (prefix) => listObjects(client, bucket, prefix),
    async delete(keys) {
      for (let i = 0; i < keys.length; i += 1000) {
        const batch = keys.slice(i, i + 1000);
        if (batch.length === 0) continue;
        await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } }));
      }
    },
    async stitch(key: string, segments: readonly StitchSegment[], contentType?: string) {
      await stitchObjects(client, { bucket, key, contentType, segments: [...segments] });
    },
  };
}
