/**
 * The job protocol's port: the operations a job step performs on its records ("write the plan
 * once", "mark shard 3 done", "claim the reduce", "take the publish lock"), over the raw object
 * port. The one place that turns them into keys, so no step spells a key or a URL itself.
 */
import { createHash } from 'node:crypto';
import type { ByteSource } from '../io/byte-source.ts';
import type { Manifest } from '../outputs/manifest.ts';
import type { ObjectStore, StitchSegment } from './object-store.ts';
import type { ActiveJob, Holder, JobError, JobPlan, ShardDone, StatsPlan, UploadedObject } from './records.ts';
import { indexKeys, jobIdFor, jobKeys, outputKeys, outputName, type Prefixes } from './keys.ts';
import { PipelineError } from '../errors.ts';

const utf8 = new TextDecoder();
const JSON_TYPE = 'application/json';

/** A shard's scratch objects: three, and its Parquet part when the plan asks for one. */
export type ShardPart = 'vectors' | 'ids' | 'hashes' | 'parquet';
const SHARD_PARTS = ['vectors', 'ids', 'hashes', 'parquet'] as const;

/** How a job ended, if it has: its outputs published, or its error.json written. */
export type Ending = 'published' | 'failed' | null;

/** The reconciler's own record: uploads older than `cutoff` have been looked at. */
export interface SweepRecord {
  cutoff: number;
}

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

  jobIdOf(obj: UploadedObject): string {
    return jobIdFor(this.bucket, obj.key, obj.etag);
  }

  /** The output name of an input key (`incoming/a/b.parquet` → `a/b`). */
  nameOf(key: string): string {
    return outputName(key, this.prefixes);
  }

  isInput(key: string): boolean {
    return key.startsWith(this.prefixes.input) && /\.parquet$/i.test(key);
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

  /** The plan, which every step after stats needs; a missing plan is a bug or an expired job, never bad input. */
  plan(jobId: string): Promise<JobPlan> {
    return this.required<JobPlan>(jobId, jobKeys(jobId, this.prefixes).plan);
  }

  /**
   * Writes the plan unless one exists; true when the plan there is ours: written now, or found
   * carrying our writer (S3 committed an earlier attempt whose response was lost).
   */
  writePlanOnce(plan: JobPlan & { writer: string }): Promise<boolean> {
    return this.putOnce(jobKeys(plan.jobId, this.prefixes).plan, plan);
  }

  hasPlan(jobId: string): Promise<boolean> {
    return this.objects.exists(jobKeys(jobId, this.prefixes).plan);
  }

  readStatsPlan(jobId: string): Promise<StatsPlan | null> {
    return this.getJson<StatsPlan>(jobKeys(jobId, this.prefixes).statsPlan);
  }

  /** The fanned-out statistics plan, which every stats part needs. */
  statsPlan(jobId: string): Promise<StatsPlan> {
    return this.required<StatsPlan>(jobId, jobKeys(jobId, this.prefixes).statsPlan);
  }

  writeStatsPlanOnce(sp: StatsPlan & { writer: string }): Promise<boolean> {
    return this.putOnce(jobKeys(sp.jobId, this.prefixes).statsPlan, sp);
  }

  hasStatsPlan(jobId: string): Promise<boolean> {
    return this.objects.exists(jobKeys(jobId, this.prefixes).statsPlan);
  }

  // --- statistics parts ------------------------------------------------------------------------

  writeStatsPart(jobId: string, part: number, moments: Uint8Array): Promise<void> {
    return this.objects.put(jobKeys(jobId, this.prefixes).statsPart(part), moments);
  }

  async readStatsPart(jobId: string, part: number): Promise<Uint8Array> {
    const bytes = await this.objects.get(jobKeys(jobId, this.prefixes).statsPart(part));
    if (!bytes) throw new PipelineError(`job ${jobId}: stats part ${part} was listed but cannot be read`);
    return bytes;
  }

  /** How many statistics parts have written their moments. */
  async statsPartsWritten(jobId: string): Promise<number> {
    return (await this.statsPartsDone(jobId)).size;
  }

  /** The statistics parts whose moments are written. */
  async statsPartsDone(jobId: string): Promise<Set<number>> {
    return this.indicesUnder(jobKeys(jobId, this.prefixes).statsPartsPrefix);
  }

  hasStatsPart(jobId: string, part: number): Promise<boolean> {
    return this.objects.exists(jobKeys(jobId, this.prefixes).statsPart(part));
  }

  // --- shards ----------------------------------------------------------------------------------

  /** Writes a shard's vectors, mapping fragment, sorted id hashes and Parquet part if any (a retry rewrites the same bytes). */
  async writeShard(
    jobId: string,
    shard: number,
    parts: Record<Exclude<ShardPart, 'parquet'>, Uint8Array> & { parquet?: Uint8Array },
  ): Promise<void> {
    await Promise.all(
      SHARD_PARTS.map((p) => {
        const body = parts[p];
        return body && this.objects.put(this.shardKey(jobId, shard, p), body);
      }),
    );
  }

  markShardDone(jobId: string, done: ShardDone): Promise<void> {
    return this.objects.put(jobKeys(jobId, this.prefixes).done(done.shard), JSON.stringify(done), JSON_TYPE);
  }

  readShardDone(jobId: string, shard: number): Promise<ShardDone | null> {
    return this.getJson<ShardDone>(jobKeys(jobId, this.prefixes).done(shard));
  }

  /** How many shards have written their done marker. */
  async shardsDone(jobId: string): Promise<number> {
    return (await this.shardsDoneSet(jobId)).size;
  }

  /** The shards whose done marker is written. */
  shardsDoneSet(jobId: string): Promise<Set<number>> {
    return this.indicesUnder(jobKeys(jobId, this.prefixes).donePrefix);
  }

  hasShardDone(jobId: string, shard: number): Promise<boolean> {
    return this.objects.exists(jobKeys(jobId, this.prefixes).done(shard));
  }

  /** A byte source over one of a shard's scratch objects. */
  shardSource(jobId: string, shard: number, part: ShardPart): Promise<ByteSource> {
    return this.objects.source(this.shardKey(jobId, shard, part));
  }

  /** One of a shard's scratch objects as a piece of a stitched output. */
  shardSegment(jobId: string, shard: number, part: ShardPart, size: number): StitchSegment {
    return { key: this.shardKey(jobId, shard, part), size };
  }

  /** Writes a working object of the reducer (`jobs/<jobId>/work/<name>`): spills, rewritten fragments. */
  writeWork(jobId: string, name: string, body: Uint8Array): Promise<void> {
    return this.objects.put(`${jobKeys(jobId, this.prefixes).prefix}work/${name}`, body);
  }

  async readWork(jobId: string, name: string): Promise<Uint8Array> {
    const key = `${jobKeys(jobId, this.prefixes).prefix}work/${name}`;
    const bytes = await this.objects.get(key);
    if (!bytes) throw new PipelineError(`job ${jobId}: ${this.url(key)} was written but cannot be read`);
    return bytes;
  }

  /** The names of the working objects under `work/<prefix>`, in the order they were numbered. */
  async listWork(jobId: string, prefix: string): Promise<string[]> {
    const base = `${jobKeys(jobId, this.prefixes).prefix}work/`;
    const names = (await this.objects.list(`${base}${prefix}`)).map((k) => k.slice(base.length));
    const seq = (n: string) => Number(/(\d+)$/.exec(n)?.[1] ?? 0);
    return names.sort((a, b) => seq(a) - seq(b));
  }

  /** A working object as a piece of a stitched output. */
  workSegment(jobId: string, name: string, size: number): StitchSegment {
    return { key: `${jobKeys(jobId, this.prefixes).prefix}work/${name}`, size };
  }

  /** Claims the job's one reduce; true for exactly one of several racing callers (and for a caller whose response was lost). */
  claimReduce(holder: Holder): Promise<boolean> {
    return this.putOnce(jobKeys(holder.jobId, this.prefixes).reduceClaim, holder);
  }

  readReduceClaim(jobId: string): Promise<Holder | null> {
    return this.getJson<Holder>(jobKeys(jobId, this.prefixes).reduceClaim);
  }

  /** Takes over a claim whose lease expired (its reducer is presumed lost). */
  async takeOverReduceClaim(holder: Holder): Promise<void> {
    await this.objects.put(jobKeys(holder.jobId, this.prefixes).reduceClaim, JSON.stringify(holder), JSON_TYPE);
  }

  /** Records why a job failed beside its scratch, whether or not error.json is written. */
  writeFailure(jobId: string, failure: { shard: number; message: string }): Promise<void> {
    return this.objects.put(jobKeys(jobId, this.prefixes).failed, JSON.stringify(failure), JSON_TYPE);
  }

  // --- the publish lock ------------------------------------------------------------------------

  /** Takes the lock of output `name` if it is free; false when someone holds it (see `publishLockHolder`). */
  tryPublishLock(name: string, holder: Holder): Promise<boolean> {
    return this.objects.putIfAbsent(this.lockKey(name), JSON.stringify(holder), JSON_TYPE);
  }

  publishLockHolder(name: string): Promise<Holder | null> {
    return this.getJson<Holder>(this.lockKey(name));
  }

  releasePublishLock(name: string): Promise<void> {
    return this.objects.delete([this.lockKey(name)]);
  }

  // --- outputs ---------------------------------------------------------------------------------

  /** The output folder of `name`, as a prefix. */
  outputPrefix(name: string): string {
    return outputKeys(name, this.prefixes).prefix;
  }

  readManifest(name: string): Promise<Manifest | null> {
    return this.getJson<Manifest>(outputKeys(name, this.prefixes).manifest);
  }

  /** Writes the manifest, the commit marker of a publish: its presence says the other outputs are complete. */
  writeManifest(name: string, manifest: Manifest): Promise<void> {
    return this.objects.put(outputKeys(name, this.prefixes).manifest, JSON.stringify(manifest, null, 2) + '\n', JSON_TYPE);
  }

  /** Writes an output file as the concatenation of `segments`, without holding it in memory. */
  stitchOutput(name: string, file: string, segments: readonly StitchSegment[], contentType: string): Promise<void> {
    return this.objects.stitch(outputKeys(name, this.prefixes).file(file), segments, contentType);
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

  putOutput(name: string, file: string, body: Uint8Array, contentType: string): Promise<void> {
    return this.objects.put(outputKeys(name, this.prefixes).file(file), body, contentType);
  }

  readError(name: string): Promise<JobError | null> {
    return this.getJson<JobError>(outputKeys(name, this.prefixes).error);
  }

  /**
   * Writes error.json for the upload's output name, unless this very version's outputs are
   * published (a job ends one way, never both); false when it did not write.
   */
  async writeError(obj: UploadedObject, jobId: string, error: JobError['error']): Promise<boolean> {
    if ((await this.readManifest(this.nameOf(obj.key)))?.input.etag === obj.etag) return false;
    const body: JobError = { jobId, input: { bucket: this.bucket, key: obj.key, etag: obj.etag }, error, at: new Date().toISOString() };
    await this.objects.put(outputKeys(this.nameOf(obj.key), this.prefixes).error, JSON.stringify(body, null, 2) + '\n', JSON_TYPE);
    return true;
  }

  /** Whether the job of this upload version has ended, and how. */
  async ending(obj: UploadedObject, jobId: string): Promise<Ending> {
    const name = this.nameOf(obj.key);
    const [manifest, error] = await Promise.all([this.readManifest(name), this.readError(name)]);
    if (manifest?.input.etag === obj.etag) return 'published';
    if (error?.jobId === jobId) return 'failed';
    return null;
  }

  /**
   * How the job ended, if it has, after retiring whatever is left of it: a step that finds its
   * job ended (a late duplicate, the retry of one whose clean-up failed) leaves nothing behind.
   */
  async retireIfEnded(obj: UploadedObject, jobId: string): Promise<Ending> {
    const ending = await this.ending(obj, jobId);
    if (ending) await this.retire(jobId);
    return ending;
  }

  // --- the index of unfinished jobs --------------------------------------------------------------

  /** Adds the job to the index the reconciler sweeps (kept if it is there already). */
  async registerActive(obj: UploadedObject, jobId: string, now: number): Promise<void> {
    const entry: ActiveJob = {
      jobId,
      bucket: this.bucket,
      key: obj.key,
      etag: obj.etag,
      startedAt: now,
      progress: 'started',
      progressAt: now,
      redrives: 0,
    };
    await this.objects.putIfAbsent(jobKeys(jobId, this.prefixes).active, JSON.stringify(entry), JSON_TYPE);
  }

  readActive(jobId: string): Promise<ActiveJob | null> {
    return this.getJson<ActiveJob>(jobKeys(jobId, this.prefixes).active);
  }

  saveActive(entry: ActiveJob): Promise<void> {
    return this.objects.put(jobKeys(entry.jobId, this.prefixes).active, JSON.stringify(entry), JSON_TYPE);
  }

  /** The ids of every job in the index. */
  async activeJobIds(): Promise<string[]> {
    const prefix = indexKeys(this.prefixes).activePrefix;
    return (await this.objects.list(prefix)).map((k) => k.slice(prefix.length));
  }

  /**
   * Ends a job's bookkeeping: removes its scratch (shards, markers, statistics parts, claim) and
   * its index entry. Its records stay: the plan (late duplicates recognise the job ended by it)
   * and failed.json (why a superseded job failed); the lifecycle rule expires them with the rest
   * of the jobs prefix.
   */
  async retire(jobId: string): Promise<void> {
    await this.objects.delete([...(await this.scratch(jobId)), jobKeys(jobId, this.prefixes).active]);
  }

  /** A job's scratch objects: everything under its prefix but its records. */
  async scratch(jobId: string): Promise<string[]> {
    const keys = jobKeys(jobId, this.prefixes);
    return (await this.objects.list(keys.prefix)).filter((k) => k !== keys.plan && k !== keys.failed);
  }

  readSweep(): Promise<SweepRecord | null> {
    return this.getJson<SweepRecord>(indexKeys(this.prefixes).sweep);
  }

  writeSweep(record: SweepRecord): Promise<void> {
    return this.objects.put(indexKeys(this.prefixes).sweep, JSON.stringify(record), JSON_TYPE);
  }

  /** Uploads under the input prefix with their ETags and last-modified times. */
  async listUploads(): Promise<{ key: string; lastModified: number }[]> {
    return (await this.objects.listObjects(this.prefixes.input)).filter((o) => this.isInput(o.key));
  }

  clearError(name: string): Promise<void> {
    return this.objects.delete([outputKeys(name, this.prefixes).error]);
  }

  // ---------------------------------------------------------------------------------------------

  /** Writes `record` at `key` unless something is there; true when what is there is ours. */
  private async putOnce(key: string, record: { writer: string }): Promise<boolean> {
    if (await this.objects.putIfAbsent(key, JSON.stringify(record), JSON_TYPE)) return true;
    return (await this.getJson<{ writer?: string }>(key))?.writer === record.writer;
  }

  /** The numeric last path segments under `prefix` (shard or part indices). */
  private async indicesUnder(prefix: string): Promise<Set<number>> {
    return new Set((await this.objects.list(prefix)).map((k) => Number(k.slice(prefix.length))).filter(Number.isInteger));
  }

  private shardKey(jobId: string, shard: number, part: ShardPart): string {
    const keys = jobKeys(jobId, this.prefixes);
    return keys[part](shard);
  }

  private lockKey(name: string): string {
    return `${this.prefixes.jobs}publish-locks/${createHash('sha256').update(name).digest('hex').slice(0, 32)}`;
  }

  /** A record every later step needs; missing, it is a bug or an expired job, never bad input. */
  private async required<T>(jobId: string, key: string): Promise<T> {
    const record = await this.getJson<T>(key);
    if (!record) throw new PipelineError(`job ${jobId}: no ${key.slice(key.lastIndexOf('/') + 1)} in ${this.url(key)}`);
    return record;
  }

  private async getJson<T>(key: string): Promise<T | null> {
    const bytes = await this.objects.get(key);
    if (bytes === null) return null;
    try {
      return JSON.parse(utf8.decode(bytes)) as T;
    } catch (e: unknown) {
      throw new PipelineError(`${this.url(key)}: not valid JSON (${e instanceof Error ? e.message : String(e)})`, { cause: e });
    }
  }
}
