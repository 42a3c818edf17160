/**
 * Parquet's RLE / bit-packed hybrid encoding (definition levels, dictionary indices, RLE
 * booleans): runs of one value and groups of 8 bit-packed values, least significant bit first.
 * Malformed input throws a PageDecodeError.
 */

/** The page bytes do not decode as expected; the caller falls back to the general decoder. */
export class PageDecodeError extends Error {
  override name = 'PageDecodeError';
}

/**
 * Decodes `count` values of `bitWidth` bits from `bytes[pos..end)` into `out` (from index 0);
 * returns the position after the last run read. A bit-packed run may pad past `count`.
 */
export function decodeHybrid(
  bytes: Uint8Array,
  pos: number,
  end: number,
  bitWidth: number,
  count: number,
  out: Int32Array | Uint8Array,
): number {
  if (bitWidth < 0 || bitWidth > 32) throw new PageDecodeError(`bit width ${bitWidth}`);
  const byteWidth = (bitWidth + 7) >>> 3;
  let i = 0;
  while (i < count) {
    let header = 0;
    for (let shift = 0; ; shift += 7) {
      if (pos >= end || shift > 28) throw new PageDecodeError('truncated run header');
      const b = bytes[pos++]!;
      header += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) break;
    }
    if (header % 2 === 0) {
      const run = header / 2;
      if (pos + byteWidth > end) throw new PageDecodeError('truncated run');
      let v = 0;
      for (let k = 0; k < byteWidth; k++) v += bytes[pos + k]! * 2 ** (8 * k);
      pos += byteWidth;
      const stop = Math.min(count, i + run);
      out.fill(v, i, stop);
      i = stop;
    } else {
      const groups = (header - 1) / 2;
      const bytesIn = groups * bitWidth;
      if (pos + bytesIn > end) throw new PageDecodeError('truncated bit-packed run');
      const stop = Math.min(count, i + groups * 8);
      unpack(bytes, pos, bitWidth, out, i, stop - i);
      pos += bytesIn;
      i = stop;
    }
  }
  return pos;
}

/**
 * Decodes `count` definition levels of a column of maximum level 1 into `out` and returns how
 * many are 1 (values present); `out` is left untouched when all are.
 */
export function decodeDefinitions(bytes: Uint8Array, pos: number, end: number, count: number, out: Uint8Array): number {
  // The common case: one run of 1s, nothing to store.
  if (pos + 2 <= end && count < 2 ** 27) {
    let header = 0;
    let p = pos;
    for (let shift = 0; p < end && shift <= 28; shift += 7) {
      const b = bytes[p++]!;
      header += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) break;
    }
    if (header % 2 === 0 && header / 2 >= count && p < end && bytes[p] === 1) return count;
  }
  decodeHybrid(bytes, pos, end, 1, count, out);
  let present = 0;
  for (let i = 0; i < count; i++) present += out[i]!;
  return present;
}

/** `n` values of `bitWidth` bits, LSB first, from byte `pos` into `out[at..]`. */
function unpack(bytes: Uint8Array, pos: number, bitWidth: number, out: Int32Array | Uint8Array, at: number, n: number): void {
  if (bitWidth === 0) {
    out.fill(0, at, at + n);
    return;
  }
  if (bitWidth === 1) {
    for (let j = 0; j < n; j++) out[at + j] = (bytes[pos + (j >>> 3)]! >>> (j & 7)) & 1;
    return;
  }
  if (bitWidth <= 25) {
    // Each value read from the 4 bytes that hold it (an offset of at most 7 bits + 25 fit in
    // 32), while those 4 bytes are inside the array; bits of the next values are masked off.
    const mask = (1 << bitWidth) - 1;
    let off = pos * 8;
    let j = 0;
    const last = bytes.length - 4;
    for (; j < n; j++, off += bitWidth) {
      const p = off >>> 3;
      if (p > last) break;
      const word = bytes[p]! | (bytes[p + 1]! << 8) | (bytes[p + 2]! << 16) | (bytes[p + 3]! << 24);
      out[at + j] = (word >>> (off & 7)) & mask;
    }
    // The last few, bit by bit from the bytes there are.
    let buffer = 0;
    let bits = 0;
    pos = off >>> 3;
    if (j < n) {
      buffer = bytes[pos++]! >>> (off & 7);
      bits = 8 - (off & 7);
    }
    for (; j < n; j++) {
      while (bits < bitWidth) {
        buffer |= bytes[pos++]! << bits;
        bits += 8;
      }
      out[at + j] = buffer & mask;
      buffer >>>= bitWidth;
      bits -= bitWidth;
    }
    return;
  }
  const mask = bitWidth === 32 ? 0xffffffff : 2 ** bitWidth - 1;
  let buffer = 0;
  let bits = 0;
  for (let j = 0; j < n; j++) {
    // Up to 32 + 7 bits are held: a float64 keeps them exact.
    while (bits < bitWidth) {
      buffer += bytes[pos++]! * 2 ** bits;
      bits += 8;
    }
    const v = buffer % (mask + 1);
    out[at + j] = v;
    buffer = (buffer - v) / (mask + 1);
    bits -= bitWidth;
  }
}
