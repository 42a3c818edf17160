/**
 * How a stitched object is cut into multipart-upload parts: pure arithmetic over S3's part
 * rules (5 MiB minimum but for the last part, 5 GiB maximum, 10,000 parts), no I/O.
 */
import type { StitchSegment } from '../pipeline/object-store.ts';
import { PipelineError } from '../errors.ts';

export const MiB = 1024 * 1024;
/** S3's smallest part, except the last one. */
export const MIN_PART_SIZE = 5 * MiB;
/** S3's largest part, copied or uploaded. */
export const MAX_PART_SIZE = 5 * 1024 * MiB;
/** S3's limit on parts in one multipart upload. */
export const MAX_PARTS = 10_000;
/** Default size of a part assembled in memory; it bounds the memory each upload worker holds. */
export const DEFAULT_PART_SIZE = 8 * MiB;
/** Bytes of a part assembled in memory: a literal, or the range [start, end) of an object. */
export type Piece = { bytes: Uint8Array } | { key: string; start: number; end: number };

/** One part of the upload: copied server-side from [start, end) of `key`, or assembled from pieces. */
export type PlannedPart = { kind: 'copy'; key: string; start: number; end: number } | { kind: 'upload'; pieces: Piece[]; size: number };

/** Builds the part list one piece at a time, buffering literals and small ranges into upload parts. */
class PartPlanner {
  readonly parts: PlannedPart[] = [];
  private pieces: Piece[] = [];
  private buffered = 0;

  constructor(
    private readonly partSize: number,
    private readonly total: number,
  ) {}

  /** Literal bytes, buffered into upload parts. */
  literal(bytes: Uint8Array): void {
    for (let at = 0; at < bytes.byteLength;) {
      const n = Math.min(bytes.byteLength - at, this.partSize - this.buffered);
      this.take({ bytes: bytes.subarray(at, at + n) }, n);
      at += n;
    }
  }

  /** A whole object: copied server-side in runs of at least 5 MiB, buffered otherwise. */
  object(key: string, size: number): void {
    for (let at = 0; at < size;) {
      const left = size - at;
      if (this.buffered === 0 && left >= MIN_PART_SIZE) {
        // Never leave a tail below the minimum behind a maximal copy: it could not be copied.
        const n = left <= MAX_PART_SIZE ? left : Math.min(MAX_PART_SIZE, left - MIN_PART_SIZE);
        this.push({ kind: 'copy', key, start: at, end: at + n });
        at += n;
      } else if (this.buffered >= MIN_PART_SIZE && left >= MIN_PART_SIZE) {
        this.flush();
      } else if (this.buffered > 0 && this.buffered < MIN_PART_SIZE && left - (MIN_PART_SIZE - this.buffered) >= MIN_PART_SIZE) {
        // Top the buffer up to the minimum from this object, then copy the rest server-side.
        const n = MIN_PART_SIZE - this.buffered;
        this.take({ key, start: at, end: at + n }, n);
        this.flush();
        at += n;
      } else {
        const n = Math.min(left, this.partSize - this.buffered);
        this.take({ key, start: at, end: at + n }, n);
        at += n;
      }
    }
  }

  /** The parts, the buffered tail included. */
  finish(): PlannedPart[] {
    this.flush();
    return this.parts;
  }

  private take(piece: Piece, size: number): void {
    this.pieces.push(piece);
    this.buffered += size;
    if (this.buffered === this.partSize) this.flush();
  }

  private flush(): void {
    if (this.buffered > 0) this.push({ kind: 'upload', pieces: this.pieces, size: this.buffered });
    this.pieces = [];
    this.buffered = 0;
  }

  private push(part: PlannedPart): void {
    if (this.parts.length === MAX_PARTS) {
      const suggestion = Math.ceil(this.total / (MAX_PARTS / 2) / MiB) * MiB;
      throw new PipelineError(
        `stitching ${this.total} bytes needs more than S3's ${MAX_PARTS} parts at a partSize of ${this.partSize}; ` +
          `use a partSize of about ${suggestion} or more`,
      );
    }
    this.parts.push(part);
  }
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
  const planner = new PartPlanner(partSize, total);
  for (const seg of segments) {
    if ('bytes' in seg) planner.literal(seg.bytes);
    else planner.object(seg.key, seg.size);
  }
  return planner.finish();
}

/** The bytes a part holds. */
export function partBytes(part: PlannedPart): number {
  return part.kind === 'copy' ? part.end - part.start : part.size;
}
