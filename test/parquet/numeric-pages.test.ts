import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Bool, Field, Float32, Float64, Int32, Int64, Schema, Table, Utf8, makeData, makeVector, vectorFromArray } from 'apache-arrow';
import { Compression } from 'parquet-wasm';
import { openFileSource } from '../../lib/io/file-source.ts';
import { loadFooter } from '../../lib/parquet/footer.ts';
import { openParquet, READ_LIMITS } from '../../lib/parquet/reader.ts';
import { decodeNumericChunk, numericPlan, NumericCursor, PageDecodeError } from '../../lib/parquet/numeric-pages.ts';
import { pageEvents } from '../../lib/parquet/pages.ts';
import { readStruct } from '../../lib/parquet/thrift-compact.ts';
import { decodeStringChunk } from '../../lib/parquet/string-pages.ts';
import { concatIds, toFloat64, toIdColumn, toPlain } from '../../lib/embedding/columns.ts';
import { fixture, useTmp } from '../helpers/tmp.ts';
import { writeParquet, type WriteOptions } from '../helpers/parquet-write.ts';

/**
 * Every numeric column of `path`, through the reader, with the page decoder on or off (the wasm
 * decoder alone), in batches of `batchRows`; `transient`: each batch copied before the next is asked for.
 */
async function readNumbers(path: string, pages: boolean, transient = false, batchRows = 1000): Promise<Map<string, Float64Array>> {
  const saved = READ_LIMITS.pageDecoders;
  READ_LIMITS.pageDecoders = pages;
  const source = await openFileSource(path);
  try {
    const reader = await openParquet(source);
    const { layout } = reader;
    const names = layout.columns
      .filter((c) => c.physical !== null && c.physical !== 'BYTE_ARRAY' && c.logical !== 'timestamp')
      .map((c) => c.name);
    const out = new Map(names.map((c) => [c, new Float64Array(layout.numRows)]));
    const all = layout.rowGroups.map((g, rowGroup) => ({ rowGroup, offset: 0, rows: g.numRows }));
    let at = 0;
    for await (const batch of reader.batches(all, names, batchRows, { transient })) {
      for (const c of names) toFloat64(batch.getChild(c)!, out.get(c)!.subarray(at, at + batch.numRows));
      at += batch.numRows;
    }
    return out;
  } finally {
    READ_LIMITS.pageDecoders = saved;
    await source.close();
  }
}

/** The chunks the page decoder declines (`column@rowGroup: why`), decoding each alone. */
async function declined(path: string): Promise<string[]> {
  const source = await openFileSource(path);
  try {
    const { layout, bytes } = await loadFooter(source);
    const plan = numericPlan(bytes)!;
    const out: string[] = [];
    for (const [g, group] of layout.rowGroups.entries()) {
      for (const name of [...plan.columns.keys(), ...plan.strings.keys()]) {
        const column = plan.columns.get(name);
        const chunk = plan.chunks[g]!.get(name);
        if (!chunk) {
          out.push(`${name}@${g}: codec`);
          continue;
        }
        const range = group.chunks.get(name)!;
        const data = await source.read(range.start, range.end - range.start);
        try {
          if (column) decodeNumericChunk(data, column, chunk, group.numRows, new Float64Array(group.numRows), 0);
          else decodeStringChunk(data, plan.strings.get(name)!.optional, chunk, group.numRows, range.uncompressed ?? 1);
        } catch (e: unknown) {
          if (!(e instanceof PageDecodeError)) throw e;
          out.push(`${name}@${g}: ${e.message}`);
        }
      }
    }
    return out;
  } finally {
    await source.close();
  }
}

/** The `id` column of `path`, through the reader, page decoder on or off: its ids written out. */
async function readIds(path: string, pages: boolean): Promise<{ offsets: number[]; data: Buffer }> {
  READ_LIMITS.pageDecoders = pages;
  const source = await openFileSource(path);
  try {
    const reader = await openParquet(source);
    const all = reader.layout.rowGroups.map((g, rowGroup) => ({ rowGroup, offset: 0, rows: g.numRows }));
    const chunks = [];
    for await (const batch of reader.batches(all, ['id', 'energy'], 700)) chunks.push(toIdColumn(batch.getChild('id')!));
    const plain = toPlain(concatIds(chunks));
    return { offsets: [...plain.offsets], data: Buffer.from(plain.data) };
  } finally {
    READ_LIMITS.pageDecoders = true;
    await source.close();
  }
}

