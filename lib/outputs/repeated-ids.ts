/**
 * Finds a repeated id across shards without loading every hash: each shard's 64-bit id hashes
 * are stored sorted, so a k-way merge over chunks of each sees equal values side by side.
 * Memory is two chunks per shard, sized to a budget, whatever the row count.
 */
import type { ByteSource } from '../io/byte-source.ts';

/** Memory the merge may hold by default: two chunks per shard (the one merged, the next in flight). */
const HASH_MERGE_MEMORY = 128 * 1024 * 1024;
const MIN_CHUNK = 64 * 1024;
const MAX_CHUNK = 8 * 1024 * 1024;

/** Bytes per read for k sources within `memory`: fewer, larger reads where there is room. */
export function chunkBytes(k: number, memory: number): number {
  const fit = Math.floor(memory / (2 * Math.max(1, k)) / 8) * 8;
  return Math.min(MAX_CHUNK, Math.max(MIN_CHUNK, fit));
}

/**
 * Reads the sorted hashes of one shard chunk by chunk, as (hi, lo) 32-bit pairs, with the next
 * chunk always in flight: the merge drains all shards at about the same pace, so their reads
 * overlap instead of paying one round trip per chunk in turn.
 */
class Cursor {
  private words: Uint32Array = new Uint32Array(0);
  private at = 0;
  private read = 0;
  private pending: Promise<Uint32Array | null> | null = null;
  constructor(
    private readonly source: ByteSource,
    private readonly chunk: number,
  ) {}

  private fetch(): Promise<Uint32Array | null> {
    const left = this.source.size - this.read;
    if (left <= 0) return Promise.resolve(null);
    const n = Math.min(left, this.chunk);
    const offset = this.read;
    this.read += n;
    const p = this.source.read(offset, n).then((bytes) => {
      // Uint32 views need 4-byte alignment; a source may hand back any view.
      const own = bytes.byteOffset % 4 === 0 ? bytes : bytes.slice();
      return new Uint32Array(own.buffer, own.byteOffset, n / 4);
    });
    // A prefetch the merge never awaits (it stopped at a repeat) must not surface as unhandled.
    p.catch(() => undefined);
    return p;
  }

  /** Moves to the next chunk when this one is used up; false at the end. */
  async fill(): Promise<boolean> {
    if (this.at < this.words.length) return true;
    const next = await (this.pending ?? this.fetch());
    if (!next) return false;
    this.words = next;
    this.at = 0;
    this.pending = this.fetch();
    return true;
  }

  get exhausted(): boolean {
    return this.at >= this.words.length;
  }

  get hi(): number {
    return this.words[this.at + 1]!;
  }
  get lo(): number {
    return this.words[this.at]!;
  }
  next(): void {
    this.at += 2;
  }
}

const less = (a: Cursor, b: Cursor) => a.hi < b.hi || (a.hi === b.hi && a.lo < b.lo);

/**
 * True when any 64-bit value occurs twice across the sorted little-endian BigUint64 sources.
 * Holds at most about `memory` bytes of hashes (but at least 128 KiB per source).
 */
export async function sortedSourcesRepeat(sources: readonly ByteSource[], memory?: number): Promise<boolean> {
  // By default, never more than half of all the hashes at once: where they would fit whole, two
  // smaller reads per shard cost nothing, and the reducer's peak (after the vectors' upload
  // buffers) drops. An explicit budget is taken as it is.
  const total = sources.reduce((n, s) => n + s.size, 0);
  const chunk = chunkBytes(sources.length, memory ?? Math.min(HASH_MERGE_MEMORY, Math.max(total / 2, 1)));
  const cursors = sources.map((s) => new Cursor(s, chunk));
  const filled = await Promise.all(cursors.map((c) => c.fill()));
  const heap = cursors.filter((_, i) => filled[i]);
  const down = (i: number) => {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && less(heap[l]!, heap[m]!)) m = l;
      if (r < heap.length && less(heap[r]!, heap[m]!)) m = r;
      if (m === i) return;
      [heap[i], heap[m]] = [heap[m]!, heap[i]!];
      i = m;
    }
  };
  for (let i = (heap.length >> 1) - 1; i >= 0; i--) down(i);
  let hasLast = false;
  let lastHi = 0;
  let lastLo = 0;
  while (heap.length > 0) {
    const top = heap[0]!;
    if (hasLast && top.hi === lastHi && top.lo === lastLo) return true;
    hasLast = true;
    lastHi = top.hi;
    lastLo = top.lo;
    top.next();
    // Await only when a chunk runs out: an await per hash would cost more than the merge.
    if (top.exhausted && !(await top.fill())) {
      heap[0] = heap[heap.length - 1]!;
      heap.pop();
    }
    if (heap.length > 0) down(0);
  }
  return false;
}

/** The same check over sorted in-memory hash arrays (each `sort()`ed by its producer). */
export function sortedArraysRepeat(arrays: readonly BigUint64Array[]): Promise<boolean> {
  return sortedSourcesRepeat(
    arrays.map((h) => ({
      name: 'hashes',
      size: h.byteLength,
      read: async (o: number, n: number) => new Uint8Array(h.buffer, h.byteOffset + o, n),
    })),
  );
}
