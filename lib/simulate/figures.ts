/**
 * Every figure the simulator uses, each with its source: an AWS documentation page, a bench
 * command of this repository (run on this 2-core machine, loaded by other work), or an
 * assumption marked (A) where no documented figure exists. Two platforms: AWS, and the one
 * machine `pipeline-local` runs on (moto_server as S3, handlers in one Node process).
 *
 * To refresh the calibration: `npm run bench:lambda -- --only embed,stats --runs 3` (the run recorded below also had repeats,merge) and
 * `node --expose-gc --import tsx bench/id-partition.ts --runs 3`, and copy their medians into
 * CALIBRATION below (docs/simulator.md says which cell goes where).
 */
import { S3_ATTEMPTS } from '../aws/clients.ts';

/** A number and where it comes from. */
export interface Figure {
  value: number;
  unit: string;
  source: string;
}

const f = (value: number, unit: string, source: string): Figure => ({ value, unit, source });

const S3_PERF = 'https://docs.aws.amazon.com/AmazonS3/latest/userguide/optimizing-performance.html';
const S3_GUIDE = 'https://docs.aws.amazon.com/AmazonS3/latest/userguide/optimizing-performance-guidelines.html';
const S3_PATTERNS = 'https://docs.aws.amazon.com/AmazonS3/latest/userguide/optimizing-performance-design-patterns.html';
const S3_MPU = 'https://docs.aws.amazon.com/AmazonS3/latest/userguide/qfacts.html';
const SDK_RETRY = 'https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html';
const SMITHY_RETRY = '@smithy/core 3.41 (the installed SDK) util-retry/retries-2026-config.js';
const L_SCALE = 'https://docs.aws.amazon.com/lambda/latest/dg/scaling-behavior.html';
const L_LIMITS = 'https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html';
const L_MEMORY = 'https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html';
const L_ENV = 'https://docs.aws.amazon.com/lambda/latest/operatorguide/execution-environments.html';
const L_PRICE = 'https://aws.amazon.com/lambda/pricing/';
const S3_PRICE = 'https://aws.amazon.com/s3/pricing/';
const BENCH = 'npm run bench:lambda -- --only embed,stats --runs 3 --stats-rows 2000000 (2026-12-03 07:20 UTC, quiet 2-core EPYC; medians)';
const PIPELINE_LOCAL = 'npm start -- pipeline-local (2M rows, 2026-12-02): wall minus its steps';
const ID_BENCH =
  'node --expose-gc --import tsx bench/id-partition.ts --runs 3 (2026-12-02 17:37 UTC, loaded 2-core EPYC, load average 5; medians)';

