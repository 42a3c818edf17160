/** The port through which every input byte enters the core: a named, sized, random-access source. */
export interface ByteSource {
  /** What the user calls this input (a path or an s3:// URL), used in every error message. */
  readonly name: string;
  readonly size: number;
  /** Reads exactly `length` bytes at `offset`, or rejects with a SourceError. */
  read(offset: number, length: number): Promise<Uint8Array>;
}

/** A half-open byte range [start, end). */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * Sorts and merges ranges that overlap or lie within `gap` bytes of each other, so one read
 * serves several column chunks (object stores charge per request, and local reads like it too).
 */
export function coalesceRanges(ranges: readonly ByteRange[], gap: number): ByteRange[] {
  const sorted = ranges.filter((r) => r.end > r.start).sort((a, b) => a.start - b.start);
  const out: ByteRange[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r.start <= last.end + gap) last.end = Math.max(last.end, r.end);
    else out.push({ start: r.start, end: r.end });
  }
  return out;
}
