/**
 * One Lambda's worth of work in a fresh process, as the benchmark of the serverless steps runs it:
 *   stats  BUCKET KEY ETAG JOBS_PREFIX SHARD_ROWS [parquet]
 *   embed  BUCKET JOB_ID SHARD
 *   reduce BUCKET JOB_ID
 * against the S3 endpoint in AWS_ENDPOINT_URL_S3. Prints one JSON line: the step's own timings,
 * its wall time (after start-up) and the process's peak RSS (VmHWM).
 */
import { readFileSync } from 'node:fs';
import { s3ClientFor } from '../lib/emulators/moto.ts';
import { s3Store } from '../lib/aws/s3-store.ts';
import { DEFAULT_PREFIXES, jobIdFor } from '../lib/pipeline/keys.ts';
import { JobStore } from '../lib/pipeline/job-store.ts';
import { checkUpload, runStatsWhole } from '../lib/pipeline/stats-step.ts';
import { runEmbedShard } from '../lib/pipeline/embed-step.ts';
import { runReduce } from '../lib/pipeline/reduce-step.ts';

const [step, bucket, ...args] = process.argv.slice(2);
const endpoint = process.env.AWS_ENDPOINT_URL_S3;
if (!step || !bucket || !endpoint) throw new Error('usage: AWS_ENDPOINT_URL_S3=… lambda-step.js stats|embed|reduce BUCKET …');
const objects = s3Store(s3ClientFor(endpoint), bucket);

const t0 = performance.now();
let timings: Record<string, number>;
if (step === 'stats') {
  const [key, etag, jobs, shardRows, parquet] = args as [string, string, string, string, string?];
  const store = new JobStore(objects, { ...DEFAULT_PREFIXES, jobs });
  // What the job's first step and the stats function do for a file whose statistics take one part
  // (the default parts of 1Mi rows would fan a 2M-row file out: this measures the one-invocation step).
  const job = { bucket, key, etag, jobId: jobIdFor(bucket, key, etag), generation: 0 };
  const one = { statsPartRows: Number.MAX_SAFE_INTEGER };
  const checked = await checkUpload(store, job, { shardRows: Number(shardRows), parquet: parquet === 'parquet', ...one });
  if (checked.status !== 'checked' || checked.parts !== 1) throw new Error(`stats: ${JSON.stringify(checked)}`);
  const out = await runStatsWhole(store, job.jobId);
  if (out.status !== 'planned') throw new Error(`stats: ${JSON.stringify(out)}`);
  timings = (await store.plan(job.jobId)).timingsMs;
} else if (step === 'embed') {
  const [jobId, shard] = args as [string, string];
  timings = { ...(await runEmbedShard(new JobStore(objects, DEFAULT_PREFIXES), jobId, Number(shard))).timingsMs };
} else if (step === 'reduce') {
  const [jobId] = args as [string];
  const store = new JobStore(objects, DEFAULT_PREFIXES);
  const out = await runReduce(store, jobId);
  if (out.status !== 'published') throw new Error(`reduce: ${JSON.stringify(out)}`);
  timings = (await store.readManifest((await store.plan(jobId)).name))!.timingsMs;
} else {
  throw new Error(`unknown step ${step}`);
}
const wallMs = performance.now() - t0;
// Before t0: Node start-up and loading the bundle (SDK, apache-arrow, the wasm module): a cold start's own share.
// CPU of the whole process (user + system, every thread), start-up included: what Lambda bills as compute.
const cpu = process.cpuUsage();
const cpuMs = (cpu.user + cpu.system) / 1000;
process.stdout.write(`${JSON.stringify({ initMs: t0, wallMs, cpuMs, timings, peakRssMiB: peakRssMiB() })}\n`);

/**
 * This process's own peak RSS. Not getrusage's maxRSS: on Linux that starts from the forking
 * parent's RSS (the benchmark holds whole input files), while VmHWM belongs to this image alone.
 */
function peakRssMiB(): number {
  try {
    const kb = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    if (kb) return Number(kb) / 1024;
  } catch {
    // not Linux
  }
  return process.resourceUsage().maxRSS / 1024;
}
