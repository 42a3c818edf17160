/**
 * The Arrow types the wasm decoder (arrow-rs) gives a file's columns, read from the footer
 * without it: a writer's Arrow schema (the `ARROW:schema` key, as pyarrow, Polars and arrow-rs
 * write it) decides a column's type where that type fits it; a file without one has each
 * column's type from its Parquet annotation alone. The page decoders, whose batches must hold
 * what the wasm decoder would give, read only annotation-free numbers and UTF-8 strings, whose
 * own types are the plain ones (numeric-pages.ts), so for such a file no wasm is needed at all.
 */
import { tableFromIPC, type DataType } from 'apache-arrow';
import { isUtf8 } from 'node:buffer';
import { readStruct, ThriftError, type Pick, type ThriftValue } from './thrift-compact.ts';
import type { ColumnSchema } from './footer.ts';

/** The footer's own types: no Arrow schema to override them. */
export const FOOTER_TYPES = 'footer';

/**
 * By top-level column name, the type a writer's Arrow schema gives it; FOOTER_TYPES when the
 * footer (metadata, length, PAR1) has no such schema; null when only the wasm decoder can say:
 * a schema that cannot be read here or does not pair with the columns, or a footer arrow-rs may
 * refuse that is read here without it (strings that are not UTF-8, a schema in other than strict
 * base64 or without its continuation marker), so that such a file meets the decoder, and its
 * refusal, whichever decoder reads its columns.
 */
export function arrowHint(footer: Uint8Array, columns: readonly ColumnSchema[]): Map<string, DataType> | typeof FOOTER_TYPES | null {
  let encoded: string | undefined;
  try {
    const meta = readStruct(footer.subarray(0, footer.length - 8), 0, PICK).value;
    const schema = meta.get(2);
    const createdBy = meta.get(6);
    if (!Array.isArray(schema) || (createdBy !== undefined && !utf8Bytes(createdBy))) return null;
    for (const el of schema) if (!(el instanceof Map) || !utf8Bytes(el.get(4))) return null;
    const kv = meta.get(5);
    if (kv === undefined) return FOOTER_TYPES;
    if (!Array.isArray(kv)) return null;
    for (const entry of kv) {
      if (!(entry instanceof Map)) return null;
      const key = entry.get(1);
      const value = entry.get(2);
      if (!utf8Bytes(key) || (value !== undefined && !utf8Bytes(value))) return null;
      if (utf8.decode(key) === ARROW_SCHEMA_KEY) encoded = value instanceof Uint8Array ? utf8.decode(value) : '';
    }
  } catch (e: unknown) {
    if (e instanceof ThriftError) return null;
    throw e;
  }
  if (encoded === undefined) return FOOTER_TYPES;
  if (encoded.length % 4 !== 0 || !BASE64.test(encoded)) return null;
  try {
    // An encapsulated IPC schema message, then an end of stream.
    const message = Buffer.from(encoded, 'base64');
    if (message.length < 8 || message.readInt32LE(0) !== -1) return null;
    const stream = new Uint8Array(message.length + 8);
    stream.set(message);
    stream.set(END_OF_STREAM, message.length);
    const fields = tableFromIPC(stream).schema.fields;
    // arrow-rs pairs the schema's fields with the columns by position, and refuses a count that differs.
    if (fields.length !== columns.length) return null;
    return new Map(columns.map((c, i) => [c.name, fields[i]!.type]));
  } catch {
    return null;
  }
}

/** True for a Thrift binary field holding UTF-8 (as arrow-rs reads a Thrift string). */
function utf8Bytes(v: ThriftValue | undefined): v is Uint8Array {
  return v instanceof Uint8Array && isUtf8(v);
}

const ARROW_SCHEMA_KEY = 'ARROW:schema';
/** FileMetaData fields 2 (the schema: its names), 5 (key_value_metadata) and 6 (created_by). */
const PICK: Pick = { 2: { 4: true }, 5: { 1: true, 2: true }, 6: true };
/** Strict base64, padded: what arrow-rs decodes. */
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const END_OF_STREAM = Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0);
const utf8 = new TextDecoder();
