/** id_index.bin: built in pieces, read back through the lookup, against Python's dict semantics computed here by hand. */
import { describe, expect, it } from 'vitest';
import type { IdColumn } from '../../lib/embedding/columns.ts';
import { idIndexLayout, idIndexOf, sortByHash } from '../../lib/outputs/id-index.ts';
import { openIdIndex } from '../../lib/search/id-lookup.ts';
import { OutputFolderError } from '../../lib/outputs/manifest-check.ts';

const utf8 = new TextEncoder();

function column(ids: readonly string[]): IdColumn {
  const parts = ids.map((id) => utf8.encode(id));
  const offsets = new Int32Array(ids.length + 1);
  parts.forEach((p, i) => (offsets[i + 1] = offsets[i]! + p.length));
  const data = new Uint8Array(offsets[ids.length]!);
  parts.forEach((p, i) => data.set(p, offsets[i]!));
  return { offsets, data };
}

function source(bytes: Uint8Array) {
  return { name: 'id_index.bin', size: bytes.length, read: async (o: number, n: number) => bytes.subarray(o, o + n) };
}

/** Python's `{id: i for i, id in enumerate(ids)}`: the last row of every id. */
function dictOf(ids: readonly string[]): Map<string, number> {
  const m = new Map<string, number>();
  ids.forEach((id, i) => m.set(id, i));
  return m;
}

function batches(ids: readonly string[], size: number): IdColumn[] {
  const out: IdColumn[] = [];
  for (let i = 0; i < ids.length; i += size) out.push(column(ids.slice(i, i + size)));
  return out;
}

describe('id index', () => {
  it.each([
    ['unique ids, one partition', 1000, 0, 1 << 20, 300],
    ['unique ids, 16 partitions', 3000, 0, 200, 700],
    ['every 7th id repeats, 8 partitions', 2000, 7, 256, 333],
    ['non-ASCII and empty-ish ids', 500, 3, 64, 100],
  ])('%s: every id finds its last row, every row its id', async (_, n, repeatEvery, partitionRows, shardRows) => {
    const ids = Array.from({ length: n }, (_, i) =>
      repeatEvery && i % repeatEvery === repeatEvery - 1 ? `id-${(i * 31) % (i + 1)}` : partitionRows === 64 ? `é-${i}-😀` : `id-${i}`,
    );
    const dict = dictOf(ids);
    const bytes = idIndexOf(batches(ids, shardRows), partitionRows);
    const lookup = await openIdIndex(source(bytes), n, dict.size < n);
    for (const [id, row] of dict) expect(await lookup.rowOf(id)).toBe(row);
    expect(await lookup.rowOf('no-such-id')).toBeUndefined();
    for (let row = 0; row < n; row++) expect(await lookup.idOf(row)).toBe(dict.get(ids[row]!) === row ? ids[row] : null);
  });

  it('reads a few KB per lookup at 200k rows', async () => {
    const n = 200_000;
    const ids = Array.from({ length: n }, (_, i) => `track-${i.toString(36).padStart(18, '0')}`);
    const bytes = idIndexOf(batches(ids, 50_000), 1 << 16);
    const lookup = await openIdIndex(source(bytes), n, false);
    const opened = lookup.bytesRead;
    expect(await lookup.rowOf(ids[123_456]!)).toBe(123_456);
    expect(await lookup.idOf(199_999)).toBe(ids[199_999]);
    expect(lookup.bytesRead - opened).toBeLessThan(8 * 1024);
    expect(idIndexLayout(n, 1 << 16).partBits).toBe(2);
  });

  it('has the same partitions however the rows are split into shards (only the row blocks follow the shards)', () => {
    const ids = Array.from({ length: 5000 }, (_, i) => `x${i % 4000}`);
    const partitions = (bytes: Uint8Array) => {
      const view = new DataView(bytes.buffer, bytes.byteOffset);
      const P = 2 ** bytes[8]!;
      return bytes.subarray(view.getFloat64(64, true), view.getFloat64(64 + 8 * P, true));
    };
    const whole = idIndexOf(batches(ids, 5000), 1000);
    const split = idIndexOf(batches(ids, 700), 1000);
    expect(whole[8]).toBe(3);
    expect(partitions(split)).toEqual(partitions(whole));
    expect(split.length - whole.length).toBe(20 * 7);
  });

  it('sorts by hash stably', () => {
    const lo = Uint32Array.of(5, 1, 5, 0, 1);
    const hi = Uint32Array.of(1, 2, 1, 2, 0);
    expect([...sortByHash(lo, hi)]).toEqual([4, 0, 2, 3, 1]);
  });

  it('refuses a file that is not an index, and one for another row count', async () => {
    await expect(openIdIndex(source(new Uint8Array(100)), 10, false)).rejects.toThrow(OutputFolderError);
    const bytes = idIndexOf([column(['a', 'b'])]);
    await expect(openIdIndex(source(bytes), 3, false)).rejects.toThrow(/indexes 2 rows, the manifest says 3/);
  });
});
