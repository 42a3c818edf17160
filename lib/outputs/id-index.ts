/**
 * `id_index.bin`: the id → row (and row → id) index of an output, read a few KB per lookup at any
 * size. The ids are hashed (`hashHalves`), partitioned by the hash's top bits and bucketed by the
 * next ones; a bucket holds the records `[hash lo u32][hash hi u32][row f64][length u32][id
 * bytes]` of its ids sorted by (hash, row), so an id's record — its id bytes included, which
 * confirm the match — is one small ranged read away. A repeated id has one record, at its last
 * row (what the mapping says). The row → id side is one block per shard, `[(n + 1) u32 offsets][id
 * bytes]` in row order. Layout (little-endian, f64 for every count and offset past 2^32):
 *
 *   0   'TEIDX001'   8   partBits u8, bucketBits u8, 0 u16, row blocks S u32
 *   16  rows f64     24  distinct ids f64      32…63 zero
 *   64  P + 1 f64: absolute offsets of the P = 2^partBits partitions (the last: their end)
 *   then S + 1 pairs (first row f64, absolute offset f64) of the row blocks (the last: rows, end)
 *   then the partitions, each `[(B + 1) u32 bucket offsets, relative][records]` with B = 2^bucketBits,
 *   then the row blocks.
 *
 * The pieces are built apart (the pipeline: one partition per Lambda, one row block per shard)
 * and concatenated behind the header, which needs only their sizes.
 */
import type { IdColumn, IdOffsets } from '../embedding/columns.ts';
import { ID_LIMITS, idBytes, idCount, isDictIds, toPlain } from '../embedding/columns.ts';
import { shardOfRow } from '../embedding/shard-plan.ts';
import { hashHalves } from './mapping.ts';
import { ByteWriter } from '../io/byte-writer.ts';

export const ID_INDEX_FILE = 'id_index.bin';
export const ID_INDEX_MAGIC = 'TEIDX001';
export const ID_INDEX_HEADER_BYTES = 64;
/** Records a build partition holds at most by default on one machine (its memory: about 100 bytes each). */
export const DEFAULT_ID_PARTITION_ROWS = 1 << 20;
/** Partitions a pipeline job has at most by default: one wave of 1,000 invocations, even at 1B rows. */
export const PIPELINE_ID_PARTITIONS = 512;

/**
 * The pipeline's records per partition (one reduce-function invocation each) for `rows` rows:
 * 1Mi (about 170 MiB, a second or so), more past 512 partitions, so that a 1B-row job's pass is
 * one wave and its P × S slice reads no more (the simulator: 100M rows 128 partitions, 1B 512).
 */
export function pipelineIdPartitionRows(rows: number): number {
  return Math.max(DEFAULT_ID_PARTITION_ROWS, Math.ceil(rows / PIPELINE_ID_PARTITIONS));
}

/** A pipeline job's id index layout: `partitionRows` records a partition when set, else the pipeline's default for `rows`. */
export function pipelineIdLayout(rows: number, partitionRows?: number): IdIndexLayout {
  return idIndexLayout(rows, partitionRows ?? pipelineIdPartitionRows(rows));
}
/** Records per bucket on average: one lookup reads about this many (≈ 40 bytes each). */
const BUCKET_IDS = 32;
/** A key record's bytes before the id. */
export const RECORD_HEAD = 20;
/** A row a repeated id's later occurrence no longer has in the mapping. */
export const DROP = -1;
/** A key record's length when its id is the previous record's (a dictionary entry on several rows). */
export const SAME = 0xffffffff;
/** A row block's first word when it holds dictionary codes (a plain block's first offset is 0). */
export const DICT_BLOCK = 0xffffffff;

/** How the ids of `rows` rows are partitioned (for the build) and bucketed (for lookups). */
export interface IdIndexLayout {
  partBits: number;
  bucketBits: number;
}

/** The layout for `rows` rows with build partitions of about `partitionRows` records. */
export function idIndexLayout(rows: number, partitionRows: number = DEFAULT_ID_PARTITION_ROWS): IdIndexLayout {
  const bitsFor = (n: number) => (n <= 1 ? 0 : Math.ceil(Math.log2(n)));
  const partBits = Math.min(16, bitsFor(Math.ceil(rows / Math.max(1, partitionRows))));
  const bucketBits = Math.min(32 - partBits, bitsFor(Math.ceil(rows / 2 ** partBits / BUCKET_IDS)));
  return { partBits, bucketBits };
}