/** The first (column, row) whose bits differ, or null. */
function firstDifference(a: Map<string, Float64Array>, b: Map<string, Float64Array>): string | null {
  expect([...a.keys()]).toEqual([...b.keys()]);
  for (const [c, x] of a) {
    const y = b.get(c)!;
    const xb = new BigUint64Array(x.buffer);
    const yb = new BigUint64Array(y.buffer);
    for (let i = 0; i < xb.length; i++) if (xb[i] !== yb[i]) return `${c} row ${i}: ${x[i]} against ${y[i]}`;
  }
  return null;
}

const fixtures = ['writers', 'edge']
  .flatMap((group) =>
    readdirSync(fixture(group))
      .filter((f) => f.endsWith('.parquet'))
      .map((f) => `${group}/${f}`),
  )
  .concat(['tracks-5k.parquet']);

describe('numeric columns decoded from their pages', () => {
  const tmp = useTmp();

  it.each(fixtures)('%s: the same bits as through parquet-wasm, whole columns or a batch at a time', async (name) => {
    const path = fixture(name);
    const wasm = await readNumbers(path, false);
    expect(firstDifference(await readNumbers(path, true), wasm)).toBeNull();
    expect(firstDifference(await readNumbers(path, true, true), wasm)).toBeNull();
  });

  it.each(fixtures.filter((f) => !f.startsWith('edge/') || /nulls|tricky|categorical|one-row|many/.test(f)))(
    '%s: the same ids as through parquet-wasm',
    async (name) => {
      const path = fixture(name);
      const [direct, wasm] = [await readIds(path, true), await readIds(path, false)];
      expect(direct.offsets).toEqual(wasm.offsets);
      expect(direct.data.equals(wasm.data)).toBe(true);
    },
  );

  // Snappy and uncompressed chunks of plain numbers are all read from their pages, whatever the writer.
  it.each([
    'writers/pyarrow-snappy',
    'writers/pyarrow-none',
    'writers/pyarrow-nodict',

    'writers/duckdb-snappy',
    'writers/fastparquet-snappy',
    'edge/nulls',
    'edge/bool-explicit-nulls',
    'edge/float32-features',
    'edge/int32-year',
    'tracks-5k',
  ])('%s: no chunk declined', async (name) => {
    expect(await declined(fixture(`${name}.parquet`))).toEqual([]);
  });

  it('declines what it does not decode: other codecs, byte-stream-split', async () => {
    expect((await declined(fixture('writers/pyarrow-zstd.parquet'))).every((d) => d.endsWith(': codec'))).toBe(true);
    expect(await declined(fixture('writers/pyarrow-bytestreamsplit.parquet'))).toContainEqual(expect.stringMatching(/encoding 9/));
  });

  /** A table of every numeric type, with nulls in every column (every 7th row), and values that stress conversion. */
  function numericTable(n: number): Table {
    const nulls = new Uint8Array(Math.ceil(n / 8)).fill(0xff);
    for (let i = 0; i < n; i += 7) nulls[i >> 3]! &= ~(1 << (i & 7));
    const f64 = Float64Array.from({ length: n }, (_, i) => (i % 11 === 0 ? -0 : i % 13 === 0 ? NaN : Math.sin(i) * 1e3));
    const f32 = Float32Array.from({ length: n }, (_, i) => Math.fround(Math.cos(i) / 3));
    const i32 = Int32Array.from({ length: n }, (_, i) => (i % 5 === 0 ? -(2 ** 31) : (i * 2654435761) | 0));
    // Beyond 2^53 too: the BigInt path's rounding.
    const i64 = BigInt64Array.from({ length: n }, (_, i) => (i % 3 === 0 ? BigInt(i) * 9007199254740993n - 2n ** 62n : BigInt(i % 17)));
    const bools = new Uint8Array(Math.ceil(n / 8)).map((_, i) => (i * 37) & 0xff);
    const data = (
      type: Float64 | Float32 | Int32 | Int64 | Bool,
      values: Float64Array | Float32Array | Int32Array | BigInt64Array | Uint8Array,
    ) => makeVector(makeData({ type, length: n, nullCount: Math.ceil(n / 7), nullBitmap: nulls, data: values } as never));
    const small = Float64Array.from({ length: n }, (_, i) => i % 4); // dictionary-encoded by any writer
    return new Table(
      new Schema(
        ['f64', 'f32', 'i32', 'i64', 'bool', 'small', 'req'].map(
          (c) =>
            new Field(
              c,
              c === 'f32'
                ? new Float32()
                : c === 'i32'
                  ? new Int32()
                  : c === 'i64'
                    ? new Int64()
                    : c === 'bool'
                      ? new Bool()
                      : new Float64(),
              c !== 'req',
            ),
        ),
      ),
      {
        f64: data(new Float64(), f64),
        f32: data(new Float32(), f32),
        i32: data(new Int32(), i32),
        i64: data(new Int64(), i64),
        bool: data(new Bool(), bools),
        small: data(new Float64(), small),
        req: vectorFromArray(Float64Array.from({ length: n }, (_, i) => i / 3)),
      } as never,
    );
  }

  it.each([
    ['snappy, dictionary, v1 pages', { compression: Compression.SNAPPY }],
    ['snappy, no dictionary, v2 pages', { compression: Compression.SNAPPY, dictionary: false, pageV2: true }],
    ['snappy, dictionary, v2 pages', { compression: Compression.SNAPPY, pageV2: true }],
    ['uncompressed, dictionary, v1 pages', { compression: Compression.UNCOMPRESSED }],
    ['uncompressed, no dictionary, v2 pages', { compression: Compression.UNCOMPRESSED, dictionary: false, pageV2: true }],
  ] as [string, WriteOptions][])(
    'nulls and every numeric type written by arrow-rs, %s: same bits, only delta-encoded ints declined',
    async (_, options) => {
      const path = join(tmp(), 'numbers.parquet');
      writeParquet(numericTable(30_001), path, { ...options, rowGroupRows: 12_000 });
      // arrow-rs writes the integers of v2 pages without a dictionary as DELTA_BINARY_PACKED (5).
      const delta = options.pageV2 && options.dictionary === false;
      const expected = delta ? ['i32', 'i64'].flatMap((c) => [0, 1, 2].map((g) => `${c}@${g}: encoding 5`)) : [];
      expect((await declined(path)).sort()).toEqual(expected.sort());
      expect(firstDifference(await readNumbers(path, true), await readNumbers(path, false))).toBeNull();
    },
  );

  it('a partial row group and batches across it: the same rows as parquet-wasm gives', async () => {
    const path = join(tmp(), 'numbers.parquet');
    writeParquet(numericTable(5000), path, { rowGroupRows: 5000 });
    const read = async (pages: boolean, transient = false) => {
      READ_LIMITS.pageDecoders = pages;
      const source = await openFileSource(path);
      try {
        const reader = await openParquet(source);
        const rows: number[] = [];
        for await (const b of reader.batches([{ rowGroup: 0, offset: 1234, rows: 3000 }], ['f64', 'i64', 'bool'], 300, { transient })) {
          const x = [toFloat64(b.getChild('f64')!), toFloat64(b.getChild('i64')!), toFloat64(b.getChild('bool')!)];
          for (let i = 0; i < b.numRows; i++) rows.push(x[0]![i]!, x[1]![i]!, x[2]![i]!);
        }
        return rows;
      } finally {
        READ_LIMITS.pageDecoders = true;
        await source.close();
      }
    };
    const direct = await read(true);
    expect(direct).toHaveLength(9000);
    expect(direct).toEqual(await read(false));
    expect(await read(true, true)).toEqual(direct);
  });

  it('corrupt pages are declined, never misread', async () => {
    const path = join(tmp(), 'numbers.parquet');
    writeParquet(numericTable(4000), path, { compression: Compression.SNAPPY, dictionary: false });
    const source = await openFileSource(path);
    try {
      const { layout, bytes } = await loadFooter(source);
      const plan = numericPlan(bytes)!;
      const range = layout.rowGroups[0]!.chunks.get('f64')!;
      const good = await source.read(range.start, range.end - range.start);
      const decode = (data: Uint8Array) =>
        decodeNumericChunk(data, plan.columns.get('f64')!, plan.chunks[0]!.get('f64')!, 4000, new Float64Array(4000), 0);
      expect(() => decode(good.subarray(0, good.length - 10))).toThrow(PageDecodeError);
      expect(() => decode(good.subarray(0, 5))).toThrow(PageDecodeError);
      expect(() =>
        decodeNumericChunk(good, plan.columns.get('f64')!, plan.chunks[0]!.get('f64')!, 3999, new Float64Array(4000), 0),
      ).toThrow(PageDecodeError);
      // Bytes flipped all over the chunk: declined or decoded, never another kind of error.
      for (let k = 0; k < 200; k++) {
        const bad = good.slice();
        const at = (k * 7919) % bad.length;
        bad[at] = bad[at]! ^ 0x5a;
        const outcome = (() => {
          try {
            decode(bad);
            return 'decoded';
          } catch (e: unknown) {
            return e instanceof PageDecodeError ? 'declined' : e;
          }
        })();
        expect(['decoded', 'declined']).toContain(outcome);
      }
    } finally {
      await source.close();
    }
  });
  it('a chunk read a few values at a time: the values decoded whole, and the same refusals', async () => {
    const path = join(tmp(), 'numbers.parquet');
    writeParquet(numericTable(30_001), path, { rowGroupRows: 30_001, dataPageBytes: 4096 });
    const source = await openFileSource(path);
    try {
      const { layout, bytes } = await loadFooter(source);
      const plan = numericPlan(bytes)!;
      const rows = 30_001;
      for (const name of ['f64', 'f32', 'i32', 'i64', 'bool', 'small', 'req']) {
        const range = layout.rowGroups[0]!.chunks.get(name)!;
        const data = await source.read(range.start, range.end - range.start);
        const column = plan.columns.get(name)!;
        const chunk = plan.chunks[0]!.get(name)!;
        const whole = new Float64Array(rows);
        decodeNumericChunk(data, column, chunk, rows, whole, 0);
        // Steps of 1 to 5,000 values, across page boundaries, some skipped.
        const stepped = new Float64Array(rows).fill(7);
        const cursor = new NumericCursor(data, column, chunk, rows);
        for (let at = 0, k = 0; at < rows; k++) {
          const n = Math.min(rows - at, [1, 77, 5000, 333, 2][k % 5]!);
          cursor.read(k % 7 === 3 ? null : stepped, at, n);
          if (k % 7 === 3) stepped.set(whole.subarray(at, at + n), at);
          at += n;
        }
        expect(new BigUint64Array(stepped.buffer)).toEqual(new BigUint64Array(whole.buffer));
        // The checks of a whole decode, met by the read that reaches them.
        const readAll = (bytes: Uint8Array, n: number) => new NumericCursor(bytes, column, chunk, n).read(new Float64Array(n), 0, n);
        expect(() => readAll(data, rows - 1)).toThrow(PageDecodeError);
        // A chunk of no rows is checked at once (there is no read to meet its pages).
        expect(() => new NumericCursor(data, column, chunk, 0)).toThrow(PageDecodeError);
        expect(() => readAll(data.subarray(0, data.length - 10), rows)).toThrow(PageDecodeError);
        const longer = new Uint8Array(data.length + 3);
        longer.set(data);
        expect(() => readAll(longer, rows)).toThrow(PageDecodeError);
        // Only the read that reaches the bad bytes throws: the first values come out first.
        const cut = new NumericCursor(data.subarray(0, data.length - 10), column, chunk, rows);
        expect(() => cut.read(new Float64Array(100), 0, 100)).not.toThrow();
      }
    } finally {
      await source.close();
    }
  });

  it('a later page the page decoders do not read: the run goes on from the wasm decoder, from the batch that met it', async () => {
    const n = 20_000;
    // Distinct int64s outgrow a small dictionary: arrow-rs's v2 pages then fall back to DELTA_BINARY_PACKED.
    const table = new Table({
      big: vectorFromArray(BigInt64Array.from({ length: n }, (_, i) => BigInt(i * 7919 - 50_000))),
      x: vectorFromArray(Float64Array.from({ length: n }, (_, i) => Math.sqrt(i))),
    });
    const path = join(tmp(), 'fallback.parquet');
    writeParquet(table, path, { pageV2: true, rowGroupRows: 8_000, dictionaryPageBytes: 8192, dataPageBytes: 2048 });
    // The test's premise: dictionary pages first, then a page the decoders decline, in each row group.
    const source = await openFileSource(path);
    try {
      const { layout, bytes } = await loadFooter(source);
      const plan = numericPlan(bytes)!;
      for (const [g, group] of layout.rowGroups.entries()) {
        const range = group.chunks.get('big')!;
        const data = await source.read(range.start, range.end - range.start);
        const encodings = [...pageEvents(data, false, plan.chunks[g]!.get('big')!, group.numRows)].flatMap((e) =>
          e.kind === 'data' ? [e.page.encoding] : [],
        );
        expect(encodings[0]).toBe(8);
        expect(encodings).toContain(5);
      }
    } finally {
      await source.close();
    }
    const wasm = await readNumbers(path, false);
    for (const batchRows of [300, 1000, 8_000]) expect(firstDifference(await readNumbers(path, true, true, batchRows), wasm)).toBeNull();
  });
  it('a corrupt page met batch by batch is refused as the whole-column path refuses it, ids and all', async () => {
    const n = 24_000;
    const table = new Table({
      id: vectorFromArray(
        Array.from({ length: n }, (_, i) => `id-${i}`),
        new Utf8(),
      ),
      x: vectorFromArray(Float64Array.from({ length: n }, (_, i) => Math.sqrt(i))),
      y: vectorFromArray(Float64Array.from({ length: n }, (_, i) => i * 0.5)),
    });
    const path = join(tmp(), 'pages.parquet');
    writeParquet(table, path, { rowGroupRows: 8000, dictionary: false, dataPageBytes: 4096 });
    const good = readFileSync(path);
    const source = await openFileSource(path);
    const { layout } = await loadFooter(source);
    await source.close();
    const range = layout.rowGroups[1]!.chunks.get('x')!;
    const chunk = good.subarray(range.start, range.end);
    let last = 0;
    for (let pos = 0; pos < chunk.length;) {
      const { value, end } = readStruct(chunk, pos);
      last = pos;
      pos = end + (value.get(3) as number);
    }
    const all = [0, 1, 2].map((g) => ({ rowGroup: g, offset: 0, rows: 8000 }));
    const outcome = async (file: string, transient: boolean) => {
      const src = await openFileSource(file);
      try {
        const reader = await openParquet(src);
        const sums = [0, 0];
        for await (const b of reader.batches(all, ['id', 'x', 'y'], 1000, { transient }))
          ['x', 'y'].forEach((c, j) => (sums[j]! += toFloat64(b.getChild(c)!).reduce((a, v) => a + v, 0)));
        return `read: ${sums.join(', ')}`;
      } catch (e: unknown) {
        return `refused: ${(e as Error).message}`;
      } finally {
        await src.close();
      }
    };
    // Each byte of the last page's header of row group 1's x flipped in turn (its value count among them).
    const bad = join(tmp(), 'bad.parquet');
    const outcomes = new Set<string>();
    for (let at = last; at < last + 30; at++) {
      const bytes = Buffer.from(good);
      bytes[range.start + at]! ^= 0x5a;
      writeFileSync(bad, bytes);
      const whole = await outcome(bad, false);
      outcomes.add(whole.slice(0, 5));
      expect(await outcome(bad, true)).toBe(whole);
    }
    expect(outcomes).toEqual(new Set(['read:', 'refus']));
  });
});
