/**
 * A finished-but-unreduced job written straight to S3: a stand-in input, a plan, and per shard the
 * vectors, mapping fragment, sorted hashes and shard record the embed step would have written.
 * For the reducer's memory test and its benchmark, where embedding real rows would only cost time.
 */
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { DEFAULT_SPEC, standardizedColumns } from '../../lib/embedding/spec.ts';
import { jobKeys } from '../../lib/pipeline/keys.ts';
import type { JobPlan, ShardDone } from '../../lib/pipeline/records.ts';

export interface SyntheticJob {
  jobId: string;
  name: string;
  rows: number;
  /** Bytes of the published .npy (header included). */
  vectorBytes: number;
  /** Bytes of the published mapping. */
  mappingBytes: number;
}

export interface SyntheticJobOptions {
  bucket: string;
  jobId: string;
  shards: number;
  rowsPerShard: number;
  /** Write a full mapping fragment per shard (22-character ids, as Spotify's); else one entry per shard. */
  fullMapping?: boolean;
  /** With fullMapping: every `repeatEvery`-th row repeats the id of the row 7 before it (10 gives 10 % repeated ids). */
  repeatEvery?: number;
  /** One byte of vectors per shard instead of its rows × 56 (a benchmark of the mapping alone). */
  stubVectors?: boolean;
}

const DIMS = DEFAULT_SPEC.features.length;
const ID_ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** A distinct 22-character id per row number. */
function idOf(row: number): string {
  let s = '';
  for (let n = row; s.length < 22; n = Math.floor(n / 62)) s = ID_ALPHABET[n % 62] + s;
  return s;
}

/** The id of row `row`: a repeat of row − 7 on every `repeatEvery`-th row. */
function idAt(row: number, repeatEvery: number | undefined): string {
  return repeatEvery && row >= 7 && row % repeatEvery === repeatEvery - 1 ? idOf(row - 7) : idOf(row);
}

function fragment(shard: number, startRow: number, rows: number, full: boolean, repeatEvery?: number): string {
  const sep = shard > 0 ? ', ' : '';
  if (!full) return `${sep}"${idOf(startRow)}": ${startRow}`;
  const parts: string[] = [];
  for (let r = 0; r < rows; r++) parts.push(`"${idAt(startRow + r, repeatEvery)}": ${startRow + r}`);
  return sep + parts.join(', ');
}

/** Writes the job under the default prefixes; the input key is `incoming/<jobId>.parquet`. */
export async function writeSyntheticJob(s3: S3Client, opts: SyntheticJobOptions): Promise<SyntheticJob> {
  const { bucket, jobId, rowsPerShard, fullMapping = false } = opts;
  const put = (Key: string, Body: Uint8Array | string) => s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body }));
  const key = `incoming/${jobId}.parquet`;
  const { ETag } = await put(key, 'stands in for the input; only its ETag matters to the reducer');
  const keys = jobKeys(jobId);
  const shards = Array.from({ length: opts.shards }, (_, i) => ({
    index: i,
    startRow: i * rowsPerShard,
    rows: rowsPerShard,
    segments: [{ rowGroup: i, offset: 0, rows: rowsPerShard }],
  }));
  let mappingBytes = 2;
  for (const s of shards) {
    const vectors = new Uint8Array(opts.stubVectors ? 1 : rowsPerShard * DIMS * 4).fill(s.index & 0xff);
    // Distinct sorted hashes across shards: shard i holds i, i + n, i + 2n, ...; with repeats, shard 0's first two are equal.
    const hashes = BigUint64Array.from({ length: rowsPerShard }, (_, r) => BigInt(r * opts.shards + s.index));
    if (opts.repeatEvery && s.index === 0 && rowsPerShard > 1) hashes[1] = hashes[0]!;
    const ids = Buffer.from(fragment(s.index, s.startRow, s.rows, fullMapping, opts.repeatEvery));
    mappingBytes += ids.length;
    await Promise.all([
      put(keys.vectors(s.index), vectors),
      put(keys.hashes(s.index), new Uint8Array(hashes.buffer)),
      put(keys.ids(s.index), ids),
    ]);
    const done: ShardDone = {
      shard: s.index,
      rows: s.rows,
      vectorBytes: vectors.length,
      idBytes: ids.length,
      timingsMs: { read: 0, decode: 0, embed: 0, write: 0 },
      bytesRead: 0,
    };
    await put(keys.shardRecord(s.index), JSON.stringify(done));
  }
  const rows = rowsPerShard * opts.shards;
  const columns = standardizedColumns(DEFAULT_SPEC);
  const plan: JobPlan = {
    version: 1,
    jobId,
    bucket,
    key,
    etag: ETag!,
    bytes: 1,
    name: jobId,
    rows,
    rowGroups: opts.shards,
    createdBy: null,
    spec: DEFAULT_SPEC,
    scaler: {
      columns,
      count: columns.map(() => rows),
      mean: columns.map(() => 0),
      variance: columns.map(() => 1),
      scale: columns.map(() => 1),
    },
    shardRows: rowsPerShard,
    shards,
    createdAt: new Date().toISOString(),
    timingsMs: {},
  };
  await put(keys.plan, JSON.stringify(plan));
  return { jobId, name: jobId, rows, vectorBytes: 128 + rows * DIMS * 4, mappingBytes };
}