/** CPU seconds of one core of this machine, per unit of work: the cost model. */
export const CALIBRATION = {
  embedStartupS: f(0.19, 's', `${BENCH}: embed start-up (Node + bundle)`),
  embedCpuPerRowUs: f(
    (0.31 + 0.62) / 1.048576,
    'µs/row',
    `${BENCH}: embed decode 0.31 s + embed 0.62 s for 1,048,576 rows (the kernel, mapping fragment, id keys and row block)`,
  ),
  embedReadBytesPerRow: f(58e6 / 1_048_576, 'B/row', 'docs/scaling.md (bench:lambda): 58 MB read per 1Mi-row shard'),
  embedPeakMiBPerMiRows: f(419, 'MiB', `${BENCH}: embed peak RSS, 1Mi-row shard, the id keys included`),
  vectorBytesPerRow: f(56, 'B/row', '14 float32 (the .npy format)'),
  mappingBytesPerRow: f(37e6 / 1_048_576, 'B/row', 'docs/scaling.md (bench:lambda): 37 MB mapping fragment per 1Mi rows'),
  statsCpuPerRowUs: f((3.94 - 2.66) / 2, 'µs/row', `${BENCH}: stats pass 2M rows, step 3.94 s − read 2.66 s (both passes)`),
  statsReadBytesPerRow: f(32e6 / 1_048_576, 'B/row per pass', 'docs/scaling.md (bench:lambda): 32 MB per 1Mi rows (11 columns)'),
  statsPeakMiB: f(358, 'MiB', `${BENCH}: stats peak RSS at 2M rows (flat with rows per docs/scaling.md)`),
  inputBytesPerRow: f((135.9 * 2 ** 20) / 2e6, 'B/row', 'npm start -- generate --rows 2000000: 135.9 MiB'),
  idBytes: f(22, 'B/id', 'a Spotify track id: 22 base-62 characters (lib/generate, bench:big-output)'),
  keyRecordHeadBytes: f(20, 'B/record', 'lib/outputs/id-index.ts RECORD_HEAD: hash lo, hash hi, row f64, length u32'),
  rowBlockHeadBytes: f(4, 'B/row', 'lib/outputs/id-index.ts rowBlock: one u32 offset per row'),
  changePairBytes: f(16, 'B/change', 'lib/outputs/id-index.ts buildPartition: (row f64, index f64) per change'),
  partitionCpuPerRecordUs: f(0.401, 'µs/record', `${ID_BENCH}: buildPartition, 1,048,576 records from 16 shards, 10 % repeated, 0.421 s`),
  partitionPeakMiBPerMiRecords: f(42 + 122, 'MiB', `${ID_BENCH}: the slices (42 MiB) + RSS growth of one build (122 MiB), per 1Mi records`),
  rewriteCpuPerRowUs: f(
    0.368,
    'µs/row',
    `${ID_BENCH}: a 1,048,576-entry fragment parsed, 209,714 changes applied, written again, 0.386 s (building the change map not included)`,
  ),
  mapEntryBytes: f(64, 'B/entry', '(A) a V8 Map entry with number keys and values, hash table included (not measured)'),
  reduceBaseMiB: f(100, 'MiB', "docs/scaling.md (bench:lambda): the reduce function's base RSS (Node, the bundle)"),
} as const;

/** A platform: where S3, Lambda and the engine run, and how fast. */
export interface Platform {
  name: 'aws' | 'local';
  s3: {
    firstByteMs: Figure;
    /** One connection's transfer rate. */
    connectionMBps: Figure;
    /** All connections of one caller together (a Lambda's network), or of the whole server (moto). */
    callerMBps: Figure;
    /** One server for everyone (moto): its rate is shared by every caller. */
    sharedServer: boolean;
    putPerPrefixPerS: Figure;
    getPerPrefixPerS: Figure;
    copyMBps: Figure;
    /** moto: the server's PUT rate (shared); AWS: unused (a PUT goes at the connection's rate). */
    putMBps: Figure;
    sdkAttempts: Figure;
    sdkBaseBackoffMs: Figure;
    sdkMaxBackoffMs: Figure;
  };
  lambda: {
    coldStartMs: Figure;
    newEnvironmentsPer10s: Figure;
    accountConcurrency: Figure;
    mbPerVcpu: Figure;
    timeoutS: Figure;
    maxMemoryMb: Figure;
    /** All functions share this many cores (one Node process locally); 0: each environment has its own vCPUs. */
    sharedCores: Figure;
    /** This machine's core → the platform's vCPU. */
    cpuScale: Figure;
  };
  engine: {
    checkpointMs: Figure;
    invokeDispatchMs: Figure;
  };
  /** What the local command does around the job (start moto, upload, download); 0 on AWS. */
  harness: { startS: Figure };
  price: { gbSecond: Figure; perMillionRequests: Figure; s3PutPer1000: Figure; s3GetPer1000: Figure };
}

