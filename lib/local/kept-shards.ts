/**
 * A worker's shards decoded once: the statistics task of a shard decodes every column its
 * embedding will need and keeps the batches (up to a byte budget); its deviations and its
 * embedding are then served from them, and the embedding lets them go. The command's worker
 * otherwise decoded each standardised column three times (sums, deviations, embedding). The
 * batches are only read, so the bytes are the same as from the file.
 */
import type { Data, RecordBatch } from 'apache-arrow';
import type { ParquetReader } from '../parquet/reader.ts';
import type { RowRange } from '../parquet/row-range.ts';

interface Kept {
  segments: readonly RowRange[];
  columns: ReadonlySet<string>;
  batches: RecordBatch[];
  bytes: number;
}

export class KeptShards {
  private readonly kept = new Map<number, Kept>();
  private held = 0;

  /** Bytes held now. */
  get bytes(): number {
    return this.held;
  }

  /**
   * `reader` for shard `index`'s first read: reading `columns` (with every column of `keep`
   * besides) it keeps the batches when they fit `maxBytes` with what is held, and yields them.
   */
  keeping(reader: ParquetReader, index: number, keep: readonly string[], maxBytes: number): ParquetReader {
    const batches = async function* (this: KeptShards, segments: readonly RowRange[], columns: readonly string[], size: number) {
      const all = [...new Set([...columns, ...keep])];
      const kept: Kept = { segments, columns: new Set(all), batches: [], bytes: 0 };
      const batchBytes = byteCounter();
      let fits = true;
      for await (const batch of reader.batches(segments, all, size)) {
        if (fits) {
          kept.bytes += batchBytes(batch);
          fits = this.held + kept.bytes <= maxBytes;
          // Past the budget nothing of the shard is kept: its batches go as they are consumed.
          if (fits) kept.batches.push(batch);
          else kept.batches = [];
        }
        yield batch;
      }
      if (!fits) return;
      this.drop(index);
      this.kept.set(index, kept);
      this.held += kept.bytes;
    }.bind(this);
    return { ...readerParts(reader), batches };
  }

  /** `reader`, serving shard `index`'s rows from its kept batches when they hold what is asked for. */
  serving(reader: ParquetReader, index: number): ParquetReader {
    const kept = this.kept.get(index);
    if (!kept) return reader;
    const batches = async function* (segments: readonly RowRange[], columns: readonly string[], size: number) {
      if (!sameSegments(segments, kept.segments) || !columns.every((c) => kept.columns.has(c))) {
        yield* reader.batches(segments, columns, size);
        return;
      }
      // Kept at the size they were read at (the statistics' and the embedding's are the same).
      yield* kept.batches;
    };
    return { ...readerParts(reader), batches };
  }

  /** Lets every kept batch go. */
  clear(): void {
    this.kept.clear();
    this.held = 0;
  }

  /** Lets shard `index`'s batches go. */
  drop(index: number): void {
    const kept = this.kept.get(index);
    if (!kept) return;
    this.kept.delete(index);
    this.held -= kept.bytes;
  }
}

function readerParts({ source, layout, timings }: ParquetReader): Omit<ParquetReader, 'batches'> {
  return { source, layout, timings };
}

function sameSegments(a: readonly RowRange[], b: readonly RowRange[]): boolean {
  return a.length === b.length && a.every((s, i) => s.rowGroup === b[i]!.rowGroup && s.offset === b[i]!.offset && s.rows === b[i]!.rows);
}

/**
 * A counter of the bytes batches hold: each view of a buffer counted once, however many batches
 * share it (the page decoders' string batches share their chunk's bytes).
 */
function byteCounter(): (batch: RecordBatch) => number {
  const seen = new Map<ArrayBufferLike, Set<string>>();
  const count = (a: ArrayBufferView | undefined | null): number => {
    if (!a) return 0;
    let views = seen.get(a.buffer);
    if (!views) seen.set(a.buffer, (views = new Set()));
    const key = `${a.byteOffset}:${a.byteLength}`;
    if (views.has(key)) return 0;
    views.add(key);
    return a.byteLength;
  };
  return (batch) => {
    let bytes = 0;
    const visit = (d: Data) => {
      bytes += count(d.values) + count(d.valueOffsets) + count(d.nullBitmap);
      for (const c of d.children) visit(c);
      if (d.dictionary) for (const c of d.dictionary.data) visit(c);
    };
    for (const d of batch.data.children) visit(d);
    return bytes;
  };
}
