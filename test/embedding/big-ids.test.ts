import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runLocal } from '../../lib/local/runner.ts';
import { ID_LIMITS, IdBytesError, concatIds, isDictIds } from '../../lib/embedding/columns.ts';
import { hashIds, mappingJson, writeMappingFragment } from '../../lib/outputs/mapping.ts';
import { ByteWriter } from '../../lib/io/byte-writer.ts';
import { openFileSource } from '../../lib/io/file-source.ts';
import { openParquet, READ_LIMITS } from '../../lib/parquet/reader.ts';
import { useTmp } from '../helpers/tmp.ts';
import { readParquet } from '../helpers/parquet-write.ts';
import { bigIdsTable, writeBigIds, type BigIdsOptions } from '../helpers/big-ids.ts';
import { MemoryJob } from '../helpers/memory-job.ts';

const tmp = useTmp();
const DEFAULT_LIMITS = { ...ID_LIMITS };
afterEach(() => Object.assign(ID_LIMITS, DEFAULT_LIMITS));

/** Python's `json.dump({id: i for i, id in enumerate(ids)})` for ASCII ids. */
function pythonMapping(ids: readonly string[]): string {
  const index = new Map<string, number>();
  ids.forEach((id, i) => index.set(id, i));
  return `{${[...index].map(([id, i]) => `${JSON.stringify(id)}: ${i}`).join(', ')}}`;
}

function idsOf(o: BigIdsOptions): string[] {
  const col = bigIdsTable(o).getChild('id')!;
  return Array.from({ length: o.rows }, (_, i) => String(col.get(i)));
}

// 300 ids of 200 bytes: 60,000 bytes of ids, past the offset limit lowered to 10,000.
const base = { rows: 300, idBytes: 200, rowGroupRows: 120 };

describe('ids past the 2 GiB offset limit (lowered to 10,000 bytes)', () => {
  it.each([
    { name: 'dictionary ids, repeated', dictionary: true, distinct: 16 },
    { name: 'dictionary ids, all distinct', dictionary: true, distinct: 300 },
    { name: 'plain ids, all distinct', dictionary: false, distinct: 300 },
    { name: 'plain ids, repeated', dictionary: false, distinct: 7 },
  ])('$name: the mapping and embeddings.parquet hold every id at its row', async ({ dictionary, distinct }) => {
    const o = { ...base, dictionary, distinct };
    const input = join(tmp(), 'big-ids.parquet');
    writeBigIds(input, o);
    ID_LIMITS.int32 = 10_000;
    const ids = idsOf(o);
    for (const shardRows of [300, 70]) {
      const out = tmp();
      const { mappingPath, manifest } = await runLocal({ input, outDir: out, workers: 1, shardRows, parquet: true });
      expect(readFileSync(mappingPath, 'latin1')).toBe(pythonMapping(ids));
      expect(manifest.outputs.repeatedIds).toBe(distinct < o.rows);
      const rows = await readParquet(join(out, 'embeddings.parquet'));
      expect(Array.from({ length: o.rows }, (_, i) => String(rows.getChild('id')!.get(i)))).toEqual(ids);
    }
  });

  it('repeated dictionary ids through the serverless pipeline: the same mapping', async () => {
    const o = { ...base, dictionary: true, distinct: 16 };
    const input = join(tmp(), 'big-ids.parquet');
    writeBigIds(input, o);
    ID_LIMITS.int32 = 10_000;
    const job = await MemoryJob.create({ shardRows: 70 });
    try {
      await job.upload('incoming/big-ids.parquet', readFileSync(input));
      await job.settled();
      const mapping = job.output('big-ids', 'id_to_index.json');
      expect(mapping && Buffer.from(mapping).toString('latin1')).toBe(pythonMapping(idsOf(o)));
    } finally {
      await job.close();
    }
  });

  it('refuses more id bytes than can be held, naming the file and the column', async () => {
    const input = join(tmp(), 'big-ids.parquet');
    writeBigIds(input, { ...base, dictionary: true, distinct: 16 });
    ID_LIMITS.total = 50_000;
    const run = runLocal({ input, outDir: tmp(), workers: 1 });
    await expect(run).rejects.toThrow(IdBytesError);
    await expect(run).rejects.toThrow(
      /big-ids\.parquet: column 'id': rows 0–299 \(shard 0\) holds 60,000 bytes of ids, more than the 50,000/,
    );
  });
});

