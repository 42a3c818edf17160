/**
 * npm run bench:big-output -- [--rows 10000000] [--shard-rows 1048576] [--queries 20] [--dir /tmp/big-output] [--reuse]
 * An output folder of `--rows` rows with stubbed vectors (seeded normal values; no Parquet input,
 * no embedding) and real ids, mapping and id index, written shard by shard as the pipeline's
 * pieces are (lib/outputs/id-index.ts). Then: the id index's size, a lookup's time and bytes read
 * (median over `--queries` ids, after opening), and `track-embeddings similar --id` end to end in a
 * child process (wall time and peak RSS from /usr/bin/time), which reads the vectors and the index
 * but not the mapping. `--reuse` measures a folder an earlier run left (same rows) without building it again.
 */
import { mkdirSync, openSync, closeSync, writeSync, readSync, readFileSync, statSync, rmSync, existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_SPEC } from '../lib/embedding/spec.ts';
import { ByteWriter } from '../lib/io/byte-writer.ts';
import { npyHeader } from '../lib/outputs/npy.ts';
import { writeMappingFragment } from '../lib/outputs/mapping.ts';
import { buildManifest } from '../lib/outputs/manifest.ts';
import { ID_INDEX_FILE, buildPartition, idIndexHeader, idIndexLayout, rowBlock, shardKeys } from '../lib/outputs/id-index.ts';
import { openFileSource } from '../lib/io/file-source.ts';
import { openIdIndex } from '../lib/search/id-lookup.ts';
import { ROOT } from './data.ts';
import { median } from './measure.ts';
import { idColumn, spotifyId } from './synthetic-ids.ts';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '10000000' },
    'shard-rows': { type: 'string', default: String(1 << 20) },
    queries: { type: 'string', default: '20' },
    dir: { type: 'string', default: '/tmp/track-embeddings-big-output' },
    reuse: { type: 'boolean', default: false },
  },
});
const rows = Number(values.rows);
const shardRows = Number(values['shard-rows']);
const queries = Number(values.queries);
const dir = values.dir;
const DIMS = DEFAULT_SPEC.features.length;
const mb = (b: number) => `${(b / 1e6).toFixed(1)} MB`;
const layout = idIndexLayout(rows);
const P = 2 ** layout.partBits;
const shards = Math.ceil(rows / shardRows);
const manifestPath = join(dir, 'manifest.json');
const reused =
  values.reuse &&
  existsSync(manifestPath) &&
  (JSON.parse(readFileSync(manifestPath, 'utf8')) as { outputs: { shape: number[] } }).outputs.shape[0] === rows;
const built = reused ? null : build();

/** Writes the folder: vectors, mapping, index, manifest. */
function build() {
  const t0 = performance.now();
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });

  // Vectors (seeded values) and the mapping, shard by shard; each shard's keys and row block kept for the index.
  const npy = openSync(join(dir, 'spotify_vectors_14d.npy'), 'w');
  writeSync(npy, npyHeader(rows, DIMS));
  const mapping = openSync(join(dir, 'id_to_index.json'), 'w');
  writeSync(mapping, '{');
  const keys: ReturnType<typeof shardKeys>[] = [];
  const blocks: Uint8Array[] = [];
  let seed = 1;
  for (let s = 0; s < shards; s++) {
    const first = s * shardRows;
    const n = Math.min(shardRows, rows - first);
    const v = new Float32Array(n * DIMS);
    for (let i = 0; i < v.length; i++) v[i] = ((seed = (seed * 16807) % 2147483647) / 2147483647 - 0.5) * 4;
    writeSync(npy, new Uint8Array(v.buffer));
    const ids = idColumn(first, n);
    const w = new ByteWriter(n * 36);
    writeMappingFragment(w, ids, first, s > 0);
    writeSync(mapping, w.bytes());
    keys.push(shardKeys(ids, first, layout.partBits));
    blocks.push(rowBlock(ids));
  }
  writeSync(mapping, '}');
  closeSync(mapping);
  closeSync(npy);
  const tBuild = performance.now();

  // The index: one partition at a time from every shard's slice, as the pipeline's partition invokes build it.
  const partsPath = join(dir, 'partitions.tmp');
  const parts = openSync(partsPath, 'w');
  const partitionBytes: number[] = [];
  let entries = 0;
  for (let p = 0; p < P; p++) {
    const built = buildPartition(
      keys.map((k) => k.records.subarray(k.offsets[p], k.offsets[p + 1])),
      layout,
      (r) => Math.floor(r / shardRows),
    );
    writeSync(parts, built.bytes);
    partitionBytes.push(built.bytes.length);
    entries += built.entries;
  }
  closeSync(parts);
  const index = openSync(join(dir, ID_INDEX_FILE), 'w');
  writeSync(
    index,
    idIndexHeader({ layout, rows, entries, partitionBytes, blocks: blocks.map((b, s) => ({ firstRow: s * shardRows, bytes: b.length })) }),
  );
  const partsFd = openSync(partsPath, 'r');
  const chunk = Buffer.alloc(8 << 20);
  for (let n; (n = readSync(partsFd, chunk)) > 0;) writeSync(index, chunk.subarray(0, n));
  closeSync(partsFd);
  rmSync(partsPath);
  for (const b of blocks) writeSync(index, b);
  closeSync(index);
  keys.length = 0;
  blocks.length = 0;
  const manifest = buildManifest({
    input: { name: join(dir, 'stub.parquet'), bytes: 0, rows, rowGroups: 0, createdBy: 'bench/big-output.ts (stubbed vectors)' },
    spec: DEFAULT_SPEC,
    scaler: {
      count: Array(11).fill(rows),
      mean: Array(11).fill(0),
      variance: Array(11).fill(1),
      scale: Array(11).fill(1),
    },
    repeatedIds: false,
    shards: { count: shards, targetRows: shardRows },
    timingsMs: {},
    idIndex: ID_INDEX_FILE,
    uniqueIds: entries,
  });
  const manifestFd = openSync(join(dir, 'manifest.json'), 'w');
  writeSync(manifestFd, JSON.stringify(manifest, null, 2) + '\n');
  closeSync(manifestFd);
  return { t0, tBuild, tIndex: performance.now(), entries };
}

