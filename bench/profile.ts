/**
 * npm run profile -- [--rows 2000000] [--only cli,shard] [--keep DIR]
 * Where the CPU goes, by concern, in (1) the command embedding a generated file of `--rows` rows
 * (whole process: main thread and its worker threads) and (2) one Lambda embed shard (the first
 * 1,048,576 rows of the same file, run as bench:lambda runs it: a fresh process on a bundle,
 * against moto_server). Each runs twice: once under `/usr/bin/time` for its CPU time (user + sys),
 * once under `node --cpu-prof`, whose samples bench/profile-breakdown.ts charges to concerns.
 * Prints markdown tables (docs/profile.md explains them). CPU time, not wall time: the figure that
 * holds on a shared machine. `--keep DIR` keeps the .cpuprofile files (open them in Chrome DevTools).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { CreateBucketCommand, DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { startMoto, s3ClientFor } from '../lib/emulators/moto.ts';
import { DEFAULT_MAX_SHARD_ROWS } from '../lib/embedding/shard-plan.ts';
import { jobIdFor, jobKeys } from '../lib/pipeline/keys.ts';
import { ROOT, benchFile, fmt } from './data.ts';
import { collect, median } from './measure.ts';
import { CATEGORIES, breakdown, topFrames, type Category, type CpuProfile } from './profile-breakdown.ts';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '2000000' },
    only: { type: 'string', default: 'cli,shard' },
    keep: { type: 'string' },
  },
});
const rows = Number(values.rows);
const only = new Set(values.only.split(','));
const work = values.keep ?? mkdtempSync(join(tmpdir(), 'track-embeddings-profile-'));
mkdirSync(work, { recursive: true });
const TIME = '/usr/bin/time';
if (!existsSync(TIME)) throw new Error(`${TIME} (GNU time) is needed for the processes' CPU time`);

interface Run {
  stdout: string;
  /** user + sys seconds, peak RSS (MiB), minor page faults, wall seconds. */
  user: number;
  sys: number;
  rssMiB: number;
  minorFaults: number;
  wall: number;
}

/** Runs `cmd` under GNU time, asynchronously (moto's log pipes must keep draining in this process). */
async function timed(cmd: string[], env: NodeJS.ProcessEnv = process.env): Promise<Run> {
  const { code, stdout, stderr } = await collect(TIME, ['-f', '@@time %U %S %M %R %e', ...cmd], { cwd: ROOT, env });
  const m = /@@time ([\d.]+) ([\d.]+) (\d+) (\d+) ([\d.]+)/.exec(stderr);
  if (code !== 0 || !m) throw new Error(`${cmd.join(' ')} failed (${code}):\n${stderr}`);
  return {
    stdout,
    user: Number(m[1]),
    sys: Number(m[2]),
    rssMiB: Number(m[3]) / 1024,
    minorFaults: Number(m[4]),
    wall: Number(m[5]),
  };
}

/** The profiles in `dir`, main thread first (its thread id is 0 in the file name). */
function profilesIn(dir: string): { thread: string; profile: CpuProfile }[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => ({ f, tid: Number(f.split('.').at(-3)) }))
    .sort((a, b) => a.tid - b.tid)
    .map(({ f, tid }) => ({
      thread: tid === 0 ? 'main' : `worker ${tid}`,
      profile: JSON.parse(readFileSync(join(dir, f), 'utf8')) as CpuProfile,
    }));
}

/** The table of one profiled run: ms of samples per concern and thread, and each concern's share of the busy samples. */
function table(title: string, plain: Run, profiled: Run, dir: string): string[] {
  const threads = profilesIn(dir);
  const parts = threads.map((t) => breakdown(t.profile));
  const total = (c: Category) => parts.reduce((s, p) => s + p.ms[c], 0);
  const idle: Category = 'idle (waiting, not CPU)';
  const busy = CATEGORIES.filter((c) => c !== idle).reduce((s, c) => s + total(c), 0);
  const cpu = plain.user + plain.sys;
  const lines = [
    '',
    `**${title}**: CPU ${fmt(cpu)} s (user ${fmt(plain.user)} + sys ${fmt(plain.sys)}), wall ${fmt(plain.wall)} s, peak RSS ${fmt(plain.rssMiB, 0)} MiB, ` +
      `${plain.minorFaults.toLocaleString('en-US')} minor page faults; under the profiler CPU ${fmt(profiled.user + profiled.sys)} s.`,
    '',
    `| concern | ${threads.map((t) => `${t.thread} (ms)`).join(' | ')} | all threads (ms) | share of busy samples | ≈ CPU (s) |`,
    `|---|${threads.map(() => '---:|').join('')}---:|---:|---:|`,
  ];
  for (const c of CATEGORIES) {
    const t = total(c);
    if (t < 0.5) continue;
    const share = c === idle ? '' : `${fmt((100 * t) / busy, 1)} %`;
    const est = c === idle ? '' : fmt((cpu * t) / busy);
    lines.push(`| ${c} | ${parts.map((p) => fmt(p.ms[c], 0)).join(' | ')} | ${fmt(t, 0)} | ${share} | ${est} |`);
  }
  lines.push(
    `| **busy samples** | ${parts.map((p) => fmt(p.spanMs - p.ms[idle], 0)).join(' | ')} | ${fmt(busy, 0)} | 100 % | ${fmt(cpu)} |`,
  );
  lines.push('', 'Hottest frames (self time, all threads, idle left out):', '');
  const top = new Map<string, number>();
  for (const t of threads) for (const f of topFrames(t.profile, 40)) top.set(f.frame, (top.get(f.frame) ?? 0) + f.ms);
  for (const [frame, ms] of [...top].sort((a, b) => b[1] - a[1]).slice(0, 15)) lines.push(`- ${fmt(ms, 0)} ms \`${frame}\``);
  return lines;
}