export const AWS: Platform = {
  name: 'aws',
  s3: {
    firstByteMs: f(100, 'ms', `${S3_PATTERNS} ("first-byte-out latencies … of roughly 100–200 milliseconds"; the lower end)`),
    connectionMBps: f(85, 'MB/s', `${S3_GUIDE} ("one concurrent request for each 85–90 MB/s")`),
    callerMBps: f(200, 'MB/s', '(A) one Lambda environment’s network; not documented (docs/scaling.md assumption)'),
    sharedServer: false,
    putPerPrefixPerS: f(3500, 'req/s', `${S3_PERF} (PUT/COPY/POST/DELETE per partitioned prefix)`),
    getPerPrefixPerS: f(5500, 'req/s', `${S3_PERF} (GET/HEAD per partitioned prefix)`),
    copyMBps: f(100, 'MB/s', '(A) one UploadPartCopy, server-side (docs/scaling.md assumption)'),
    putMBps: f(85, 'MB/s', `${S3_GUIDE} (per connection, as GETs)`),
    sdkAttempts: f(S3_ATTEMPTS, 'attempts', `lib/aws/clients.ts S3_ATTEMPTS (the client's maxAttempts; ${SDK_RETRY})`),
    sdkBaseBackoffMs: f(1000, 'ms', `${SMITHY_RETRY} (throttlingDelay: a 503 SlowDown's base delay, exponential, full jitter)`),
    sdkMaxBackoffMs: f(20_000, 'ms', `${SDK_RETRY} (maximum backoff 20 s)`),
  },
  lambda: {
    coldStartMs: f(
      500 + CALIBRATION.embedStartupS.value * 1000,
      'ms',
      `${L_ENV} (cold starts "from under 100 ms to over 1 second": (A) 0.5 s sandbox) + the bundle's load (embed start-up, ${BENCH})`,
    ),
    newEnvironmentsPer10s: f(1000, 'environments', `${L_SCALE} (1,000 execution environments every 10 s per function)`),
    accountConcurrency: f(1000, 'executions', `${L_LIMITS} (default concurrent executions per account and Region)`),
    mbPerVcpu: f(1769, 'MB', `${L_MEMORY} (1,769 MB is one vCPU; the steps are single-threaded)`),
    timeoutS: f(900, 's', `${L_LIMITS} (function timeout 15 minutes)`),
    maxMemoryMb: f(10_240, 'MB', `${L_LIMITS} (memory 128 MB to 10,240 MB)`),
    sharedCores: f(0, 'cores', 'each environment has its own vCPUs'),
    cpuScale: f(1, '×', '(A) one EPYC core here ≈ one Lambda vCPU, ±30 % (docs/scaling.md; not measured)'),
  },
  engine: {
    checkpointMs: f(50, 'ms', '(A) one durable checkpoint (an API call to the Lambda service); no published figure'),
    invokeDispatchMs: f(25, 'ms', '(A) a chained invoke’s dispatch (docs/scaling.md: ≈ 25 ms per invoke)'),
  },
  harness: { startS: f(0, 's', 'nothing around the job on AWS') },
  price: {
    gbSecond: f(0.0000133334, '$/GB-s', `${L_PRICE} (arm64, us-east-1, first tier)`),
    perMillionRequests: f(0.2, '$/1M', L_PRICE),
    s3PutPer1000: f(0.005, '$/1000', `${S3_PRICE} (S3 Standard PUT/COPY/POST/LIST)`),
    s3GetPer1000: f(0.0004, '$/1000', `${S3_PRICE} (S3 Standard GET)`),
  },
};

