/**
 * A published output folder in S3 (`s3://bucket/<outputPrefix><name>/`) as the search code reads
 * it, and the manifest's ETag, by which a warm query function knows the outputs were replaced.
 */
import { GetObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { MANIFEST_FILE } from '../outputs/file-names.ts';
import { isFolderFileName } from '../outputs/manifest-check.ts';
import { OutputChangedError, missingOrUnreadable, outsideTheFolder, type OutputFiles } from '../search/embeddings.ts';
import { isNotFound, isPreconditionFailed, s3Url } from './s3-objects.ts';
import { sdkProblem } from './clients.ts';

/**
 * The files under `prefix` (ending in '/'); a read with an ETag gets exactly that version
 * (If-Match). Only names of files directly under the prefix are read, as on a local folder.
 */
export function s3OutputFiles(client: S3Client, bucket: string, prefix: string): OutputFiles {
  const where = s3Url(bucket, prefix);
  return {
    where,
    async read(file, etag) {
      if (!isFolderFileName(file)) throw outsideTheFolder(where, file);
      try {
        const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: `${prefix}${file}`, IfMatch: etag }));
        if (!out.Body) throw new Error('the response has no body');
        return await out.Body.transformToByteArray();
      } catch (e: unknown) {
        if (etag !== undefined && isPreconditionFailed(e))
          throw new OutputChangedError(`${where}: ${file} is no longer the version its manifest names (a newer publish is landing)`);
        throw missingOrUnreadable(where, file, isNotFound(e) ? null : sdkProblem(e));
      }
    },
  };
}

/** The ETag of the folder's manifest (written last: a new ETag means new outputs), or null when there is none. */
export async function manifestETag(client: S3Client, bucket: string, prefix: string): Promise<string | null> {
  try {
    const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: `${prefix}${MANIFEST_FILE}` }));
    return head.ETag ?? null;
  } catch (e: unknown) {
    if (isNotFound(e)) return null;
    throw e;
  }
}
