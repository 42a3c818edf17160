/**
 * Reads and decodes a Parquet footer in plain TypeScript, before any byte reaches the wasm
 * decoder: bad input (empty, not Parquet, truncated, corrupt) becomes a clear InvalidInputError,
 * and we learn each column chunk's byte range so reads can be planned and prefetched.
 */
import { isUtf8 } from 'node:buffer';
import type { ByteSource } from '../io/byte-source.ts';
import { InvalidInputError } from '../errors.ts';
import {
  encodeI64,
  encodeList,
  encodeStruct,
  I64_TYPE,
  LIST_TYPE,
  listElements,
  readStruct,
  rewriteStruct,
  STRUCT_TYPE,
  structFields,
  ThriftError,
  type Drop,
  type Pick,
  type RawField,
  type ThriftStruct,
  type ThriftValue,
} from './thrift-compact.ts';

const MAGIC = 0x31524150; // "PAR1" little-endian

export type PhysicalType = 'BOOLEAN' | 'INT32' | 'INT64' | 'INT96' | 'FLOAT' | 'DOUBLE' | 'BYTE_ARRAY' | 'FIXED_LEN_BYTE_ARRAY';
const PHYSICAL: readonly PhysicalType[] = ['BOOLEAN', 'INT32', 'INT64', 'INT96', 'FLOAT', 'DOUBLE', 'BYTE_ARRAY', 'FIXED_LEN_BYTE_ARRAY'];

/** A top-level column as the schema declares it. `logical` is a short lower-case name or null. */
export interface ColumnSchema {
  name: string;
  /** null for a group (struct, list, map). */
  physical: PhysicalType | null;
  logical: string | null;
  optional: boolean;
}

export interface ColumnChunk {
  /** Byte range of the whole chunk, dictionary page included, as arrow-rs computes it. */
  start: number;
  end: number;
  nullCount: number | null;
  /** The chunk's pages uncompressed (total_uncompressed_size): what its values take decoded, dictionary codes aside. */
  uncompressed?: number;
}

export interface RowGroup {
  numRows: number;
  /** Chunks of top-level leaf columns, by column name. */
  chunks: Map<string, ColumnChunk>;
}

export interface ParquetLayout {
  fileSize: number;
  numRows: number;
  createdBy: string | null;
  columns: ColumnSchema[];
  rowGroups: RowGroup[];
  /** Byte range of the footer (metadata + length + magic), which the decoder reads first. */
  footer: { start: number; end: number };
  /** The writer's Arrow schema (its `ARROW:schema` metadata, base64), when it wrote one (arrow-hint.ts reads it). */
  arrowSchema?: string;
  /**
   * Set when the footer holds what arrow-rs may refuse and only the wasm decoder can judge: a
   * name, `created_by` or metadata key or value that is not UTF-8, or key-value metadata of another shape.
   */
  unsureText?: true;
}

const INITIAL_TAIL = 64 * 1024;

/** A footer as read: its decoded layout, and its bytes (metadata, length, PAR1), which the decoder is opened on. */
export interface Footer {
  layout: ParquetLayout;
  bytes: Uint8Array;
}

/** Reads the footer of `source` with one or two ranged reads and decodes it. */
export async function readFooter(source: ByteSource): Promise<ParquetLayout> {
  return (await loadFooter(source)).layout;
}

