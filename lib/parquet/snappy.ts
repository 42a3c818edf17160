/**
 * Snappy's raw block format (what Parquet's SNAPPY codec holds), decompressed in plain
 * TypeScript: a varint of the uncompressed length, then literals and back-references.
 * Malformed input throws a SnappyError; it never reads or writes out of bounds.
 */

/** The bytes are not a well-formed Snappy block (or not of the expected length). */
export class SnappyError extends Error {
  override name = 'SnappyError';
}

/**
 * Decompresses one Snappy block of `expected` bytes (when given; else as long as its preamble
 * says), into the start of `scratch` when that is large enough, else into a new array.
 */
export function snappyDecompress(input: Uint8Array, expected?: number, scratch?: Uint8Array): Uint8Array {
  let pos = 0;
  let length = 0;
  for (let shift = 0; ; shift += 7) {
    if (pos >= input.length || shift > 28) throw new SnappyError('bad length preamble');
    const b = input[pos++]!;
    length += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) break;
  }
  if (expected !== undefined && length !== expected) throw new SnappyError(`block holds ${length} bytes, expected ${expected}`);
  const out = scratch && scratch.length >= length ? scratch.subarray(0, length) : new Uint8Array(length);
  const n = input.length;
  let at = 0;
  while (pos < n) {
    const tag = input[pos++]!;
    const kind = tag & 3;
    if (kind === 0) {
      let len = (tag >>> 2) + 1;
      if (len > 60) {
        const extra = len - 60;
        if (pos + extra > n) throw new SnappyError('truncated literal length');
        len = 0;
        for (let i = 0; i < extra; i++) len += input[pos + i]! * 2 ** (8 * i);
        len += 1;
        pos += extra;
      }
      if (pos + len > n || at + len > length) throw new SnappyError('literal runs past the block');
      // Short runs are copied by hand: cheaper than a subarray and a native call.
      if (len <= 32) for (let i = 0; i < len; i++) out[at + i] = input[pos + i]!;
      else out.set(input.subarray(pos, pos + len), at);
      pos += len;
      at += len;
      continue;
    }
    let len: number;
    let offset: number;
    if (kind === 1) {
      if (pos >= n) throw new SnappyError('truncated copy');
      len = ((tag >>> 2) & 7) + 4;
      offset = ((tag >>> 5) << 8) | input[pos++]!;
    } else if (kind === 2) {
      if (pos + 2 > n) throw new SnappyError('truncated copy');
      len = (tag >>> 2) + 1;
      offset = input[pos]! | (input[pos + 1]! << 8);
      pos += 2;
    } else {
      if (pos + 4 > n) throw new SnappyError('truncated copy');
      len = (tag >>> 2) + 1;
      offset = (input[pos]! | (input[pos + 1]! << 8) | (input[pos + 2]! << 16)) + input[pos + 3]! * 2 ** 24;
      pos += 4;
    }
    if (offset === 0 || offset > at || at + len > length) throw new SnappyError('copy outside the block');
    if (offset >= len && len > 32) {
      out.copyWithin(at, at - offset, at - offset + len);
      at += len;
    } else {
      // Short or overlapping (repeating the last `offset` bytes): byte by byte.
      for (const end = at + len; at < end; at++) out[at] = out[at - offset]!;
    }
  }
  if (at !== length) throw new SnappyError(`block holds ${at} bytes, its preamble says ${length}`);
  return out;
}