/** The partition of a hash's high word. */
export function partitionOf(hi: number, partBits: number): number {
  return partBits === 0 ? 0 : hi >>> (32 - partBits);
}

/** The bucket (within its partition) of a hash's high word. */
export function bucketOf(hi: number, l: IdIndexLayout): number {
  return l.bucketBits === 0 ? 0 : ((hi << l.partBits) >>> 0) >>> (32 - l.bucketBits);
}

/** The (lo, hi) words of one id's hash, as `hashHalves` computes it. */
export function hashOfId(id: Uint8Array): [number, number] {
  const { lo, hi } = hashHalves({ offsets: Int32Array.of(0, id.length), data: id } as IdColumn);
  return [lo[0]!, hi[0]!];
}

/**
 * A permutation of 0…n−1 sorting (hi, lo), stable: two counting passes over the 16-bit halves
 * of `hi` (least significant first, so its order is kept), then each run of equal `hi` (rare
 * but for repeated ids) ordered by (lo, index). A partition's hashes share their top bits, which
 * costs the passes nothing.
 */
export function sortByHash(lo: Uint32Array, hi: Uint32Array): Uint32Array {
  return sortedByHash(lo, hi).order;
}

/** sortByHash's permutation, and the high words in its order (`hi[order[k]]`, read in sequence). */
function sortedByHash(lo: Uint32Array, hi: Uint32Array): { order: Uint32Array; hi: Uint32Array } {
  const n = lo.length;
  const low = new Uint32Array(65537);
  const high = new Uint32Array(65537);
  for (let i = 0; i < n; i++) {
    const h = hi[i]!;
    low[(h & 0xffff) + 1]!++;
    high[(h >>> 16) + 1]!++;
  }
  for (let b = 1; b <= 65536; b++) {
    low[b]! += low[b - 1]!;
    high[b]! += high[b - 1]!;
  }
  // Pass 1 keeps each row's hi beside it, so pass 2 and the runs read them in sequence.
  const rows = new Uint32Array(n);
  const keys = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const h = hi[i]!;
    const p = low[h & 0xffff]!++;
    rows[p] = i;
    keys[p] = h;
  }
  const order = new Uint32Array(n);
  const sorted = new Uint32Array(n);
  for (let k = 0; k < n; k++) {
    const h = keys[k]!;
    const p = high[h >>> 16]!++;
    order[p] = rows[k]!;
    sorted[p] = h;
  }
  const byLo = (a: number, b: number) => lo[a]! - lo[b]! || a - b;
  for (let s = 0; s < n;) {
    let e = s + 1;
    while (e < n && sorted[e] === sorted[s]) e++;
    if (e - s === 2) {
      // The usual run (an id on two rows): a swap, not a sort call.
      const a = order[s]!;
      const b = order[s + 1]!;
      if (byLo(a, b) > 0) [order[s], order[s + 1]] = [b, a];
    } else if (e - s > 2) order.subarray(s, e).sort(byLo);
    s = e;
  }
  return { order, hi: sorted };
}

/**
 * One shard's key records sorted by (hash, row), with the byte offset where each build
 * partition starts (P + 1 of them): partition p of the shard is `records[offsets[p], offsets[p+1])`.
 * Sorted, not only grouped by partition: `buildPartition` then merges its slices in one pass,
 * each read in sequence (16 slices of 1Mi records in all: 0.26–0.29 s; grouped only, they took a
 * sort of every record, 0.73 s when measured; `bench/id-partition.ts`). A dictionary entry on
 * several rows carries its bytes once: its later records say `SAME` in place of a length (they
 * follow it, having the same hash), so a megabyte id on many rows costs a megabyte here, not one
 * per row.
 */
