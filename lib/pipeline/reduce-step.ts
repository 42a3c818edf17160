/**
 * The last step of a serverless job: stitch the shards into the published .npy and mapping
 * without holding them in memory, then write manifest.json last as the commit marker.
 * Publishing holds a per-name lock, and publishes only while the job's input is still the
 * object's current version, so a newer upload's outputs are never mixed with an older one's.
 */
import { createHash } from 'node:crypto';
import type { ObjectStore, StitchSegment } from './object-store.ts';
import type { Prefixes } from './keys.ts';
import type { JobPlan } from './records.ts';
import type { Manifest } from '../outputs/manifest.ts';
import type { ShardDone } from './embed-step.ts';
import { getJson } from './object-store.ts';
import { jobKeys, outputKeys } from './keys.ts';
import { loadPlan } from './embed-step.ts';
import { reviveScaler } from './records.ts';
import { vectorsFileName } from '../embedding/spec.ts';
import { npyHeader } from '../outputs/npy.ts';
import { mappingJson } from '../outputs/mapping.ts';
import { readAllIds } from '../embedding/shard-work.ts';
import { sortedSourcesRepeat } from '../outputs/repeated-ids.ts';
import { openParquet } from '../parquet/reader.ts';
import { buildManifest } from '../outputs/manifest.ts';
import { MAPPING_FILE } from '../outputs/file-names.ts';
import { PipelineError } from '../errors.ts';

export type ReduceOutcome = { status: 'published'; manifest: Manifest } | { status: 'superseded'; currentEtag: string | null } | { status: 'already-published' };

/** How long a publish lock protects its holder: a Lambda never runs longer than 15 minutes. */
const LOCK_LEASE_MS = 15 * 60 * 1000;

const utf8 = new TextEncoder();

/** Stitches and publishes job `jobId`; safe to run again (it rewrites the same bytes). */
export async function runReduce(store: ObjectStore, jobId: string, prefixes: Prefixes, waitForLock: (ms: number) => Promise<void>): Promise<ReduceOutcome> {
  const t0 = performance.now();
  const plan = await loadPlan(store, jobId, prefixes);
  const keys = jobKeys(jobId, prefixes);
  const out = outputKeys(plan.name, prefixes);
  const done = await Promise.all(plan.shards.map((s) => getJson<ShardDone>(store, keys.done(s.index))));
  const missing = done.flatMap((d, i) => (d ? [] : [i]));
  if (missing.length > 0) {
    const published = await getJson<Manifest>(store, out.manifest);
    if (published?.input.etag === plan.etag) return { status: 'already-published' };
    throw new PipelineError(`job ${jobId}: reduce started before shard(s) ${missing.join(', ')} finished`);
  }

  const lock = `${prefixes.jobs}publish-locks/${createHash('sha256').update(plan.name).digest('hex').slice(0, 32)}`;
  await acquire(store, lock, jobId, waitForLock);
  try {
    const current = await store.currentEtag(plan.key);
    if (current !== plan.etag) return { status: 'superseded', currentEtag: current };
    const manifest = await publish(store, plan, done as ShardDone[], prefixes);
    manifest.timingsMs = { ...plan.timingsMs, reduce: Math.round(performance.now() - t0) };
    // The manifest goes last: its presence says the other two outputs are complete.
    await store.put(out.manifest, JSON.stringify(manifest, null, 2) + '\n', 'application/json');
    await store.delete([out.error]);
    await store.delete(plan.shards.flatMap((s) => [keys.vectors(s.index), keys.ids(s.index), keys.hashes(s.index)]));
    return { status: 'published', manifest };
  } finally {
    await store.delete([lock]);
  }
}

async function acquire(store: ObjectStore, lock: string, jobId: string, wait: (ms: number) => Promise<void>): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    if (await store.putIfAbsent(lock, JSON.stringify({ jobId, at: Date.now() }), 'application/json')) return;
    const holder = await getJson<{ jobId: string; at: number }>(store, lock);
    if (holder && Date.now() - holder.at > LOCK_LEASE_MS) {
      await store.delete([lock]);
      continue;
    }
    // Another job of the same name is publishing; its publish is short, so back off briefly.
    await wait(Math.min(5000, 100 * 2 ** Math.min(attempt, 6)));
  }
}

async function publish(store: ObjectStore, plan: JobPlan, done: ShardDone[], prefixes: Prefixes): Promise<Manifest> {
  const keys = jobKeys(plan.jobId, prefixes);
  const out = outputKeys(plan.name, prefixes);
  const dims = plan.spec.features.length;
  const vectorsFile = vectorsFileName(dims);

  await store.stitch(
    out.file(vectorsFile),
    [{ bytes: npyHeader(plan.rows, dims) }, ...done.map((d): StitchSegment => ({ key: keys.vectors(d.shard), size: d.vectorBytes }))],
    'application/octet-stream',
  );

  const repeatedIds = await sortedSourcesRepeat(await Promise.all(done.map((d) => store.source(keys.hashes(d.shard)))));
  if (!repeatedIds) {
    await store.stitch(
      out.file(MAPPING_FILE),
      [{ bytes: utf8.encode('{') }, ...done.map((d): StitchSegment => ({ key: keys.ids(d.shard), size: d.idBytes })), { bytes: utf8.encode('}') }],
      'application/json',
    );
  } else {
    // Rare: an id repeats (or two share a 64-bit hash). Rebuild with dict semantics from the input.
    const reader = await openParquet(await store.source(plan.key, plan.etag));
    await store.put(out.file(MAPPING_FILE), mappingJson(await readAllIds(reader, plan.spec.id)), 'application/json');
  }

  return buildManifest({
    input: { name: `s3://${plan.bucket}/${plan.key}`, bytes: plan.bytes, etag: plan.etag, rows: plan.rows, rowGroups: plan.rowGroups, createdBy: plan.createdBy },
    spec: plan.spec,
    scaler: reviveScaler(plan.scaler),
    repeatedIds,
    shards: { count: plan.shards.length, targetRows: plan.shardRows },
    timingsMs: {},
  });
}
