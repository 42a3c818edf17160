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
  /** An S3 failure said as the folder's: a newer version than `etag` is an OutputChangedError. */
  const failed = (file: string, etag: string | undefined, e: unknown): Error => {
    if (etag !== undefined && isPreconditionFailed(e))
      return new OutputChangedError(`${where}: ${file} is no longer the version its manifest names (a newer publish is landing)`);
    return missingOrUnreadable(where, file, isNotFound(e) ? null : sdkProblem(e));
  };
  const get = async (file: string, etag: string | undefined, range?: string) => {
    try {
      const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: `${prefix}${file}`, IfMatch: etag, Range: range }));
      if (!out.Body) throw new Error('the response has no body');
      return await out.Body.transformToByteArray();
    } catch (e: unknown) {
      throw failed(file, etag, e);
    }
  };
  return {
    where,
    async read(file, etag) {
      if (!isFolderFileName(file)) throw outsideTheFolder(where, file);
      return get(file, etag);
    },
    /** Ranged GETs of that version (If-Match), after a HEAD for its size: a lookup in id_index.bin, the vectors in pieces. */
    async source(file, etag) {
      if (!isFolderFileName(file)) throw outsideTheFolder(where, file);
      let size: number;
      try {
        size = (await client.send(new HeadObjectCommand({ Bucket: bucket, Key: `${prefix}${file}`, IfMatch: etag }))).ContentLength ?? 0;
      } catch (e: unknown) {
        throw failed(file, etag, e);
      }
      return {
        name: `${where}${file}`,
        size,
        read: async (offset: number, length: number) =>
          length === 0 ? new Uint8Array(0) : get(file, etag, `bytes=${offset}-${offset + length - 1}`),
      };
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
