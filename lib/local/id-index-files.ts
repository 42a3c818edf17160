/**
 * The command line's id index and repeated-id pass, over the workers' part files, in the memory
 * of one partition and one shard whatever the row count (the pipeline's repeats-step.ts, on one
 * machine): each partition is built from every shard's slice of it and its changes to the
 * mapping appended per shard; each shard with changes has its fragment rewritten; then
 * id_index.bin is the header, the partitions and the row blocks, streamed together.
 */
import { createReadStream } from 'node:fs';
import { appendFile, open, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { shardOfRow, type Shard } from '../embedding/shard-plan.ts';
import type { OutputFolder } from '../io/output-folder.ts';
import { openFileSource } from '../io/file-source.ts';
import { ByteWriter } from '../io/byte-writer.ts';
import { buildPartition, DROP, ID_INDEX_FILE, idIndexHeader, rowBlockIds, type IdIndexLayout } from '../outputs/id-index.ts';
import { writeMappingEntries } from '../outputs/mapping.ts';
import { eachFragmentEntry, writeEntry } from '../outputs/fragment.ts';

/** The part files of shard `s` the workers wrote. */
export const keysPart = (s: number): string => `keys-${s}.part`;
export const rowidsPart = (s: number): string => `rowids-${s}.part`;
const changesPart = (s: number) => `changes-${s}.part`;
const indexPart = (p: number) => `index-${p}.part`;

/** What a worker reports of a shard's keys: where each partition's slice starts, and whether it wrote the shard's fragment. */
export interface ShardKeys {
  keyOffsets: readonly number[];
  fragmentWritten: boolean;
}

/** What the pass found, and the fragment each shard's mapping now uses. */
export interface LocalIndex {
  repeatedIds: boolean;
  entries: number;
  fragments: string[];
}

/** Builds `id_index.bin` in the output folder and the shards' final fragments (`fragmentOf(s)` as the workers wrote them). */
export async function writeLocalIdIndex(
  shards: readonly Shard[],
  keys: readonly ShardKeys[],
  layout: IdIndexLayout,
  rows: number,
  out: OutputFolder,
  fragmentOf: (s: number) => string,
): Promise<LocalIndex> {
  const P = 2 ** layout.partBits;
  const sources = await Promise.all(shards.map((s) => openFileSource(out.path(keysPart(s.index)))));
  const partitionBytes: number[] = [];
  const changed = new Set<number>();
  let entries = 0;
  let repeated = 0;
  try {
    for (let p = 0; p < P; p++) {
      const slices = await Promise.all(
        sources.map((src, s) => {
          const start = keys[s]!.keyOffsets[p]!;
          const end = keys[s]!.keyOffsets[p + 1]!;
          return end > start ? src.read(start, end - start) : Promise.resolve(new Uint8Array(0));
        }),
      );
      const built = buildPartition(slices, layout, (row) => shardOfRow(shards, row));
      await writeFile(out.path(indexPart(p)), built.bytes);
      partitionBytes.push(built.bytes.length);
      entries += built.entries;
      repeated += built.repeatedIds;
      for (const [s, pairs] of built.changes) {
        changed.add(s);
        await appendFile(out.path(changesPart(s)), new Uint8Array(pairs.buffer, pairs.byteOffset, pairs.byteLength));
      }
    }
  } finally {
    await Promise.all(sources.map((s) => s.close()));
  }
  const fragments = shards.map((s) => fragmentOf(s.index));
  for (const s of changed) fragments[s] = await rewriteFragment(out, shards[s]!, keys[s]!.fragmentWritten ? fragmentOf(s) : null);

  const header = idIndexHeader({
    layout,
    rows,
    entries,
    partitionBytes,
    blocks: await Promise.all(shards.map(async (s) => ({ firstRow: s.startRow, bytes: (await stat(out.path(rowidsPart(s.index)))).size }))),
  });
  const dest = await open(out.path(ID_INDEX_FILE), 'w');
  try {
    await dest.write(header);
    const pieces = [...partitionBytes.map((_, p) => indexPart(p)), ...shards.map((s) => rowidsPart(s.index))];
    for (const piece of pieces) {
      for await (const chunk of createReadStream(out.path(piece), { highWaterMark: 1 << 20 })) await dest.write(chunk as Buffer);
      await rm(out.path(piece));
    }
  } finally {
    await dest.close();
  }
  await Promise.all(shards.map((s) => rm(out.path(keysPart(s.index)), { force: true })));
  return { repeatedIds: repeated > 0, entries, fragments };
}

/**
 * Rewrites a shard's fragment with Python's dict semantics from its spilled changes: from the
 * fragment the worker wrote, or, where it wrote none (dictionary ids that repeat), from the
 * shard's row block, each dictionary entry escaped once. Returns the new fragment's path.
 */
async function rewriteFragment(out: OutputFolder, shard: Shard, fragment: string | null): Promise<string> {
  const s = shard.index;
  const bytes = await readFile(out.path(changesPart(s)));
  const pairs = new Float64Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  const change = new Map<number, number>();
  for (let i = 0; i < pairs.length; i += 2) change.set(pairs[i]!, pairs[i + 1]!);
  const w = new ByteWriter(1 << 16);
  if (fragment === null) {
    const ids = rowBlockIds(await readFile(out.path(rowidsPart(s))), shard.rows);
    writeMappingEntries(w, ids, shard.startRow, (row) => change.get(row) ?? row);
  } else {
    const source = await openFileSource(fragment);
    try {
      await eachFragmentEntry(source, 8 << 20, (key, index) => {
        const to = change.get(index);
        if (to === DROP) return;
        writeEntry(w, key, to ?? index, index === 0);
      });
    } finally {
      await source.close();
    }
  }
  const path = out.path(`ids-${s}.dict.part`);
  await writeFile(path, w.bytes());
  await rm(out.path(changesPart(s)));
  return path;
}
