/**
 * Numeric column chunks decoded straight from their Parquet pages into float64, as the kernels
 * use them (null → NaN), without the wasm decoder and its Arrow copies: PLAIN and dictionary
 * pages (v1 and v2) of BOOLEAN, INT32, INT64, FLOAT and DOUBLE columns, uncompressed or Snappy.
 * Anything else, or anything unexpected in the bytes, throws a PageDecodeError: the reader then
 * decodes the chunk the general way, which also gives the error a bad file deserves.
 */
import { readStruct, ThriftError, type Pick, type ThriftStruct } from './thrift-compact.ts';
import { decodeHybrid, PageDecodeError } from './rle-hybrid.ts';
import {
  CODECS,
  ENC_PLAIN,
  ENC_PLAIN_DICTIONARY,
  ENC_RLE,
  ENC_RLE_DICTIONARY,
  grown,
  num,
  pageError,
  pageEvents,
  type DataPage,
  type PageChunk,
  type PageEvent,
} from './pages.ts';

export { PageDecodeError } from './rle-hybrid.ts';

/** The physical types decoded here. */
export type NumericPhysical = 'BOOLEAN' | 'INT32' | 'INT64' | 'FLOAT' | 'DOUBLE';

/** A top-level numeric column this decoder can read: its type and whether it may hold nulls. */
export interface NumericColumn {
  physical: NumericPhysical;
  optional: boolean;
}

/** What the footer says of one chunk of such a column. */
export type NumericChunk = PageChunk;

/** The numeric columns of a file (by name) and, per row group, their chunks' codec and value count. */
export interface NumericPlan {
  columns: Map<string, NumericColumn>;
  /** The UTF-8 string columns (string-pages.ts), by name: whether each is optional. */
  strings: Map<string, { optional: boolean }>;
  /** Per row group, the chunks of both kinds of column that a page decoder may read. */
  chunks: Map<string, NumericChunk>[];
}

const PHYSICAL: Record<number, NumericPhysical> = { 0: 'BOOLEAN', 1: 'INT32', 2: 'INT64', 4: 'FLOAT', 5: 'DOUBLE' };

const FOOTER_PICK: Pick = {
  2: true,
  4: { 1: { 3: { 1: true, 3: true, 4: true, 5: true }, 8: true, 9: true } },
};

/**
 * The columns of a footer (metadata, length, PAR1) that this decoder reads, with their chunks;
 * null when the footer is anything but plain (the general decoder then reads every column).
 */
export function numericPlan(footer: Uint8Array): NumericPlan | null {
  let fmd: ThriftStruct;
  try {
    fmd = readStruct(footer.subarray(0, footer.length - 8), 0, FOOTER_PICK).value;
  } catch (e: unknown) {
    if (e instanceof ThriftError) return null;
    throw e;
  }
  const schema = fmd.get(2);
  const groups = fmd.get(4);
  if (!Array.isArray(schema) || !Array.isArray(groups)) return null;
  const columns = new Map<string, NumericColumn>();
  const strings = new Map<string, { optional: boolean }>();
  const root = schema[0];
  if (!(root instanceof Map)) return null;
  const rootChildren = num(root.get(5)) ?? 0;
  let i = 1;
  const skip = (): boolean => {
    const el = schema[i++];
    if (!(el instanceof Map)) return false;
    const n = num(el.get(5)) ?? 0;
    for (let k = 0; k < n; k++) if (!skip()) return false;
    return true;
  };
  for (let c = 0; c < rootChildren; c++) {
    const el = schema[i];
    if (!(el instanceof Map)) return null;
    const name = el.get(4);
    const column = name instanceof Uint8Array && (num(el.get(5)) ?? 0) === 0 ? numericColumn(el) : null;
    if (column) columns.set(utf8.decode(name as Uint8Array), column);
    else if (name instanceof Uint8Array && (num(el.get(5)) ?? 0) === 0 && isString(el))
      strings.set(utf8.decode(name), { optional: num(el.get(3)) === 1 });
    if (!skip()) return null;
  }
  const chunks = groups.map((g) => {
    const out = new Map<string, NumericChunk>();
    const list = g instanceof Map ? g.get(1) : undefined;
    if (!Array.isArray(list)) return out;
    for (const cc of list) {
      if (!(cc instanceof Map) || cc.has(8) || cc.has(9)) continue;
      const md = cc.get(3);
      if (!(md instanceof Map)) continue;
      const path = md.get(3);
      if (!Array.isArray(path) || path.length !== 1 || !(path[0] instanceof Uint8Array)) continue;
      const name = utf8.decode(path[0]);
      const physical = columns.get(name)?.physical ?? (strings.has(name) ? 'BYTE_ARRAY' : undefined);
      const codec = num(md.get(4));
      const numValues = num(md.get(5));
      const type = num(md.get(1));
      if (!physical || (type === 6 ? 'BYTE_ARRAY' : PHYSICAL[type ?? -1]) !== physical || codec === undefined || numValues === undefined)
        continue;
      if (!CODECS.has(codec)) continue;
      out.set(name, { codec, numValues });
    }
    return out;
  });
  return { columns, strings, chunks };
}

