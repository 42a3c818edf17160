import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
  type CompletedPart,
  type S3Client,
} from '@aws-sdk/client-s3';
import { PipelineError, SourceError, messageOf } from '../errors.ts';
import { readBodyInto, s3ErrorOf, s3Url } from './s3-objects.ts';
import { mapLimit, semaphore } from '../io/concurrency.ts';
import type { StitchSegment } from '../pipeline/object-store.ts';

const MiB = 1024 * 1024;
/** S3's smallest part, except the last one. */
export const MIN_PART_SIZE = 5 * MiB;
/** S3's largest part, copied or uploaded. */
export const MAX_PART_SIZE = 5 * 1024 * MiB;
/** S3's limit on parts in one multipart upload. */
export const MAX_PARTS = 10_000;
/** Default size of a part assembled in memory; it bounds the memory each upload worker holds. */
export const DEFAULT_PART_SIZE = 8 * MiB;
// Parts in flight at once. Server-side copies cost this process nothing, so many run at once;
// parts assembled here each hold a partSize buffer, so at most UPLOAD_BUFFERS of them do, and
// memory stays at UPLOAD_BUFFERS × partSize whatever the output size.
const CONCURRENCY = 16;
const UPLOAD_BUFFERS = 4;

/** Bytes of a part assembled in memory: a literal, or the range [start, end) of an object. */
export type Piece = { bytes: Uint8Array } | { key: string; start: number; end: number };

/** One part of the upload: copied server-side from [start, end) of `key`, or assembled from pieces. */
export type PlannedPart = { kind: 'copy'; key: string; start: number; end: number } | { kind: 'upload'; pieces: Piece[]; size: number };

/** What `stitchObjects` wrote: total bytes, parts used and how many of them were server-side copies. */
export interface StitchResult {
  bytes: number;
  parts: number;
  copiedParts: number;
}

/** Where to write the concatenation and what it is made of. */
export interface StitchRequest {
  bucket: string;
  key: string;
  contentType?: string;
  segments: readonly StitchSegment[];
  partSize?: number;
}

/**
 * Splits the concatenation of `segments` into multipart-upload parts: every part but the last is
 * at least 5 MiB, runs of ≥ 5 MiB of one object become server-side copies, and assembled parts
 * hold at most `partSize` bytes. Throws when S3's 10,000-part limit would be exceeded.
 */
export function planParts(segments: readonly StitchSegment[], partSize: number = DEFAULT_PART_SIZE): PlannedPart[] {
  if (!Number.isSafeInteger(partSize) || partSize < MIN_PART_SIZE || partSize > MAX_PART_SIZE) {
    throw new RangeError(`partSize must be an integer from ${MIN_PART_SIZE} to ${MAX_PART_SIZE}, got ${partSize}`);
  }
  let total = 0;
  for (const s of segments) {
    const size = 'bytes' in s ? s.bytes.byteLength : s.size;
    if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`segment size must be a whole number, got ${size}`);
    total += size;
  }

  const parts: PlannedPart[] = [];
  let pieces: Piece[] = [];
  let buffered = 0;
  const push = (part: PlannedPart): void => {
    if (parts.length === MAX_PARTS) {
      const suggestion = Math.ceil(total / (MAX_PARTS / 2) / MiB) * MiB;
      throw new PipelineError(
        `stitching ${total} bytes needs more than S3's ${MAX_PARTS} parts at a partSize of ${partSize}; ` +
          `use a partSize of about ${suggestion} or more`,
      );
    }
    parts.push(part);
  };
  const take = (piece: Piece, size: number): void => {
    pieces.push(piece);
    buffered += size;
    if (buffered === partSize) flush();
  };
  const flush = (): void => {
    if (buffered > 0) push({ kind: 'upload', pieces, size: buffered });
    pieces = [];
    buffered = 0;
  };

  for (const seg of segments) {
    if ('bytes' in seg) {
      for (let at = 0; at < seg.bytes.byteLength;) {
        const n = Math.min(seg.bytes.byteLength - at, partSize - buffered);
        take({ bytes: seg.bytes.subarray(at, at + n) }, n);
        at += n;
      }
      continue;
    }
    for (let at = 0; at < seg.size;) {
      const left = seg.size - at;
      if (buffered === 0 && left >= MIN_PART_SIZE) {
        // Never leave a tail below the minimum behind a maximal copy: it could not be copied.
        const n = left <= MAX_PART_SIZE ? left : Math.min(MAX_PART_SIZE, left - MIN_PART_SIZE);
        push({ kind: 'copy', key: seg.key, start: at, end: at + n });
        at += n;
      } else if (buffered >= MIN_PART_SIZE && left >= MIN_PART_SIZE) {
        flush();
      } else if (buffered > 0 && buffered < MIN_PART_SIZE && left - (MIN_PART_SIZE - buffered) >= MIN_PART_SIZE) {
        // Top the buffer up to the minimum from this object, then copy the rest server-side.
        const n = MIN_PART_SIZE - buffered;
        take({ key: seg.key, start: at, end: at + n }, n);
        flush();
        at += n;
      } else {
        const n = Math.min(left, partSize - buffered);
        take({ key: seg.key, start: at, end: at + n }, n);
        at += n;
      }
    }
  }
  flush();
  return parts;
}

