/**
 * The job's port onto its bucket: the records a step reads and writes ("write the plan", "record
 * shard 3", "take the publish lock", "write error.json"), over the raw object port. The one place
 * that turns them into keys, so no step spells a key or a URL itself.
 */
import type { ByteSource } from '../io/byte-source.ts';
import type { Manifest } from '../outputs/manifest.ts';
import type { ObjectStore, StitchSegment } from './object-store.ts';
import type { JobError, JobPlan, PublishLock, ShardDone, StatsPlan, UploadedObject } from './records.ts';
import { jobKeys, keyProblem, outputKeys, outputName, publishLockKey, rejectedKeyErrorKey, type Prefixes } from './keys.ts';
import { PipelineError } from '../errors.ts';

const utf8 = new TextDecoder();
const JSON_TYPE = 'application/json';

/** A shard's scratch objects: three, and its Parquet part when the plan asks for one. */
export type ShardPart = 'vectors' | 'ids' | 'hashes' | 'parquet' | 'keys' | 'rowids';
const SHARD_PARTS = ['vectors', 'ids', 'hashes', 'parquet', 'keys', 'rowids'] as const;

/** How a job ended, if it has: its outputs published, or its error.json written. */
export type Ending = 'published' | 'failed' | null;

/** Whether the publish lock is ours now, and if not, whose it is. */
export type LockAttempt = { held: true } | { held: false; holder: string };

/** One bucket's jobs and outputs, under the configured prefixes. */
export class JobStore {
  constructor(
    readonly objects: ObjectStore,
    readonly prefixes: Prefixes,
  ) {}

  get bucket(): string {
    return this.objects.bucket;
  }

  /** `s3://bucket/key`, as every message names an object. */
  url(key: string): string {
    return `s3://${this.bucket}/${key}`;
  }

  /** The output name of an input key (`incoming/a/b.parquet` → `a/b`). */
  nameOf(key: string): string {
    return outputName(key, this.prefixes);
  }

  /** Why the outputs of an upload at `key` cannot be written, or null. */
  keyProblem(key: string): string | null {
    return keyProblem(key, this.prefixes);
  }

  // --- the input -------------------------------------------------------------------------------

  /** A byte source over exactly this version of the input (reads fail once it changes). */
  openInput(obj: UploadedObject): Promise<ByteSource & { etag: string }> {
    return this.objects.source(obj.key, obj.etag);
  }

  /** The input's current ETag, or null when it was deleted. */
  currentEtag(key: string): Promise<string | null> {
    return this.objects.currentEtag(key);
  }

  // --- plans -----------------------------------------------------------------------------------

  readPlan(jobId: string): Promise<JobPlan | null> {
    return this.getJson<JobPlan>(jobKeys(jobId, this.prefixes).plan);
  }

  /** The plan, which every step after the statistics needs; missing, it is a bug or an expired job, never bad input. */
  plan(jobId: string): Promise<JobPlan> {
    return this.required<JobPlan>(jobId, jobKeys(jobId, this.prefixes).plan);
  }

  /** Writes the plan (a retry computes and writes the same one). */
  async writePlan(plan: JobPlan): Promise<void> {
    await this.putJson(jobKeys(plan.jobId, this.prefixes).plan, plan);
  }

  readStatsPlan(jobId: string): Promise<StatsPlan | null> {
    return this.getJson<StatsPlan>(jobKeys(jobId, this.prefixes).statsPlan);
  }

  /** The statistics plan, which every statistics task needs. */
  statsPlan(jobId: string): Promise<StatsPlan> {
    return this.required<StatsPlan>(jobId, jobKeys(jobId, this.prefixes).statsPlan);
  }

  async writeStatsPlan(sp: StatsPlan): Promise<void> {
    await this.putJson(jobKeys(sp.jobId, this.prefixes).statsPlan, sp);
  }

  // --- statistics parts ------------------------------------------------------------------------

  /** A part's sums (its tasks' moments, as bytes). */
  async writeStatsPart(jobId: string, part: number, moments: Uint8Array): Promise<void> {
    await this.objects.put(jobKeys(jobId, this.prefixes).statsPart(part), moments);
  }

