/**
 * The Arrow types the wasm decoder (arrow-rs) gives a file's columns, read from the footer
 * without it: a writer's Arrow schema (the `ARROW:schema` key, as pyarrow, Polars and arrow-rs
 * write it) decides a column's type where that type fits it; a file without one has each
 * column's type from its Parquet annotation alone. The page decoders, whose batches must hold
 * what the wasm decoder would give, read only annotation-free numbers and UTF-8 strings, whose
 * own types are the plain ones (numeric-pages.ts), so for such a file no wasm is needed at all.
 */
import { tableFromIPC, type DataType } from 'apache-arrow';
import { readStruct, ThriftError, type Pick } from './thrift-compact.ts';
import type { ColumnSchema } from './footer.ts';

/** The footer's own types: no Arrow schema to override them. */
export const FOOTER_TYPES = 'footer';

/**
 * By top-level column name, the type a writer's Arrow schema gives it; FOOTER_TYPES when the
 * footer (metadata, length, PAR1) has no such schema; null when it has one that cannot be read
 * here or does not match the columns (then only the wasm decoder can say).
 */
export function arrowHint(footer: Uint8Array, columns: readonly ColumnSchema[]): Map<string, DataType> | typeof FOOTER_TYPES | null {
  let encoded: string | undefined;
  try {
    const kv = readStruct(footer.subarray(0, footer.length - 8), 0, PICK).value.get(5);
    if (kv === undefined) return FOOTER_TYPES;
    if (!Array.isArray(kv)) return null;
    for (const entry of kv) {
      if (!(entry instanceof Map)) return null;
      const key = entry.get(1);
      const value = entry.get(2);
      if (key instanceof Uint8Array && utf8.decode(key) === ARROW_SCHEMA_KEY)
        encoded = value instanceof Uint8Array ? utf8.decode(value) : '';
    }
  } catch (e: unknown) {
    if (e instanceof ThriftError) return null;
    throw e;
  }
  if (encoded === undefined) return FOOTER_TYPES;
  try {
    // An encapsulated IPC schema message (with or without its continuation marker), then an end of stream.
    const message = Buffer.from(encoded, 'base64');
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

const ARROW_SCHEMA_KEY = 'ARROW:schema';
/** FileMetaData field 5: key_value_metadata, a list of (key, value). */
const PICK: Pick = { 5: { 1: true, 2: true } };
const END_OF_STREAM = Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0);
const utf8 = new TextDecoder();
