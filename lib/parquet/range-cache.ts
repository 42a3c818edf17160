/** Prefetches column-chunk byte ranges from a ByteSource and serves them to parquet-wasm as an in-memory Blob. */
import type { ByteRange, ByteSource } from '../io/byte-source.ts';
import { coalesceRanges } from '../io/byte-source.ts';
import { SourceError, messageOf } from '../errors.ts';

/** Reads closer than this are fetched as one range. */
const COALESCE_GAP = 256 * 1024;

/**
 * Bytes prefetched from a ByteSource, served to parquet-wasm through a Blob-like face.
 * parquet-wasm turns any failed or short read into a wasm panic (an uncaught `unreachable`
 * and a promise that never settles), so every byte it asks for is fetched here first, where a
 * failure is an ordinary error; the decoder then reads only memory.
 */
export class RangeCache {
  private blocks: { start: number; bytes: Uint8Array }[] = [];
  /** A read the decoder made outside the prefetched ranges that failed; raised after the decode. */
  private missError: unknown = null;

  constructor(private readonly source: ByteSource) {}

  /**
   * Fetches the ranges (coalesced), replacing what was cached before: the decoder's footer comes
   * from asBlob, and each read asks only for the chunks just loaded. Returns the bytes fetched.
   */
  async load(ranges: readonly ByteRange[]): Promise<number> {
    const merged = coalesceRanges(ranges, COALESCE_GAP);
    this.blocks = await Promise.all(merged.map(async (r) => ({ start: r.start, bytes: await this.source.read(r.start, r.end - r.start) })));
    return this.blocks.reduce((n, b) => n + b.bytes.length, 0);
  }

  /**
   * Drops the prefetched bytes once the decoder holds its own copy (it fetches a row group's
   * chunks when it starts on it). A later read it makes anyway goes to the source: slower, never wrong.
   */
  release(): void {
    this.blocks = [];
  }

  /** Throws the error of a failed uncached read, if the last decode made one. */
  rethrowMiss(): void {
    const e = this.missError;
    this.missError = null;
    if (e !== null) throw e;
  }

  /** The prefetched bytes of [start, end), or null when they are not all in one loaded block. */
  lookup(start: number, end: number): Uint8Array | null {
    for (const b of this.blocks) {
      if (start >= b.start && end <= b.start + b.bytes.length) return b.bytes.subarray(start - b.start, end - b.start);
    }
    return null;
  }

  /**
   * The Blob-like object parquet-wasm's `ParquetFile.fromFile` reads through: the file's bytes up
   * to `footerStart`, then `footer` in place of its own (a footer of some of its row groups).
   */
  asBlob(
    footerStart: number,
    footer: Uint8Array,
  ): { size: number; slice(start: number, end: number): { arrayBuffer(): Promise<ArrayBuffer> } } {
    const tail = { start: footerStart, bytes: footer };
    const size = tail.start + tail.bytes.length;
    return {
      size,
      slice: (start: number, end: number) => ({
        arrayBuffer: async (): Promise<ArrayBuffer> => {
          const s = Math.max(0, start);
          const e = Math.min(size, end);
          if (s >= tail.start) return copy(tail.bytes.subarray(s - tail.start, e - tail.start));
          if (e > tail.start) throw new RangeError(`a read across the footer (${s}–${e}) is not supported`);
          const hit = this.lookup(s, e);
          // A whole block is handed over as it is (the decoder copies it into wasm memory); parts are copied.
          if (hit) return hit.byteOffset === 0 && hit.byteLength === hit.buffer.byteLength ? (hit.buffer as ArrayBuffer) : copy(hit);
          try {
            return copy(await this.source.read(s, e - s));
          } catch (err: unknown) {
            // Never reject into wasm: hand it zeros it will fail to decode, and raise the real error after.
            this.missError ??= err instanceof SourceError ? err : new SourceError(messageOf(err), { cause: err });
            return new ArrayBuffer(e - s);
          }
        },
      }),
    };
  }
}

function copy(bytes: Uint8Array): ArrayBuffer {
  const out = new ArrayBuffer(bytes.length);
  new Uint8Array(out).set(bytes);
  return out;
}