  readStatsPart(jobId: string, part: number): Promise<Uint8Array> {
    return this.requiredBytes(jobId, jobKeys(jobId, this.prefixes).statsPart(part));
  }

  /** A part's deviations from the merged means (its tasks', as bytes). */
  async writeDeviationsPart(jobId: string, part: number, deviations: Uint8Array): Promise<void> {
    await this.objects.put(jobKeys(jobId, this.prefixes).deviationsPart(part), deviations);
  }

  readDeviationsPart(jobId: string, part: number): Promise<Uint8Array> {
    return this.requiredBytes(jobId, jobKeys(jobId, this.prefixes).deviationsPart(part));
  }

  // --- shards ----------------------------------------------------------------------------------

  /** Writes a shard's vectors, mapping fragment, sorted id hashes and Parquet part if any (a retry rewrites the same bytes). */
  async writeShard(
    jobId: string,
    shard: number,
    parts: Record<'vectors' | 'ids', Uint8Array> & Partial<Record<'hashes' | 'parquet' | 'keys' | 'rowids', Uint8Array>>,
  ): Promise<void> {
    await Promise.all(
      SHARD_PARTS.map((p) => {
        const body = parts[p];
        return body && this.objects.put(this.shardKey(jobId, shard, p), body);
      }),
    );
  }

  /** Records what a shard wrote, after its objects: the reducer stitches from it. */
  async writeShardRecord(jobId: string, done: ShardDone): Promise<void> {
    await this.putJson(jobKeys(jobId, this.prefixes).shardRecord(done.shard), done);
  }

  readShardRecord(jobId: string, shard: number): Promise<ShardDone | null> {
    return this.getJson<ShardDone>(jobKeys(jobId, this.prefixes).shardRecord(shard));
  }

  /** How many shards have recorded their work (for `status`; the engine, not this count, drives the job). */
  async shardRecords(jobId: string): Promise<number> {
    return (await this.objects.list(jobKeys(jobId, this.prefixes).shardRecordPrefix)).length;
  }

  /** A byte source over one of a shard's scratch objects. */
  shardSource(jobId: string, shard: number, part: ShardPart): Promise<ByteSource> {
    return this.objects.source(this.shardKey(jobId, shard, part));
  }

  /** Bytes of one of a shard's scratch objects, by a range known from its record (one GET where the store can). */
  readShardRange(jobId: string, shard: number, part: ShardPart, offset: number, length: number): Promise<Uint8Array> {
    return this.readRange(this.shardKey(jobId, shard, part), offset, length);
  }

  private async readRange(key: string, offset: number, length: number): Promise<Uint8Array> {
    if (this.objects.getRange) return this.objects.getRange(key, offset, length);
    return (await this.objects.source(key)).read(offset, length);
  }

  /** One of a shard's scratch objects as a piece of a stitched output. */
  shardSegment(jobId: string, shard: number, part: ShardPart, size: number): StitchSegment {
    return { key: this.shardKey(jobId, shard, part), size };
  }

  /** Writes a working object of the reducer (`jobs/<jobId>/work/<name>`): spills, rewritten fragments. */
  async writeWork(jobId: string, name: string, body: Uint8Array): Promise<void> {
    await this.objects.put(this.workKey(jobId, name), body);
  }

  readWork(jobId: string, name: string): Promise<Uint8Array> {
    return this.requiredBytes(jobId, this.workKey(jobId, name));
  }

  /** Bytes of a working object by a known range (one GET where the store can). */
  readWorkRange(jobId: string, name: string, offset: number, length: number): Promise<Uint8Array> {
    return this.readRange(this.workKey(jobId, name), offset, length);
  }

  /** The names of the working objects under `work/<prefix>`, in the order they were numbered. */
  async listWork(jobId: string, prefix: string): Promise<string[]> {
    const base = this.workKey(jobId, '');
    const names = (await this.objects.list(`${base}${prefix}`)).map((k) => k.slice(base.length));
    const seq = (n: string) => Number(/(\d+)$/.exec(n)?.[1] ?? 0);
    return names.sort((a, b) => seq(a) - seq(b));
  }