/**
 * Writes the concatenation of `segments` to `key` by multipart upload, copying server-side where
 * it can and streaming the rest through bounded buffers, so memory does not grow with the output.
 * A failed upload is aborted (no orphaned parts) and the error rethrown with the part it hit.
 */
export async function stitchObjects(client: S3Client, request: StitchRequest): Promise<StitchResult> {
  const { bucket, key, contentType, segments } = request;
  const partSize = request.partSize ?? DEFAULT_PART_SIZE;
  const plan = planParts(segments, partSize);
  const bytes = plan.reduce((sum, p) => sum + partBytes(p), 0);
  const dest = s3Url(bucket, key);

  const only = plan[0];
  if (plan.length === 0 || (plan.length === 1 && only?.kind === 'upload')) {
    // Small enough for one request; a multipart upload would add two round trips for nothing.
    const body = new Uint8Array(bytes);
    if (only?.kind === 'upload') await assemble(client, bucket, only, body);
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType }));
    return { bytes, parts: 1, copiedParts: 0 };
  }

  const created = await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ContentType: contentType }));
  const uploadId = created.UploadId;
  if (!uploadId) throw new PipelineError(`${dest}: S3 did not return an upload id`);

  const bufferSlot = semaphore(UPLOAD_BUFFERS);
  const freeBuffers: Uint8Array[] = [];
  const sendPart = async (part: PlannedPart, index: number): Promise<CompletedPart> => {
    const PartNumber = index + 1;
    try {
      if (part.kind === 'copy') {
        const out = await client.send(
          new UploadPartCopyCommand({
            Bucket: bucket,
            Key: key,
            UploadId: uploadId,
            PartNumber,
            CopySource: copySource(bucket, part.key),
            CopySourceRange: `bytes=${part.start}-${part.end - 1}`,
          }),
        );
        return { PartNumber, ETag: out.CopyPartResult?.ETag };
      }
      const release = await bufferSlot();
      const buffer = freeBuffers.pop() ?? new Uint8Array(partSize);
      try {
        const body = buffer.subarray(0, part.size);
        await assemble(client, bucket, part, body);
        const out = await client.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumber, Body: body }));
        return { PartNumber, ETag: out.ETag };
      } finally {
        freeBuffers.push(buffer);
        release();
      }
    } catch (e: unknown) {
      throw partError(e, dest, PartNumber, part);
    }
  };

  try {
    // mapLimit lets every in-flight part settle before it throws, so the abort comes after them all.
    const completed = await mapLimit(plan, CONCURRENCY, sendPart);
    await client.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        UploadId: uploadId,
        MultipartUpload: { Parts: completed },
      }),
    );
  } catch (e: unknown) {
    // The original error matters more than a failed clean-up; a lifecycle rule catches leftovers.
    await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId })).catch(() => undefined);
    throw e;
  }
  return { bytes, parts: plan.length, copiedParts: plan.filter((p) => p.kind === 'copy').length };
}

function partBytes(part: PlannedPart): number {
  return part.kind === 'copy' ? part.end - part.start : part.size;
}

/** Fills `target` (exactly the part's size) with the part's pieces, ranged GETs for object bytes. */
async function assemble(
  client: S3Client,
  bucket: string,
  part: Extract<PlannedPart, { kind: 'upload' }>,
  target: Uint8Array,
): Promise<void> {
  let at = 0;
  for (const piece of part.pieces) {
    if ('bytes' in piece) {
      target.set(piece.bytes, at);
      at += piece.bytes.byteLength;
      continue;
    }
    const name = s3Url(bucket, piece.key);
    const length = piece.end - piece.start;
    const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: piece.key, Range: `bytes=${piece.start}-${piece.end - 1}` }));
    const got = await readBodyInto(out.Body, target.subarray(0, at + length), at, name);
    if (got !== length) {
      throw new SourceError(`${name}: wanted ${length} bytes at ${piece.start}, S3 returned ${got} (is its size right?)`);
    }
    at += length;
  }
}

/** The x-amz-copy-source value: bucket/key with the key URL-encoded but its slashes kept. */
function copySource(bucket: string, key: string): string {
  return `${bucket}/${encodeURIComponent(key).replace(/%2F/g, '/')}`;
}

/** Names the output, the part and its source, so a failure says which shard to look at. */
function partError(e: unknown, dest: string, partNumber: number, part: PlannedPart): PipelineError {
  // Our own errors already name the object they are about.
  if (e instanceof PipelineError) return e;
  const what =
    part.kind === 'copy' ? `copy of bytes ${part.start}-${part.end - 1} of ${part.key}` : `upload of ${part.size} assembled bytes`;
  const { name } = s3ErrorOf(e);
  return new PipelineError(`${dest}: part ${partNumber} (${what}) failed: ${name ?? 'Error'}: ${messageOf(e)}`, {
    cause: e,
  });
}
