/**
 * npm run bench:lambda -- [--shard-file-rows 2000000] [--stats-rows 2000000,10000000]
 *                         [--reduce-shards 1,10,100] [--reduce-shard-rows 100000]
 *                         [--repeat-rows 2000000,20000000] [--only embed,stats,reduce,repeats,merge] [--runs 3]
 * What one Lambda of each step does, each run in a fresh Node process on the esbuild bundle,
 * against a real S3 API (moto_server on loopback):
 *   - embed: the first 1,048,576-row shard of a generated file, split into read / decode / embed / write;
 *   - stats: the whole statistics pass over files of growing size (memory must not grow);
 *   - reduce: stitching 1, 10 and 100 shards (memory must not grow with the output);
 *   - repeats: the reducer on 2M and 20M rows of which 10 % repeat an earlier id (memory must not grow with the rows);
 *   - the reducer's repeated-id merge rate for 10, 100 and 1,000 shards (in memory, this process).
 * Medians of the runs; peak RSS is the process's own (getrusage), not moto's.
 */
import { readFileSync, statSync } from 'node:fs';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { CreateBucketCommand, DeleteObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { startMoto, s3ClientFor } from '../lib/emulators/moto.ts';
import { DEFAULT_MAX_SHARD_ROWS } from '../lib/embedding/shard-plan.ts';
import { jobIdFor, jobKeys } from '../lib/pipeline/keys.ts';
import { getBytes } from '../lib/aws/s3-objects.ts';
import { collect, median } from './measure.ts';
import { sortedArraysRepeat } from '../lib/outputs/repeated-ids.ts';
import { ROOT, benchFile, fmt } from './data.ts';
import { writeSyntheticJob } from '../test/helpers/synthetic-job.ts';

const { values } = parseArgs({
  options: {
    'shard-file-rows': { type: 'string', default: '2000000' },
    'stats-rows': { type: 'string', default: '2000000,10000000' },
    'reduce-shards': { type: 'string', default: '1,10,100' },
    'reduce-shard-rows': { type: 'string', default: '100000' },
    'repeat-rows': { type: 'string', default: '2000000,20000000' },
    only: { type: 'string', default: 'embed,stats,reduce,repeats,merge' },
    runs: { type: 'string', default: '3' },
  },
});
const list = (s: string) => s.split(',').map(Number);
const runs = Number(values.runs);
const only = new Set(values.only.split(','));
const MB = 1e6;
const BUCKET = 'bench';

interface StepResult {
  initMs: number;
  wallMs: number;
  cpuMs: number;
  timings: Record<string, number>;
  peakRssMiB: number;
}

// The step runs from a bundle, as in Lambda. ESM for top-level await; the SDK's CommonJS needs `require`.
const STEP = join(ROOT, 'dist', 'lambda-step.mjs');
await build({
  entryPoints: [join(ROOT, 'bench', 'lambda-step.ts')],
  outfile: STEP,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  external: ['parquet-wasm'],
  banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
  logLevel: 'warning',
});

/** Runs one step in a fresh process. Asynchronously: this process drains moto's log pipes, and must keep doing so. */
async function runStep(endpoint: string, args: string[]): Promise<StepResult> {
  const { code, stdout, stderr } = await collect(process.execPath, [STEP, ...args], {
    cwd: ROOT,
    env: { ...process.env, AWS_ENDPOINT_URL_S3: endpoint },
  });
  const line = stdout.trim().split('\n').pop() ?? '';
  if (code !== 0 || !line.startsWith('{')) throw new Error(`lambda-step ${args.join(' ')} failed:\n${stderr}`);
  return JSON.parse(line) as StepResult;
}

/** Runs `args` `runs` times, a fresh process each time (set-up before each run if given). */
async function repeat(
  endpoint: string,
  args: (run: number) => string[] | Promise<string[]>,
): Promise<{ init: number; wall: number; cpu: number; rss: number; t: (k: string) => number }> {
  const results: StepResult[] = [];
  for (let r = 0; r < runs; r++) results.push(await runStep(endpoint, await args(r)));
  return {
    init: median(results.map((x) => x.initMs)) / 1000,
    wall: median(results.map((x) => x.wallMs)) / 1000,
    cpu: median(results.map((x) => x.cpuMs)) / 1000,
    rss: median(results.map((x) => x.peakRssMiB)),
    t: (k) => median(results.map((x) => x.timings[k] ?? NaN)) / 1000,
  };
}

async function upload(s3: S3Client, key: string, path: string): Promise<string> {
  return (await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: readFileSync(path) }))).ETag!;
}

