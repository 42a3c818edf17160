/**
 * The command line's id index and repeated-id pass, over the workers' part files, in the memory
 * of one partition a worker and one shard whatever the row count (the pipeline's repeats-step.ts,
 * on one machine): each partition is built from every shard's slice of it (the partitions side by
 * side in the workers) and its changes to the mapping appended per shard; each shard with changes
 * has its fragment rewritten; then
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

/** One partition of the index to build (a task of the runner's workers): every shard's slice of it, and where the piece goes. */
export interface PartitionTask {
  slices: { path: string; start: number; end: number }[];
  layout: IdIndexLayout;
  /** Each shard's first row (shard order), to name a row's shard. */
  shardStarts: number[];
  piecePath: string;
}

/** What a partition found: its piece's size, and per shard with a change the (row, index or DROP) pairs. */
export interface PartitionResult {
  bytes: number;
  entries: number;
  repeatedIds: number;
  changes: [number, Float64Array][];
}

/** Builds one partition from the shards' key files into its piece file. */
export async function buildPartitionPiece(task: PartitionTask): Promise<PartitionResult> {
  const slices = await Promise.all(
    task.slices.map(async ({ path, start, end }) => {
      if (end <= start) return new Uint8Array(0);
      const source = await openFileSource(path);
      try {
        return await source.read(start, end - start);
      } finally {
        await source.close();
      }
    }),
  );
  const firstRows = task.shardStarts.map((startRow) => ({ startRow }));
  const built = buildPartition(slices, task.layout, (row) => shardOfRow(firstRows, row));
  await writeFile(task.piecePath, built.bytes);
  return { bytes: built.bytes.length, entries: built.entries, repeatedIds: built.repeatedIds, changes: [...built.changes] };
}

/**
 * Builds `id_index.bin` in the output folder and the shards' final fragments (`fragmentOf(s)` as
 * the workers wrote them); `build` runs the partitions (buildPartitionPiece: one at a time in
 * process, side by side in the workers) and gives their results in order.
 */
export async function writeLocalIdIndex(
  shards: readonly Shard[],
  keys: readonly ShardKeys[],
  layout: IdIndexLayout,
  rows: number,
  out: OutputFolder,
  fragmentOf: (s: number) => string,
  build: (tasks: PartitionTask[]) => Promise<PartitionResult[]>,
): Promise<LocalIndex> {
  const P = 2 ** layout.partBits;
  const shardStarts = shards.map((s) => s.startRow);
  const tasks = Array.from({ length: P }, (_, p) => ({
    slices: shards.map((s, k) => ({ path: out.path(keysPart(s.index)), start: keys[k]!.keyOffsets[p]!, end: keys[k]!.keyOffsets[p + 1]! })),
    layout,
    shardStarts,
    piecePath: out.path(indexPart(p)),
  }));
  const built = await build(tasks);
  const partitionBytes = built.map((b) => b.bytes);
  const entries = built.reduce((n, b) => n + b.entries, 0);
  const repeated = built.reduce((n, b) => n + b.repeatedIds, 0);
  const changed = new Set<number>();
  for (const b of built) {
    for (const [s, pairs] of b.changes) {
      changed.add(s);
      await appendFile(out.path(changesPart(s)), new Uint8Array(pairs.buffer, pairs.byteOffset, pairs.byteLength));
    }
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
