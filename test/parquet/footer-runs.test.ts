import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tableFromArrays } from 'apache-arrow';
import { decoderFooter, readFooter, runFooter } from '../../lib/parquet/footer.ts';
import { encodeStruct, readStruct, rewriteStruct, structFields, type ThriftStruct } from '../../lib/parquet/thrift-compact.ts';
import { openFileSource } from '../../lib/io/file-source.ts';
import { openParquet } from '../../lib/parquet/reader.ts';
import { writeParquet } from '../helpers/parquet-write.ts';
import { fixture, useTmp } from '../helpers/tmp.ts';

const tmp = useTmp();

/** The footer (metadata, length, PAR1) of a file. */
function footerOf(path: string): Uint8Array {
  const bytes = readFileSync(path);
  const len = bytes.readUInt32LE(bytes.length - 8);
  return new Uint8Array(bytes.subarray(bytes.length - len - 8));
}

/** Every column chunk's ColumnMetaData (FileMetaData 4 → RowGroup 1 → ColumnChunk 3). */
const chunks = (meta: ThriftStruct) =>
  (meta.get(4) as ThriftStruct[]).flatMap((g) => (g.get(1) as ThriftStruct[]).map((c) => c.get(3) as ThriftStruct));

/** Field ids of a decoded struct, recursively, for comparing shapes. */
function ids(s: ThriftStruct): unknown {
  return [...s.entries()].map(([id, v]) => [
    id,
    v instanceof Map ? ids(v) : Array.isArray(v) ? v.map((x) => (x instanceof Map ? ids(x) : x)) : v,
  ]);
}

describe('compact-protocol rewriting', () => {
  it('splits a struct into fields and encodes them back to the same bytes', () => {
    const meta = footerOf(fixture('tracks-5k.parquet'));
    const struct = meta.subarray(0, meta.length - 8);
    expect(encodeStruct(structFields(struct))).toEqual(struct);
  });

  it('drops exactly the fields named, at any depth, and keeps the rest decodable and equal', () => {
    const meta = footerOf(fixture('tracks-5k.parquet'));
    const struct = meta.subarray(0, meta.length - 8);
    const full = readStruct(struct).value;
    const trimmed = readStruct(rewriteStruct(struct, { 6: true, 4: { 1: { 3: { 12: true } } } })).value;
    expect(trimmed.has(6)).toBe(false);
    expect(full.has(6)).toBe(true);
    expect(chunks(full).every((c) => c.has(12))).toBe(true);
    expect(chunks(trimmed).some((c) => c.has(12))).toBe(false);
    for (const c of chunks(full)) c.delete(12);
    full.delete(6);
    expect(ids(trimmed)).toEqual(ids(full));
  });
});

describe('run footers: a file of some of the row groups, for one decoder stream', () => {
  it('decode exactly the rows of their row groups, in any selection', async () => {
    const path = join(tmp(), 'groups.parquet');
    const rows = 1_000;
    writeParquet(
      tableFromArrays({ id: Array.from({ length: rows }, (_, i) => `t${i}`), x: Float64Array.from({ length: rows }, (_, i) => i * 0.5) }),
      path,
      { rowGroupRows: 97 },
    );
    const source = await openFileSource(path);
    try {
      const layout = await readFooter(source);
      expect(layout.rowGroups).toHaveLength(11);
      const footer = decoderFooter(footerOf(path));
      expect(footer.rowGroups).toHaveLength(11);
      // The footer of groups 2 and 5 says so: 194 rows in 2 row groups, no statistics.
      const two = readStruct(runFooter(footer, [2, 5], 194).subarray(0, -8)).value;
      expect(two.get(3)).toBe(194);
      expect((two.get(4) as unknown[]).length).toBe(2);
      const reader = await openParquet(source, layout);
      const start = (g: number) => g * 97;
      for (const groups of [[0], [3, 4, 5], [1, 7, 10], layout.rowGroups.map((_, g) => g)]) {
        const segments = groups.map((g) => ({ rowGroup: g, offset: 0, rows: layout.rowGroups[g]!.numRows }));
        const got: string[] = [];
        for await (const batch of reader.batches(segments, ['id'], 50)) for (const v of batch.getChild('id')!) got.push(String(v));
        const want = groups.flatMap((g) => Array.from({ length: layout.rowGroups[g]!.numRows }, (_, i) => `t${start(g) + i}`));
        expect(got).toEqual(want);
      }
    } finally {
      await source.close();
    }
  });

  it('leave out what the decoder never reads: the chunks’ statistics and the row groups’ ordinals', () => {
    const footer = footerOf(fixture('tracks-5k.parquet'));
    const full = readStruct(footer.subarray(0, -8)).value;
    expect(chunks(full).every((c) => c.has(12))).toBe(true);
    const run = readStruct(runFooter(decoderFooter(footer), [0, 1], 2_000).subarray(0, -8)).value;
    expect(chunks(run)).toHaveLength(2 * (full.get(2) as unknown[]).length - 2);
    expect(chunks(run).some((c) => c.has(12))).toBe(false);
    expect((run.get(4) as ThriftStruct[]).some((g) => g.has(7))).toBe(false);
    expect(run.get(2)).toEqual(full.get(2));
  });
});
