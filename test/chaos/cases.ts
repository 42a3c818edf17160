/**
 * The crash-point matrix: every point a fault-free run passes, with the faults that apply to it;
 * the failure path's points (which only a job that fails or is superseded reaches), provoked; and
 * the cases that are not one point: duplicate and late events, a new version or a deletion
 * mid-job, throttled invokes, a writer killed mid multipart upload, bad input, S3 5xx.
 */
import type { Fault, Point } from './faults.ts';
import type { BadInput } from './inputs.ts';

/** How a case drives its job(s). Points name where the newer version or the deletion comes, the first time one is reached. */
export type Scenario =
  | { kind: 'upload' }
  | { kind: 'bad-input'; input: BadInput; eventAgain?: boolean }
  /** Every embed invoke of one shard is refused with 429 TooManyRequestsException. */
  | { kind: 'throttled'; shard: number }
  /** v1 uploaded; at `at`, v2 (the fixture) is uploaded and its event sent. */
  | { kind: 'new-version'; at: Point }
  /** At `at`, the input is deleted. */
  | { kind: 'deleted'; at: Point }
  | { kind: 'event-twice'; when: 'at-once' | 'after-end' }
  /** v1 and v2 uploaded, v2's event first, then v1's. */
  | { kind: 'older-event-last'; when: 'at-once' | 'after-end' }
  | { kind: 's3-errors'; rate: number; seed: number }
  /** A publish lock whose holder's lease ran out is there first: the job takes it over (replace-if-match). */
  | { kind: 'stale-lock' }
  /** The reducer's multipart upload of the .npy is killed after S3 created it (a 160k-row input: its vectors pass one part). */
  | { kind: 'killed-multipart' };

export interface CaseSpec {
  scenario: Scenario;
  /** A fault at a point, the first time it is reached (`older`: in v1's job only). */
  fault?: { point: Point; fault: Fault; older?: boolean };
}

const pt = (fn: Point['fn'], op: string): Point => ({ fn, op });
const at = (p: Point) => `${p.fn}: ${p.op}`;

/** How the newest upload's job should end. */
export function expectedEnding(spec: CaseSpec): 'published' | 'failed' {
  const k = spec.scenario.kind;
  // Deleted only after its manifest was written (a crash right after it): the job had published.
  const publishedFirst = k === 'deleted' && spec.fault?.fault === 'crash-after' && spec.fault.point.op.endsWith('manifest.json');
  return (k === 'bad-input' || k === 'throttled' || k === 'deleted') && !publishedFirst ? 'failed' : 'published';
}

export function scenarioName(s: Scenario): string {
  switch (s.kind) {
    case 'upload':
      return '';
    case 'bad-input':
      return `bad input (${s.input})${s.eventAgain ? ', its event again after the job failed' : ''}`;
    case 'throttled':
      return `every embed invoke of shard ${s.shard} throttled`;
    case 'new-version':
      return `v2 uploaded at ${at(s.at)}`;
    case 'deleted':
      return `the input deleted at ${at(s.at)}`;
    case 'event-twice':
      return `the start event twice, ${s.when === 'at-once' ? 'at once' : 'the second after the job ended'}`;
    case 'older-event-last':
      return `v1's event after v2's, ${s.when === 'at-once' ? 'at once' : 'after v2 published'}`;
    case 's3-errors':
      return `S3 503 at ${Math.round(s.rate * 100)} % (seed ${s.seed})`;
    case 'stale-lock':
      return 'a stale publish lock taken over';
    case 'killed-multipart':
      return 'the reducer killed mid multipart upload (its abort never sent)';
  }
}

export function caseName(spec: CaseSpec): string {
  const scenario = scenarioName(spec.scenario);
  if (!spec.fault) return scenario || 'no fault';
  const f = `${spec.fault.fault} @ ${at(spec.fault.point)}${spec.fault.older ? ' (v1’s job)' : ''}`;
  return scenario ? `${f}; ${scenario}` : f;
}

const CONDITIONAL = /^(putIfAbsent|replaceIfMatch|deleteIfMatch) /;

/** The faults that apply at a point. */
export function faultsAt(point: Point): Fault[] {
  return CONDITIONAL.test(point.op) ? ['crash-before', 'crash-after', 'lost-response'] : ['crash-before', 'crash-after'];
}

