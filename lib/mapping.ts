/**
 * The id → row mapping, byte-identical to Python's `json.dump({id: i for i, id in enumerate(ids)})`:
 * `", "` and `": "` separators, ensure_ascii escapes (`\uXXXX`, lower-case hex, surrogate pairs),
 * and dict semantics for a repeated id (the first occurrence's place, the last occurrence's index).
 */
import { ByteWriter } from './byte-writer.ts';

/** A column of UTF-8 ids: id i is `data[offsets[i]..offsets[i+1])`. */
export interface IdColumn {
  offsets: Int32Array;
  data: Uint8Array;
}

export function idCount(ids: IdColumn): number {
  return ids.offsets.length - 1;
}

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

/** Appends id `i` of the column as a JSON string; plain ASCII ids are copied byte for byte. */
function writeId(w: ByteWriter, ids: IdColumn, i: number): void {
  const start = ids.offsets[i]!;
  const end = ids.offsets[i + 1]!;
  const d = ids.data;
  let plain = true;
  for (let j = start; j < end; j++) {
    const b = d[j]!;
    if (b < 0x20 || b >= 0x7f || b === 0x22 || b === 0x5c) {
      plain = false;
      break;
    }
  }
  if (plain) {
    const len = end - start;
    const buf = w.reserve(len + 2);
    buf[w.length] = 0x22;
    buf.set(d.subarray(start, end), w.length + 1);
    buf[w.length + len + 1] = 0x22;
    w.length += len + 2;
  } else {
    writeJsonString(w, utf8.decode(d.subarray(start, end)));
  }
}

/**
 * Appends the entries `"id": firstIndex + i` for every id, separated by `", "`, with no braces:
 * a fragment. Fragments of consecutive row ranges joined by `", "` inside `{}` make the mapping,
 * provided no id repeats across the file (see `hashIds`).
 */
export function writeMappingFragment(w: ByteWriter, ids: IdColumn, firstIndex: number, leadingSeparator: boolean): void {
  const n = idCount(ids);
  for (let i = 0; i < n; i++) {
    if (i > 0 || leadingSeparator) w.ascii(', ');
    writeId(w, ids, i);
    w.ascii(': ');
    w.uint(firstIndex + i);
  }
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

/** True when any hash value occurs twice across all the arrays (sorts a merged copy). */
export function hasRepeatedHash(parts: readonly BigUint64Array[]): boolean {
  const total = parts.reduce((n, p) => n + p.length, 0);
  const all = new BigUint64Array(total);
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  all.sort();
  const w = new Uint32Array(all.buffer);
  for (let i = 1; i < total; i++) {
    if (w[2 * i] === w[2 * i - 2] && w[2 * i + 1] === w[2 * i - 1]) return true;
  }
  return false;
}