/** Reads the footer of `source` with one or two ranged reads; its layout and its bytes. */
export async function loadFooter(source: ByteSource): Promise<Footer> {
  const bad = (problem: string, cause?: unknown) =>
    new InvalidInputError(source.name, problem, cause === undefined ? undefined : { cause });
  if (source.size === 0) throw bad('empty file (0 bytes), not a Parquet file');
  if (source.size < 12) throw bad(`only ${source.size} bytes, too small to be a Parquet file`);

  const tailLen = Math.min(source.size, INITIAL_TAIL);
  let tail = await source.read(source.size - tailLen, tailLen);
  const view = new DataView(tail.buffer, tail.byteOffset, tail.byteLength);
  if (view.getUint32(tailLen - 4, true) !== MAGIC) {
    const head = await source.read(0, 4);
    const headMagic = new DataView(head.buffer, head.byteOffset, 4).getUint32(0, true) === MAGIC;
    throw bad(
      headMagic ? 'truncated Parquet file: it starts like Parquet but its footer is missing' : 'not a Parquet file (no PAR1 magic bytes)',
    );
  }
  const metaLen = view.getUint32(tailLen - 8, true);
  const footerLen = metaLen + 8;
  if (footerLen + 4 > source.size) throw bad(`corrupt Parquet footer (metadata length ${metaLen} exceeds the file)`);
  if (footerLen > tailLen) tail = await source.read(source.size - footerLen, footerLen);
  const bytes = tail.subarray(tail.length - footerLen);
  const meta = bytes.subarray(0, footerLen - 8);

  let fmd: ThriftStruct;
  try {
    fmd = readStruct(meta, 0, FOOTER_FIELDS).value;
  } catch (e: unknown) {
    if (e instanceof ThriftError) throw bad(`corrupt Parquet footer: ${e.message}`, e);
    throw e;
  }
  try {
    return { layout: decodeFileMetaData(fmd, source.size, footerLen), bytes };
  } catch (e: unknown) {
    if (e instanceof FooterShapeError) throw bad(`corrupt Parquet footer: ${e.message}`, e);
    throw e;
  }
}

class FooterShapeError extends Error {}

/**
 * What the decoder never reads, by parquet.thrift's ids: per column chunk its statistics, page
 * encoding stats, bloom filter location, size and geospatial statistics (ColumnMetaData 12–17),
 * the page index and encryption fields (ColumnChunk 4–9); per row group its ordinal (RowGroup 7),
 * which the decoder takes from the row group's place instead.
 */
const UNREAD_BY_DECODER: Drop = {
  4: {
    1: { 3: { 12: true, 13: true, 14: true, 15: true, 16: true, 17: true }, 4: true, 5: true, 6: true, 7: true, 8: true, 9: true },
    7: true,
  },
};

/**
 * A footer as the decoder is shown it: re-encoded without what it never reads, and split so that
 * the footer of a file holding any run of the row groups can be made. Each decoder stream opens
 * such a file (the data bytes are the real file's): it parses its own row groups' metadata, not
 * every row group's, and a file of more row groups than the decoder takes at once (32,767) still reads.
 */
export interface DecoderFooter {
  fields: RawField[];
  rowGroups: Uint8Array[];
}

/** Splits a footer (metadata, its length, PAR1) for runFooter. */
export function decoderFooter(footer: Uint8Array): DecoderFooter {
  const fields = structFields(rewriteStruct(footer.subarray(0, footer.length - 8), UNREAD_BY_DECODER));
  const groups = fields.find((f) => f.id === 4);
  return { fields, rowGroups: groups ? listElements(groups.value) : [] };
}

/** The footer (metadata, its length, PAR1) of a file whose row groups are `groups`, `rows` rows in all. */
export function runFooter(footer: DecoderFooter, groups: readonly number[], rows: number): Uint8Array {
  const meta = encodeStruct(
    footer.fields.map((f) => {
      if (f.id === 3) return { id: 3, type: I64_TYPE, value: encodeI64(rows) };
      if (f.id === 4)
        return {
          id: 4,
          type: LIST_TYPE,
          value: encodeList(
            STRUCT_TYPE,
            groups.map((g) => footer.rowGroups[g]!),
          ),
        };
      return f;
    }),
  );
  const out = new Uint8Array(meta.length + 8);
  out.set(meta);
  new DataView(out.buffer).setUint32(meta.length, meta.length, true);
  new DataView(out.buffer).setUint32(meta.length + 4, MAGIC, true);
  return out;
}

/**
 * The fields of FileMetaData we read (parquet.thrift's ids): the schema, num_rows, the key-value
 * metadata, created_by, and per row group its rows and each chunk's path, location, sizes and null count.
 */
