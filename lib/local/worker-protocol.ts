/** Messages between the local runner and its worker threads (structured-clone friendly). */
import type { CompiledFeature } from '../embedding/kernel.ts';
import type { ParquetLayout } from '../parquet/footer.ts';
import type { Shard } from '../embedding/shard-plan.ts';
import type { StatsTask } from '../embedding/shard-plan.ts';
import type { Deviations, Moments } from '../embedding/stats.ts';
import type { SerializedError } from '../errors.ts';
import type { PartitionResult, PartitionTask } from './id-index-files.ts';

export type Task =
  | {
      kind: 'stats';
      input: string;
      layout: ParquetLayout;
      task: StatsTask;
      columns: string[];
      chunks: (number | undefined)[];
      /**
       * When the task is a shard (task.index) that this worker embeds later: the columns its
       * embedding reads, decoded now and kept for its deviations and embedding, up to `maxBytes`
       * a worker (kept-shards.ts).
       */
      keep?: { columns: string[]; maxBytes: number };
    }
  | { kind: 'deviations'; input: string; layout: ParquetLayout; task: StatsTask; columns: string[]; means: number[] }
  | {
      kind: 'embed';
      input: string;
      layout: ParquetLayout;
      shard: Shard;
      features: CompiledFeature[];
      idColumn: string;
      /** The .npy being written: rows go at headerBytes + row * dims * 4. */
      vectorsPath: string;
      headerBytes: number;
      /** Where the shard's mapping fragment goes. */
      fragmentPath: string;
      /** Where the shard's rows go (id, row, vector) as an Arrow IPC stream, for the Parquet copy, when asked for. */
      parquetPath?: string;
      /** Where the shard's id keys sorted by hash (for the id index, cut into 2^partBits partitions) and its row block go. */
      keys: { keysPath: string; rowidsPath: string; partBits: number };
    }
  | ({ kind: 'partition' } & PartitionTask);

export type TaskResult =
  | { kind: 'stats'; moments: Moments }
  | { kind: 'deviations'; deviations: Deviations }
  | { kind: 'embed'; rows: number; keyOffsets: number[]; fragmentWritten: boolean }
  | ({ kind: 'partition' } & PartitionResult);

export type WorkerMessage =
  { type: 'progress'; rows: number } | { type: 'done'; result: TaskResult } | { type: 'error'; error: SerializedError };
