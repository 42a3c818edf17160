/** lib/outputs/: the published files. This file: manifest.json, what was computed from what, written last as the commit marker. */
import type { FeatureSpec } from '../embedding/spec.ts';
import type { MatrixDtype } from '../embedding/dtypes.ts';
import type { Scaler } from '../embedding/stats.ts';
import type { JobCost } from '../observability/cost.ts';
import { standardizedColumns, vectorsFileName } from '../embedding/spec.ts';
import { MANIFEST_FILE, MAPPING_FILE } from './file-names.ts';

const TOOL = 'track-embeddings 0.1.0';

/** What was computed and from what: enough to embed a new track into the same space later. */
export interface Manifest {
  manifestVersion: 1;
  tool: string;
  createdAt: string;
  input: { name: string; bytes: number; etag?: string; rows: number; rowGroups: number; createdBy: string | null };
  spec: FeatureSpec;
  dims: number;
  /** Per standardised column, in `spec` order: how `(x - mean) / scale` was fitted (NaN → null). */
  scaler: {
    columns: string[];
    count: number[];
    mean: (number | null)[];
    variance: (number | null)[];
    scale: (number | null)[];
    /** float32 where the notebook's matrix for the column is float32 (it then transforms in float32). */
    dtype?: MatrixDtype[];
  };
  outputs: {
    vectors: string;
    mapping: string;
    /** The Parquet copy (id, row, vector), when it was asked for: a file (the command line's embeddings.parquet) or a folder of parts, one per shard (the pipeline's parquet/). */
    parquet?: string;
    dtype: 'float32';
    shape: [number, number];
    uniqueIds: number | null;
    repeatedIds: boolean;
    /**
     * The pipeline's: each output file's ETag as this publish wrote it. A reader of the bucket
     * reads exactly these versions (If-Match), so it never pairs one publish's vectors with
     * another's ids; a mismatch means a newer publish is landing, and the reader starts over.
     */
    etags?: Record<string, string>;
    /** The compact id index (`id_index.bin`, lib/outputs/id-index.ts); absent in folders written before it. */
    idIndex?: string;
  };
  shards: { count: number; targetRows: number };
  timingsMs: Record<string, number>;
  /** Set by `transform`: the manifest whose fitted scaler these outputs used (no statistics were computed). */
  fittedFrom?: string;
  /** The pipeline's: the job (its durable execution's name) that published these outputs. */
  jobId?: string;
  /** The serverless job's Lambda usage and estimated cost (lib/observability/cost.ts); absent locally. */
  cost?: JobCost;
}

const finite = (xs: number[]) => xs.map((x) => (Number.isFinite(x) ? x : null));

/** The scaler section of the manifest (JSON has no NaN: null stands for it). */
export function scalerSection(columns: string[], s: Scaler): Manifest['scaler'] {
  return {
    columns,
    count: s.count,
    mean: finite(s.mean),
    variance: finite(s.variance),
    scale: finite(s.scale),
    ...(s.dtype && { dtype: s.dtype }),
  };
}

/** The scaler back from a manifest's (or plan's) scaler section, null read as NaN. */
export function scalerFromSection(s: Manifest['scaler']): Scaler {
  const numbers = (xs: (number | null)[]) => xs.map((x) => (x === null ? NaN : x));
  return {
    count: s.count,
    mean: numbers(s.mean),
    variance: numbers(s.variance),
    scale: numbers(s.scale),
    ...(s.dtype && { dtype: s.dtype }),
  };
}

/** The manifest of one finished job, local or serverless; everything else is derived from the spec. */
export function buildManifest(m: {
  input: Manifest['input'];
  spec: FeatureSpec;
  scaler: Scaler;
  repeatedIds: boolean;
  shards: Manifest['shards'];
  timingsMs: Record<string, number>;
  fittedFrom?: string;
  /** The Parquet copy's file name, when one was written. */
  parquet?: string;
  /** The id index's file name, when one was written, and the distinct ids it counted. */
  idIndex?: string;
  uniqueIds?: number;
}): Manifest {
  const dims = m.spec.features.length;
  const rows = m.input.rows;
  return {
    manifestVersion: 1,
    tool: TOOL,
    createdAt: new Date().toISOString(),
    input: m.input,
    spec: m.spec,
    dims,
    scaler: scalerSection(standardizedColumns(m.spec), m.scaler),
    outputs: {
      vectors: vectorsFileName(dims),
      mapping: MAPPING_FILE,
      ...(m.parquet !== undefined && { parquet: m.parquet }),
      dtype: 'float32',
      shape: [rows, dims],
      uniqueIds: m.uniqueIds ?? (m.repeatedIds ? null : rows),
      repeatedIds: m.repeatedIds,
      ...(m.idIndex !== undefined && { idIndex: m.idIndex }),
    },
    shards: m.shards,
    timingsMs: m.timingsMs,
    ...(m.fittedFrom !== undefined && { fittedFrom: m.fittedFrom }),
  };
}

/** The files of an output folder, as the commands list them: `{vectors, mapping[, parquet], manifest.json}`; a folder of parts as its pattern. */
export function outputFilesNote(m: Manifest): string {
  const parquet = m.outputs.parquet?.endsWith('/') ? `${m.outputs.parquet}part-*.parquet` : m.outputs.parquet;
  const index = m.outputs.idIndex ? [m.outputs.idIndex] : [];
  return `{${[m.outputs.vectors, m.outputs.mapping, ...index, ...(parquet ? [parquet] : []), MANIFEST_FILE].join(', ')}}`;
}
