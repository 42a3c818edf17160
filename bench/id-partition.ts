/**
 * node --import tsx bench/id-partition.ts [--records 1048576] [--shards 16] [--repeat-every 10] [--runs 3]
 * The CPU of the repeated-id pass's two tasks, in memory, for the simulator's cost model
 * (lib/simulate/figures.ts): one embed shard's extra work for the id index (`shardKeys` and
 * `rowBlock` over 1 Mi rows), one index partition (`buildPartition` over `--records` key records
 * of 22-byte ids, cut from `--shards` shards, every `--repeat-every`th row repeating an earlier id)
 * and one fragment rewrite (parse a 1 Mi-row mapping fragment, apply its changes, write it), as
 * runRewriteShard does. Prints medians, and the partition's heap + array-buffer growth.
 */
import { parseArgs } from 'node:util';
import { ByteWriter } from '../lib/io/byte-writer.ts';
import { writeMappingFragment } from '../lib/outputs/mapping.ts';
import { buildPartition, DROP, rowBlock, shardKeys } from '../lib/outputs/id-index.ts';
import { parseEntries, writeEntry } from '../lib/outputs/fragment.ts';
import { median } from './measure.ts';
import { idColumn, spotifyId } from './synthetic-ids.ts';

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: String(1 << 20) },
    shards: { type: 'string', default: '16' },
    'repeat-every': { type: 'string', default: '10' },
    runs: { type: 'string', default: '3' },
  },
});
const records = Number(values.records);
const shards = Number(values.shards);
const every = Number(values['repeat-every']);
const runs = Number(values.runs);
/** Every `every`th row takes the id of the row `every / 2` before it. */
const idOf = (r: number) => spotifyId(every > 0 && r % every === every - 1 ? r - Math.ceil(every / 2) : r);

const timed = <T>(f: () => T): [T, number] => {
  const t = performance.now();
  const out = f();
  return [out, (performance.now() - t) / 1000];
};
const fmt = (x: number, d = 2) => x.toFixed(d);
const MI = 1 << 20;

// One embed shard's id-index work: 1 Mi rows' keys (partBits 0: one partition) and row block.
const shardIds = idColumn(0, MI, idOf);
const embedTimes: number[] = [];
let keyBytes = 0;
let blockBytes = 0;
for (let r = 0; r < runs; r++) {
  const [[k, b], s] = timed(() => [shardKeys(shardIds, 0, 10), rowBlock(shardIds)] as const);
  keyBytes = k.records.length;
  blockBytes = b.length;
  embedTimes.push(s);
}

// One partition: `records` records from `shards` shards (partBits 0, as if every record fell in it).
const per = Math.ceil(records / shards);
const slices = Array.from(
  { length: shards },
  (_, s) => shardKeys(idColumn(s * per, Math.min(per, records - s * per), idOf), s * per, 0).records,
);
const layout = { partBits: 0, bucketBits: 15 };
global.gc?.();
const before = process.memoryUsage();
const partTimes: number[] = [];
let built = buildPartition(slices, layout, (row) => Math.floor(row / per));
const after = process.memoryUsage();
for (let r = 0; r < runs; r++) partTimes.push(timed(() => (built = buildPartition(slices, layout, (row) => Math.floor(row / per))))[1]);

// One fragment rewrite: 1 Mi entries parsed, the changes applied, the fragment written again.
const frag = new ByteWriter(MI * 36);
writeMappingFragment(frag, shardIds, 0, false);
const fragment = frag.bytes();
const change = new Map<number, number>();
for (let i = every - 1; every > 0 && i < MI; i += every) {
  change.set(i - Math.ceil(every / 2), i);
  change.set(i, DROP);
}
const rewriteTimes: number[] = [];
let outBytes = 0;
for (let r = 0; r < runs; r++) {
  rewriteTimes.push(
    timed(() => {
      const out = new ByteWriter(fragment.length);
      parseEntries(fragment, true, (key, index) => {
        const to = change.get(index);
        if (to === DROP) return;
        writeEntry(out, key, to ?? index, index === 0);
      });
      outBytes = out.length;
    })[1],
  );
}

const mib = (b: number) => fmt(b / MI, 0);
process.stdout.write(
  [
    `bench/id-partition.ts, ${runs} runs (medians), 22-byte ids, every ${every}th row repeated`,
    '',
    '| task | seconds | per record (µs) | bytes |',
    '|---|---:|---:|---:|',
    `| embed shard: shardKeys + rowBlock, ${MI.toLocaleString('en-US')} rows | ${fmt(median(embedTimes), 3)} | ${fmt((median(embedTimes) * 1e6) / MI, 3)} | keys ${mib(keyBytes)} MiB, row block ${mib(blockBytes)} MiB |`,
    `| index partition: buildPartition, ${records.toLocaleString('en-US')} records from ${shards} shards | ${fmt(median(partTimes), 3)} | ${fmt((median(partTimes) * 1e6) / records, 3)} | piece ${mib(built.bytes.length)} MiB, ${built.entries} entries, ${built.repeatedIds} repeated |`,
    `| fragment rewrite, ${MI.toLocaleString('en-US')} entries, ${change.size.toLocaleString('en-US')} changes | ${fmt(median(rewriteTimes), 3)} | ${fmt((median(rewriteTimes) * 1e6) / MI, 3)} | ${mib(fragment.length)} → ${mib(outBytes)} MiB |`,
    '',
    `partition memory (first build): heap +${mib(after.heapUsed - before.heapUsed)} MiB, array buffers +${mib(after.arrayBuffers - before.arrayBuffers)} MiB, RSS +${mib(after.rss - before.rss)} MiB; inputs ${mib(slices.reduce((n, s) => n + s.length, 0))} MiB`,
    '',
  ].join('\n'),
);