const node = process.execPath;
const lines = [
  `Machine: ${availableParallelism()} cores (${cpus()[0]?.model.trim() ?? 'unknown CPU'}), Node ${process.version}; input: ${rows.toLocaleString('en-US')} generated rows.`,
  'CPU = user + sys of the whole process from GNU time, without the profiler; the concern columns are V8 CPU-profile samples',
  '(1 ms interval, wall-clock ticks of each JS thread), so on a loaded machine read their shares, not their milliseconds;',
  '"≈ CPU" spreads the measured CPU over the concerns by those shares.',
];

// Bare Node start-up: what every process pays before the profiler (and the bundle) starts.
const bare: number[] = [];
for (let i = 0; i < 5; i++) {
  const r = await timed([node, '-e', '0']);
  bare.push(r.user + r.sys);
}
lines.push(
  '',
  `Bare Node start-up (\`node -e 0\`), median of 5: ${fmt(median(bare))} s CPU; not in any profile below (per process and per worker thread, partly).`,
);

const input = benchFile(rows);
if (only.has('cli')) {
  process.stderr.write(`profile: the command on ${input}\n`);
  const cmd = (flags: string[], out: string) => [
    node,
    '--single-threaded-gc',
    ...flags,
    join(ROOT, 'dist', 'track-embeddings.js'),
    input,
    '-o',
    out,
  ];
  const plain = await timed(cmd([], join(work, 'cli-out')));
  const dir = join(work, 'cli-profile');
  rmSync(dir, { recursive: true, force: true });
  const profiled = await timed(cmd(['--cpu-prof', `--cpu-prof-dir=${dir}`], join(work, 'cli-out')));
  lines.push(...table(`The command, ${rows.toLocaleString('en-US')} rows (\`track-embeddings FILE -o DIR\`)`, plain, profiled, dir));
}

if (only.has('shard')) {
  // The step of bench:lambda, bundled as there, with a source map so that frames name their files.
  const step = join(ROOT, 'dist', 'profile-step.mjs');
  await build({
    entryPoints: [join(ROOT, 'bench', 'lambda-step.ts')],
    outfile: step,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    external: ['parquet-wasm'],
    sourcemap: true,
    banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
    logLevel: 'warning',
  });
  const moto = await startMoto();
  try {
    const s3 = s3ClientFor(moto.endpoint);
    const env = { ...process.env, AWS_ENDPOINT_URL_S3: moto.endpoint };
    const bucket = 'profile';
    const key = `incoming/tracks-${rows}.parquet`;
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const etag = (await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: readFileSync(input) }))).ETag!;
    process.stderr.write(`profile: planning ${key}\n`);
    await timed([node, step, 'stats', bucket, key, etag, 'jobs/', String(DEFAULT_MAX_SHARD_ROWS)], env);
    const jobId = jobIdFor(bucket, key, etag);
    const embed = async (flags: string[]) => {
      await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: jobKeys(jobId).shardRecord(0) }));
      return timed([node, ...flags, step, 'embed', bucket, jobId, '0'], env);
    };
    process.stderr.write('profile: embed shard 0\n');
    const plain = await embed([]);
    const dir = join(work, 'shard-profile');
    rmSync(dir, { recursive: true, force: true });
    const profiled = await embed(['--cpu-prof', `--cpu-prof-dir=${dir}`]);
    const shardRows = Math.min(rows, DEFAULT_MAX_SHARD_ROWS).toLocaleString('en-US');
    const own = JSON.parse(plain.stdout.trim().split('\n').pop()!) as { initMs: number; timings: Record<string, number> };
    lines.push(...table(`One embed shard, ${shardRows} rows (bench/lambda-step.ts embed, S3 on moto)`, plain, profiled, dir));
    lines.push(
      '',
      `The step's own timings (wall, ms): start-up ${fmt(own.initMs, 0)}, ${Object.entries(own.timings)
        .map(([k, v]) => `${k} ${fmt(v, 0)}`)
        .join(', ')}.`,
    );
  } finally {
    await moto.stop();
  }
}
process.stdout.write(`${lines.join('\n')}\n`);
if (!values.keep) rmSync(work, { recursive: true, force: true });
else process.stderr.write(`profiles kept in ${work}\n`);
