/**
 * The pages of one column chunk, walked in plain TypeScript: page headers (Thrift compact),
 * decompression (none or Snappy), definition levels of a top-level optional column; the caller
 * decodes the values. Anything unexpected throws a PageDecodeError, and the reader then decodes
 * the chunk with the wasm decoder instead.
 */
import { readStruct, ThriftError, type Pick, type ThriftStruct, type ThriftValue } from './thrift-compact.ts';
import { decodeDefinitions, PageDecodeError } from './rle-hybrid.ts';
import { snappyDecompress, SnappyError } from './snappy.ts';

export { PageDecodeError } from './rle-hybrid.ts';

/** What the footer says of one chunk the page decoders read: its codec and how many values it holds. */
export interface PageChunk {
  codec: number;
  numValues: number;
}

/** A dictionary page, decompressed: `count` PLAIN values in `plain`. */
export interface DictionaryPage {
  count: number;
  plain: Uint8Array;
}

/**
 * A data page, decompressed: `count` values of which `present` are not null; `defs` (when some
 * are null) holds 1 for a value present, 0 for a null; `values` the encoded values present.
 */
export interface DataPage {
  count: number;
  present: number;
  defs: Uint8Array | null;
  encoding: number;
  values: Uint8Array;
}

export const CODEC_UNCOMPRESSED = 0;
export const CODEC_SNAPPY = 1;
/** The codecs decompressed here. */
export const CODECS: ReadonlySet<number> = new Set([CODEC_UNCOMPRESSED, CODEC_SNAPPY]);

export const ENC_PLAIN = 0;
export const ENC_PLAIN_DICTIONARY = 2;
export const ENC_RLE = 3;
export const ENC_RLE_DICTIONARY = 8;

const PAGE_DATA = 0;
const PAGE_DICTIONARY = 2;
const PAGE_DATA_V2 = 3;

const PAGE_PICK: Pick = { 1: true, 2: true, 3: true, 5: { 1: true, 2: true, 3: true }, 7: { 1: true, 2: true }, 8: true };

/** What a chunk's pages yield in order: its dictionary page (first, if any), then its data pages, each with the row it starts at. */
export type PageEvent = { kind: 'dictionary'; page: DictionaryPage } | { kind: 'data'; page: DataPage; row: number };

/**
 * Walks the pages of a chunk (`bytes`, dictionary page first if any) holding `rows` values of a
 * top-level column (`optional`: definition levels of at most 1): the dictionary page, then each
 * data page with the row it starts at. Throws PageDecodeError unless the pages hold exactly `rows`
 * values and end where the chunk ends.
 */
export function walkPages(
  bytes: Uint8Array,
  optional: boolean,
  chunk: PageChunk,
  rows: number,
  onDictionary: (page: DictionaryPage) => void,
  onData: (page: DataPage, row: number) => void,
): void {
  try {
    for (const next of pageEvents(bytes, optional, chunk, rows)) {
      if (next.kind === 'dictionary') onDictionary(next.page);
      else onData(next.page, next.row);
    }
  } catch (e: unknown) {
    throw pageError(e);
  }
}

/** `e` as a PageDecodeError when it is one of the errors malformed pages cause, else `e`. */
export function pageError(e: unknown): unknown {
  if (e instanceof SnappyError || e instanceof ThriftError || e instanceof RangeError) return new PageDecodeError(e.message, { cause: e });
  return e;
}

/**
 * The chunk's pages one at a time, as walkPages walks them, the last step checking that the chunk
 * ends where they do; decode each before asking for the next: a decompressed page is scratch that
 * the next one, of any chunk, overwrites. Throws PageDecodeError and, for bytes that are not
 * pages, the errors pageError turns into one.
 */
export function* pageEvents(bytes: Uint8Array, optional: boolean, chunk: PageChunk, rows: number): Generator<PageEvent, void> {
  if (chunk.numValues !== rows) throw new PageDecodeError(`the chunk holds ${chunk.numValues} values for ${rows} rows`);
  let pos = 0;
  let done = 0;
  let dictionary = false;
  while (done < rows) {
    const { value: header, end: bodyStart } = readStruct(bytes, pos, PAGE_PICK);
    const type = num(header.get(1));
    const uncompressed = num(header.get(2));
    const compressed = num(header.get(3));
    if (uncompressed === undefined || compressed === undefined) throw new PageDecodeError('page header without sizes');
    const bodyEnd = bodyStart + compressed;
    if (compressed < 0 || uncompressed < 0 || bodyEnd > bytes.length) throw new PageDecodeError('page runs past the chunk');
    const body = bytes.subarray(bodyStart, bodyEnd);
    pos = bodyEnd;
    if (type === PAGE_DICTIONARY) {
      const dph = header.get(7);
      if (dictionary || done > 0 || !(dph instanceof Map)) throw new PageDecodeError('unexpected dictionary page');
      const count = num(dph.get(1));
      const encoding = num(dph.get(2));
      if (count === undefined || count < 0 || (encoding !== ENC_PLAIN && encoding !== ENC_PLAIN_DICTIONARY))
        throw new PageDecodeError('unsupported dictionary page');
      dictionary = true;
      yield { kind: 'dictionary', page: { count, plain: decompress(chunk.codec, body, uncompressed) } };
    } else if (type === PAGE_DATA || type === PAGE_DATA_V2) {
      const page =
        type === PAGE_DATA
          ? dataPageV1(header, body, uncompressed, optional, chunk)
          : dataPageV2(header, body, uncompressed, optional, chunk);
      if (page.count > rows - done) throw new PageDecodeError('more values than rows');
      const row = done;
      done += page.count;
      yield { kind: 'data', page, row };
    } else {
      throw new PageDecodeError(`page type ${type}`);
    }
  }
  if (pos !== bytes.length) throw new PageDecodeError('bytes after the last page');
}

