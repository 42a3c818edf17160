/**
 * The Arrow types the wasm decoder (arrow-rs) gives a file's columns, read from the footer
 * without it: a writer's Arrow schema (the `ARROW:schema` key, as pyarrow, Polars and arrow-rs
 * write it) decides a column's type where that type fits it; a file without one has each
 * column's type from its Parquet annotation alone. The page decoders, whose batches must hold
 * what the wasm decoder would give, read only annotation-free numbers and UTF-8 strings, whose
 * own types are the plain ones (numeric-pages.ts), so for such a file no wasm is needed at all.
 */
import { tableFromIPC, type DataType } from 'apache-arrow';
import type { ParquetLayout } from './footer.ts';

/** The footer's own types: no Arrow schema to override them. */
export const FOOTER_TYPES = 'footer';

/**
 * By top-level column name, the type a writer's Arrow schema gives it; FOOTER_TYPES when the
 * file has no such schema; null when only the wasm decoder can say: a schema that cannot be read
 * here or does not pair with the columns, or a footer arrow-rs may refuse that is read here
 * without it (text that is not UTF-8, `unsureText`; a schema in other than strict base64 or
 * without its continuation marker), so that such a file meets the decoder, and its refusal,
 * whichever decoder reads its columns. From the layout the footer parser made: nothing is parsed again.
 */
export function arrowHint(
  layout: Pick<ParquetLayout, 'columns' | 'arrowSchema' | 'unsureText'>,
): Map<string, DataType> | typeof FOOTER_TYPES | null {
  const { columns, arrowSchema: encoded } = layout;
  if (layout.unsureText) return null;
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

/** Strict base64, padded: what arrow-rs decodes. */
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const END_OF_STREAM = Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0);
