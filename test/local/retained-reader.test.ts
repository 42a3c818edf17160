import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { tableFromArrays, type RecordBatch } from 'apache-arrow';
import { openFileSource } from '../../lib/io/file-source.ts';
import { openParquet, type ParquetReader } from '../../lib/parquet/reader.ts';
import { retainColumns } from '../../lib/local/retained-reader.ts';
import type { RowRange } from '../../lib/parquet/row-range.ts';
import { useTmp } from '../helpers/tmp.ts';
import { writeParquet } from '../helpers/parquet-write.ts';

const tmp = useTmp();

/** 57 rows in row groups of 4 (the last of 1); `id` null at row 13, `x` null at row 5, `n` int64. */
function writeSmallGroups(path: string): void {
  const rows = 57;
  const table = tableFromArrays({
    id: Array.from({ length: rows }, (_, i) => (i === 13 ? null : `id-${i}-${'é'.repeat(i % 3)}`)),
    x: Float64Array.from({ length: rows }, (_, i) => (i === 5 ? NaN : i / 7)),
    n: BigInt64Array.from({ length: rows }, (_, i) => BigInt(i * 1_000_003)),
  });
  writeParquet(table, path, { rowGroupRows: 4 });
}

/** Writes the small-groups file and runs `fn` on a reader of it. */
async function withSmallGroups(fn: (plain: ParquetReader) => Promise<void>): Promise<void> {
  const path = join(tmp(), 'small-groups.parquet');
  writeSmallGroups(path);
  const source = await openFileSource(path);
  try {
    await fn(await openParquet(source));
  } finally {
    await source.close();
  }
}

/** Every batch's columns as plain values, concatenated: what a task sees. */
async function rowsOf(reader: ParquetReader, segments: RowRange[], columns: string[], batchSize: number) {
  const out: Record<string, unknown[]> = Object.fromEntries(columns.map((c) => [c, []]));
  const sizes: number[] = [];
  for await (const batch of reader.batches(segments, columns, batchSize)) {
    sizes.push(batch.numRows);
    for (const c of columns) out[c]!.push(...valuesOf(batch, c));
  }
  return { out, rows: sizes.reduce((a, b) => a + b, 0), batches: sizes.length };
}

function valuesOf(batch: RecordBatch, c: string): unknown[] {
  const v = batch.getChild(c)!;
  // Numbers as float64 (null → NaN), as the tasks read them.
  return Array.from({ length: v.length }, (_, i) => (c === 'id' ? v.get(i) : v.isValid(i) ? Number(v.get(i)) : NaN));
}

describe('retainColumns', () => {
  it('serves the same rows as the file, for whole files, spans of row groups and parts of one, in fewer batches', async () => {
    await withSmallGroups(async (plain) => {
      const kept = await retainColumns(plain, ['id', 'x', 'n']);
      expect(kept).not.toBe(plain);
      const groups = plain.layout.rowGroups.map((g, rowGroup) => ({ rowGroup, offset: 0, rows: g.numRows }));
      const cases: [RowRange[], string[]][] = [
        [groups, ['id', 'x', 'n']],
        [groups.slice(2, 9), ['x']],
        [[{ rowGroup: 3, offset: 1, rows: 2 }], ['n', 'id']],
        [[groups[1]!, groups[4]!], ['id']],
      ];
      for (const [segments, columns] of cases) {
        const fromFile = await rowsOf(plain, segments, columns, 5);
        const fromMemory = await rowsOf(kept, segments, columns, 5);
        expect(fromMemory.out).toEqual(fromFile.out);
        expect(fromMemory.rows).toBe(fromFile.rows);
      }
      // Fifteen row groups of at most 4 rows, read in batches of up to 64: one batch from memory.
      expect((await rowsOf(kept, groups, ['x'], 64)).batches).toBe(1);
      expect((await rowsOf(plain, groups, ['x'], 64)).batches).toBe(15);
      const ids = (await rowsOf(kept, groups, ['id'], 64)).out.id!;
      expect(ids[13]).toBeNull();
      expect(ids[14]).toBe('id-14-éé');
    });
  });

  it('serves a file of one row group, decoded in one batch of more than 65,536 rows, as the file does (NaN, nulls, int64, booleans)', async () => {
    const rows = 70_000; // more than a batch of 65,536 rows
    const path = join(tmp(), 'one-group.parquet');
    const table = tableFromArrays({
      id: Array.from({ length: rows }, (_, i) => `t${i}`),
      x: Float64Array.from({ length: rows }, (_, i) => (i % 997 === 3 ? NaN : i / 7)),
      nx: Array.from({ length: rows }, (_, i) => (i === 66_000 ? null : i * 0.5)),
      n: BigInt64Array.from({ length: rows }, (_, i) => BigInt(i * 1_000_003)),
      b: Array.from({ length: rows }, (_, i) => i % 3 === 0),
    });
    writeParquet(table, path, { rowGroupRows: rows });
    const source = await openFileSource(path);
    try {
      const plain = await openParquet(source);
      expect(plain.layout.rowGroups).toHaveLength(1);
      const columns = ['id', 'x', 'nx', 'n', 'b'];
      const kept = await retainColumns(plain, columns);
      expect(kept).not.toBe(plain);
      const all = [{ rowGroup: 0, offset: 0, rows }];
      const segments: RowRange[][] = [all, [{ rowGroup: 0, offset: 65_530, rows: 600 }]];
      for (const s of segments) {
        const fromFile = await rowsOf(plain, s, columns, 65_536);
        const fromMemory = await rowsOf(kept, s, columns, 65_536);
        expect(fromMemory.out).toEqual(fromFile.out);
      }
      const x = (await rowsOf(kept, all, ['x', 'nx'], rows)).out;
      expect(x.x![3]).toBeNaN();
      expect(x.x![4]).toBe(4 / 7);
      expect(x.nx![66_000]).toBeNaN();
      expect(x.nx![65_999]).toBe(65_999 * 0.5);
    } finally {
      await source.close();
    }
  });

  it('reads columns it does not keep from the file', async () => {
    await withSmallGroups(async (plain) => {
      const kept = await retainColumns(plain, ['x']);
      const segments = [{ rowGroup: 0, offset: 0, rows: 4 }];
      expect((await rowsOf(kept, segments, ['x', 'n'], 8)).out).toEqual((await rowsOf(plain, segments, ['x', 'n'], 8)).out);
    });
  });

  it('keeps nothing when the columns cannot be kept, so the tasks meet the problem with their own error', async () => {
    await withSmallGroups(async (plain) => {
      // A column the file lacks: the plain reader is handed back, and its read names the column.
      expect(await retainColumns(plain, ['missing'])).toBe(plain);
    });
  });
});