/** The one machine `pipeline-local` runs on: moto_server on loopback, every handler in one Node process. */
export const LOCAL: Platform = {
  name: 'local',
  s3: {
    firstByteMs: f(5, 'ms', '(A) moto_server request on loopback'),
    connectionMBps: f((2 * 64) / 2.66, 'MB/s', `${BENCH}: stats read 2 passes × 64 MB in 2.66 s, one range at a time`),
    callerMBps: f(58 / 0.54, 'MB/s', `${BENCH}: embed read 58 MB in 0.54 s, 8 ranges in flight (moto is one process: shared by all)`),
    sharedServer: true,
    putPerPrefixPerS: f(Infinity, 'req/s', 'moto has no request-rate limit'),
    getPerPrefixPerS: f(Infinity, 'req/s', 'moto has no request-rate limit'),
    copyMBps: f(104 / 0.56, 'MB/s', `${BENCH}: embed write 104 MB in 0.56 s (moto copies in memory like a PUT)`),
    putMBps: f(104 / 0.56, 'MB/s', `${BENCH}: embed write 104 MB (3 PUTs) in 0.56 s`),
    sdkAttempts: f(S3_ATTEMPTS, 'attempts', 'lib/aws/clients.ts S3_ATTEMPTS'),
    sdkBaseBackoffMs: f(1000, 'ms', SMITHY_RETRY),
    sdkMaxBackoffMs: f(20_000, 'ms', SDK_RETRY),
  },
  lambda: {
    coldStartMs: f(0, 'ms', 'handlers are loaded once in the command’s process'),
    newEnvironmentsPer10s: f(Infinity, 'environments', 'the local endpoint starts no environments'),
    accountConcurrency: f(Infinity, 'executions', 'no limit locally'),
    mbPerVcpu: f(1769, 'MB', 'unused locally (shared cores)'),
    timeoutS: f(900, 's', 'lib/emulators/lambda/invoke.ts DEFAULT_TIMEOUT_MS'),
    maxMemoryMb: f(Infinity, 'MB', 'no memory limit locally'),
    sharedCores: f(1, 'cores', 'every handler runs in the one Node process (lib/emulators/local-stack.ts)'),
    cpuScale: f(1, '×', 'this machine'),
  },
  engine: {
    checkpointMs: f(20, 'ms', `(A) the SDK's local runner (@aws/durable-execution-sdk-js-testing), in process; ${PIPELINE_LOCAL}`),
    invokeDispatchMs: f(10, 'ms', '(A) an invoke through the local Lambda endpoint over HTTP'),
  },
  harness: { startS: f(1.5, 's', `(A) moto_server start, bucket, the command's own start-up; ${PIPELINE_LOCAL}`) },
  price: {
    gbSecond: f(0, '$/GB-s', 'nothing is billed locally'),
    perMillionRequests: f(0, '$/1M', 'nothing is billed locally'),
    s3PutPer1000: f(0, '$/1000', 'nothing is billed locally'),
    s3GetPer1000: f(0, '$/1000', 'nothing is billed locally'),
  },
};

/** S3's multipart limits (the part plan, lib/aws/multipart-plan.ts, applies them). */
export const MULTIPART = {
  maxParts: f(10_000, 'parts', `${S3_MPU} (part numbers 1 to 10,000)`),
  minPartMiB: f(5, 'MiB', `${S3_MPU} (every part but the last)`),
  maxPartGiB: f(5, 'GiB', S3_MPU),
};

/** The function memory the stack deploys (cdk/props.ts defaults). */
export const MEMORY_MB = f(1769, 'MB', 'cdk/props.ts memoryMb: stats, embed, reduce 1,769 MB; job 512 MB');
export const JOB_MEMORY_MB = f(512, 'MB', 'cdk/props.ts memoryMb.job');

/**
 * What pipeline-local measured, for the check: the median of 3 of today's flow (statistics in
 * two 1Mi parts at 2M rows), and how loaded the machine was by other work (none: 1.0).
 */
export const MEASURED_PIPELINE_LOCAL = {
  rows2M: f(
    14.38,
    's',
    'npm run simulate:check -- --rows 2000000 --runs 3 (2026-12-03 09:28 UTC, quiet: load average 1.5–1.9, the run itself): 14.24, 14.38, 15.60 s as pipeline-local reports; median',
  ),
  loadFactor2M: f(
    1,
    '×',
    'no other work ran (the 2026-12-02 check, run under load average 6.8–9.8, took its 34.31 s back by 1.47×: its statistics step against bench:lambda)',
  ),
};