const utf8 = new TextDecoder();

/** A BYTE_ARRAY leaf annotated as UTF-8 (logical STRING or converted UTF8), not repeated. */
function isString(el: ThriftStruct): boolean {
  if (num(el.get(1)) !== 6 || (num(el.get(3)) ?? 0) > 1) return false;
  const logical = el.get(10);
  if (logical !== undefined) return logical instanceof Map && logical.size === 1 && logical.has(1);
  return num(el.get(6)) === 0;
}

/**
 * A schema leaf as this decoder reads it, or null: a numeric physical type, required or optional
 * (not repeated), with no annotation but a signed integer of the type's own width (INT32 as
 * int32, INT64 as int64); narrower, unsigned, dates, times, decimals go the general way.
 */
function numericColumn(el: ThriftStruct): NumericColumn | null {
  const physical = PHYSICAL[num(el.get(1)) ?? -1];
  const repetition = num(el.get(3)) ?? 0;
  if (!physical || repetition > 1) return null;
  const converted = num(el.get(6));
  const logical = el.get(10);
  const width = physical === 'INT32' ? 32 : physical === 'INT64' ? 64 : 0;
  if (converted !== undefined && !(width === 32 && converted === 17) && !(width === 64 && converted === 18)) return null;
  if (logical !== undefined) {
    if (!(logical instanceof Map) || logical.size !== 1 || width === 0) return null;
    const int = logical.get(10);
    if (!(int instanceof Map) || num(int.get(1)) !== width || int.get(2) !== true) return null;
  }
  return { physical, optional: repetition === 1 };
}

/**
 * Decodes the pages of one column chunk (`bytes`, dictionary page included) into `out[at, at +
 * rows)` as float64, null → NaN. Throws PageDecodeError unless the pages hold exactly `rows`
 * values, end where the chunk ends, and use only what is decoded here.
 */
export function decodeNumericChunk(
  bytes: Uint8Array,
  column: NumericColumn,
  chunk: NumericChunk,
  rows: number,
  out: Float64Array,
  at: number,
): void {
  new NumericCursor(bytes, column, chunk, rows).read(out, at, rows);
}

/**
 * The values of one column chunk read a few at a time, its pages decoded as `read` reaches them:
 * a page the read takes whole straight into the caller's array, a page it takes part of into a
 * buffer of one page, so that a reader of batches it is done with before the next (an embed
 * shard) never holds the chunk's column whole. Throws PageDecodeError as decodeNumericChunk does,
 * from the read that reaches the page at fault; the chunk is checked to end where its pages do
 * when its last value is read (a chunk of no rows, at once).
 */
export class NumericCursor {
  private readonly pages: Generator<PageEvent, void>;
  private dictionary: Float64Array | null = null;
  /** The values of a page a read took part of: `page[at, end)` are still to be read. */
  private page = new Float64Array(0);
  private at = 0;
  private end = 0;
  private left: number;

  constructor(
    bytes: Uint8Array,
    private readonly column: NumericColumn,
    chunk: NumericChunk,
    rows: number,
  ) {
    this.pages = pageEvents(bytes, column.optional, chunk, rows);
    this.left = rows;
    if (rows === 0) this.checked(() => this.pages.next());
  }

  /** The next `n` values into `out[at, at + n)`; `out` null skips them. */
  read(out: Float64Array | null, at: number, n: number): void {
    this.checked(() => {
      while (n > 0) {
        if (this.at === this.end) {
          const page = this.nextDataPage();
          const whole = out !== null && page.count <= n;
          if (!whole) this.page = grown(this.page, page.count);
          dataPage(page, this.column, this.dictionary, whole ? out : this.page, whole ? at : 0);
          // After the last page: the walk's check that the chunk ends there.
          if ((this.left -= page.count) === 0) this.pages.next();
          if (whole) {
            at += page.count;
            n -= page.count;
            continue;
          }
          this.at = 0;
          this.end = page.count;
        }
        const k = Math.min(n, this.end - this.at);
        out?.set(this.page.subarray(this.at, this.at + k), at);
        this.at += k;
        at += k;
        n -= k;
      }
    });
  }

  /** The next data page, its chunk's dictionary page decoded on the way. */
  private nextDataPage(): DataPage {
    for (;;) {
      const next = this.pages.next();
      if (next.done) throw new PageDecodeError('a read past the chunk');
      const event = next.value;
      if (event.kind === 'data') return event.page;
      this.dictionary = new Float64Array(event.page.count);
      decodePlain(this.column.physical, event.page.plain, 0, event.page.count, this.dictionary, 0);
    }
  }

