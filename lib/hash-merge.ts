/**
 * Finds a repeated id across shards without loading every hash: each shard's 64-bit id hashes
 * are stored sorted, so a k-way merge over small chunks of each sees equal values side by side.
 * Memory is k chunks, whatever the row count.
 */
import type { ByteSource } from './byte-source.ts';

const CHUNK_HASHES = 8192;

/** Reads the sorted hashes of one shard chunk by chunk, as (hi, lo) 32-bit pairs. */
class Cursor {
  private words: Uint32Array = new Uint32Array(0);
  private at = 0;
  private read = 0;
  constructor(private readonly source: ByteSource) {}

  async fill(): Promise<boolean> {
    if (this.at < this.words.length) return true;
    const left = this.source.size - this.read;
    if (left <= 0) return false;
    const n = Math.min(left, CHUNK_HASHES * 8);
    const bytes = await this.source.read(this.read, n);
    this.read += n;
    // Uint32 views need 4-byte alignment; a source may hand back any view.
    const own = bytes.byteOffset % 4 === 0 ? bytes : bytes.slice();
    this.words = new Uint32Array(own.buffer, own.byteOffset, n / 4);
    this.at = 0;
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

/** True when any 64-bit value occurs twice across the sorted little-endian BigUint64 sources. */
export async function sortedSourcesRepeat(sources: readonly ByteSource[]): Promise<boolean> {
  const heap: Cursor[] = [];
  for (const s of sources) {
    const c = new Cursor(s);
    if (await c.fill()) heap.push(c);
  }
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
    arrays.map((h) => ({ name: 'hashes', size: h.byteLength, read: async (o: number, n: number) => new Uint8Array(h.buffer, h.byteOffset + o, n) })),
  );
}
