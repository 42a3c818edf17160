/**
 * The id → row mapping, byte-identical to Python's `json.dump({id: i for i, id in enumerate(ids)})`:
 * `", "` and `": "` separators, ensure_ascii escapes (`\uXXXX`, lower-case hex, surrogate pairs),
 * and dict semantics for a repeated id (the first occurrence's place, the last occurrence's index).
 */
import { ByteWriter } from '../io/byte-writer.ts';
import { idCount, isDictIds, type DictIds, type IdColumn, type PlainIds } from '../embedding/columns.ts';

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
 * Appends `"id"` (escaped as Python does) for the id at `data[start..end)` (`ids` a view of
 * `data`'s buffer). Plain ASCII (every real track id) is copied 4 bytes at a time, each word
 * checked for a byte that needs escaping, with no allocation; other ids go through the escaper.
 */
function writeKey(w: ByteWriter, data: Uint8Array, ids: DataView, start: number, end: number): void {
  const buf = w.reserve(end - start + 2);
  const view = w.view;
  const begin = w.length;
  let p = begin;
  buf[p++] = 0x22;
  let j = start;
  for (; j + 4 <= end; j += 4, p += 4) {
    const x = ids.getInt32(j, true);
    if (needsEscape(x)) return escapeKey(w, data, start, end, begin);
    view.setInt32(p, x, true);
  }
  for (; j < end; j++) {
    const b = data[j]!;
    if (b < 0x20 || b >= 0x7f || b === 0x22 || b === 0x5c) return escapeKey(w, data, start, end, begin);
    buf[p++] = b;
  }
  buf[p++] = 0x22;
  w.length = p;
}

/**
 * Whether any of the 4 bytes of `x` is below 0x20, 0x7f or above, '"' or '\\' (the bit tricks
 * of "Bit Twiddling Hacks": hasless, hasmore, haszero of x XOR the byte; exact as a yes or no).
 */
function needsEscape(x: number): boolean {
  const high = 0x80808080 | 0;
  const below = (x - 0x20202020) & ~x & high;
  const above = ((x + 0x01010101) | x) & high;
  const quote = ((x ^ 0x22222222) - 0x01010101) & ~(x ^ 0x22222222) & high;
  const slash = ((x ^ 0x5c5c5c5c) - 0x01010101) & ~(x ^ 0x5c5c5c5c) & high;
  return (below | above | quote | slash) !== 0;
}

/** The id written from `begin` again, through the escaper. */
function escapeKey(w: ByteWriter, data: Uint8Array, start: number, end: number, begin: number): void {
  w.length = begin;
  writeJsonString(w, utf8.decode(data.subarray(start, end)));
}

/** Appends `[", "]key": index` with the key's bytes as given (already escaped and quoted). */
function writeEntryBytes(w: ByteWriter, key: Uint8Array, keyStart: number, keyEnd: number, index: number, sep: boolean): void {
  // ", " + ": " + at most 16 digits.
  const buf = w.reserve(keyEnd - keyStart + 20);
  let p = w.length;
  if (sep) {
    buf[p++] = 0x2c;
    buf[p++] = 0x20;
  }
  buf.set(key.subarray(keyStart, keyEnd), p);
  p += keyEnd - keyStart;
  buf[p++] = 0x3a;
  buf[p++] = 0x20;
  w.length = writeDigits(buf, p, index);
}

/** Each dictionary entry's escaped, quoted key, made when first asked for: once per entry, not per row. */
class EscapedKeys {
  private readonly keys: (Uint8Array | undefined)[];
  private readonly bytes: DataView;
  constructor(private readonly dict: PlainIds) {
    this.keys = new Array<Uint8Array | undefined>(dict.offsets.length - 1);
    this.bytes = new DataView(dict.data.buffer, dict.data.byteOffset, dict.data.byteLength);
  }
  get(k: number): Uint8Array {
    let key = this.keys[k];
    if (!key) {
      const w = new ByteWriter(this.dict.offsets[k + 1]! - this.dict.offsets[k]! + 2);
      writeKey(w, this.dict.data, this.bytes, this.dict.offsets[k]!, this.dict.offsets[k + 1]!);
      this.keys[k] = key = w.bytes();
    }
    return key;
  }
}

/**
 * Appends the entries `"id": firstIndex + i` for every id, separated by `", "`, with no braces:
 * a fragment. Fragments of consecutive row ranges joined by `", "` inside `{}` make the mapping,
 * provided no id repeats across the file (see `hashIds`). A dictionary entry is escaped once.
 */
export function writeMappingFragment(w: ByteWriter, ids: IdColumn, firstIndex: number, leadingSeparator: boolean): void {
  const n = idCount(ids);
  if (isDictIds(ids)) {
    const keys = new EscapedKeys(ids.dictionary);
    for (let i = 0; i < n; i++) {
      const key = keys.get(ids.codes[i]!);
      writeEntryBytes(w, key, 0, key.length, firstIndex + i, i > 0 || leadingSeparator);
    }
    return;
  }
  const { offsets, data } = ids;
  const bytes = new DataView(data.buffer, data.byteOffset, data.byteLength);
  for (let i = 0; i < n; i++) {
    if (i > 0 || leadingSeparator) w.ascii(', ');
    writeKey(w, data, bytes, offsets[i]!, offsets[i + 1]!);
    const buf = w.reserve(18);
    buf[w.length++] = 0x3a;
    buf[w.length++] = 0x20;
    w.length = writeDigits(buf, w.length, firstIndex + i);
  }
}

/**
 * Appends the entries of the ids of rows `firstRow`, … whose `indexOf(row)` is not negative, as
 * `"id": indexOf(row)`, each after a `", "` but row 0's: a shard's fragment rewritten for its
 * repeated ids (a first occurrence shows its last index; later ones are left out). A dictionary
 * entry is escaped once.
 */
export function writeMappingEntries(w: ByteWriter, ids: IdColumn, firstRow: number, indexOf: (row: number) => number): void {
  const n = idCount(ids);
  const keys = isDictIds(ids) ? new EscapedKeys(ids.dictionary) : null;
  const plain = isDictIds(ids) ? null : ids;
  const bytes = plain && new DataView(plain.data.buffer, plain.data.byteOffset, plain.data.byteLength);
  for (let i = 0; i < n; i++) {
    const row = firstRow + i;
    const index = indexOf(row);
    if (index < 0) continue;
    if (keys) {
      const key = keys.get((ids as DictIds).codes[i]!);
      writeEntryBytes(w, key, 0, key.length, index, row !== 0);
      continue;
    }
    if (row !== 0) w.ascii(', ');
    writeKey(w, plain!.data, bytes!, plain!.offsets[i]!, plain!.offsets[i + 1]!);
    const buf = w.reserve(18);
    buf[w.length++] = 0x3a;
    buf[w.length++] = 0x20;
    w.length = writeDigits(buf, w.length, index);
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

/**
 * The whole mapping for ids in row order, with exact Python dict semantics for repeated ids. A
 * dictionary column is decoded once per entry it uses: its rows only decide each entry's first
 * and last row.
 */
export function mappingJson(idColumns: Iterable<IdColumn>): Uint8Array {
  const index = new Map<string, number>();
  let row = 0;
  for (const ids of idColumns) {
    const n = idCount(ids);
    if (isDictIds(ids)) {
      dictEntries(ids, row, index);
      row += n;
      continue;
    }
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

/** A dictionary column's ids into `index` as if set row by row from row `base`: entries in first-occurrence order, each with its last row. */
function dictEntries(ids: DictIds, base: number, index: Map<string, number>): void {
  const { codes, dictionary: dict } = ids;
  const last = new Float64Array(dict.offsets.length - 1).fill(-1);
  const order: number[] = [];
  for (let i = 0; i < codes.length; i++) {
    const k = codes[i]!;
    if (last[k]! < 0) order.push(k);
    last[k] = i;
  }
  for (const k of order) {
    const id = utf8.decode(dict.data.subarray(dict.offsets[k]!, dict.offsets[k + 1]!));
    // Two entries may hold the same id (dictionaries joined): the later row of the two wins.
    const prev = index.get(id);
    const at = base + last[k]!;
    index.set(id, prev !== undefined && prev >= base ? Math.max(prev, at) : at);
  }
}

/** The two 32-bit hashes of `data[start..end)`, into `lo[i]` and `hi[j]`. */
function hashInto(data: Uint8Array, start: number, end: number, lo: Uint32Array, i: number, hi: Uint32Array, j: number): void {
  let h1 = 0x811c9dc5;
  let h2 = 0x9747b28c ^ (end - start);
  for (let k = start; k < end; k++) {
    const b = data[k]!;
    h1 = Math.imul(h1 ^ b, 0x01000193);
    h2 = Math.imul(h2 ^ b, 0x5bd1e995);
    h2 ^= h2 >>> 15;
  }
  h2 = Math.imul(h2 ^ (h2 >>> 13), 0xc2b2ae35);
  lo[i] = h1 ^ (h1 >>> 16);
  hi[j] = h2 ^ (h2 >>> 16);
}

/**
 * Row i's two hash words into `lo[loAt + step·i]` and `hi[hiAt + step·i]`. A dictionary entry is
 * hashed once, when a row first uses it.
 */
function hashRows(ids: IdColumn, lo: Uint32Array, loAt: number, hi: Uint32Array, hiAt: number, step: number): void {
  const n = idCount(ids);
  if (isDictIds(ids)) {
    const { codes, dictionary: dict } = ids;
    const entryLo = new Uint32Array(dict.offsets.length - 1);
    const entryHi = new Uint32Array(entryLo.length);
    const hashed = new Uint8Array(entryLo.length);
    for (let i = 0; i < n; i++) {
      const k = codes[i]!;
      if (!hashed[k]) {
        hashInto(dict.data, dict.offsets[k]!, dict.offsets[k + 1]!, entryLo, k, entryHi, k);
        hashed[k] = 1;
      }
      lo[loAt + step * i] = entryLo[k]!;
      hi[hiAt + step * i] = entryHi[k]!;
    }
    return;
  }
  const { offsets, data } = ids;
  for (let i = 0; i < n; i++) hashInto(data, offsets[i]!, offsets[i + 1]!, lo, loAt + step * i, hi, hiAt + step * i);
}

/**
 * A 64-bit hash of every id (two independent 32-bit hashes), for finding repeated ids without
 * holding the ids: equal ids have equal hashes, so no equal hashes means no repeats.
 */
export function hashIds(ids: IdColumn): BigUint64Array {
  const out = new BigUint64Array(idCount(ids));
  // Word by word: a BigUint64Array element read is a BigInt allocated.
  const words = new Uint32Array(out.buffer);
  hashRows(ids, words, 0, words, 1, 2);
  return out;
}

/** hashIds' low and high words, each in an array of its own (what the id index sorts by). */
export function hashHalves(ids: IdColumn): { lo: Uint32Array; hi: Uint32Array } {
  const lo = new Uint32Array(idCount(ids));
  const hi = new Uint32Array(lo.length);
  hashRows(ids, lo, 0, hi, 0, 1);
  return { lo, hi };
}

/** True when a dictionary column uses some entry on two rows: its ids certainly repeat. */
export function dictRepeats(ids: IdColumn): boolean {
  if (!isDictIds(ids)) return false;
  const seen = new Uint8Array(ids.dictionary.offsets.length - 1);
  for (const k of ids.codes) {
    if (seen[k]) return true;
    seen[k] = 1;
  }
  return false;
}
