import { openAsBlob, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as pw from 'parquet-wasm';
import { tableFromIPC } from 'apache-arrow';
import { arrowHint, FOOTER_TYPES } from '../../lib/parquet/arrow-hint.ts';
import { loadFooter } from '../../lib/parquet/footer.ts';
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

/** The footer's ARROW:schema value (base64 text). */
function arrowSchemaOf(footer: Uint8Array): string {
  const text = Buffer.from(footer).toString('latin1');
  const at = text.indexOf('ARROW:schema');
  // The value follows its key: a varint length, then the text.
  let p = at + 'ARROW:schema'.length + 1;
  let len = 0;
  for (let shift = 0; ; shift += 7) {
    const b = footer[p++]!;
    len |= (b & 0x7f) << shift;
    if (b < 0x80) break;
  }
  return text.slice(p, p + len);
}

describe('arrowHint: the Arrow types of the columns without the wasm decoder', () => {
  const tmp = useTmp();

  it.each(files)('%s: the wasm decoder’s types, for every column the page decoders may read', async (name) => {
    const path = fixture(name);
    const { layout, bytes } = await footerOf(path);
    const hint = arrowHint(bytes, layout.columns);
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
        const { layout, bytes } = await footerOf(fixture(name));
        return arrowHint(bytes, layout.columns) === FOOTER_TYPES ? 'footer' : 'schema';
      }),
    );
    expect(new Set(kinds)).toEqual(new Set(['footer', 'schema']));
  });

  it('leaves it to the wasm decoder when the Arrow schema cannot be read or does not match the columns', async () => {
    const { layout, bytes } = await footerOf(fixture('writers/pyarrow-snappy.parquet'));
    expect(arrowHint(bytes, layout.columns)).toBeInstanceOf(Map);
    expect(arrowHint(withMetadata(bytes, []), layout.columns)).toBe(FOOTER_TYPES);
    expect(arrowHint(withMetadata(bytes, [['pandas', '{}']]), layout.columns)).toBe(FOOTER_TYPES);
    expect(arrowHint(withMetadata(bytes, [['ARROW:schema', 'not base64 of a schema']]), layout.columns)).toBeNull();
    // What arrow-rs refuses in a footer is left to it: base64 other than strict and padded, a
    // schema without its continuation marker, metadata that is not UTF-8.
    const schema = arrowSchemaOf(bytes);
    const stripped = Buffer.from(schema, 'base64');
    expect(arrowHint(withMetadata(bytes, [['ARROW:schema', schema]]), layout.columns)).toBeInstanceOf(Map);
    expect(arrowHint(withMetadata(bytes, [['ARROW:schema', `${schema.slice(0, 8)}\n${schema.slice(8)}`]]), layout.columns)).toBeNull();
    // pyarrow pads this schema: unpadded, arrow-rs's decoder refuses it.
    expect(schema).toMatch(/=$/);
    expect(arrowHint(withMetadata(bytes, [['ARROW:schema', schema.replace(/=+$/, '')]]), layout.columns)).toBeNull();
    expect(arrowHint(withMetadata(bytes, [['ARROW:schema', stripped.subarray(4).toString('base64')]]), layout.columns)).toBeNull();
    expect(arrowHint(withMetadata(bytes, [[Uint8Array.of(0x66, 0xff), 'x']]), layout.columns)).toBeNull();
    // One column fewer than the file has: arrow-rs pairs them by position.
    expect(arrowHint(bytes, layout.columns.slice(1))).toBeNull();
    expect(arrowHint(Uint8Array.of(0x19, 0xff, 0xff, 0, 0, 0, 0, 0x50, 0x41, 0x52, 0x31), layout.columns)).toBeNull();
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