const FOOTER_FIELDS: Pick = {
  2: true,
  3: true,
  4: {
    1: { 1: true, 3: { 3: true, 6: true, 7: true, 9: true, 11: true, 12: { 3: true } } },
    3: true,
  },
  5: { 1: true, 2: true },
  6: true,
};

function field<T extends ThriftValue>(s: ThriftStruct, id: number, kind: string, what: string): T {
  const v = s.get(id);
  if (v === undefined) throw new FooterShapeError(`missing ${what}`);
  if (kindOf(v) !== kind) throw new FooterShapeError(`${what} is not a ${kind}`);
  return v as T;
}

function optional<T extends ThriftValue>(s: ThriftStruct, id: number, kind: string): T | undefined {
  const v = s.get(id);
  return v !== undefined && kindOf(v) === kind ? (v as T) : undefined;
}

function kindOf(v: ThriftValue): string {
  if (typeof v === 'number') return 'number';
  if (typeof v === 'boolean') return 'boolean';
  if (v instanceof Uint8Array) return 'binary';
  if (Array.isArray(v)) return 'list';
  return 'struct';
}

const utf8 = new TextDecoder();

function decodeFileMetaData(fmd: ThriftStruct, fileSize: number, footerLen: number): ParquetLayout {
  const schema = field<ThriftValue[]>(fmd, 2, 'list', 'schema');
  const numRows = field<number>(fmd, 3, 'number', 'num_rows');
  const groups = field<ThriftValue[]>(fmd, 4, 'list', 'row_groups');
  const createdByBytes = optional<Uint8Array>(fmd, 6, 'binary');
  const columns = topLevelColumns(schema);
  const dataEnd = fileSize - footerLen;

  const rowGroups = groups.map((g, gi): RowGroup => {
    if (kindOf(g) !== 'struct') throw new FooterShapeError(`row group ${gi} is not a struct`);
    const rg = g as ThriftStruct;
    const chunks = new Map<string, ColumnChunk>();
    for (const c of field<ThriftValue[]>(rg, 1, 'list', `row group ${gi} columns`)) {
      const cc = c as ThriftStruct;
      const md = optional<ThriftStruct>(cc, 3, 'struct');
      if (!md) continue;
      const path = field<ThriftValue[]>(md, 3, 'list', 'path_in_schema');
      if (path.length !== 1) continue;
      const name = utf8.decode(path[0] as Uint8Array);
      if (optional<Uint8Array>(cc, 1, 'binary')) {
        throw new FooterShapeError(`column '${name}' lives in another file, which is not supported`);
      }
      const compressed = field<number>(md, 7, 'number', 'total_compressed_size');
      const dataPage = field<number>(md, 9, 'number', 'data_page_offset');
      const dictPage = optional<number>(md, 11, 'number');
      const start = dictPage ?? dataPage;
      const end = start + compressed;
      if (start < 4 || end > dataEnd) {
        throw new FooterShapeError(
          `column '${name}' in row group ${gi} spans bytes ${start}–${end}, outside the file's data (the file may be truncated)`,
        );
      }
      const stats = optional<ThriftStruct>(md, 12, 'struct');
      const nullCount = stats ? (optional<number>(stats, 3, 'number') ?? null) : null;
      const uncompressed = optional<number>(md, 6, 'number');
      chunks.set(name, { start, end, nullCount, ...(uncompressed !== undefined && { uncompressed }) });
    }
    return { numRows: field<number>(rg, 3, 'number', `row group ${gi} num_rows`), chunks };
  });

  const sum = rowGroups.reduce((n, g) => n + g.numRows, 0);
  if (sum !== numRows) throw new FooterShapeError(`row groups hold ${sum} rows but the file declares ${numRows}`);
  const metadata = keyValues(fmd.get(5));
  const arrowSchema = metadata?.get(ARROW_SCHEMA_KEY);
  const names = schema.map((el) => (kindOf(el) === 'struct' ? (el as ThriftStruct).get(4) : undefined));
  const unsure =
    metadata === null || ![...names, ...(createdByBytes ? [createdByBytes] : [])].every((b) => b instanceof Uint8Array && isUtf8(b));
  return {
    fileSize,
    numRows,
    createdBy: createdByBytes ? utf8.decode(createdByBytes) : null,
    columns,
    rowGroups,
    footer: { start: fileSize - footerLen, end: fileSize },
    ...(arrowSchema !== undefined && { arrowSchema }),
    ...(unsure && { unsureText: true as const }),
  };
}

