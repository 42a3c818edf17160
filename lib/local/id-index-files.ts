/**
 * The command line's id index and repeated-id pass, over the workers' part files, in the memory
 * of one partition a worker and one shard whatever the row count (the pipeline's repeats-step.ts,
 * on one machine): each partition is built from every shard's slice of it (the partitions side by
 * side in the workers) and its changes to the mapping appended per shard; each shard with changes
 * has its fragment rewritten; then
 * id_index.bin is the header, the partitions and the row blocks, streamed together.
 */
import { createReadStream } from 'node:fs';
import { open, readFile, rm, stat, writeFile } from 'node:fs/promises';
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
/** Partition p's changes to shard s's mapping. */
const changesPart = (p: number, s: number) => `changes-${p}-${s}.part`;
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
  /** Where the changes to shard s's mapping go: `${changesPrefix}${s}.part`. */
  changesPrefix: string;
}

/** What a partition found: its piece's size, and the shards whose mapping it changes (their (row, index or DROP) pairs written beside). */
export interface PartitionResult {
  bytes: number;
  entries: number;
  repeatedIds: number;
  changedShards: number[];
}

/** Builds one partition from the shards' key files into its piece file, and its changes to the mapping beside it. */
export async function buildPartitionPiece(task: PartitionTask): Promise<PartitionResult> {
  // One key file open at a time: the workers build partitions side by side, over every shard's file.
  const slices: Uint8Array[] = [];
  for (const { path, start, end } of task.slices) {
    if (end <= start) {
      slices.push(new Uint8Array(0));
      continue;
    }
    const source = await openFileSource(path);
    try {
      slices.push(await source.read(start, end - start));
    } finally {
      await source.close();
    }
  }
  const firstRows = task.shardStarts.map((startRow) => ({ startRow }));
  const built = buildPartition(slices, task.layout, (row) => shardOfRow(firstRows, row));
  await writeFile(task.piecePath, built.bytes);
  for (const [s, pairs] of built.changes)
    await writeFile(`${task.changesPrefix}${s}.part`, new Uint8Array(pairs.buffer, pairs.byteOffset, pairs.byteLength));
  return { bytes: built.bytes.length, entries: built.entries, repeatedIds: built.repeatedIds, changedShards: [...built.changes.keys()] };
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
    changesPrefix: out.path(`changes-${p}-`),
  }));
  const built = await build(tasks);
  const partitionBytes = built.map((b) => b.bytes);
  const entries = built.reduce((n, b) => n + b.entries, 0);
  const repeated = built.reduce((n, b) => n + b.repeatedIds, 0);
  // Per shard with changes, the partitions that wrote them.
  const changed = new Map<number, number[]>();
  built.forEach((b, p) => b.changedShards.forEach((s) => changed.set(s, [...(changed.get(s) ?? []), p])));
  const fragments = shards.map((s) => fragmentOf(s.index));
  for (const [s, parts] of changed)
    fragments[s] = await rewriteFragment(out, shards[s]!, parts, keys[s]!.fragmentWritten ? fragmentOf(s) : null);

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
 * Rewrites a shard's fragment with Python's dict semantics from its spilled changes (written by
 * `partitions`): from the
 * fragment the worker wrote, or, where it wrote none (dictionary ids that repeat), from the
 * shard's row block, each dictionary entry escaped once. Returns the new fragment's path.
 */
async function rewriteFragment(out: OutputFolder, shard: Shard, partitions: readonly number[], fragment: string | null): Promise<string> {
  const s = shard.index;
  const change = new Map<number, number>();
  for (const p of partitions) {
    const bytes = await readFile(out.path(changesPart(p, s)));
    const pairs = new Float64Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    for (let i = 0; i < pairs.length; i += 2) change.set(pairs[i]!, pairs[i + 1]!);
  }
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
  for (const p of partitions) await rm(out.path(changesPart(p, s)));
  return path;
}