function dataPageV1(header: ThriftStruct, body: Uint8Array, uncompressed: number, optional: boolean, chunk: PageChunk): DataPage {
  const dph = header.get(5);
  if (!(dph instanceof Map)) throw new PageDecodeError('data page without its header');
  const count = num(dph.get(1));
  const encoding = num(dph.get(2));
  if (count === undefined || count < 0 || encoding === undefined) throw new PageDecodeError('bad value count');
  const page = decompress(chunk.codec, body, uncompressed);
  if (!optional) return { count, present: count, defs: null, encoding, values: page };
  if (num(dph.get(3)) !== ENC_RLE || page.length < 4) throw new PageDecodeError('unsupported definition levels');
  const len = page[0]! | (page[1]! << 8) | (page[2]! << 16) | (page[3]! << 24);
  if (len < 0 || 4 + len > page.length) throw new PageDecodeError('definition levels run past the page');
  const defs = levels(count);
  const present = decodeDefinitions(page, 4, 4 + len, count, defs);
  return { count, present, defs: present === count ? null : defs, encoding, values: page.subarray(4 + len) };
}

function dataPageV2(header: ThriftStruct, body: Uint8Array, uncompressed: number, optional: boolean, chunk: PageChunk): DataPage {
  const v2 = header.get(8);
  if (!(v2 instanceof Map)) throw new PageDecodeError('data page v2 without its header');
  const count = num(v2.get(1));
  const encoding = num(v2.get(4));
  const defLen = num(v2.get(5)) ?? -1;
  const repLen = num(v2.get(6)) ?? -1;
  const isCompressed = v2.get(7) ?? true;
  if (count === undefined || count < 0 || encoding === undefined) throw new PageDecodeError('bad value count');
  if (repLen !== 0 || defLen < 0 || defLen > body.length || typeof isCompressed !== 'boolean')
    throw new PageDecodeError('unsupported levels');
  let present = count;
  let defs: Uint8Array | null = null;
  if (optional) {
    defs = levels(count);
    present = decodeDefinitions(body, 0, defLen, count, defs);
    if (present === count) defs = null;
  } else if (defLen !== 0) throw new PageDecodeError('definition levels on a required column');
  const raw = body.subarray(defLen);
  const values = isCompressed && chunk.codec !== CODEC_UNCOMPRESSED ? decompress(chunk.codec, raw, uncompressed - defLen) : raw;
  return { count, present, defs, encoding, values };
}

function decompress(codec: number, body: Uint8Array, uncompressed: number): Uint8Array {
  if (codec === CODEC_UNCOMPRESSED) {
    if (body.length !== uncompressed) throw new PageDecodeError('uncompressed page of the wrong size');
    return body;
  }
  if (codec === CODEC_SNAPPY) return snappyDecompress(body, uncompressed, (scratch.page = grown(scratch.page, uncompressed)));
  throw new PageDecodeError(`codec ${codec}`);
}

export function num(v: ThriftValue | undefined): number | undefined {
  return typeof v === 'number' ? v : undefined;
}

/**
 * Buffers reused from page to page (a page's are consumed before the next is walked): the
 * decompressed page and its definition levels; the decoders keep theirs here too.
 */
const scratch = {
  page: new Uint8Array(0),
  levels: new Uint8Array(0),
};

/** `buf` if it holds `n` elements, else a new one of twice the size (or `n`). */
export function grown<T extends Uint8Array | Int32Array | Float64Array>(buf: T, n: number): T {
  if (buf.length >= n) return buf;
  const Ctor = buf.constructor as new (n: number) => T;
  return new Ctor(Math.max(n, 2 * buf.length));
}

function levels(n: number): Uint8Array {
  return (scratch.levels = grown(scratch.levels, n));
}