const ARROW_SCHEMA_KEY = 'ARROW:schema';

/** Key-value metadata (FileMetaData 5) by key (the last of a key wins, as in arrow-rs); null where it is not UTF-8 text of the expected shape. */
function keyValues(kv: ThriftValue | undefined): Map<string, string> | null {
  const out = new Map<string, string>();
  if (kv === undefined) return out;
  if (!Array.isArray(kv)) return null;
  for (const entry of kv) {
    if (!(entry instanceof Map)) return null;
    const key = entry.get(1);
    const value = entry.get(2);
    if (!(key instanceof Uint8Array) || !isUtf8(key) || (value !== undefined && !(value instanceof Uint8Array && isUtf8(value))))
      return null;
    out.set(utf8.decode(key), value === undefined ? '' : utf8.decode(value));
  }
  return out;
}

/** Walks the depth-first schema list and returns the root's direct children. */
function topLevelColumns(schema: ThriftValue[]): ColumnSchema[] {
  const root = schema[0] as ThriftStruct | undefined;
  if (!root) throw new FooterShapeError('empty schema');
  const rootChildren = optional<number>(root, 5, 'number') ?? 0;
  const out: ColumnSchema[] = [];
  let i = 1;
  const skip = (): void => {
    const el = schema[i++] as ThriftStruct | undefined;
    if (!el) throw new FooterShapeError('schema ends early');
    const n = optional<number>(el, 5, 'number') ?? 0;
    for (let k = 0; k < n; k++) skip();
  };
  for (let c = 0; c < rootChildren; c++) {
    const el = schema[i] as ThriftStruct | undefined;
    if (!el || kindOf(el) !== 'struct') throw new FooterShapeError('schema ends early');
    const name = utf8.decode(field<Uint8Array>(el, 4, 'binary', 'schema element name'));
    const children = optional<number>(el, 5, 'number') ?? 0;
    const type = optional<number>(el, 1, 'number');
    const repetition = optional<number>(el, 3, 'number') ?? 0;
    out.push({
      name,
      physical: children > 0 || type === undefined ? null : (PHYSICAL[type] ?? null),
      logical: logicalName(el),
      optional: repetition === 1,
    });
    skip();
  }
  return out;
}

const LOGICAL_UNION: Record<number, string> = {
  1: 'string',
  2: 'map',
  3: 'list',
  4: 'enum',
  5: 'decimal',
  6: 'date',
  7: 'time',
  8: 'timestamp',
  10: 'integer',
  11: 'null',
  12: 'json',
  13: 'bson',
  14: 'uuid',
  15: 'float16',
  16: 'variant',
  17: 'geometry',
  18: 'geography',
};
const CONVERTED: Record<number, string> = {
  0: 'string',
  1: 'map',
  2: 'map',
  3: 'list',
  4: 'enum',
  5: 'decimal',
  6: 'date',
  7: 'time',
  8: 'time',
  9: 'timestamp',
  10: 'timestamp',
  11: 'integer',
  12: 'integer',
  13: 'integer',
  14: 'integer',
  15: 'integer',
  16: 'integer',
  17: 'integer',
  18: 'integer',
  19: 'json',
  20: 'bson',
  21: 'interval',
};

function logicalName(el: ThriftStruct): string | null {
  const lt = optional<ThriftStruct>(el, 10, 'struct');
  if (lt) {
    for (const id of lt.keys()) {
      const name = LOGICAL_UNION[id];
      if (name) return name;
    }
  }
  const ct = optional<number>(el, 6, 'number');
  return ct === undefined ? null : (CONVERTED[ct] ?? null);
}
