/**
 * The command line's id index and repeated-id pass, over the workers' part files, in the memory
 * of one partition a worker and one shard whatever the row count (the pipeline's repeats-step.ts,
 * on one machine): each partition is built from every shard's slice of it (the partitions side by
 * side in the workers) and its changes to the mapping appended per shard; each shard with changes
 * has its fragment rewritten. id_index.bin is laid out before the partitions are built, each
 * piece at the most it can take (its slices' bytes: exactly that when no id repeats): the workers
 * write their pieces into it in place while the row blocks are copied in behind them, and only
 * when repeated ids made pieces shorter is what follows them moved up.
 */
import { open, readFile, rm, stat, writeFile, type FileHandle } from 'node:fs/promises';
import { shardOfRow, type Shard } from '../embedding/shard-plan.ts';
import type { OutputFolder } from '../io/output-folder.ts';
import { openFileSource } from '../io/file-source.ts';
import { ByteWriter } from '../io/byte-writer.ts';
import {
  buildPartition,
  DROP,
  ID_INDEX_FILE,
  idIndexHeader,
  idIndexHeaderBytes,
  pieceCapacity,
  rowBlockIds,
  type IdIndexLayout,
} from '../outputs/id-index.ts';
import { writeMappingEntries } from '../outputs/mapping.ts';
import { eachFragmentEntry, writeEntry } from '../outputs/fragment.ts';

/** The part files of shard `s` the workers wrote. */
export const keysPart = (s: number): string => `keys-${s}.part`;
export const rowidsPart = (s: number): string => `rowids-${s}.part`;
/** Partition p's changes to shard s's mapping. */
const changesPart = (p: number, s: number) => `changes-${p}-${s}.part`;
/** Bytes a copy into id_index.bin or a move within it takes at a time. */
const COPY_CHUNK = 4 << 20;

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
  /** Where the piece goes: id_index.bin at `offset`, in at most `capacity` bytes (its slices' size). */
  index: { path: string; offset: number; capacity: number };
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
  const { path, offset, capacity } = task.index;
  if (built.bytes.length > capacity) throw new RangeError(`id index: a piece of ${built.bytes.length} bytes for a place of ${capacity}`);
  const file = await open(path, 'r+');
  try {
    await file.write(built.bytes, 0, built.bytes.length, offset);
  } finally {
    await file.close();
  }
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
  const blockBytes = await Promise.all(shards.map(async (s) => (await stat(out.path(rowidsPart(s.index)))).size));
  // The pieces' places, each the most it can take, then the row blocks.
  const capacity = Array.from({ length: P }, (_, p) =>
    pieceCapacity(
      keys.reduce((n, k) => n + k.keyOffsets[p + 1]! - k.keyOffsets[p]!, 0),
      layout,
    ),
  );
  const planned = offsetsAfter(idIndexHeaderBytes(P, shards.length), [...capacity, ...blockBytes]);
  const indexPath = out.path(ID_INDEX_FILE);
  const dest = await open(indexPath, 'w+');
  let blocks: Promise<void> | undefined;
  try {
    // The row blocks go in while the workers build the pieces.
    blocks = (async () => {
      for (const [k, s] of shards.entries()) {
        const from = await open(out.path(rowidsPart(s.index)), 'r');
        try {
          await copyRange(from, 0, dest, planned[P + k]!, blockBytes[k]!);
        } finally {
          await from.close();
        }
      }
    })();
    const tasks = Array.from({ length: P }, (_, p) => ({
      slices: shards.map((s, k) => ({
        path: out.path(keysPart(s.index)),
        start: keys[k]!.keyOffsets[p]!,
        end: keys[k]!.keyOffsets[p + 1]!,
      })),
      layout,
      shardStarts,
      index: { path: indexPath, offset: planned[p]!, capacity: capacity[p]! },
      changesPrefix: out.path(`changes-${p}-`),
    }));
    const [built] = await Promise.all([build(tasks), blocks]);
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
      blocks: shards.map((s, k) => ({ firstRow: s.startRow, bytes: blockBytes[k]! })),
    });
    // Pieces shorter than their places (repeated ids) move everything after them up.
    const sizes = [...partitionBytes, ...blockBytes];
    const actual = offsetsAfter(header.length, sizes);
    for (let i = 0; i < sizes.length; i++) if (actual[i] !== planned[i]) await copyRange(dest, planned[i]!, dest, actual[i]!, sizes[i]!);
    await dest.truncate(actual[sizes.length - 1]! + sizes[sizes.length - 1]!);
    await dest.write(header, 0, header.length, 0);
    await Promise.all(shards.map((s) => rm(out.path(rowidsPart(s.index)))));
    return { repeatedIds: repeated > 0, entries, fragments };
  } finally {
    // A failed build leaves the row blocks' copy running: it ends before the file closes.
    await blocks?.catch(() => {});
    await dest.close();
    await Promise.all(shards.map((s) => rm(out.path(keysPart(s.index)), { force: true })));
  }
}

/** Where each of `sizes` starts, laid end to end from `start`. */
function offsetsAfter(start: number, sizes: readonly number[]): number[] {
  const out: number[] = [];
  let at = start;
  for (const n of sizes) {
    out.push(at);
    at += n;
  }
  return out;
}

/**
 * `length` bytes of `from` at `fromAt` into `to` at `toAt`, a few MiB at a time. Within one file
 * the destination must come first (`toAt < fromAt`: a move up), so copying front to back never
 * overwrites what it has yet to read.
 */
async function copyRange(from: FileHandle, fromAt: number, to: FileHandle, toAt: number, length: number): Promise<void> {
  const buf = Buffer.allocUnsafe(Math.min(COPY_CHUNK, Math.max(1, length)));
  for (let done = 0; done < length;) {
    const n = Math.min(buf.length, length - done);
    const { bytesRead } = await from.read(buf, 0, n, fromAt + done);
    if (bytesRead !== n) throw new RangeError(`id index: ${bytesRead} of ${n} bytes read at ${fromAt + done}`);
    await to.write(buf, 0, n, toAt + done);
    done += n;
  }
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
