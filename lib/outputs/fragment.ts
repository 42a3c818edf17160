/**
 * Mapping fragments read back: the entries `"<escaped id>": <index>` that `writeMappingFragment`
 * wrote, separated by `", "`, parsed chunk by chunk (an entry may straddle two chunks), and
 * written again. What the reducer's repeated-id pass works with, so that it never needs the ids
 * decoded, only their escaped bytes, which are equal exactly when the ids are.
 */
import type { ByteWriter } from '../io/byte-writer.ts';
import type { ByteSource } from '../io/byte-source.ts';

/** One entry: its escaped id with the quotes (a view into the chunk) and its index. */
export type EntrySink = (key: Uint8Array, index: number) => void;

const COMMA = 0x2c;
const SPACE = 0x20;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;

/**
 * Parses the complete entries at the start of `chunk` and returns how many bytes they took; the
 * rest (a partial entry) goes in front of the next chunk. With `last`, everything must parse.
 */
export function parseEntries(chunk: Uint8Array, last: boolean, sink: EntrySink): number {
  let p = 0;
  const n = chunk.length;
  for (;;) {
    const start = p;
    if (p < n && chunk[p] === COMMA) p += 2; // ", "
    if (p >= n) return last ? p : start;
    if (chunk[p] !== QUOTE) throw new Error(`mapping fragment: expected '"' at byte ${p}, found ${chunk[p]}`);
    let q = p + 1;
    while (q < n && chunk[q] !== QUOTE) q += chunk[q] === BACKSLASH ? 2 : 1;
    if (q >= n) {
      if (last) throw new Error('mapping fragment: unterminated id');
      return start;
    }
    const keyEnd = q + 1;
    if (keyEnd + 2 > n) {
      if (last) throw new Error('mapping fragment: truncated entry');
      return start;
    }
    if (chunk[keyEnd] !== COLON || chunk[keyEnd + 1] !== SPACE) throw new Error(`mapping fragment: expected '": ' at byte ${keyEnd}`);
    let d = keyEnd + 2;
    let index = 0;
    while (d < n && chunk[d]! >= 0x30 && chunk[d]! <= 0x39) index = index * 10 + (chunk[d++]! - 0x30);
    // Digits that reach the end of a chunk may go on in the next one.
    if (d === keyEnd + 2 || (d >= n && !last)) {
      if (last && d === keyEnd + 2) throw new Error('mapping fragment: entry without an index');
      return start;
    }
    sink(chunk.subarray(p, keyEnd), index);
    p = d;
  }
}

/** Appends one entry, with its leading `", "` unless it is the mapping's first. */
export function writeEntry(w: ByteWriter, key: Uint8Array, index: number, first: boolean): void {
  if (!first) w.ascii(', ');
  w.push(key);
  w.ascii(': ');
  w.uint(index);
}

/**
 * Streams a fragment at `source` entry by entry, `chunkBytes` at a time (an entry may straddle two
 * chunks); the next chunk is read while this one is parsed, so at most two are held.
 */
export async function eachFragmentEntry(source: ByteSource, chunkBytes: number, sink: EntrySink): Promise<void> {
  const readAt = (at: number) => {
    const n = Math.min(chunkBytes, source.size - at);
    const read = n > 0 ? source.read(at, n) : Promise.resolve(new Uint8Array(0));
    // Awaited below unless the parse throws first; then its failure is not the one to report.
    read.catch(() => undefined);
    return { read, end: at + n };
  };
  let carry = new Uint8Array(0);
  let next = readAt(0);
  for (;;) {
    const read = await next.read;
    const last = next.end >= source.size;
    if (!last) next = readAt(next.end);
    const chunk = carry.length === 0 ? read : joined(carry, read);
    const used = parseEntries(chunk, last, sink);
    if (last) return;
    carry = chunk.slice(Math.min(used, chunk.length));
  }
}

function joined(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
