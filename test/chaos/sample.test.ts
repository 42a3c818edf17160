/**
 * A fast sample of the crash-point matrix (`npm run chaos` runs all of it): the faults that left
 * jobs running for ever before the reconciler existed, and one of each kind. Each case runs a
 * real job on moto_server and the local Lambda endpoint and asserts that it ended exactly one way.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { s3Endpoint } from '../helpers/s3.ts';
import { runLocal } from '../../lib/local/runner.ts';
import { caseName, PROVOKE, runCase, type CaseSpec, type Reference } from './harness.ts';
import { fixture, useTmp } from '../helpers/tmp.ts';
import type { Fault } from './faults.ts';

const point = (fn: 'stats' | 'embed' | 'reduce' | 'reconcile' | 'failure', op: string, fault: Fault): CaseSpec => ({
  kind: 'point',
  point: { fn, op },
  fault,
  ...(PROVOKE[fn] ? { provoke: PROVOKE[fn] } : {}),
});

const SAMPLE: [CaseSpec, 'published' | 'failed'][] = [
  [point('stats', 'putIfAbsent jobs/<job>/plan.json', 'lost-response'), 'published'],
  [point('stats', 'put jobs/<job>/stats-parts/<i>', 'crash-after'), 'published'],
  [point('stats', 'invoke embed', 'drop'), 'published'],
  [point('embed', 'putIfAbsent jobs/<job>/reduce.claim', 'lost-response'), 'published'],
  [point('embed', 'invoke reduce', 'drop'), 'published'],
  [point('reduce', 'putIfAbsent jobs/publish-locks/<lock>', 'lost-response'), 'published'],
  [point('reduce', 'put embeddings/<name>/manifest.json', 'crash-after'), 'published'],
  [point('embed', 'put jobs/<job>/shards/<i>.parquet', 'crash-after'), 'published'],
  [point('reduce', 'stitch embeddings/<name>/parquet/part-00002.parquet', 'crash-after'), 'published'],
  [point('reduce', 'delete embeddings/<name>/parquet/part-00009.parquet', 'crash-before'), 'published'],
  [point('reduce', 'putIfAbsent jobs/publish-locks/<lock>', 'fail-always'), 'failed'],
  [point('reconcile', 'invoke embed', 'crash-before'), 'published'],
  [point('failure', 'put embeddings/<name>/error.json', 'crash-after'), 'failed'],
  [{ kind: 'lost-event' }, 'published'],
  [{ kind: 'never-finishes' }, 'failed'],
  [{ kind: 's3-errors', rate: 0.05, seed: 1 }, 'published'],
];

describe('every job ends (a sample of the crash-point matrix)', () => {
  const tmp = useTmp();
  let ref: Reference;

  beforeAll(async () => {
    const input = fixture('tracks-5k.parquet');
    const cli = await runLocal({ input, outDir: tmp(), workers: 1 });
    ref = { input: readFileSync(input), vectors: readFileSync(cli.vectorsPath), mapping: readFileSync(cli.mappingPath) };
  });

  it.each(SAMPLE.map(([spec, outcome]) => [caseName(spec), spec, outcome] as const))('%s', async (_name, spec, outcome) => {
    const r = await runCase(s3Endpoint(), ref, spec);
    expect(r.problem).toBeUndefined();
    if (spec.kind === 'point') expect(r.fired).toBe(true);
    expect(r.outcome).toBe(outcome);
    // The reconciler's own verdict names what never finished.
    if (spec.kind === 'never-finishes')
      expect(r.error).toMatch(/job \w+: shards 0, 1, 2, 3, 4 of 5 did not finish after 3 redrive\(s\) \(no progress since /);
  });
});
