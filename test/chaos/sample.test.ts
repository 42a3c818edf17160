/**
 * A fast sample of the crash-point matrix (`npm run chaos` runs all of it): one case of each
 * kind. Each runs a real job on moto_server, the local Lambda endpoint and the SDK's durable
 * runner, and asserts that every job ended exactly one way, as expected, leaving nothing behind.
 * The cases mostly wait out the engine's retry delays (real seconds), so they run concurrently.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { s3Endpoint } from '../helpers/s3.ts';
import { prepareInputs, type Inputs } from './inputs.ts';
import { runCase } from './harness.ts';
import { caseName, expectedEnding, type CaseSpec } from './cases.ts';
import type { Fault, Point } from './faults.ts';
import type { Ending } from './verify.ts';

const pt = (fn: Point['fn'], op: string): Point => ({ fn, op });
const fault = (point: Point, f: Fault): CaseSpec => ({ scenario: { kind: 'upload' }, fault: { point, fault: f } });
const LOCK = pt('job', 'putIfAbsent jobs/publish-locks/<lock>');
const MANIFEST = pt('reduce', 'put embeddings/<name>/manifest.json');

/** A case, each job's ending (oldest first), and what the newest job's error.json must say. */
type Sample = [CaseSpec, Ending[], RegExp?];

const SAMPLE: Sample[] = [
  [fault(pt('start', 'handler'), 'crash-after'), ['published']],
  [fault(pt('job', 'put jobs/<job>/plan.json'), 'crash-before'), ['published']],
  [fault(pt('job', 'invoke embed'), 'crash-after'), ['published']],
  [fault(LOCK, 'lost-response'), ['published']],
  [fault(MANIFEST, 'crash-after'), ['published']],
  [fault(pt('reduce', 'delete embeddings/<name>/parquet/part-00009.parquet'), 'crash-before'), ['published']],
  [{ scenario: { kind: 'event-twice', when: 'at-once' } }, ['published']],
  [{ scenario: { kind: 'older-event-last', when: 'after-end' } }, ['superseded', 'published']],
  // v1's manifest was written before the crash: its retried reduce reports it published; v2 then publishes over it.
  [{ scenario: { kind: 'new-version', at: MANIFEST }, fault: { point: MANIFEST, fault: 'crash-after' } }, ['published', 'published']],
  [{ scenario: { kind: 'deleted', at: pt('job', 'put jobs/<job>/plan.json') } }, ['failed'], /was deleted while job \w+ ran/],
  [{ scenario: { kind: 'throttled', shard: 2 } }, ['failed'], /shard 2 of 5 failed after 3 attempt\(s\): Rate Exceeded/],
  [{ scenario: { kind: 'bad-input', input: 'corrupt-page' } }, ['failed'], /chaos\.parquet: corrupt data in row group 1/],
  [{ scenario: { kind: 'killed-multipart' } }, ['published']],
  [{ scenario: { kind: 's3-errors', rate: 0.05, seed: 1 } }, ['published']],
  // A check of 'take the publish lock' that throws is one more wait (the engine does not retry it), and the lock is released whatever follows.
  [fault(LOCK, 'crash-after'), ['published']],
  // Deleted once the shards have read it: no newer job will publish, so this one fails, saying so.
  [{ scenario: { kind: 'deleted', at: LOCK } }, ['failed'], /was deleted while job \w+ ran/],
];

describe.concurrent('every job ends exactly one way (a sample of the crash-point matrix)', () => {
  let inputs: Inputs;
  beforeAll(async () => {
    inputs = await prepareInputs();
  });

  const check = async ([spec, endings, error]: Sample) => {
    const r = await runCase(s3Endpoint(), inputs, spec);
    expect(r.problem).toBeUndefined();
    expect(r.fired).not.toBe(false);
    expect(r.outcome).toBe(expectedEnding(spec));
    expect(r.jobs.map((j) => j.ending)).toEqual(endings);
    if (error) expect(r.error).toMatch(error);
  };
  it.each(SAMPLE.map((s) => [caseName(s[0]), s] as const))('%s', (_name, sample) => check(sample));
});
