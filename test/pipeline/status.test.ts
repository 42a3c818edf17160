/** `status` over the records and, when asked, the engine's word on an unfinished job's execution. */
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../lib/pipeline/memory-store.ts';
import { JobStore } from '../../lib/pipeline/job-store.ts';
import { DEFAULT_PREFIXES, jobIdFor, jobKeys } from '../../lib/pipeline/keys.ts';
import { describeStatus, jobStatus } from '../../lib/pipeline/status.ts';

const KEY = 'incoming/long.parquet';

/** A bucket with an upload whose generation-0 job wrote its statistics plan and never ended. */
function stalled() {
  const objects = new MemoryStore('b');
  const store = new JobStore(objects, DEFAULT_PREFIXES);
  const etag = objects.upload(KEY, 'PAR1…');
  const g0 = jobIdFor('b', KEY, etag);
  objects.upload(jobKeys(g0).statsPlan, JSON.stringify({ parts: [{}, {}] }));
  return { objects, store, etag, g0, g1: jobIdFor('b', KEY, etag, 1) };
}

describe('job status', () => {
  it('reads an unfinished job from its records alone when the engine is not asked', async () => {
    const { store, g0 } = stalled();
    expect(await jobStatus(store, KEY)).toEqual({ state: 'statistics', key: KEY, jobId: g0, parts: 2 });
  });

  it.each(['TIMED_OUT', 'STOPPED'])('says so when the engine ended the execution (%s) before it recorded an ending', async (ended) => {
    const { store, g0 } = stalled();
    const s = await jobStatus(store, KEY, async (id) => (id === g0 ? ended : null));
    expect(s).toEqual({ state: 'ended-unrecorded', key: KEY, jobId: g0, execution: ended });
    expect(describeStatus(s, 'b')).toBe(
      `s3://b/${KEY}: the engine ended job ${g0} as ${ended} before it recorded an ending: run redrive to run it again`,
    );
  });

  it('leaves a running execution as running, and follows a redrive to the next generation', async () => {
    const { objects, store, g0, g1 } = stalled();
    expect(await jobStatus(store, KEY, async (id) => (id === g0 ? 'RUNNING' : null))).toMatchObject({ state: 'statistics', jobId: g0 });
    // redrive started generation 1 after the engine timed generation 0 out.
    objects.upload(jobKeys(g1).statsPlan, JSON.stringify({ parts: [{}] }));
    const engine: Record<string, string> = { [g0]: 'TIMED_OUT', [g1]: 'RUNNING' };
    expect(await jobStatus(store, KEY, async (id) => engine[id] ?? null)).toEqual({ state: 'statistics', key: KEY, jobId: g1, parts: 1 });
  });
});