  /** A byte source over a working object. */
  workSource(jobId: string, name: string): Promise<ByteSource> {
    return this.objects.source(this.workKey(jobId, name));
  }

  /** A working object as a piece of a stitched output. */
  workSegment(jobId: string, name: string, size: number): StitchSegment {
    return { key: this.workKey(jobId, name), size };
  }

  /** Removes everything the job wrote under the jobs prefix: its plans, statistics, shards and working objects. */
  async retire(jobId: string): Promise<void> {
    await this.objects.delete(await this.objects.list(jobKeys(jobId, this.prefixes).prefix));
  }

  /** What is left under the job's prefix (a finished job leaves nothing). */
  scratch(jobId: string): Promise<string[]> {
    return this.objects.list(jobKeys(jobId, this.prefixes).prefix);
  }

  // --- the publish lock ------------------------------------------------------------------------

  /**
   * Takes the publish lock of output `name` for `jobId`: free, already ours (a retried step), or
   * past its `until` (its holder's execution has certainly ended: the lease is the engine's own
   * execution timeout plus the reducer's) — replaced only while it is still that stale version.
   */
  async takePublishLock(name: string, jobId: string, now: number, leaseMs: number): Promise<LockAttempt> {
    const key = publishLockKey(name, this.prefixes);
    const mine = JSON.stringify({ jobId, until: now + leaseMs } satisfies PublishLock);
    if (await this.objects.putIfAbsent(key, mine, JSON_TYPE)) return { held: true };
    const current = await this.objects.getVersioned(key);
    if (!current) return this.takePublishLock(name, jobId, now, leaseMs);
    const holder = this.parse<PublishLock>(key, current.body);
    if (holder.jobId === jobId) return { held: true };
    if (now > holder.until && (await this.objects.replaceIfMatch(key, current.etag, mine, JSON_TYPE))) return { held: true };
    return { held: false, holder: holder.jobId };
  }

  /** Releases the lock of `name` if `jobId` holds it (after a lease expiry another job may). */
  async releasePublishLock(name: string, jobId: string): Promise<void> {
    const key = publishLockKey(name, this.prefixes);
    const current = await this.objects.getVersioned(key);
    if (current && this.parse<PublishLock>(key, current.body).jobId === jobId) await this.objects.deleteIfMatch(key, current.etag);
  }

  /** Who holds the lock of `name`, if anyone. */
  async publishLockHolder(name: string): Promise<PublishLock | null> {
    return this.getJson<PublishLock>(publishLockKey(name, this.prefixes));
  }

  // --- outputs ---------------------------------------------------------------------------------

  /** The output folder of `name`, as a prefix. */
  outputPrefix(name: string): string {
    return outputKeys(name, this.prefixes).prefix;
  }

  readManifest(name: string): Promise<Manifest | null> {
    return this.getJson<Manifest>(outputKeys(name, this.prefixes).manifest);
  }

  /** Writes the manifest, the commit marker of a publish: it names the version of every other output. */
  async writeManifest(name: string, manifest: Manifest): Promise<void> {
    await this.objects.put(outputKeys(name, this.prefixes).manifest, JSON.stringify(manifest, null, 2) + '\n', JSON_TYPE);
  }

  /** Writes an output file as the concatenation of `segments`, without holding it in memory; its ETag. */
  stitchOutput(name: string, file: string, segments: readonly StitchSegment[], contentType: string): Promise<string> {
    return this.objects.stitch(outputKeys(name, this.prefixes).file(file), segments, contentType);
  }

  /** Aborts what a killed writer of `name`'s outputs left unfinished (only the lock holder calls it). */
  abortOutputUploads(name: string): Promise<number> {
    return this.objects.abortUploads(outputKeys(name, this.prefixes).prefix);
  }