const CHECKED = pt('job', 'put jobs/<job>/stats.json');
const PLANNED = pt('job', 'put jobs/<job>/plan.json');
const SHARD_RECORDED = pt('embed', 'put jobs/<job>/done/<i>');
const LOCK_TAKEN = pt('job', 'putIfAbsent jobs/publish-locks/<lock>');
const LOCK_RELEASED = pt('job', 'deleteIfMatch jobs/publish-locks/<lock>');
const LOCK_TAKEN_OVER = pt('job', 'replaceIfMatch jobs/publish-locks/<lock>');
const MANIFEST = pt('reduce', 'put embeddings/<name>/manifest.json');
const ERROR_JSON = pt('job', 'put embeddings/<name>/error.json');
const RETIRE = pt('job', 'delete jobs/<job>/*');

/** What a fault-free run discovers (the `npm run chaos` matrix starts from its points). */
export const DISCOVERY: CaseSpec = { scenario: { kind: 'upload' } };

/**
 * The points a fault-free run never reaches, with the scenarios that do: the failure path (record
 * the failure: error.json, then the scratch removed; superseded: the scratch removed), and the
 * takeover of a stale publish lock.
 */
export const PROVOKED: CaseSpec[] = [
  ...(
    [
      { kind: 'bad-input', input: 'corrupt-page' },
      { kind: 'throttled', shard: 2 },
    ] as const
  ).flatMap((scenario) =>
    [ERROR_JSON, RETIRE].flatMap((point) =>
      (['crash-before', 'crash-after'] as const).map((fault) => ({ scenario, fault: { point, fault } })),
    ),
  ),
  ...(['crash-before', 'crash-after'] as const).map((fault) => ({
    scenario: { kind: 'new-version', at: CHECKED } as const,
    fault: { point: RETIRE, fault, older: true },
  })),
  // Taking over a lock whose holder's lease ran out: the one replace-if-match of a job.
  { scenario: { kind: 'stale-lock' } },
  ...faultsAt(LOCK_TAKEN_OVER).map((fault) => ({ scenario: { kind: 'stale-lock' } as const, fault: { point: LOCK_TAKEN_OVER, fault } })),
];

/** The cases that are not a point of the fault-free run. */
export const SPECIAL: CaseSpec[] = [
  { scenario: { kind: 'event-twice', when: 'at-once' } },
  { scenario: { kind: 'event-twice', when: 'after-end' } },
  { scenario: { kind: 'older-event-last', when: 'at-once' } },
  { scenario: { kind: 'older-event-last', when: 'after-end' } },
  // A new version mid-job; with a fault at the same point, the older job's step is retried after the newer one started.
  { scenario: { kind: 'new-version', at: CHECKED } },
  { scenario: { kind: 'new-version', at: SHARD_RECORDED } },
  { scenario: { kind: 'new-version', at: pt('job', 'invoke embed') }, fault: { point: pt('job', 'invoke embed'), fault: 'crash-after' } },
  { scenario: { kind: 'new-version', at: LOCK_TAKEN } },
  { scenario: { kind: 'new-version', at: pt('reduce', 'stitch embeddings/<name>/spotify_vectors_14d.npy') } },
  { scenario: { kind: 'new-version', at: MANIFEST }, fault: { point: MANIFEST, fault: 'crash-after' } },
  { scenario: { kind: 'new-version', at: pt('job', 'invoke reduce') }, fault: { point: pt('job', 'invoke reduce'), fault: 'crash-after' } },
  { scenario: { kind: 'new-version', at: LOCK_RELEASED } },
  { scenario: { kind: 'deleted', at: CHECKED } },
  { scenario: { kind: 'deleted', at: PLANNED } },
  { scenario: { kind: 'deleted', at: SHARD_RECORDED } },
  { scenario: { kind: 'deleted', at: LOCK_TAKEN } },
  { scenario: { kind: 'deleted', at: MANIFEST }, fault: { point: MANIFEST, fault: 'crash-after' } },
  { scenario: { kind: 'throttled', shard: 2 } },
  { scenario: { kind: 'killed-multipart' } },
  { scenario: { kind: 'bad-input', input: 'not-parquet' } },
  { scenario: { kind: 'bad-input', input: 'missing-column' } },
  { scenario: { kind: 'bad-input', input: 'corrupt-page' } },
  { scenario: { kind: 'bad-input', input: 'not-parquet', eventAgain: true } },
  ...[0.05, 0.2].flatMap((rate) => [1, 2, 3].map((seed) => ({ scenario: { kind: 's3-errors', rate, seed } as const }))),
];

/** Every point × the faults that apply to it, then the failure path and the special cases. */
export function matrix(points: readonly Point[]): CaseSpec[] {
  const upload = { kind: 'upload' } as const;
  return [
    ...points.flatMap((point) => faultsAt(point).map((fault) => ({ scenario: upload, fault: { point, fault } }))),
    ...PROVOKED,
    ...SPECIAL,
  ];
}