// Lookups through the index.
const source = await openFileSource(join(dir, ID_INDEX_FILE));
const t = performance.now();
const lookup = await openIdIndex(source, rows, false);
const openMs = performance.now() - t;
const opened = lookup.bytesRead;
const times: number[] = [];
const reverse: number[] = [];
for (let q = 0; q < queries; q++) {
  const r = Math.floor(((q + 0.5) / queries) * rows);
  const before = performance.now();
  const got = await lookup.rowOf(spotifyId(r));
  times.push(performance.now() - before);
  if (got !== r) throw new Error(`lookup of row ${r} gave ${got}`);
  const b2 = performance.now();
  if ((await lookup.idOf(r)) !== spotifyId(r)) throw new Error(`row ${r}'s id is wrong`);
  reverse.push(performance.now() - b2);
}
const perLookup = (lookup.bytesRead - opened) / queries;
await source.close();

// `similar --id` end to end: the built command, its wall time and peak RSS.
const cli = join(ROOT, 'dist', 'track-embeddings.js');
if (!existsSync(cli)) throw new Error(`${cli} is missing: npm run build`);
const seedId = spotifyId(Math.floor(rows / 3));
const run = spawnSync('/usr/bin/time', ['-f', '%M %e', process.execPath, cli, 'similar', dir, '--id', seedId, '--k', '10', '--json'], {
  encoding: 'utf8',
  maxBuffer: 1 << 26,
});
if (run.status !== 0) throw new Error(`similar failed: ${run.stderr}`);
const answered = run.stdout.trim().split('\n').length;
const [peakKb, seconds] = run.stderr.trim().split('\n').pop()!.split(/\s+/).map(Number);

const size = (f: string) => statSync(join(dir, f)).size;
const lines = [
  `bench:big-output, ${rows.toLocaleString('en-US')} rows (stubbed vectors), ${shards} shards of ${shardRows.toLocaleString('en-US')}, ${P} id partitions × ${2 ** layout.bucketBits} buckets; measured on a shared, loaded machine`,
  '',
  '| figure | value |',
  '|---|---:|',
  `| spotify_vectors_14d.npy | ${mb(size('spotify_vectors_14d.npy'))} |`,
  `| id_to_index.json | ${mb(size('id_to_index.json'))} |`,
  `| id_index.bin | ${mb(size(ID_INDEX_FILE))} |`,
  ...(built
    ? [
        `| writing vectors + mapping + shard keys | ${((built.tBuild - built.t0) / 1000).toFixed(1)} s |`,
        `| building id_index.bin (${P} partitions, one at a time) | ${((built.tIndex - built.tBuild) / 1000).toFixed(1)} s |`,
      ]
    : []),
  `| opening the index (header and directories) | ${openMs.toFixed(2)} ms, ${opened.toLocaleString('en-US')} bytes |`,
  `| id → row, median of ${queries} | ${median(times).toFixed(3)} ms, ${Math.round(perLookup).toLocaleString('en-US')} bytes read |`,
  `| row → id, median of ${queries} | ${median(reverse).toFixed(3)} ms |`,
  `| \`similar --id … --k 10 --json\`, end to end | ${seconds!.toFixed(2)} s, peak RSS ${(peakKb! / 1024).toFixed(0)} MiB (${answered} line) |`,
];
console.log(lines.join('\n'));