  /** `op`, with the errors of bytes that are not pages as PageDecodeError. */
  private checked(op: () => void): void {
    try {
      op();
    } catch (e: unknown) {
      throw pageError(e);
    }
  }
}

/** One data page's values into `out[at..]`. */
function dataPage(page: DataPage, column: NumericColumn, dictionary: Float64Array | null, out: Float64Array, at: number): void {
  const { count, present, defs, encoding, values } = page;
  const target = defs ? (scratch.gaps = grown(scratch.gaps, present)) : out;
  const tat = defs ? 0 : at;
  if (encoding === ENC_PLAIN) {
    decodePlain(column.physical, values, 0, present, target, tat);
  } else if (encoding === ENC_PLAIN_DICTIONARY || encoding === ENC_RLE_DICTIONARY) {
    if (!dictionary) throw new PageDecodeError('dictionary page missing');
    const dict: Float64Array = dictionary;
    if (values.length < 1) throw new PageDecodeError('empty dictionary-encoded page');
    const codes = (scratch.codes = grown(scratch.codes, present));
    decodeHybrid(values, 1, values.length, values[0]!, present, codes);
    if (!gather(codes, dict, target, tat, present)) throw new PageDecodeError('dictionary index out of range');
  } else if (encoding === ENC_RLE && column.physical === 'BOOLEAN') {
    if (values.length < 4) throw new PageDecodeError('truncated RLE booleans');
    const len = values[0]! | (values[1]! << 8) | (values[2]! << 16) | (values[3]! << 24);
    if (len < 0 || 4 + len > values.length) throw new PageDecodeError('RLE booleans run past the page');
    const bits = (scratch.bits = grown(scratch.bits, present));
    decodeHybrid(values, 4, 4 + len, 1, present, bits);
    for (let i = 0; i < present; i++) target[tat + i] = bits[i]!;
  } else {
    throw new PageDecodeError(`encoding ${encoding}`);
  }
  if (defs) spread(defs, target, out, at, count);
}

/** `out[at + i] = dict[codes[i]]` for i < n; false (and `out` partly written) when a code is outside the dictionary. */
function gather(codes: Int32Array, dict: Float64Array, out: Float64Array, at: number, n: number): boolean {
  const size = dict.length;
  for (let i = 0; i < n; i++) {
    const k = codes[i]!;
    if (k >= size || k < 0) return false;
    out[at + i] = dict[k]!;
  }
  return true;
}

/** The values present (`values`, in order) spread over `count` rows from `at`, NaN where `defs` is 0. */
function spread(defs: Uint8Array, values: Float64Array, out: Float64Array, at: number, count: number): void {
  let j = 0;
  for (let i = 0; i < count; i++) out[at + i] = defs[i] === 1 ? values[j++]! : NaN;
}

/** Buffers reused from page to page: dictionary codes, values of a page with nulls, RLE booleans. */
const scratch = {
  codes: new Int32Array(0),
  gaps: new Float64Array(0),
  bits: new Uint8Array(0),
};

const TWO_32 = 4294967296;

/** `n` PLAIN values of `physical` from `bytes[pos..]` into `out[at..]` as float64, as the Arrow path converts them. */
function decodePlain(physical: NumericPhysical, bytes: Uint8Array, pos: number, n: number, out: Float64Array, at: number): void {
  if (physical === 'BOOLEAN') {
    if (pos + Math.ceil(n / 8) > bytes.length) throw new PageDecodeError('values run past the page');
    for (let i = 0; i < n; i++) out[at + i] = (bytes[pos + (i >>> 3)]! >>> (i & 7)) & 1;
    return;
  }
  const width = physical === 'INT32' || physical === 'FLOAT' ? 4 : 8;
  if (pos + n * width > bytes.length) throw new PageDecodeError('values run past the page');
  const start = bytes.byteOffset + pos;
  // A typed-array view needs an aligned offset: otherwise the values are copied to one.
  const buf = start % 8 === 0 ? bytes.buffer : bytes.slice(pos, pos + n * width).buffer;
  const off = start % 8 === 0 ? start : 0;
  if (physical === 'DOUBLE') out.set(new Float64Array(buf, off, n), at);
  else if (physical === 'FLOAT') out.set(new Float32Array(buf, off, n), at);
  else if (physical === 'INT32') out.set(new Int32Array(buf, off, n), at);
  else {
    const words = new Int32Array(buf, off, 2 * n);
    let wide: BigInt64Array | null = null;
    for (let i = 0; i < n; i++) {
      const lo = words[2 * i]! >>> 0;
      const hi = words[2 * i + 1]!;
      // |hi| < 2^21 means |x| < 2^53: exact; beyond, BigInt's rounding, as columns.ts converts.
      if (hi < 0x200000 && hi >= -0x200000) out[at + i] = hi * TWO_32 + lo;
      else out[at + i] = Number((wide ??= new BigInt64Array(buf, off, n))[i]!);
    }
  }
}
