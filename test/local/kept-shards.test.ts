/** KeptShards: a shard's first read decodes and keeps its batches, its later reads are served from them, within the budget. */
import { describe, expect, it } from 'vitest';
import { RecordBatch, makeData, Float64 } from 'apache-arrow';
import type { BatchOptions, ParquetReader } from '../../lib/parquet/reader.ts';
import type { RowRange } from '../../lib/parquet/row-range.ts';
import { KeptShards } from '../../lib/local/kept-shards.ts';
import { keepPlan } from '../../lib/local/runner.ts';
import { homesOf, planWorkerShards } from '../../lib/embedding/shard-plan.ts';
import { DEFAULT_SPEC, requiredColumns } from '../../lib/embedding/spec.ts';
import type { ParquetLayout } from '../../lib/parquet/footer.ts';

/** A reader of two float64 columns `a` and `b` (row r holds r and −r) that counts the reads it makes. */
function countingReader() {
  const reads: string[][] = [];
  /** Whether each read asked for batches whose numbers may be reused (BatchOptions.transient). */
  const transient: boolean[] = [];
  const reader: ParquetReader = {
    source: { name: 'fake.parquet', size: 0, read: () => Promise.reject(new Error('not read')), close: async () => {} } as never,
    layout: {} as ParquetReader['layout'],
    timings: { readMs: 0, bytesRead: 0, decodeMs: 0 },
    async *batches(segments: readonly RowRange[], columns: readonly string[], size: number, options?: BatchOptions) {
      reads.push([...columns]);
      transient.push(options?.transient === true);
      for (const s of segments) {
        for (let at = 0; at < s.rows; at += size) {
          const n = Math.min(size, s.rows - at);
          const col = (sign: number) =>
            makeData({ type: new Float64(), length: n, data: Float64Array.from({ length: n }, (_, i) => sign * (s.offset + at + i)) });
          yield new RecordBatch(Object.fromEntries(columns.map((c) => [c, col(c === 'a' ? 1 : -1)])));
        }
      }
    },
  };
  return { reader, reads, transient };
}

const segments: RowRange[] = [{ rowGroup: 0, offset: 0, rows: 10 }];
const collect = async (r: ParquetReader, columns: string[], segs = segments) => {
  const values: number[][] = columns.map(() => []);
  for await (const b of r.batches(segs, columns, 4))
    columns.forEach((c, k) => values[k]!.push(...(b.getChild(c)!.toArray() as Float64Array)));
  return values;
};

describe('KeptShards', () => {
  it('keeps batches that are its own: a read asking for reused buffers is not passed on as such', async () => {
    const { reader, transient } = countingReader();
    const kept = new KeptShards();
    const keeping = kept.keeping(reader, 0, ['a'], 1 << 20);
    for await (const b of keeping.batches(segments, ['a'], 4, { transient: true })) expect(b.numRows).toBeGreaterThan(0);
    const served = kept.serving(reader, 0);
    for await (const b of served.batches([{ rowGroup: 0, offset: 1, rows: 3 }], ['a'], 4, { transient: true })) expect(b.numRows).toBe(3);
    expect(transient).toEqual([false, false]);
  });

  it('decodes a shard once: its statistics read keeps every column, the later reads are served from memory', async () => {
    const { reader, reads } = countingReader();
    const kept = new KeptShards();
    const first = await collect(kept.keeping(reader, 3, ['a', 'b'], 1 << 20), ['a']);
    expect(reads).toEqual([['a', 'b']]);
    expect(kept.bytes).toBe(10 * 2 * 8);
    const again = await collect(kept.serving(reader, 3), ['a', 'b']);
    expect(reads).toHaveLength(1);
    expect(again[0]).toEqual(first[0]);
    expect(again[1]).toEqual(first[0]!.map((x) => -x));
    kept.drop(3);
    expect(kept.bytes).toBe(0);
    await collect(kept.serving(reader, 3), ['a']);
    expect(reads).toHaveLength(2);
  });

  it('counts bytes that batches share once (the page decoders’ string batches share their chunk’s bytes)', async () => {
    const { reader } = countingReader();
    const shared: ParquetReader = {
      ...reader,
      async *batches(segments, columns, size) {
        for await (const b of reader.batches(segments, columns, size)) {
          yield b;
          yield b;
        }
      },
    };
    const kept = new KeptShards();
    await collect(kept.keeping(shared, 0, ['a'], 1 << 20), ['a']);
    expect(kept.bytes).toBe(10 * 8);
  });

  it('reads from the file what it does not hold: another shard, other rows, another column, or over the budget', async () => {
    const { reader, reads } = countingReader();
    const kept = new KeptShards();
    await collect(kept.keeping(reader, 0, ['a'], 1 << 20), ['a']);
    await collect(kept.serving(reader, 1), ['a']);
    await collect(kept.serving(reader, 0), ['a'], [{ rowGroup: 0, offset: 2, rows: 8 }]);
    await collect(kept.serving(reader, 0), ['a', 'b']);
    expect(reads).toHaveLength(4);
    // 160 bytes do not fit beside the 80 held in a budget of 200: the shard is read, not kept.
    const values = await collect(kept.keeping(reader, 5, ['a', 'b'], 200), ['a', 'b']);
    expect(values[0]).toHaveLength(10);
    expect(kept.bytes).toBe(80);
    await collect(kept.serving(reader, 5), ['a']);
    expect(reads).toHaveLength(6);
  });
});

describe('keepPlan', () => {
  const layout = (groups: number, rowsEach: number, idBytesPerRow: number) =>
    ({
      numRows: groups * rowsEach,
      rowGroups: Array.from({ length: groups }, () => ({
        numRows: rowsEach,
        chunks: new Map([['id', { start: 0, end: 0, nullCount: 0, uncompressed: rowsEach * idBytesPerRow }]]),
      })),
    }) as unknown as ParquetLayout;

  it('keeps every column the embedding reads when the busiest worker’s shards fit, and nothing when they do not', () => {
    const small = layout(4, 1_000_000, 26);
    const shards = planWorkerShards(Array(4).fill(1_000_000), 2);
    const plan = keepPlan(small, DEFAULT_SPEC, shards, homesOf(shards, 2), 2);
    expect(plan?.columns).toEqual(requiredColumns(DEFAULT_SPEC));
    expect(plan!.maxBytes).toBeGreaterThan(0);
    // 40M rows: 20M a worker, about 3 GB each, past the 1 GiB a worker kept at most.
    const big = planWorkerShards(Array(40).fill(1_000_000), 2);
    expect(keepPlan(layout(40, 1_000_000, 26), DEFAULT_SPEC, big, homesOf(big, 2), 2)).toBeUndefined();
  });
});