describe('dictionary ids in memory', () => {
  const enc = new TextEncoder();
  const plain = (ids: string[]) => {
    const bytes = ids.map((s) => enc.encode(s));
    const offsets = new Int32Array(ids.length + 1);
    bytes.forEach((b, i) => (offsets[i + 1] = offsets[i]! + b.length));
    const data = new Uint8Array(offsets[ids.length]!);
    bytes.forEach((b, i) => data.set(b, offsets[i]!));
    return { offsets, data };
  };

  it('two batches with their own dictionaries (an id in both) map and hash as the ids written out', () => {
    const a = { codes: Int32Array.from([0, 1, 0, 2]), dictionary: plain(['x', 'é"y', 'z']) };
    const b = { codes: Int32Array.from([1, 0, 1]), dictionary: plain(['z', 'x']) };
    const rows = ['x', 'é"y', 'x', 'z', 'x', 'z', 'x'];
    const joined = concatIds([a, b]);
    expect(isDictIds(joined)).toBe(true);
    const want = Buffer.from(mappingJson([plain(rows)]));
    expect(Buffer.from(mappingJson([a, b])).equals(want)).toBe(true);
    expect(Buffer.from(mappingJson([joined])).equals(want)).toBe(true);
    expect(hashIds(joined)).toEqual(hashIds(plain(rows)));
    const w = new ByteWriter();
    writeMappingFragment(w, joined, 0, false);
    const v = new ByteWriter();
    writeMappingFragment(v, plain(rows), 0, false);
    expect(Buffer.from(w.bytes()).equals(Buffer.from(v.bytes()))).toBe(true);
  });

  it('joins plain batches sliced from one buffer as a view of it, and others as a copy', () => {
    const bytes = new TextEncoder().encode('..abcdefg');
    const a = { offsets: Int32Array.of(0, 1, 3), data: bytes.subarray(2, 5) };
    const b = { offsets: Int32Array.of(0, 4), data: bytes.subarray(5, 9) };
    const view = concatIds([a, b]) as { offsets: Int32Array; data: Uint8Array };
    expect([...view.offsets]).toEqual([0, 1, 3, 7]);
    expect(view.data.buffer).toBe(bytes.buffer);
    expect(Buffer.from(view.data).toString()).toBe('abcdefg');
    // Not adjoining (a gap, or another buffer): copied.
    for (const other of [
      { offsets: Int32Array.of(0, 3), data: bytes.subarray(6, 9) },
      { offsets: Int32Array.of(0, 3), data: new TextEncoder().encode('efg') },
    ]) {
      const copy = concatIds([a, other]) as { offsets: Int32Array; data: Uint8Array };
      expect(copy.data.buffer).not.toBe(bytes.buffer);
      expect([...copy.offsets]).toEqual([0, 1, 3, 6]);
      expect(Buffer.from(copy.data).toString()).toBe('abcefg');
    }
  });
});

describe('the reader', () => {
  it('decodes a column of long strings in batches of at most the string batch bytes', async () => {
    const input = join(tmp(), 'long-strings.parquet');
    writeBigIds(input, { rows: 300, distinct: 300, idBytes: 200, dictionary: false, rowGroupRows: 300 });
    const source = await openFileSource(input);
    const limits = { ...READ_LIMITS };
    READ_LIMITS.stringBatchBytes = 10_000;
    try {
      const reader = await openParquet(source);
      const sizes: number[] = [];
      for await (const b of reader.batches([{ rowGroup: 0, offset: 0, rows: 300 }], ['id', 'energy'], 65_536)) sizes.push(b.numRows);
      expect(sizes.reduce((s, n) => s + n, 0)).toBe(300);
      expect(Math.max(...sizes)).toBeLessThanOrEqual(50);
    } finally {
      Object.assign(READ_LIMITS, limits);
      await source.close();
    }
  });
});
