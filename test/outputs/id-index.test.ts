/** id_index.bin: built in pieces, read back through the lookup, against Python's dict semantics computed here by hand. */
import { describe, expect, it } from 'vitest';
import type { IdColumn } from '../../lib/embedding/columns.ts';
import {
  DICT_BLOCK,
  DROP,
  RECORD_HEAD,
  SAME,
  buildPartition,
  idIndexLayout,
  idIndexOf,
  rowBlock,
  rowBlockIds,
  shardKeys,
  sortByHash,
} from '../../lib/outputs/id-index.ts';
import { toPlain } from '../../lib/embedding/columns.ts';
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

  // 2 to 4 shards' slices are merged, more sorted: a repeated id keeps its last row either way.
  it.each([2500, 1700, 1250, 700])(
    'has the same partitions however the rows are split into shards of %i (only the row blocks follow the shards)',
    (shardRows) => {
      const ids = Array.from({ length: 5000 }, (_, i) => `x${i % 4000}`);
      const partitions = (bytes: Uint8Array) => {
        const view = new DataView(bytes.buffer, bytes.byteOffset);
        const P = 2 ** bytes[8]!;
        return bytes.subarray(view.getFloat64(64, true), view.getFloat64(64 + 8 * P, true));
      };
      const whole = idIndexOf(batches(ids, 5000), 1000);
      const split = idIndexOf(batches(ids, shardRows), 1000);
      expect(whole[8]).toBe(3);
      expect(partitions(split)).toEqual(partitions(whole));
      expect(split.length - whole.length).toBe(20 * (Math.ceil(5000 / shardRows) - 1));
    },
  );

  it('builds a partition from records out of order as from the same records sorted', () => {
    const ids = column(Array.from({ length: 3000 }, (_, i) => `track-${i}`));
    const { records } = shardKeys(ids, 0, 0);
    const view = new DataView(records.buffer, records.byteOffset, records.byteLength);
    const each: Uint8Array[] = [];
    for (let at = 0; at < records.length;) {
      const end = at + RECORD_HEAD + view.getUint32(at + 16, true);
      each.push(records.subarray(at, end));
      at = end;
    }
    const reversed = new Uint8Array(records.length);
    each.reverse().reduce((at, r) => (reversed.set(r, at), at + r.length), 0);
    const layout = idIndexLayout(3000);
    const build = (slices: Uint8Array[]) => buildPartition(slices, layout, () => 0).bytes;
    expect(build([reversed])).toEqual(build([records]));
    const cut = each.slice(0, 1000).reduce((n, r) => n + r.length, 0);
    expect(build([reversed.subarray(0, cut), reversed.subarray(cut)])).toEqual(build([records]));
    const none = new Uint8Array(0);
    expect(build([none, records, none])).toEqual(build([records]));
    expect(build([none]).length).toBe(4 * (2 ** layout.bucketBits + 1));
  });

  // Hashes forced to collide (hand-made records: the real hash never does at this size), with ids
  // repeated within and across slices and a later record saying SAME: the merge of sorted slices
  // gives the same piece and changes as the sort of the same records out of order, and Python's
  // dict semantics by hand.
  it.each([1, 2, 3, 5, 17])('keeps colliding ids apart and repeated ids once, from %i slices, merged or sorted', (k) => {
    let seed = 11 + k;
    const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
    const names = Array.from({ length: 12 }, (_, i) => `id-${i}`);
    // Ids i and i + 4 share a hash; 4 hashes, two of them sharing their high word.
    const hashOf = (i: number) =>
      [
        [7, 1],
        [3, 1],
        [9, 2],
        [1, 5],
      ][i % 4]!;
    const rows = 400;
    const ids = Array.from({ length: rows }, () => next() % names.length);
    const per = Math.ceil(rows / k);
    type Rec = { lo: number; hi: number; row: number; id: number };
    const slices: Rec[][] = Array.from({ length: k }, (_, s) =>
      ids
        .slice(s * per, (s + 1) * per)
        .map((id, i) => ({ lo: hashOf(id)[0]!, hi: hashOf(id)[1]!, row: s * per + i, id }))
        .sort((a, b) => a.hi - b.hi || a.lo - b.lo || a.row - b.row),
    );
    /** A slice's records, or with its runs of one hash in reverse order (still in row order within a run). */
    const encode = (recs: Rec[], reverse: boolean) => {
      const units: Rec[][] = [];
      const sameHash = (a: Rec, b: Rec) => a.hi === b.hi && a.lo === b.lo;
      recs.forEach((r, i) => (i > 0 && sameHash(recs[i - 1]!, r) ? units[units.length - 1]!.push(r) : units.push([r])));
      if (reverse) units.reverse();
      const parts = units.flat().map((r, i, all) => {
        const same = i > 0 && all[i - 1]!.id === r.id;
        const idBytes = same ? new Uint8Array(0) : utf8.encode(names[r.id]!);
        const out = new Uint8Array(RECORD_HEAD + idBytes.length);
        const v = new DataView(out.buffer);
        v.setUint32(0, r.lo, true);
        v.setUint32(4, r.hi, true);
        v.setFloat64(8, r.row, true);
        v.setUint32(16, same ? SAME : idBytes.length, true);
        out.set(idBytes, RECORD_HEAD);
        return out;
      });
      return Buffer.concat(parts);
    };
    const layout = { partBits: 0, bucketBits: 2 };
    const shardOf = (row: number) => Math.floor(row / per);
    const merged = buildPartition(
      slices.map((r) => encode(r, false)),
      layout,
      shardOf,
    );
    const sorted = buildPartition(
      slices.map((r) => encode(r, true)),
      layout,
      shardOf,
    );
    expect(Buffer.from(merged.bytes).equals(Buffer.from(sorted.bytes))).toBe(true);
    expect(merged.changes).toEqual(sorted.changes);
    const dict = dictOf(ids.map((i) => names[i]!));
    expect([merged.entries, sorted.entries]).toEqual([dict.size, dict.size]);
    // Each id's record holds its last row; the mapping's changes: its first row gets that index, the others go.
    const v = new DataView(merged.bytes.buffer, merged.bytes.byteOffset, merged.bytes.byteLength);
    const found = new Map<string, number>();
    for (let at = 4 * (2 ** layout.bucketBits + 1); at < merged.bytes.length;) {
      const len = v.getUint32(at + 16, true);
      found.set(Buffer.from(merged.bytes.subarray(at + RECORD_HEAD, at + RECORD_HEAD + len)).toString(), v.getFloat64(at + 8, true));
      at += RECORD_HEAD + len;
    }
    expect(found).toEqual(dict);
    const want = new Map<number, number>();
    for (const [id, last] of dict) {
      const at = ids.map((i, row) => (names[i] === id ? row : -1)).filter((r) => r >= 0);
      if (at.length > 1) at.forEach((r, j) => want.set(r, j === 0 ? last : DROP));
    }
    const got = new Map<number, number>();
    for (const pairs of merged.changes.values()) for (let i = 0; i < pairs.length; i += 2) got.set(pairs[i]!, pairs[i + 1]!);
    expect(got).toEqual(want);
    expect(merged.repeatedIds).toBe([...dict.keys()].filter((id) => ids.filter((i) => names[i] === id).length > 1).length);
  });

  it('sorts by hash stably', () => {
    const lo = Uint32Array.of(5, 1, 5, 0, 1);
    const hi = Uint32Array.of(1, 2, 1, 2, 0);
    expect([...sortByHash(lo, hi)]).toEqual([4, 0, 2, 3, 1]);
  });

  it.each([0, 9, 16, 20])('sorts hashes sharing their top %i bits, with runs of equal ones, as a comparison sort does', (top) => {
    let seed = 7 + top;
    const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
    const n = 5000;
    const lo = new Uint32Array(n);
    const hi = new Uint32Array(n);
    for (let i = 0; i < n; i++) {
      const copy = i > 0 && next() % 4 === 0 ? Math.floor((next() / 2 ** 32) * i) : -1;
      // Copies: the same hash (a repeated id), or the same hi only.
      hi[i] = copy >= 0 ? hi[copy]! : top === 0 ? next() : ((0x2a << (32 - top)) | (next() >>> top)) >>> 0;
      lo[i] = copy >= 0 && next() % 2 === 0 ? lo[copy]! : next();
    }
    const want = Array.from({ length: n }, (_, i) => i).sort((a, b) => hi[a]! - hi[b]! || lo[a]! - lo[b]! || a - b);
    expect([...sortByHash(lo, hi)]).toEqual(want);
  });

  it('refuses a file that is not an index, and one for another row count', async () => {
    await expect(openIdIndex(source(new Uint8Array(100)), 10, false)).rejects.toThrow(OutputFolderError);
    const bytes = idIndexOf([column(['a', 'b'])]);
    await expect(openIdIndex(source(bytes), 3, false)).rejects.toThrow(/indexes 2 rows, the manifest says 3/);
  });

  describe('dictionary ids', () => {
    /** Rows of `ids` as codes into the distinct values, in first-seen order (what a writer's dictionary holds). */
    function dictColumn(ids: readonly string[]): IdColumn {
      const values = [...new Set(ids)];
      const codes = Int32Array.from(ids, (id) => values.indexOf(id));
      return { codes, dictionary: column(values) as { offsets: Int32Array; data: Uint8Array } };
    }
    const big = 'x'.repeat(100_000);
    const ids = Array.from({ length: 600 }, (_, i) => (i % 3 === 0 ? `${big}${i % 5}` : `small-${i % 40}`));

    it('answers as the same ids written out do, and carries each entry once per shard', async () => {
      const dict = dictOf(ids);
      const asDict = idIndexOf([dictColumn(ids.slice(0, 250)), dictColumn(ids.slice(250))], 64);
      const asPlain = idIndexOf([column(ids.slice(0, 250)), column(ids.slice(250))], 64);
      const lookup = await openIdIndex(source(asDict), ids.length, true);
      for (const [id, row] of dict) expect(await lookup.rowOf(id)).toBe(row);
      for (let row = 0; row < ids.length; row += 7) expect(await lookup.idOf(row)).toBe(dict.get(ids[row]!) === row ? ids[row] : null);
      // Each big entry once in the partitions and once in each shard's row block, not once per row.
      expect(asDict.length).toBeLessThan(asPlain.length / 10);
      expect(asDict.length).toBeLessThan(3 * 5 * big.length + 64 * 1024);
    });

    it("writes a repeated entry's later key records without its bytes", () => {
      const keys = shardKeys(dictColumn(ids), 0, 0);
      const view = new DataView(keys.records.buffer);
      let same = 0;
      for (let at = 0; at < keys.records.length;) {
        const len = view.getUint32(at + 16, true);
        if (len === SAME) same++;
        at += 20 + (len === SAME ? 0 : len);
      }
      expect(same).toBe(ids.length - new Set(ids).size);
      expect(keys.records.length).toBeLessThan(ids.length * 20 + 5 * (big.length + 1) + 40 * 9);
    });

    it('keeps a row block as codes when that is smaller, and reads it back', () => {
      const col = dictColumn(ids);
      const block = rowBlock(col);
      expect(new DataView(block.buffer).getUint32(0, true)).toBe(DICT_BLOCK);
      const back = toPlain(rowBlockIds(block, ids.length));
      expect(Buffer.from(back.data).equals(Buffer.from(toPlain(col).data))).toBe(true);
      // Distinct values: written out (codes would not be smaller).
      const plain = rowBlock(dictColumn(['a', 'b', 'c']));
      expect(new DataView(plain.buffer).getUint32(0, true)).toBe(0);
      expect(Buffer.from(toPlain(rowBlockIds(plain, 3)).data).toString()).toBe('abc');
    });
  });
});
