/**
 * The id → row mapping, byte-identical to Python's `json.dump({id: i for i, id in enumerate(ids)})`:
 * `", "` and `": "` separators, ensure_ascii escapes (`\uXXXX`, lower-case hex, surrogate pairs),
 * and dict semantics for a repeated id (the first occurrence's place, the last occurrence's index).
 */
import { ByteWriter } from '../io/byte-writer.ts';
import { idCount, type IdColumn } from '../embedding/columns.ts';

const HEX = '0123456789abcdef';
const SHORT: Record<number, string> = { 0x22: '\\"', 0x5c: '\\\\', 0x08: '\\b', 0x0c: '\\f', 0x0a: '\\n', 0x0d: '\\r', 0x09: '\\t' };

/** Appends a JS string as a Python ensure_ascii JSON string literal (quotes included). */
export function writeJsonString(w: ByteWriter, s: string): void {
  w.ascii('"');
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x20 && c < 0x7f && c !== 0x22 && c !== 0x5c) {
      w.reserve(1)[w.length++] = c;
    } else {
      // UTF-16 code units are exactly what Python escapes: astral chars become surrogate pairs.
      w.ascii(SHORT[c] ?? `\\u${HEX[(c >> 12) & 15]}${HEX[(c >> 8) & 15]}${HEX[(c >> 4) & 15]}${HEX[c & 15]}`);
    }
  }
  w.ascii('"');
}

// ignoreBOM keeps a leading U+FEFF: by default TextDecoder drops it, and an id may start with one.
const utf8 = new TextDecoder('utf-8', { ignoreBOM: true });

/**
 * Appends the entries `"id": firstIndex + i` for every id, separated by `", "`, with no braces:
 * a fragment. Fragments of consecutive row ranges joined by `", "` inside `{}` make the mapping,
 * provided no id repeats across the file (see `hashIds`). Plain-ASCII ids (every real track id)
 * are written byte by byte with no allocation; others go through the escaper.
 */
export function writeMappingFragment(w: ByteWriter, ids: IdColumn, firstIndex: number, leadingSeparator: boolean): void {
  const n = idCount(ids);
  const { offsets, data } = ids;
  for (let i = 0; i < n; i++) {
    const start = offsets[i]!;
    const end = offsets[i + 1]!;
    const sep = i > 0 || leadingSeparator;
    // ", " + quotes + ": " + at most 16 digits.
    const buf = w.reserve(end - start + 22);
    const begin = w.length;
    let p = begin;
    if (sep) {
      buf[p++] = 0x2c;
      buf[p++] = 0x20;
    }
    buf[p++] = 0x22;
    // Copy while checking: plain ASCII (every real track id) needs no escaping.
    let plain = true;
    for (let j = start; j < end; j++) {
      const b = data[j]!;
      if (b < 0x20 || b >= 0x7f || b === 0x22 || b === 0x5c) {
        plain = false;
        break;
      }
      buf[p++] = b;
    }
    if (!plain) {
      w.length = begin;
      if (sep) w.ascii(', ');
      writeJsonString(w, utf8.decode(data.subarray(start, end)));
      w.ascii(': ');
      w.uint(firstIndex + i);
      continue;
    }
    buf[p++] = 0x22;
    buf[p++] = 0x3a;
    buf[p++] = 0x20;
    w.length = writeDigits(buf, p, firstIndex + i);
  }
}

/** Writes a non-negative integer's decimal digits at `p`; returns the position after them. */
function writeDigits(buf: Uint8Array, p: number, v: number): number {
  if (v >= 2 ** 31) {
    const s = String(v);
    for (let k = 0; k < s.length; k++) buf[p + k] = s.charCodeAt(k);
    return p + s.length;
  }
  let digits = 1;
  for (let t = v; t >= 10; t = (t / 10) | 0) digits++;
  for (let k = p + digits - 1, t = v; k >= p; k--, t = (t / 10) | 0) buf[k] = 0x30 + (t % 10);
  return p + digits;
}

/** The whole mapping for ids in row order, with exact Python dict semantics for repeated ids. */
export function mappingJson(idColumns: Iterable<IdColumn>): Uint8Array {
  const index = new Map<string, number>();
  let row = 0;
  for (const ids of idColumns) {
    const n = idCount(ids);
    for (let i = 0; i < n; i++) {
      // Map.set on an existing key keeps its insertion position and replaces the value, as dict does.
      index.set(utf8.decode(ids.data.subarray(ids.offsets[i]!, ids.offsets[i + 1]!)), row++);
    }
  }
  const w = new ByteWriter(index.size * 32 + 2);
  w.ascii('{');
  let first = true;
  for (const [id, i] of index) {
    if (!first) w.ascii(', ');
    first = false;
    writeJsonString(w, id);
    w.ascii(': ');
    w.uint(i);
  }
  w.ascii('}');
  return w.bytes();
}

/**
 * A 64-bit hash of every id (two independent 32-bit hashes), for finding repeated ids without
 * holding the ids: equal ids have equal hashes, so no equal hashes means no repeats.
 */
export function hashIds(ids: IdColumn): BigUint64Array {
  const n = idCount(ids);
  const out = new BigUint64Array(n);
  const words = new Uint32Array(out.buffer);
  const { offsets, data } = ids;
  for (let i = 0; i < n; i++) {
    let h1 = 0x811c9dc5;
    let h2 = 0x9747b28c ^ (offsets[i + 1]! - offsets[i]!);
    for (let j = offsets[i]!; j < offsets[i + 1]!; j++) {
      const b = data[j]!;
      h1 = Math.imul(h1 ^ b, 0x01000193);
      h2 = Math.imul(h2 ^ b, 0x5bd1e995);
      h2 ^= h2 >>> 15;
    }
    h2 = Math.imul(h2 ^ (h2 >>> 13), 0xc2b2ae35);
    words[2 * i] = h1 ^ (h1 >>> 16);
    words[2 * i + 1] = h2 ^ (h2 >>> 16);
  }
  return out;
}