export function shardKeys(ids: IdColumn, firstRow: number, partBits: number): { records: Uint8Array; offsets: number[] } {
  const n = idCount(ids);
  const { lo, hi } = hashHalves(ids);
  const { offsets: idAt, data } = isDictIds(ids) ? ids.dictionary : ids;
  const codes = isDictIds(ids) ? ids.codes : null;
  const { order, hi: sortedHi } = sortedByHash(lo, hi);
  // Where each row's record goes, in that order; then the records are written in row order, so
  // the id bytes are read in sequence (reading them in hash order missed the cache on every row:
  // 60 % of this function's time). Plain ids' records fit u32 offsets but past 4 GiB.
  const dest = !codes && RECORD_HEAD * n + data.length < 2 ** 32 ? new Uint32Array(n) : new Float64Array(n);
  const same = new Uint8Array(codes ? n : 0);
  // Plain ids of one length (every real track id: 22 bytes) need no look at their offsets here.
  const width = codes ? -1 : commonLength(idAt, n);
  const partitions = 2 ** partBits;
  const offsets = new Array<number>(partitions + 1).fill(0);
  let at = 0;
  let p = 0;
  for (let k = 0; k < n; k++) {
    const i = order[k]!;
    const part = partitionOf(sortedHi[k]!, partBits);
    while (p < part) offsets[++p] = at;
    dest[i] = at;
    // A record repeats the previous one's id when both are the same dictionary entry.
    if (codes && k > 0 && codes[i] === codes[order[k - 1]!]) {
      same[i] = 1;
      at += RECORD_HEAD;
    } else if (width >= 0) at += RECORD_HEAD + width;
    else {
      const e = codes ? codes[i]! : i;
      at += RECORD_HEAD + idAt[e + 1]! - idAt[e]!;
    }
  }
  while (p < partitions) offsets[++p] = at;
  const out = new Uint8Array(at);
  const view = new DataView(out.buffer);
  const dataView = new DataView(data.buffer, data.byteOffset, data.byteLength);
  for (let i = 0; i < n; i++) {
    const d = dest[i]!;
    view.setUint32(d, lo[i]!, true);
    view.setUint32(d + 4, hi[i]!, true);
    view.setFloat64(d + 8, firstRow + i, true);
    if (codes && same[i]) {
      view.setUint32(d + 16, SAME, true);
      continue;
    }
    const e = codes ? codes[i]! : i;
    const s = idAt[e]!;
    const end = idAt[e + 1]!;
    view.setUint32(d + 16, end - s, true);
    copyId(data, dataView, s, end, out, view, d + RECORD_HEAD);
  }
  return { records: out, offsets };
}

/** The length every one of the first `n` ids has, or -1 when they differ. */
function commonLength(offsets: IdOffsets, n: number): number {
  const width = n > 0 ? offsets[1]! - offsets[0]! : 0;
  for (let i = 1; i < n; i++) if (offsets[i + 1]! - offsets[i]! !== width) return -1;
  return width;
}

/**
 * `src[start..end)` (an id's bytes) into `dst` at `at`, exactly (records around it may be
 * written already): a short id 4 bytes at a time through the views, then byte by byte (a
 * subarray per record costs more than the copy, and its garbage).
 */
function copyId(src: Uint8Array, from: DataView, start: number, end: number, dst: Uint8Array, to: DataView, at: number): void {
  if (end - start > 64) {
    dst.set(src.subarray(start, end), at);
    return;
  }
  let j = start;
  let o = at;
  for (; j + 4 <= end; j += 4, o += 4) to.setUint32(o, from.getUint32(j, true), true);
  for (; j < end; j++, o++) dst[o] = src[j]!;
}

/** What a build partition found: its piece of the index, and what the mapping must change. */
export interface BuiltPartition {
  /** `[(B + 1) u32 bucket offsets][records]`. */
  bytes: Uint8Array;
  /** Distinct ids. */
  entries: number;
  /** Ids that occur more than once, and the occurrences the mapping drops. */
  repeatedIds: number;
  droppedEntries: number;
  /** Per shard with a change: pairs (row, the index it gets or DROP), as f64. */
  changes: Map<number, Float64Array>;
}

/**
 * Builds partition `p` from every shard's slice of it (in shard order, hence row order): the
 * records sorted by (hash, row), a repeated id reduced to one record at its last row, and for the
 * mapping, Python's dict semantics: the first occurrence keeps its place with the last index, the
 * others are dropped. `shardOfRow` names the shard of a row. Memory: the partition's records.
 * The slices come sorted, as `shardKeys` writes them, so they are merged in one pass; slices out
 * of order (none of ours) are sorted first, then merged.
 */
