/**
 * The mapping when some id repeats, in memory that does not grow with the rows: Python's dict
 * keeps a repeated id at its first occurrence's place with its last occurrence's index. The
 * shards' fragments are read back (never the input), in three passes over S3 working objects:
 *   1. every entry goes to one of P partitions by a hash of its escaped id (P so that a
 *      partition holds about `partitionIds` entries), spilled in chunks;
 *   2. each partition alone finds its repeated ids (a Map of its entries only) and spills, per
 *      shard, what to do with each of their occurrences: keep the first with the last index,
 *      drop the others;
 *   3. each shard with such decisions is rewritten from its fragment.
 * The stitch then uses the rewritten fragments. Memory: one partition, one shard's decisions
 * and fragment, and the spill buffers (`budgetBytes`), whatever the file size.
 */
import type { JobStore } from './job-store.ts';
import type { JobPlan, ShardDone } from './records.ts';
import type { StitchSegment } from './object-store.ts';
import { ByteWriter } from '../io/byte-writer.ts';
import { parseEntries, writeEntry } from '../outputs/fragment.ts';
import { shardOfRow } from '../embedding/shard-plan.ts';

export interface DictMappingOptions {
  /** Entries per partition (pass 2 holds one partition). */
  partitionIds?: number;
  /** Bytes of spill buffers held at once before the largest is written out. */
  budgetBytes?: number;
  /** Bytes read from a fragment at a time. */
  chunkBytes?: number;
}

/** What the pass did, for the manifest's timings and the benchmark. */
export interface DictMappingStats {
  partitions: number;
  repeatedIds: number;
  droppedEntries: number;
  rewrittenShards: number;
}

const DROP = -1;

/** Spill buffers by name, written out (largest first) when together they pass the budget. */
class Spills {
  private readonly buffers = new Map<string, ByteWriter>();
  private readonly seq = new Map<string, number>();
  private held = 0;

  constructor(
    private readonly write: (name: string, bytes: Uint8Array) => Promise<void>,
    private readonly budget: number,
  ) {}

  buffer(name: string): ByteWriter {
    let b = this.buffers.get(name);
    if (!b) this.buffers.set(name, (b = new ByteWriter(1 << 12)));
    return b;
  }

  /** Call after appending `n` bytes to any buffer; a promise only when buffers must be written out. */
  added(n: number): Promise<void> | undefined {
    this.held += n;
    // No await per entry: most entries only append.
    return this.held > this.budget ? this.spill() : undefined;
  }

  private async spill(): Promise<void> {
    while (this.held > this.budget) {
      let largest: [string, ByteWriter] | undefined;
      for (const e of this.buffers) if (!largest || e[1].length > largest[1].length) largest = e;
      if (!largest) return;
      await this.flush(largest[0]);
    }
  }

  async flush(name: string): Promise<void> {
    const b = this.buffers.get(name);
    if (!b || b.length === 0) return;
    // Detached before the write, so a concurrent caller never writes the same bytes twice.
    this.buffers.delete(name);
    this.held -= b.length;
    const n = this.seq.get(name) ?? 0;
    this.seq.set(name, n + 1);
    await this.write(`${name}/${n}`, b.bytes());
  }

  async flushAll(): Promise<void> {
    for (const name of [...this.buffers.keys()]) await this.flush(name);
  }
}

/** FNV-1a over the escaped id: which partition an entry goes to. */
function fnv1a(b: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < b.length; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
  return h >>> 0;
}

