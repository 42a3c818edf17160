import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { beforeAll, describe, expect, it } from 'vitest';
import { runPipelineLocal, type LocalPipelineResult } from '../../lib/emulators/serverless-pipeline.ts';
import { writeTracksParquet } from '../../lib/generate/write-parquet.ts';
import { METRIC, METRICS_NAMESPACE } from '../../lib/observability/metric-names.ts';
import { costLine } from '../../lib/observability/cost.ts';
import { describeStatus, type JobStatus } from '../../lib/pipeline/status.ts';
import { useTmp } from '../helpers/tmp.ts';

type Line = Record<string, unknown>;
interface Emf {
  _aws: {
    Timestamp: number;
    CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[];
  };
  [k: string]: unknown;
}

const tmp = useTmp();
const lines: Line[] = [];
let result: LocalPipelineResult;

beforeAll(async () => {
  const dir = tmp();
  const input = join(dir, 'logged.parquet');
  await writeTracksParquet(input, { rows: 3_000, rowGroupSize: 1_500, seed: 7 });
  const logs = new PassThrough();
  let text = '';
  logs.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  // Two shards: the job's map invokes embed twice.
  result = await runPipelineLocal({ input, outDir: join(dir, 'out'), shardRows: 1_500, logs });
  for (const l of text.split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Line);
}, 60_000);

const logLines = () => lines.filter((l) => !('_aws' in l));
const blobs = () => lines.filter((l): l is Line & Emf => '_aws' in l);
/** The values of metric `name` in the blobs of step `step`. */
const values = (step: string, name: string) =>
  blobs()
    .filter((b) => b.step === step && b._aws.CloudWatchMetrics[0]!.Metrics.some((m) => m.Name === name))
    .flatMap((b) => [b[name]].flat() as number[]);

describe('a job through pipeline-local, observed', () => {
  it('writes only JSON lines, and every step logs with the job id, key and ETag', () => {
    const jobId = result.execution.name;
    const steps = new Set(logLines().map((l) => l.step));
    expect([...steps].sort()).toEqual(['embed', 'job', 'reduce', 'start', 'stats']);
    for (const l of logLines()) {
      expect(l).toMatchObject({ service: 'track-embeddings-local', jobId, key: 'incoming/logged.parquet' });
      expect(l.etag).toBe(result.manifest.input.etag);
      expect(typeof l.level).toBe('string');
      expect(typeof l.timestamp).toBe('string');
    }
  });

  it('emits EMF blobs CloudWatch reads: namespace, dimensions service and step, the metrics declared', () => {
    expect(blobs().length).toBeGreaterThan(0);
    for (const b of blobs()) {
      const d = b._aws.CloudWatchMetrics[0]!;
      expect(d.Namespace).toBe(METRICS_NAMESPACE);
      expect(d.Dimensions).toEqual([['service', 'step']]);
      for (const m of d.Metrics) expect(b[m.Name]).toBeDefined();
    }
    expect(values('start', METRIC.jobsStarted)).toEqual([1]);
    expect(values('job', METRIC.jobsPublished)).toEqual([1]);
    expect(values('job', METRIC.jobLatency)).toHaveLength(1);
    expect(values('job', METRIC.jobLatency)[0]).toBeGreaterThan(0);
    expect(values('embed', METRIC.rows).reduce((a, b) => a + b, 0)).toBe(3_000);
    expect(values('embed', METRIC.bytesRead).every((b) => b > 0)).toBe(true);
    expect(values('reduce', METRIC.rows)).toEqual([3_000]);
    for (const step of ['start', 'stats', 'embed', 'reduce']) expect(values(step, METRIC.stepDuration).length).toBeGreaterThan(0);
    expect(values('embed', METRIC.stepFailures)).toEqual([]);
  });

  it('records the job’s Lambda usage and estimated cost in the manifest, which status prints', () => {
    const cost = result.manifest.cost!;
    expect(cost.functions.embed!.requests).toBe(2);
    expect(cost.functions.stats!.requests).toBe(1);
    // The reduce function also served the job's one id partition.
    expect(cost.functions.reduce!.requests).toBe(2);
    expect(cost.requests).toBe(5);
    expect(cost.gbSeconds).toBeGreaterThan(0);
    expect(cost.estimatedUsd).toBeGreaterThan(0);
    expect(cost.prices.source).toMatch(/^https:\/\/aws\.amazon\.com\/lambda\/pricing\//);
    expect(costLine(cost)).toMatch(/^cost: ~\$0\.\d{6} \([\d.]+ GB-s, 5 requests: /);
    const done: JobStatus = {
      state: 'done',
      key: 'incoming/logged.parquet',
      jobId: 'j',
      manifest: result.manifest,
      outputs: 'embeddings/logged/',
    };
    const [first, second] = describeStatus(done, 'b').split('\n');
    expect(first).toMatch(/: done \(job j\): 3,000 rows/);
    expect(second).toBe(costLine(cost));
  });
});