export function buildPartition(slices: readonly Uint8Array[], l: IdIndexLayout, shardOfRow: (row: number) => number): BuiltPartition {
  return mergedPartition(slices, l, shardOfRow) ?? mergedPartition(slices.map(sortedSlice), l, shardOfRow)!;
}

/** Collects a partition's changes to the mapping, per shard. */
class Changes {
  readonly byShard = new Map<number, number[]>();
  repeatedIds = 0;
  droppedEntries = 0;
  constructor(private readonly shardOfRow: (row: number) => number) {}

  /** An id on `rows` (ascending, two or more): the first keeps its place with the last's index, the rest are dropped. */
  repeated(rows: readonly number[]): void {
    this.repeatedIds++;
    this.add(rows[0]!, rows[rows.length - 1]!);
    for (let j = 1; j < rows.length; j++) {
      this.add(rows[j]!, DROP);
      this.droppedEntries++;
    }
  }

  pairs(): Map<number, Float64Array> {
    return new Map([...this.byShard].map(([s, list]) => [s, Float64Array.from(list)]));
  }

  private add(row: number, to: number): void {
    const s = this.shardOfRow(row);
    let list = this.byShard.get(s);
    if (!list) this.byShard.set(s, (list = []));
    list.push(row, to);
  }
}

/** A slice's next record in a merge: where it is, its hash, and where its id bytes are (a SAME record's: the last ones read). */
class SliceCursor {
  rec = 0;
  hi = 0;
  lo = 0;
  idAt = 0;
  idLen = 0;
  private at = 0;
  readonly view: DataView;
  constructor(
    readonly bytes: Uint8Array,
    readonly slice: number,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Steps to the next record; false past the last. */
  next(): boolean {
    const a = this.at;
    if (a >= this.bytes.length) return false;
    const v = this.view;
    this.rec = a;
    this.lo = v.getUint32(a, true);
    this.hi = v.getUint32(a + 4, true);
    const ln = v.getUint32(a + 16, true);
    if (ln === SAME) this.at = a + RECORD_HEAD;
    else {
      this.idAt = a + RECORD_HEAD;
      this.idLen = ln;
      this.at = a + RECORD_HEAD + ln;
    }
    return true;
  }

  /** Before `other` in the merge: a lesser hash, or the same in an earlier slice. */
  before(other: SliceCursor): boolean {
    return this.hi !== other.hi ? this.hi < other.hi : this.lo !== other.lo ? this.lo < other.lo : this.slice < other.slice;
  }
}

/**
 * The most bytes a partition's piece can take when its slices hold `sliceBytes` in all: its bucket
 * offsets and those bytes (a record kept has its id bytes, and each id's records carry them at
 * least once); exactly that when no id repeats.
 */
export function pieceCapacity(sliceBytes: number, l: IdIndexLayout): number {
  return 4 * (2 ** l.bucketBits + 1) + sliceBytes;
}

/** A partition's piece as it is written: bucket offsets in front, records in (hash, row) order. */
class PieceWriter {
  readonly bytes: Uint8Array;
  private readonly view: DataView;
  private w: number;
  private bucket = 0;
  entries = 0;
  constructor(
    private readonly l: IdIndexLayout,
    sliceBytes: number,
  ) {
    this.bytes = new Uint8Array(pieceCapacity(sliceBytes, l));
    this.view = new DataView(this.bytes.buffer);
    this.w = pieceCapacity(0, l);
    this.view.setUint32(0, this.w, true);
  }

  /** The record at `rec` of `from` (its hash and row), with the `len` id bytes at `id`. */
  record(from: Uint8Array, src: DataView, rec: number, id: number, len: number): void {
    const view = this.view;
    let w = this.w;
    const hi = src.getUint32(rec + 4, true);
    const bk = bucketOf(hi, this.l);
    while (this.bucket < bk) view.setUint32(4 * ++this.bucket, w, true);
    view.setUint32(w, src.getUint32(rec, true), true);
    view.setUint32(w + 4, hi, true);
    view.setFloat64(w + 8, src.getFloat64(rec + 8, true), true);
    view.setUint32(w + 16, len, true);
    copyId(from, src, id, id + len, this.bytes, view, w + RECORD_HEAD);
    w += RECORD_HEAD + len;
    this.w = w;
    this.entries++;
  }

