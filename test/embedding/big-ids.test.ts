import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runLocal } from '../../lib/local/runner.ts';
import { ID_LIMITS, IdBytesError } from '../../lib/embedding/columns.ts';
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
    await expect(run).rejects.toThrow(/big-ids\.parquet: column 'id': rows 0–299 \(shard 0\) holds 60,000 bytes of ids, more than the 50,000/);
  });
});
