/** The reducer's repeated-id pass: Python dict semantics from the shards' fragments, in bounded memory. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { dictMappingSegments } from '../../lib/pipeline/dict-mapping.ts';
import { parseEntries } from '../../lib/outputs/fragment.ts';
import type { ShardDone } from '../../lib/pipeline/records.ts';
import { MemoryJob } from '../helpers/memory-job.ts';
import { fixture } from '../helpers/tmp.ts';

const latin1 = (b: Uint8Array) => Buffer.from(b).toString('latin1');

describe('fragment entries', () => {
  it('parse across any chunk boundary, escapes included', () => {
    const text = '"a\\"b": 0, "\\u00e9t\\u00e9": 12, "x\\\\": 345';
    const bytes = new TextEncoder().encode(text);
    for (let cut = 0; cut <= bytes.length; cut++) {
      const got: string[] = [];
      const sink = (k: Uint8Array, i: number) => got.push(`${latin1(k)}=${i}`);
      const used = parseEntries(bytes.subarray(0, cut), false, sink);
      parseEntries(Uint8Array.from([...bytes.subarray(used)]), true, sink);
      expect(got, `cut at ${cut}`).toEqual(['"a\\"b"=0', '"\\u00e9t\\u00e9"=12', '"x\\\\"=345']);
    }
  });
});

describe('the mapping with repeated ids', () => {
  it.each([
    ['one partition, no spills', {}],
    ['7 partitions, spills of a few hundred bytes, 64-byte reads', { partitionIds: 7, budgetBytes: 300, chunkBytes: 64 }],
  ])('equals the reference byte for byte: %s', async (_what, opts) => {
    const job = await MemoryJob.create({ shardRows: 50 });
    // Every shard, but not the reduce: the pass runs on the shards' fragments.
    const reduce = job.hold('reduce');
    await job.upload('incoming/tricky.parquet', readFileSync(fixture('edge', 'tricky-ids.parquet')));
    const { payload } = await reduce.reached;
    const plan = await job.store.plan(payload.jobId);
    const done = (await Promise.all(plan.shards.map((s) => job.store.readShardRecord(plan.jobId, s.index)))) as ShardDone[];
    expect(done.length).toBeGreaterThan(1);

    const { segments, stats } = await dictMappingSegments(job.store, plan, done, opts);
    // Read before the reduce goes on: the job removes its scratch once it has published.
    const parts = segments.map((s) => ('bytes' in s ? s.bytes : job.objects.objects.get(s.key)!.body));
    reduce.release();
    await job.close();
    const mapping = `{${parts.map(latin1).join('')}}`;
    expect(mapping).toBe(readFileSync(fixture('edge', 'tricky-ids.reference', 'id_to_index.json')).toString('latin1'));
    expect(stats.repeatedIds).toBeGreaterThan(0);
    expect(stats.droppedEntries).toBeGreaterThan(0);
  });
});