  /** The piece, its last buckets closed. */
  done(): Uint8Array {
    const buckets = 2 ** this.l.bucketBits;
    while (this.bucket < buckets) this.view.setUint32(4 * ++this.bucket, this.w, true);
    return this.bytes.subarray(0, this.w);
  }
}

/**
 * The piece of slices that are each sorted by (hash, row): a k-way merge of their records (a heap
 * of the slices by their next record's hash, a tie to the earlier slice) straight into the piece,
 * written in sequence from slices read in sequence. Null when a slice turns out not to be sorted.
 */
function mergedPartition(slices: readonly Uint8Array[], l: IdIndexLayout, shardOfRow: (row: number) => number): BuiltPartition | null {
  const heap = slices.map((s, i) => new SliceCursor(s, i)).filter((c) => c.next());
  /** Moves the cursor at `i` down the heap to its place. */
  const siftDown = (i: number) => {
    const n = heap.length;
    for (;;) {
      const c = 2 * i + 1;
      if (c >= n) return;
      const m = c + 1 < n && heap[c + 1]!.before(heap[c]!) ? c + 1 : c;
      if (!heap[m]!.before(heap[i]!)) return;
      [heap[i], heap[m]] = [heap[m]!, heap[i]!];
      i = m;
    }
  };
  for (let i = (heap.length >> 1) - 1; i >= 0; i--) siftDown(i);
  const out = new PieceWriter(
    l,
    slices.reduce((n, s) => n + s.length, 0),
  );
  const changes = new Changes(shardOfRow);
  // The records of one hash when there are several (an id on several rows, or a collision).
  const run: RunRecord[] = [];
  while (heap.length > 0) {
    const c = heap[0]!;
    const { rec, hi, lo, idAt, idLen } = c;
    if (!c.next()) {
      heap[0] = heap[heap.length - 1]!;
      heap.pop();
    } else if (c.hi < hi || (c.hi === hi && c.lo < lo)) return null;
    if (heap.length > 1) siftDown(0);
    const top = heap[0];
    const more = top !== undefined && top.hi === hi && top.lo === lo;
    if (!more && run.length === 0) {
      out.record(c.bytes, c.view, rec, idAt, idLen);
      continue;
    }
    run.push({ c, rec, id: idAt, len: idLen });
    if (!more) {
      writeRun(run, out, changes);
      run.length = 0;
    }
  }
  const bytes = out.done();
  return {
    bytes,
    entries: out.entries,
    repeatedIds: changes.repeatedIds,
    droppedEntries: changes.droppedEntries,
    changes: changes.pairs(),
  };
}

type RunRecord = { c: SliceCursor; rec: number; id: number; len: number };

/** The records of one hash, in row order: grouped by id (a collision keeps both), each group's last kept. */
function writeRun(run: readonly RunRecord[], out: PieceWriter, changes: Changes): void {
  const same = (a: RunRecord, b: RunRecord) =>
    // The same bytes (a dictionary entry's SAME records) need no comparison.
    (a.c === b.c && a.id === b.id) || equalBytes(a.c.bytes, a.id, b.c.bytes, b.id, a.len, b.len);
  const groups: RunRecord[][] = [];
  for (const m of run) {
    const g = groups.find((g) => same(g[0]!, m));
    if (g) g.push(m);
    else groups.push([m]);
  }
  for (const g of groups) {
    const last = g[g.length - 1]!;
    out.record(last.c.bytes, last.c.view, last.rec, last.id, last.len);
    if (g.length > 1) changes.repeated(g.map((m) => m.c.view.getFloat64(m.rec + 8, true)));
  }
}

/**
 * A slice's records sorted by (hash, then their order in the slice), each with its id bytes
 * (a SAME record's are the previous record's): what `mergedPartition` takes from a slice out of
 * order.
 */
function sortedSlice(slice: Uint8Array): Uint8Array {
  const view = new DataView(slice.buffer, slice.byteOffset, slice.byteLength);
  const at: number[] = [];
  const idAt: number[] = [];
  const idLen: number[] = [];
  let bytes = 0;
  for (let a = 0, id = 0, len = 0; a < slice.length;) {
    const ln = view.getUint32(a + 16, true);
    if (ln !== SAME) [id, len] = [a + RECORD_HEAD, ln];
    at.push(a);
    idAt.push(id);
    idLen.push(len);
    bytes += RECORD_HEAD + len;
    a += RECORD_HEAD + (ln === SAME ? 0 : ln);
  }
  const lo = Uint32Array.from(at, (a) => view.getUint32(a, true));
  const hi = Uint32Array.from(at, (a) => view.getUint32(a + 4, true));
  const out = new Uint8Array(bytes);
  const outView = new DataView(out.buffer);
  let w = 0;
  for (const k of sortByHash(lo, hi)) {
    out.set(slice.subarray(at[k]!, at[k]! + 16), w);
    outView.setUint32(w + 16, idLen[k]!, true);
    out.set(slice.subarray(idAt[k]!, idAt[k]! + idLen[k]!), w + RECORD_HEAD);
    w += RECORD_HEAD + idLen[k]!;
  }
  return out;
}

/** Whether `a[i, i + m)` and `b[j, j + n)` hold the same bytes. */
function equalBytes(a: Uint8Array, i: number, b: Uint8Array, j: number, m: number, n: number): boolean {
  if (m !== n) return false;
  if (m > 64) return Buffer.from(a.buffer, a.byteOffset + i, m).equals(b.subarray(j, j + n));
  for (let k = 0; k < m; k++) if (a[i + k] !== b[j + k]) return false;
  return true;
}

/**
 * One shard's row block, in row order: `[(n + 1) u32 offsets into the bytes][id bytes]`, or, for
 * dictionary ids that take less that way, `[DICT_BLOCK u32][d u32][n u32 codes][(d + 1) u32
 * offsets][the d entries' bytes]`. A shard's ids are at most 4 GiB − 1 bytes (IdBytesError), so
 * u32 offsets hold them.
 */
export function rowBlock(ids: IdColumn): Uint8Array {
  const n = idCount(ids);
  if (isDictIds(ids)) {
    const d = ids.dictionary.offsets.length - 1;
    const dictBytes = ids.dictionary.data.length;
    if (12 + 4 * n + 4 * (d + 1) + dictBytes < 4 * (n + 1) + idBytes(ids)) {
      const out = new Uint8Array(12 + 4 * n + 4 * (d + 1) + dictBytes);
      const view = new DataView(out.buffer);
      view.setUint32(0, DICT_BLOCK, true);
      view.setUint32(4, d, true);
      view.setUint32(8, n, true);
      for (let i = 0; i < n; i++) view.setUint32(12 + 4 * i, ids.codes[i]!, true);
      const offsets = 12 + 4 * n;
      const base = ids.dictionary.offsets[0]!;
      for (let k = 0; k <= d; k++) view.setUint32(offsets + 4 * k, ids.dictionary.offsets[k]! - base, true);
      out.set(ids.dictionary.data.subarray(base, ids.dictionary.offsets[d]!), offsets + 4 * (d + 1));
      return out;
    }
  }
  const { offsets, data } = toPlain(ids);
  const base = offsets[0]!;
  const out = new Uint8Array(4 * (n + 1) + (offsets[n]! - base));
  // Little-endian u32s, as the typed arrays of this platform hold them (the .npy relies on it too).
  const words = new Uint32Array(out.buffer, 0, n + 1);
  if (base === 0) words.set(offsets);
  else for (let i = 0; i <= n; i++) words[i] = offsets[i]! - base;
  out.set(data.subarray(base, offsets[n]!), 4 * (n + 1));
  return out;
}

/** The `n` ids of a row block back as a column (a shard's rewrite reads them): plain, or codes into the dictionary. */
export function rowBlockIds(block: Uint8Array, n: number): IdColumn {
  const view = new DataView(block.buffer, block.byteOffset, block.byteLength);
  const u32s = (at: number, count: number) => {
    const out = new Float64Array(count);
    for (let i = 0; i < count; i++) out[i] = view.getUint32(at + 4 * i, true);
    return out;
  };
  if (block.length >= 12 && view.getUint32(0, true) === DICT_BLOCK) {
    const d = view.getUint32(4, true);
    const at = 12 + 4 * n;
    return {
      codes: Int32Array.from(u32s(12, n)),
      dictionary: { offsets: narrow(u32s(at, d + 1)), data: block.subarray(at + 4 * (d + 1)) },
    };
  }
  return { offsets: narrow(u32s(0, n + 1)), data: block.subarray(4 * (n + 1)) };
}

/** Offsets as Int32 when they fit it (what the id code expects most of the time), else float64. */
function narrow(offsets: Float64Array): IdOffsets {
  return offsets.length === 0 || offsets[offsets.length - 1]! <= ID_LIMITS.int32 ? Int32Array.from(offsets) : offsets;
}

/** The sizes the header needs: each partition's and each row block's (with its first row). */
export interface IdIndexPieces {
  layout: IdIndexLayout;
  rows: number;
  entries: number;
  partitionBytes: readonly number[];
  blocks: readonly { firstRow: number; bytes: number }[];
}

/** The bytes of the header and both directories of an index of `P` partitions and `S` row blocks. */
export function idIndexHeaderBytes(P: number, S: number): number {
  return ID_INDEX_HEADER_BYTES + 8 * (P + 1) + 16 * (S + 1);
}

/** The header and both directories, which go in front of the partitions and then the row blocks. */
export function idIndexHeader(x: IdIndexPieces): Uint8Array {
  const P = x.partitionBytes.length;
  const S = x.blocks.length;
  if (P !== 2 ** x.layout.partBits) throw new RangeError(`id index: ${P} partitions for ${x.layout.partBits} partition bits`);
  const size = idIndexHeaderBytes(P, S);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  for (let i = 0; i < 8; i++) out[i] = ID_INDEX_MAGIC.charCodeAt(i);
  view.setUint8(8, x.layout.partBits);
  view.setUint8(9, x.layout.bucketBits);
  view.setUint32(12, S, true);
  view.setFloat64(16, x.rows, true);
  view.setFloat64(24, x.entries, true);
  let at = size;
  for (let p = 0; p < P; p++) {
    view.setFloat64(ID_INDEX_HEADER_BYTES + 8 * p, at, true);
    at += x.partitionBytes[p]!;
  }
  view.setFloat64(ID_INDEX_HEADER_BYTES + 8 * P, at, true);
  const dir = ID_INDEX_HEADER_BYTES + 8 * (P + 1);
  for (let s = 0; s < S; s++) {
    view.setFloat64(dir + 16 * s, x.blocks[s]!.firstRow, true);
    view.setFloat64(dir + 16 * s + 8, at, true);
    at += x.blocks[s]!.bytes;
  }
  view.setFloat64(dir + 16 * S, x.rows, true);
  view.setFloat64(dir + 16 * S + 8, at, true);
  return out;
}

/** A whole index in memory from id batches in row order (tests and small outputs). */
export function idIndexOf(batches: readonly IdColumn[], partitionRows?: number): Uint8Array {
  const rows = batches.reduce((s, b) => s + idCount(b), 0);
  const layout = idIndexLayout(rows, partitionRows);
  const firstRows: { startRow: number }[] = [];
  const keys: ReturnType<typeof shardKeys>[] = [];
  let row = 0;
  for (const b of batches) {
    firstRows.push({ startRow: row });
    keys.push(shardKeys(b, row, layout.partBits));
    row += idCount(b);
  }
  const parts: BuiltPartition[] = [];
  for (let p = 0; p < 2 ** layout.partBits; p++)
    parts.push(
      buildPartition(
        keys.map((k) => k.records.subarray(k.offsets[p], k.offsets[p + 1])),
        layout,
        (r) => shardOfRow(firstRows, r),
      ),
    );
  const blocks = batches.map((b) => rowBlock(b));
  const w = new ByteWriter();
  w.push(
    idIndexHeader({
      layout,
      rows,
      entries: parts.reduce((s, p) => s + p.entries, 0),
      partitionBytes: parts.map((p) => p.bytes.length),
      blocks: blocks.map((b, s) => ({ firstRow: firstRows[s]!.startRow, bytes: b.length })),
    }),
  );
  for (const p of parts) w.push(p.bytes);
  for (const b of blocks) w.push(b);
  return w.bytes();
}
