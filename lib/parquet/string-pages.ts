/**
 * A column chunk of UTF-8 strings (the track ids) decoded straight from its pages into Arrow's
 * layout, offsets and bytes, without the wasm decoder: PLAIN and dictionary pages, no nulls.
 * A null, bytes that are not UTF-8, more than 2 GiB, or anything unexpected throws a
 * PageDecodeError: the wasm decoder then reads the chunk, and refuses it as it should.
 */
import { isUtf8 } from 'node:buffer';
import { decodeHybrid, PageDecodeError } from './rle-hybrid.ts';
import { ENC_PLAIN, ENC_PLAIN_DICTIONARY, ENC_RLE_DICTIONARY, grown, walkPages, type DataPage, type PageChunk } from './pages.ts';

/** Strings as Arrow holds them: string i is `data[offsets[i]..offsets[i+1])`. */
export interface StringChunk {
  offsets: Int32Array;
  data: Uint8Array;
}

const MAX_BYTES = 2 ** 31 - 1;

/**
 * Decodes the pages of one chunk of a string column holding `rows` values, none null. `bound` is
 * at least the bytes the strings take (the chunk's uncompressed size is).
 */
export function decodeStringChunk(bytes: Uint8Array, optional: boolean, chunk: PageChunk, rows: number, bound: number): StringChunk {
  const offsets = new Int32Array(rows + 1);
  let data = new Uint8Array(Math.min(bound, MAX_BYTES));
  let pos = 0;
  let dictionary: StringChunk | null = null;
  const room = (n: number) => {
    if (pos + n <= data.length) return;
    if (pos + n > MAX_BYTES) throw new PageDecodeError('more than 2 GiB of strings');
    const bigger = new Uint8Array(Math.min(MAX_BYTES, Math.max(pos + n, 2 * data.length)));
    bigger.set(data.subarray(0, pos));
    data = bigger;
  };
  walkPages(
    bytes,
    optional,
    chunk,
    rows,
    ({ count, plain }) => {
      // The page's bytes are scratch: the dictionary keeps a copy.
      const entries = { offsets: new Int32Array(count + 1), data: new Uint8Array(0) };
      const end = plainStrings(plain, count, entries.offsets, 0, 0);
      entries.data = plain.slice(0, end);
      compact(entries, count);
      dictionary = entries;
    },
    (page: DataPage, row: number) => {
      if (page.present !== page.count) throw new PageDecodeError('a null string');
      const { count, encoding, values } = page;
      if (encoding === ENC_PLAIN) {
        // The bytes of PLAIN strings are at most the page's, less their 4-byte lengths.
        room(values.length);
        plainStrings(values, count, offsets, row, pos);
        // Lengths and bytes interleave on the page: gather the bytes. A short string moves 4
        // bytes at a time, up to 3 past its end (the next string's length on the page; in
        // `data`, where the next string goes): a fifth of the byte loop's steps for 22-byte ids.
        const from = new DataView(values.buffer, values.byteOffset, values.byteLength);
        const to = new DataView(data.buffer, data.byteOffset, data.byteLength);
        const fast = Math.min(values.length - 32, data.length - 32 - pos);
        let src = 0;
        let dst = pos;
        for (let i = 0; i < count; i++) {
          const len = offsets[row + i + 1]! - offsets[row + i]!;
          src += 4;
          if (len <= 32 && src <= fast && dst - pos <= fast) {
            for (let b = 0; b < len; b += 4) to.setUint32(dst + b, from.getUint32(src + b, true), true);
          } else if (len <= 32) for (let b = 0; b < len; b++) data[dst + b] = values[src + b]!;
          else data.set(values.subarray(src, src + len), dst);
          src += len;
          dst += len;
        }
        pos = dst;
      } else if (encoding === ENC_PLAIN_DICTIONARY || encoding === ENC_RLE_DICTIONARY) {
        const dict: StringChunk | null = dictionary;
        if (!dict) throw new PageDecodeError('dictionary page missing');
        if (values.length < 1) throw new PageDecodeError('empty dictionary-encoded page');
        const codes = (scratch.codes = grown(scratch.codes, count));
        decodeHybrid(values, 1, values.length, values[0]!, count, codes);
        const size = dict.offsets.length - 1;
        for (let i = 0; i < count; i++) {
          const k = codes[i]!;
          if (k < 0 || k >= size) throw new PageDecodeError('dictionary index out of range');
          const s = dict.offsets[k]!;
          const len = dict.offsets[k + 1]! - s;
          room(len);
          if (len <= 32) for (let b = 0; b < len; b++) data[pos + b] = dict.data[s + b]!;
          else data.set(dict.data.subarray(s, s + len), pos);
          pos += len;
          offsets[row + i + 1] = pos;
        }
      } else {
        throw new PageDecodeError(`encoding ${encoding}`);
      }
    },
  );
  const out = data.subarray(0, pos);
  // arrow-rs checks that strings are UTF-8; a file where they are not is its to refuse.
  if (!isUtf8(out)) throw new PageDecodeError('strings that are not UTF-8');
  return { offsets, data: out };
}

/**
 * Reads the 4-byte lengths of `count` PLAIN strings from `page`, writing offsets[row + 1 ..] as
 * running ends from `base`; returns the page position after the last string.
 */
function plainStrings(page: Uint8Array, count: number, offsets: Int32Array, row: number, base: number): number {
  let p = 0;
  let end = base;
  const n = page.length;
  for (let i = 0; i < count; i++) {
    if (p + 4 > n) throw new PageDecodeError('strings run past the page');
    const len = (page[p]! | (page[p + 1]! << 8) | (page[p + 2]! << 16) | (page[p + 3]! << 24)) >>> 0;
    p += 4 + len;
    if (p > n) throw new PageDecodeError('strings run past the page');
    end += len;
    if (end > MAX_BYTES) throw new PageDecodeError('more than 2 GiB of strings');
    offsets[row + i + 1] = end;
  }
  return p;
}

/** A dictionary's PLAIN bytes (lengths interleaved) compacted to its strings' bytes alone. */
function compact(entries: StringChunk, count: number): void {
  const { offsets, data } = entries;
  let src = 0;
  for (let i = 0; i < count; i++) {
    const s = offsets[i]!;
    const len = offsets[i + 1]! - s;
    data.copyWithin(s, src + 4, src + 4 + len);
    src += 4 + len;
  }
  entries.data = data.subarray(0, offsets[count]!);
}

const scratch = { codes: new Int32Array(0) };
