import { openAsBlob, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as pw from 'parquet-wasm';
import { tableFromIPC } from 'apache-arrow';
import { arrowHint, FOOTER_TYPES } from '../../lib/parquet/arrow-hint.ts';
import { loadFooter } from '../../lib/parquet/footer.ts';
import { numericPlan } from '../../lib/parquet/numeric-pages.ts';
import { encodeList, encodeStruct, LIST_TYPE, STRUCT_TYPE, structFields } from '../../lib/parquet/thrift-compact.ts';
import { openFileSource } from '../../lib/io/file-source.ts';
import { fixture } from '../helpers/tmp.ts';

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
function withMetadata(footer: Uint8Array, entries: [string, string][]): Uint8Array {
  const binary = (s: string) => {
    const bytes = new TextEncoder().encode(s);
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

describe('arrowHint: the Arrow types of the columns without the wasm decoder', () => {
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
    // One column fewer than the file has: arrow-rs pairs them by position.
    expect(arrowHint(bytes, layout.columns.slice(1))).toBeNull();
    expect(arrowHint(Uint8Array.of(0x19, 0xff, 0xff, 0, 0, 0, 0, 0x50, 0x41, 0x52, 0x31), layout.columns)).toBeNull();
  });
});