  /** Output files of `name` under `folder/` (a key relative to the output folder). */
  async listOutput(name: string, folder: string): Promise<string[]> {
    const { prefix } = outputKeys(name, this.prefixes);
    return (await this.objects.list(`${prefix}${folder}/`)).map((k) => k.slice(prefix.length));
  }

  deleteOutputs(name: string, files: readonly string[]): Promise<void> {
    const keys = outputKeys(name, this.prefixes);
    return this.objects.delete(files.map((f) => keys.file(f)));
  }

  readError(name: string): Promise<JobError | null> {
    return this.getJson<JobError>(outputKeys(name, this.prefixes).error);
  }

  /**
   * Writes error.json for the upload's output name, unless this very version's outputs are
   * published (a job ends one way, never both); false when it did not write.
   */
  async writeError(obj: UploadedObject, jobId: string, generation: number, error: JobError['error']): Promise<boolean> {
    if ((await this.readManifest(this.nameOf(obj.key)))?.input.etag === obj.etag) return false;
    await this.putJson(outputKeys(this.nameOf(obj.key), this.prefixes).error, this.errorRecord(obj, jobId, generation, error));
    return true;
  }

  clearError(name: string): Promise<void> {
    return this.objects.delete([outputKeys(name, this.prefixes).error]);
  }

  /** error.json of an upload whose own output folder cannot be written, under a key derived from its own. */
  async writeRejectedKey(obj: UploadedObject, jobId: string, error: JobError['error']): Promise<void> {
    await this.putJson(rejectedKeyErrorKey(obj.key, this.prefixes), this.errorRecord(obj, jobId, 0, error));
  }

  readRejectedKey(key: string): Promise<JobError | null> {
    return this.getJson<JobError>(rejectedKeyErrorKey(key, this.prefixes));
  }

  /** Whether this version of the upload has ended, and how (the newest run of it decides). */
  async ending(obj: UploadedObject): Promise<Ending> {
    const name = this.nameOf(obj.key);
    const [manifest, error] = await Promise.all([this.readManifest(name), this.readError(name)]);
    if (manifest?.input.etag === obj.etag) return 'published';
    if (error?.input.etag === obj.etag) return 'failed';
    return null;
  }

  // ---------------------------------------------------------------------------------------------

  private errorRecord(obj: UploadedObject, jobId: string, generation: number, error: JobError['error']): JobError {
    return { jobId, input: { bucket: this.bucket, key: obj.key, etag: obj.etag }, generation, error, at: new Date().toISOString() };
  }

  private shardKey(jobId: string, shard: number, part: ShardPart): string {
    return jobKeys(jobId, this.prefixes)[part](shard);
  }

  private workKey(jobId: string, name: string): string {
    return `${jobKeys(jobId, this.prefixes).prefix}work/${name}`;
  }

  private async putJson(key: string, record: unknown): Promise<void> {
    await this.objects.put(key, JSON.stringify(record, null, 2) + '\n', JSON_TYPE);
  }

  /** A record every later step needs; missing, it is a bug or an expired job, never bad input. */
  private async required<T>(jobId: string, key: string): Promise<T> {
    const record = await this.getJson<T>(key);
    if (!record) throw new PipelineError(`job ${jobId}: no ${key.slice(key.lastIndexOf('/') + 1)} in ${this.url(key)}`);
    return record;
  }

  private async requiredBytes(jobId: string, key: string): Promise<Uint8Array> {
    const bytes = await this.objects.get(key);
    if (!bytes) throw new PipelineError(`job ${jobId}: ${this.url(key)} was written but cannot be read`);
    return bytes;
  }

  private async getJson<T>(key: string): Promise<T | null> {
    const bytes = await this.objects.get(key);
    return bytes === null ? null : this.parse<T>(key, bytes);
  }

  private parse<T>(key: string, bytes: Uint8Array): T {
    try {
      return JSON.parse(utf8.decode(bytes)) as T;
    } catch (e: unknown) {
      throw new PipelineError(`${this.url(key)}: not valid JSON (${e instanceof Error ? e.message : String(e)})`, { cause: e });
    }
  }
}