const moto = await startMoto();
const s3 = s3ClientFor(moto.endpoint);
const lines = [
  `Machine: ${availableParallelism()} cores (${cpus()[0]?.model.trim() ?? 'unknown CPU'}), ${fmt(totalmem() / 2 ** 30, 0)} GiB, Node ${process.version};`,
  `S3 is moto_server on loopback; each step runs alone in a fresh process (one core); ${runs} run(s) each; medians.`,
];
try {
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));

  // Per shard: plan once (the stats step), then embed shard 0 in fresh processes.
  if (only.has('embed')) {
    const shardFileRows = Number(values['shard-file-rows']);
    const shardRows = Math.min(DEFAULT_MAX_SHARD_ROWS, shardFileRows);
    lines.push(
      '',
      `**Embed one shard** (${shardRows.toLocaleString('en-US')} rows, one row group, of tracks-${shardFileRows}.parquet): by default, with the Parquet part (parquetOutput), and from a plan without the id index:`,
      '',
      '| shard | start-up (s) | read (s) | decode (s) | embed (s) | write (s) | step (s) | rows/s | CPU (s) | peak RSS (MiB) |',
      '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    );
    // The third: a plan without the id index (as plans were before it, and as the shard still
    // reads them), so the shard writes sorted hashes instead of its id keys and row block: the
    // work of the issue-24 baseline (c9ea57e), for a like-for-like comparison with it.
    const variants = [
      { name: 'default', tag: '', parquet: false, idIndex: true },
      { name: 'with Parquet part', tag: '-parquet', parquet: true, idIndex: true },
      { name: 'without the id index (older plan)', tag: '-noindex', parquet: false, idIndex: false },
    ];
    for (const { name, tag, parquet, idIndex } of variants) {
      // Another key for each: another job.
      const shardKey = `incoming/tracks-${shardFileRows}${tag}.parquet`;
      const shardEtag = await upload(s3, shardKey, benchFile(shardFileRows));
      process.stderr.write(`embed: planning ${shardKey}\n`);
      await runStep(moto.endpoint, [
        'stats',
        BUCKET,
        shardKey,
        shardEtag,
        'jobs/',
        String(DEFAULT_MAX_SHARD_ROWS),
        ...(parquet ? ['parquet'] : []),
      ]);
      const jobId = jobIdFor(BUCKET, shardKey, shardEtag);
      if (!idIndex) {
        const planKey = jobKeys(jobId).plan;
        const plan = JSON.parse(Buffer.from(await getBytes(s3, BUCKET, planKey)).toString('utf8')) as Record<string, unknown>;
        delete plan.idIndex;
        await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: planKey, Body: JSON.stringify(plan) }));
      }
      process.stderr.write(`embed: shard 0 of ${shardKey}\n`);
      // Each run embeds: the shard record of the run before would make it skip the shard.
      const e = await repeat(moto.endpoint, async () => {
        await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: jobKeys(jobId).shardRecord(0) }));
        return ['embed', BUCKET, jobId, '0'];
      });
      lines.push(
        `| ${name} | ${fmt(e.init)} | ${fmt(e.t('read'))} | ${fmt(e.t('decode'))} | ${fmt(e.t('embed'))} | ${fmt(e.t('write'))} | ${fmt(e.wall)} | ${fmt(shardRows / e.wall, 0)} | ${fmt(e.cpu)} | ${fmt(e.rss, 0)} |`,
      );
    }
    lines.push(
      '',
      'start-up: Node and the bundle loaded, before the step; read: ranged GETs of the column chunks; decode: the page decoders (or parquet-wasm) to typed arrays;',
      'embed: the kernel, mapping fragment and id keys or hashes (and the Parquet part); write: the shard objects and the shard record;',
      'CPU: user + system of the whole step process, start-up included (process.cpuUsage).',
    );
  }

  // The stats pass over growing files: its memory must stay flat.
  if (only.has('stats')) {
    lines.push(
      '',
      '**Stats pass** (footer, statistics of the 11 standardised columns, plan):',
      '',
      '| rows | file (MB) | read (s) | decode (s) | step (s) | rows/s | CPU rows/s (step − read) | peak RSS (MiB) |',
      '|---:|---:|---:|---:|---:|---:|---:|---:|',
    );
    for (const rows of list(values['stats-rows'])) {
      const path = benchFile(rows);
      const key = `incoming/stats-${rows}.parquet`;
      const etag = await upload(s3, key, path);
      process.stderr.write(`stats: ${rows.toLocaleString('en-US')} rows\n`);
      const st = await repeat(moto.endpoint, (r) => [
        'stats',
        BUCKET,
        key,
        etag,
        `jobs-stats-${rows}-${r}/`,
        String(DEFAULT_MAX_SHARD_ROWS),
      ]);
      const bytes = statSync(path).size;
      lines.push(
        `| ${rows.toLocaleString('en-US')} | ${fmt(bytes / MB, 0)} | ${fmt(st.t('statsRead'))} | ${fmt(st.t('statsDecode'))} | ${fmt(st.wall)} | ${fmt(rows / st.wall, 0)} | ${fmt(rows / (st.wall - st.t('statsRead')), 0)} | ${fmt(st.rss, 0)} |`,
      );
    }
  }

  // The reducer over 1, 10, 100 shards: memory must not grow with the output.
  if (only.has('reduce')) {
    const perShard = Number(values['reduce-shard-rows']);
    lines.push(
      '',
      `**Reduce** (shards of ${perShard.toLocaleString('en-US')} rows with full mapping fragments; vectors copied server-side where a shard is ≥ 5 MiB, mapping parts streamed):`,
      '',
      '| shards | rows | .npy (MB) | mapping (MB) | step (s) | peak RSS (MiB) |',
      '|---:|---:|---:|---:|---:|---:|',
    );
    for (const shards of list(values['reduce-shards'])) {
      process.stderr.write(`reduce: ${shards} shard(s)\n`);
      let sizes = { vectorBytes: 0, mappingBytes: 0 };
      const red = await repeat(moto.endpoint, async (r) => {
        const job = await writeSyntheticJob(s3, {
          bucket: BUCKET,
          jobId: `reduce-${shards}-${r}`,
          shards,
          rowsPerShard: perShard,
          fullMapping: true,
        });
        sizes = job;
        return ['reduce', BUCKET, job.jobId];
      });
      lines.push(
        `| ${shards} | ${(shards * perShard).toLocaleString('en-US')} | ${fmt(sizes.vectorBytes / MB, 0)} | ${fmt(sizes.mappingBytes / MB, 0)} | ${fmt(red.wall)} | ${fmt(red.rss, 0)} |`,
      );
    }
  }

  // The reducer when ids repeat: the dict-semantics pass over the fragments must not grow with the rows.
  if (only.has('repeats')) {
    const per = 1_000_000;
    lines.push(
      '',
      `**Reduce with repeated ids** (every 10th row repeats an earlier id; shards of ${per.toLocaleString('en-US')} rows; vectors stubbed to 1 byte per shard, so this is the mapping's cost):`,
      '',
      '| rows | shards | mapping (MB) | step (s) | peak RSS (MiB) |',
      '|---:|---:|---:|---:|---:|',
    );
    for (const rows of list(values['repeat-rows'])) {
      const shards = Math.ceil(rows / per);
      process.stderr.write(`reduce with repeated ids: ${rows.toLocaleString('en-US')} rows\n`);
      let mappingBytes = 0;
      const red = await repeat(moto.endpoint, async (r) => {
        const job = await writeSyntheticJob(s3, {
          bucket: BUCKET,
          jobId: `repeat-${rows}-${r}`,
          shards,
          rowsPerShard: per,
          fullMapping: true,
          repeatEvery: 10,
          stubVectors: true,
        });
        mappingBytes = job.mappingBytes;
        return ['reduce', BUCKET, job.jobId];
      });
      lines.push(`| ${rows.toLocaleString('en-US')} | ${shards} | ${fmt(mappingBytes / MB, 0)} | ${fmt(red.wall)} | ${fmt(red.rss, 0)} |`);
    }
  }

  // The reducer's repeated-id check is CPU-bound at scale: its merge rate, in memory, by shard count.
  if (only.has('merge')) {
    lines.push(
      '',
      "**Repeated-id check** (the reducer's k-way merge of sorted id hashes, in memory, 10,000,000 hashes):",
      '',
      '| shards (k) | seconds | hashes/s |',
      '|---:|---:|---:|',
    );
    for (const k of [10, 100, 1000]) {
      const per = Math.floor(10_000_000 / k);
      // Distinct values spread like hashes: i ↦ i·odd mod 2^64 is a bijection.
      const arrays = Array.from({ length: k }, (_, s) =>
        BigUint64Array.from({ length: per }, (_, i) => (BigInt(i * k + s) * 0x9e3779b97f4a7c15n) & (2n ** 64n - 1n)).sort(),
      );
      const times: number[] = [];
      for (let r = 0; r < runs; r++) {
        const t = performance.now();
        if (await sortedArraysRepeat(arrays)) throw new Error('distinct hashes reported as repeated');
        times.push((performance.now() - t) / 1000);
      }
      lines.push(`| ${k} | ${fmt(median(times))} | ${fmt((per * k) / median(times), 0)} |`);
    }
  }
  process.stdout.write(`${lines.join('\n')}\n`);
} finally {
  s3.destroy();
  await moto.stop();
}