/** Streams a shard's fragment entry by entry. */
async function eachEntry(
  store: JobStore,
  jobId: string,
  shard: number,
  chunkBytes: number,
  sink: (key: Uint8Array, index: number) => void | Promise<void>,
): Promise<void> {
  const source = await store.shardSource(jobId, shard, 'ids');
  let carry = new Uint8Array(0);
  for (let at = 0; at < source.size || carry.length > 0;) {
    const n = Math.min(chunkBytes, source.size - at);
    const read = n > 0 ? await source.read(at, n) : new Uint8Array(0);
    at += n;
    const chunk = carry.length === 0 ? read : concat(carry, read);
    const last = at >= source.size;
    const entries: [Uint8Array, number][] = [];
    const used = parseEntries(chunk, last, (key, index) => entries.push([key, index]));
    for (const [key, index] of entries) {
      const pending = sink(key, index);
      if (pending) await pending;
    }
    carry = chunk.slice(Math.min(used, chunk.length));
    if (last) break;
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** What the three passes share. */
interface Pass {
  store: JobStore;
  plan: JobPlan;
  done: readonly ShardDone[];
  partitions: number;
  budget: number;
  chunkBytes: number;
  write: (name: string, bytes: Uint8Array) => Promise<void>;
}

/** Pass 1: every entry to its partition, as [index f64][key length u32][key bytes]. */
async function partitionEntries(x: Pass): Promise<void> {
  const { store, plan, done, partitions, budget, chunkBytes, write } = x;
  const jobId = plan.jobId;
  const parts = new Spills(write, budget);
  const record = new DataView(new ArrayBuffer(12));
  for (const d of done) {
    await eachEntry(store, jobId, d.shard, chunkBytes, (key, index) => {
      const w = parts.buffer(`p${fnv1a(key) % partitions}`);
      record.setFloat64(0, index, true);
      record.setUint32(8, key.length, true);
      w.push(new Uint8Array(record.buffer));
      w.push(key);
      return parts.added(12 + key.length);
    });
  }
  await parts.flushAll();
}

/** Reads a partition's records back. */
function eachRecord(chunks: readonly Uint8Array[], fn: (key: string, index: number) => void): void {
  const latin1 = new TextDecoder('latin1');
  for (const c of chunks) {
    const view = new DataView(c.buffer, c.byteOffset, c.byteLength);
    for (let at = 0; at < c.length;) {
      const index = view.getFloat64(at, true);
      const len = view.getUint32(at + 8, true);
      fn(latin1.decode(c.subarray(at + 12, at + 12 + len)), index);
      at += 12 + len;
    }
  }
}

/** Pass 2: each partition alone finds its repeated ids and spills, per shard, [index f64][new index f64, or -1 to drop]. */
async function decideRepeats(x: Pass, stats: DictMappingStats): Promise<void> {
  const { store, plan, partitions, budget, write } = x;
  const jobId = plan.jobId;
  const decisions = new Spills(write, budget);
  const record = new DataView(new ArrayBuffer(8));
  for (let p = 0; p < partitions; p++) {
    const names = await store.listWork(jobId, `p${p}/`);
    const chunks = await Promise.all(names.map((n) => store.readWork(jobId, n)));
    const seen = new Map<string, { first: number; last: number; count: number }>();
    eachRecord(chunks, (key, index) => {
      const s = seen.get(key);
      if (!s) seen.set(key, { first: index, last: index, count: 1 });
      else {
        s.first = Math.min(s.first, index);
        s.last = Math.max(s.last, index);
        s.count++;
      }
    });
    const pending: Promise<void>[] = [];
    eachRecord(chunks, (key, index) => {
      const s = seen.get(key)!;
      if (s.count < 2) return;
      if (index === s.first) stats.repeatedIds++;
      else stats.droppedEntries++;
      const w = decisions.buffer(`s${shardOfRow(plan.shards, index)}`);
      record.setFloat64(0, index, true);
      w.push(new Uint8Array(record.buffer).slice());
      record.setFloat64(0, index === s.first ? s.last : DROP, true);
      w.push(new Uint8Array(record.buffer).slice());
      const spilling = decisions.added(16);
      if (spilling) pending.push(spilling);
    });
    await Promise.all(pending);
  }
  await decisions.flushAll();
}

/** Pass 3: the shards with decisions rewritten, the others stitched as they are. */
async function rewriteShards(x: Pass, stats: DictMappingStats): Promise<StitchSegment[]> {
  const { store, plan, done, chunkBytes } = x;
  const jobId = plan.jobId;
  const segments: StitchSegment[] = [];
  for (const d of done) {
    const names = await store.listWork(jobId, `s${d.shard}/`);
    if (names.length === 0) {
      segments.push(store.shardSegment(jobId, d.shard, 'ids', d.idBytes));
      continue;
    }
    const change = new Map<number, number>();
    for (const n of names) {
      const c = await store.readWork(jobId, n);
      const view = new DataView(c.buffer, c.byteOffset, c.byteLength);
      for (let at = 0; at < c.length; at += 16) change.set(view.getFloat64(at, true), view.getFloat64(at + 8, true));
    }
    const out = new ByteWriter(Math.max(1 << 16, d.idBytes));
    await eachEntry(store, jobId, d.shard, chunkBytes, (key, index) => {
      const to = change.get(index);
      if (to === DROP) return;
      // Row 0 is always a first occurrence, so the mapping's first entry is never dropped.
      writeEntry(out, key, to ?? index, index === 0);
    });
    const name = `fragment-${d.shard}`;
    await store.writeWork(jobId, name, out.bytes());
    segments.push(store.workSegment(jobId, name, out.length));
    stats.rewrittenShards++;
  }
  return segments;
}

/**
 * Builds the mapping's segments with dict semantics from the shards' fragments: the original
 * fragment where a shard has no repeated id, a rewritten one where it has.
 */
export async function dictMappingSegments(
  store: JobStore,
  plan: JobPlan,
  done: readonly ShardDone[],
  opts: DictMappingOptions = {},
): Promise<{ segments: StitchSegment[]; stats: DictMappingStats }> {
  const partitions = Math.max(1, Math.ceil(plan.rows / (opts.partitionIds ?? 500_000)));
  const x: Pass = {
    store,
    plan,
    done,
    partitions,
    budget: opts.budgetBytes ?? 64 << 20,
    chunkBytes: opts.chunkBytes ?? 8 << 20,
    write: (name, bytes) => store.writeWork(plan.jobId, name, bytes),
  };
  const stats: DictMappingStats = { partitions, repeatedIds: 0, droppedEntries: 0, rewrittenShards: 0 };
  await partitionEntries(x);
  await decideRepeats(x, stats);
  return { segments: await rewriteShards(x, stats), stats };
}
