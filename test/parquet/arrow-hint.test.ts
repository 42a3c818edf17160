import { openAsBlob, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as pw from 'parquet-wasm';
import { tableFromIPC } from 'apache-arrow';
import { arrowHint, FOOTER_TYPES } from '../../lib/parquet/arrow-hint.ts';
import { loadFooter, type ParquetLayout } from '../../lib/parquet/footer.ts';
import { numericPlan } from '../../lib/parquet/numeric-pages.ts';
import { encodeList, encodeStruct, LIST_TYPE, STRUCT_TYPE, structFields } from '../../lib/parquet/thrift-compact.ts';
import { openFileSource } from '../../lib/io/file-source.ts';
import { fixture, useTmp } from '../helpers/tmp.ts';
import { openParquet } from '../../lib/parquet/reader.ts';
import { InvalidInputError } from '../../lib/errors.ts';

const files = ['writers', 'edge', 'adversarial'].flatMap((group) =>
  readdirSync(fixture(group))
    .filter((f) => f.endsWith('.parquet'))
    .map((f) => `${group}/${f}`),
);

async function footerOf(path: string) {
  const source = await openFileSource(path);
  try {
    return await loadFooter(source);
  } finally {
    await source.close();
  }
}

/** The Arrow type the wasm decoder gives each column, by name. */
async function wasmTypes(path: string): Promise<Map<string, string>> {
  const file = await pw.ParquetFile.fromFile(await openAsBlob(path));
  try {
    const schema = tableFromIPC(file.schema().intoIPCStream()).schema;
    return new Map(schema.fields.map((f) => [f.name, String(f.type)]));
  } finally {
    file.free();
  }
}

/** The footer with its key-value metadata replaced by `entries` (none: the field left out). */
function withMetadata(footer: Uint8Array, entries: [string | Uint8Array, string][]): Uint8Array {
  const binary = (s: string | Uint8Array) => {
    const bytes = typeof s === 'string' ? new TextEncoder().encode(s) : s;
    const len: number[] = [];
    for (let n = bytes.length; ; n >>>= 7) {
      if (n < 0x80) {
        len.push(n);
        break;
      }
      len.push((n & 0x7f) | 0x80);
    }
    return Uint8Array.from([...len, ...bytes]);
  };
  const fields = structFields(footer.subarray(0, footer.length - 8)).filter((f) => f.id !== 5);
  if (entries.length > 0) {
    const kv = entries.map(([k, v]) =>
      encodeStruct([
        { id: 1, type: 8, value: binary(k) },
        { id: 2, type: 8, value: binary(v) },
      ]),
    );
    fields.push({ id: 5, type: LIST_TYPE, value: encodeList(STRUCT_TYPE, kv) });
    fields.sort((a, b) => a.id - b.id);
  }
  const meta = encodeStruct(fields);
  const out = new Uint8Array(meta.length + 8);
  out.set(meta);
  new DataView(out.buffer).setUint32(meta.length, meta.length, true);
  out.set(new TextEncoder().encode('PAR1'), meta.length + 4);
  return out;
}

/** The layout of the file at `path` with its footer replaced by `footer` (its data, and so its chunks' offsets, as they are). */
async function layoutWithFooter(path: string, footer: Uint8Array): Promise<ParquetLayout> {
  const { layout } = await footerOf(path);
  const bytes = Buffer.concat([readFileSync(path).subarray(0, layout.footer.start), footer]);
  return (await loadFooter({ name: path, size: bytes.length, read: async (at, n) => bytes.subarray(at, at + n) })).layout;
}

describe('arrowHint: the Arrow types of the columns without the wasm decoder', () => {
  const tmp = useTmp();

  it.each(files)('%s: the wasm decoder’s types, for every column the page decoders may read', async (name) => {
    const path = fixture(name);
    const { layout, bytes } = await footerOf(path);
    const hint = arrowHint(layout);
    const wasm = await wasmTypes(path);
    const plan = numericPlan(bytes);
    expect(hint).not.toBeNull();
    expect(plan).not.toBeNull();
    const readable = [...plan!.columns.keys(), ...plan!.strings.keys()];
    expect(readable.length).toBeGreaterThan(0);
    if (hint === FOOTER_TYPES) {
      // No Arrow schema: arrow-rs gives each such column its plain type.
      const plain: Record<string, string> = { DOUBLE: 'Float64', FLOAT: 'Float32', INT32: 'Int32', INT64: 'Int64', BOOLEAN: 'Bool' };
      for (const c of readable)
        expect([c, wasm.get(c)]).toEqual([c, plan!.strings.has(c) ? 'Utf8' : plain[plan!.columns.get(c)!.physical]]);
    } else {
      for (const c of layout.columns) expect([c.name, String(hint!.get(c.name))]).toEqual([c.name, wasm.get(c.name)]);
    }
  });

  it('covers writers with an Arrow schema and writers without one', async () => {
    const kinds = await Promise.all(
      files.map(async (name) => {
        const { layout } = await footerOf(fixture(name));
        return arrowHint(layout) === FOOTER_TYPES ? 'footer' : 'schema';
      }),
    );
    expect(new Set(kinds)).toEqual(new Set(['footer', 'schema']));
  });

  it('leaves it to the wasm decoder when the Arrow schema cannot be read or does not match the columns', async () => {
    const path = fixture('writers/pyarrow-snappy.parquet');
    const { layout, bytes } = await footerOf(path);
    /** arrowHint of the fixture with its key-value metadata replaced by `entries`. */
    const hintWith = async (entries: [string | Uint8Array, string][]) =>
      arrowHint(await layoutWithFooter(path, withMetadata(bytes, entries)));
    expect(arrowHint(layout)).toBeInstanceOf(Map);
    expect(await hintWith([])).toBe(FOOTER_TYPES);
    expect(await hintWith([['pandas', '{}']])).toBe(FOOTER_TYPES);
    expect(await hintWith([['ARROW:schema', 'not base64 of a schema']])).toBeNull();
    // What arrow-rs refuses in a footer is left to it: base64 other than strict and padded, a
    // schema without its continuation marker, metadata that is not UTF-8.
    const schema = layout.arrowSchema!;
    const stripped = Buffer.from(schema, 'base64');
    expect(await hintWith([['ARROW:schema', schema]])).toBeInstanceOf(Map);
    expect(await hintWith([['ARROW:schema', `${schema.slice(0, 8)}\n${schema.slice(8)}`]])).toBeNull();
    // pyarrow pads this schema: unpadded, arrow-rs's decoder refuses it.
    expect(schema).toMatch(/=$/);
    expect(await hintWith([['ARROW:schema', schema.replace(/=+$/, '')]])).toBeNull();
    expect(await hintWith([['ARROW:schema', stripped.subarray(4).toString('base64')]])).toBeNull();
    expect(await hintWith([[Uint8Array.of(0x66, 0xff), 'x']])).toBeNull();
    // One column fewer than the file has: arrow-rs pairs them by position.
    expect(arrowHint({ ...layout, columns: layout.columns.slice(1) })).toBeNull();
  });

  it('refuses a file whose footer arrow-rs refuses, whichever decoder reads its columns', async () => {
    const path = fixture('writers/pyarrow-snappy.parquet');
    const { layout, bytes } = await footerOf(path);
    const damaged = withMetadata(bytes, [[Uint8Array.of(0x66, 0xff), 'x']]);
    const file = join(tmp(), 'bad-metadata.parquet');
    writeFileSync(file, Buffer.concat([readFileSync(path).subarray(0, layout.footer.start), damaged]));
    for (const pageDecoders of [true, false]) {
      const source = await openFileSource(file);
      try {
        const read = async () => {
          const reader = await openParquet(source, undefined, { pageDecoders });
          const all = reader.layout.rowGroups.map((g, i) => ({ rowGroup: i, offset: 0, rows: g.numRows }));
          for await (const batch of reader.batches(all, ['danceability', 'id'], 1000)) void batch;
        };
        await expect(read()).rejects.toThrow(InvalidInputError);
      } finally {
        await source.close();
      }
    }
  });
});
