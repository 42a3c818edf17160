/**
 * The query function: "tracks like this" over a published output, behind a Function URL (AWS_IAM
 * auth) or invoked directly. A warm instance keeps the outputs it loaded within a byte budget
 * (vectors plus ids, which may be long), evicting least recently used names before it loads
 * another, and reloads a name when its manifest's ETag changes (the outputs were republished).
 * An output larger than the budget is searched as it is read (lib/search/streamed-outputs.ts):
 * only its id index stays, and each query scans the vectors chunk by chunk from S3.
 * Answers never carry the bucket, an SDK or V8 message, or what the caller sent that was wrong.
 */
import { HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { SearchOutputs } from '../search/embeddings.ts';
import { openOutputs, OutputChangedError, OutputFolderError, OutputTooLargeError } from '../search/embeddings.ts';
import { openStreamedOutputs, streamedSearch } from '../search/streamed-outputs.ts';
import { answerWith, featuresVector, heldSearch, parseQuery, QueryError, type Query, type VectorSearch } from '../search/query.ts';
import { manifestETag, s3OutputFiles } from './s3-outputs.ts';
import { isNotFound } from './s3-objects.ts';
import { DEFAULT_QUERY_MAX_ROWS, ENV, QUERY_BYTES_PER_ROW } from './env.ts';
import { ConfigError, readBucket, readPrefixes } from './config.ts';
import { MAPPING_FILE } from '../outputs/file-names.ts';
import { ID_INDEX_FILE } from '../outputs/id-index.ts';
import { vectorsFileName } from '../embedding/spec.ts';
import { checkRequest, checkVector, MAX_BODY_BYTES, unknownFeatures } from './query-request.ts';
import { silentTelemetry, type ContextLike, type Telemetry } from '../observability/telemetry.ts';

/** What a loaded mapping takes in memory per byte of id_to_index.json (the text, the ids as strings, the Map). */
const MAPPING_MEMORY_FACTOR = 4;
/** An id index up to this size is held in memory (a warm query reads nothing); a larger one is read a few KB per lookup. */
const HOLD_INDEX_BYTES = 256 << 20;
const DIMS = 14;

export interface QueryDeps {
  s3: S3Client;
  bucket: string;
  outputPrefix: string;
  /** Rows this instance keeps loaded at most (all names together); a larger output is refused. */
  maxRows: number;
  /** Bytes of outputs this instance keeps loaded at most; default maxRows × QUERY_BYTES_PER_ROW. */
  maxBytes?: number;
  /** Rows of an output too large to load that a query still scans as it reads the vectors (default STREAM_MAX_ROWS). */
  maxStreamRows?: number;
  telemetry?: Telemetry;
}

/** What a Function URL (payload format 2.0) delivers; a direct invocation sends the request object itself. */
interface UrlEvent {
  requestContext: { http: { method: string } };
  body?: string;
  isBase64Encoded?: boolean;
}

/** The response, in the shape a Function URL turns into HTTP (a direct invocation gets it as is). */
export interface QueryResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

/** An output as this instance serves it: loaded whole, or streamed (its vectors read by each query). */
interface Served {
  etag: string;
  /** What it holds in memory between queries. */
  bytes: number;
  outputs: Pick<SearchOutputs, 'manifest' | 'lookup' | 'rows'>;
  streamed: boolean;
  search: VectorSearch;
}

/**
 * Rows a streamed query scans at most. Each query reads the vectors once: 8.4 GB at 150M rows, 42 s
 * at the 200 MB/s the simulator assumes for one function's network (not measured on AWS), inside
 * the function's 60 s timeout; the scan itself is 3.0 s at 100M rows (bench:query-stream, local
 * files). A larger output is refused with a 413.
 */
export const STREAM_MAX_ROWS = 150_000_000;

/** The handler over the given clients: one query per invocation. */
export function queryHandler(deps: QueryDeps): (event: unknown, context?: ContextLike) => Promise<QueryResponse> {
  const loaded = new Map<string, Served>();
  const maxStreamRows = deps.maxStreamRows ?? STREAM_MAX_ROWS;
  const maxBytes = deps.maxBytes ?? deps.maxRows * QUERY_BYTES_PER_ROW;
  const telemetry = deps.telemetry ?? silentTelemetry('query');
  let inUse = 0;
  const evict = (name: string) => {
    const e = loaded.get(name);
    if (e) inUse -= e.bytes;
    loaded.delete(name);
  };

  /**
   * The name's outputs, loaded or reloaded as its manifest's ETag says; least recently used names
   * make room first. Outputs larger than the budget are opened without their vectors, which each
   * query then reads as it scans them.
   */
  async function outputsOf(name: string): Promise<Served> {
    const prefix = `${deps.outputPrefix}${name}/`;
    const etag = await manifestETag(deps.s3, deps.bucket, prefix);
    if (etag === null) throw new QueryError(404, `no published outputs named '${name}'`);
    const hit = loaded.get(name);
    if (hit && hit.etag === etag) {
      loaded.delete(name);
      loaded.set(name, hit);
      return hit;
    }
    // Replaced or new: what it will take is known from its files' sizes, before anything is read.
    evict(name);
    const size = await footprint(deps.s3, deps.bucket, prefix);
    const files = s3OutputFiles(deps.s3, deps.bucket, prefix);
    // Loaded: the vectors and the ids (the parsed mapping, or the id index when small enough to hold).
    const whole =
      size.vectors + (size.index === 0 ? MAPPING_MEMORY_FACTOR * size.mapping : size.index <= HOLD_INDEX_BYTES ? size.index : 0);
    const streamed = whole > maxBytes;
    // Streamed, only the id index stays, when it fits the budget; an output without one cannot be streamed.
    const holdIndexUpTo = streamed ? Math.min(HOLD_INDEX_BYTES, maxBytes) : HOLD_INDEX_BYTES;
    const bytes = streamed ? (size.index <= holdIndexUpTo ? size.index : 0) : whole;
    if (streamed && size.index === 0) throw tooLarge(name);
    for (const other of [...loaded.keys()]) {
      if (inUse + bytes <= maxBytes) break;
      evict(other);
    }
    let served: Served;
    if (streamed) {
      // Past the streamed rows' limit it is refused from its manifest, before the vectors or the index are opened.
      const s = await openStreamedOutputs(files, { holdIndexUpTo, maxRows: maxStreamRows }).catch((err: unknown) => {
        throw err instanceof OutputTooLargeError ? tooLarge(name) : err;
      });
      served = { etag, bytes, outputs: s, streamed: true, search: streamedSearch(s) };
    } else {
      const e = await openOutputs(files, { maxRows: deps.maxRows, limitNote: '', holdIndexUpTo: HOLD_INDEX_BYTES });
      served = { etag, bytes, outputs: e, streamed: false, search: heldSearch(e) };
    }
    // The manifest read may be newer than the HEAD: keyed by the HEAD's ETag, a change reloads once more.
    loaded.set(name, served);
    inUse += bytes;
    return served;
  }

  return (event, context) =>
    telemetry.run({}, context, async (inv) => {
      try {
        const query = parseQuery(checked(requestBody(event)));
        let e = await outputsOf(query.name);
        let neighbours;
        try {
          neighbours = await answer(e, query);
        } catch (err: unknown) {
          // A streamed output republished while this query read it: once more, from the new manifest.
          if (!(err instanceof OutputChangedError) || !e.streamed) throw err;
          evict(query.name);
          e = await outputsOf(query.name);
          neighbours = await answer(e, query);
        }
        inv.log.info('query answered', { k: query.k, rows: e.outputs.rows, streamed: e.streamed });
        return respond(200, {
          name: query.name,
          k: query.k,
          metric: query.metric,
          rows: e.outputs.rows,
          ...(query.ids ? { ids: query.ids } : {}),
          neighbours: neighbours.map(({ rank, id, distance }) => ({ rank, id, distance })),
        });
      } catch (err: unknown) {
        if (err instanceof QueryError) return respond(err.status, { error: err.message });
        // The operator's log has the whole error; the caller gets a line without internals.
        inv.log.error('query failed', err instanceof Error ? err : String(err));
        if (err instanceof OutputTooLargeError) return respond(413, { error: 'the output is larger than this function serves' });
        if (err instanceof OutputFolderError)
          return respond(500, { error: 'the published outputs cannot be read; the operator’s logs say why' });
        return respond(500, { error: `internal error${context ? ` (request ${context.awsRequestId})` : ''}` });
      }
    });
}

const tooLarge = (name: string) =>
  new QueryError(
    413,
    `the outputs of '${name}' are larger than this function serves (the CDK context values queryMaxRows and queryMemoryMb raise it)`,
  );

/** Checks the request and answers it; features are checked against the output's spec and float32's range first. */
async function answer(served: Served, q: Query) {
  const e = served.outputs;
  if (q.features) {
    const unknown = unknownFeatures(
      q.features,
      e.manifest.spec.features.map((f) => f.column),
    );
    if (unknown > 0)
      throw new QueryError(
        400,
        `'features': ${unknown} field(s) the output's spec does not have (it takes ${e.manifest.spec.features.map((f) => f.column).join(', ')})`,
      );
    try {
      checkVector(featuresVector(e, q.features, 'features'));
    } catch (err: unknown) {
      if (err instanceof QueryError) throw err;
      // Other refusals are answerQuery's, which says them as 400s.
    }
  }
  return answerWith(e, served.search, q);
}

/**
 * The sizes of the output's vectors, mapping and id index (0 for a file it lacks), from which the
 * handler knows what loading it would take before anything is read.
 */
async function footprint(s3: S3Client, bucket: string, prefix: string): Promise<{ vectors: number; mapping: number; index: number }> {
  const size = async (file: string) => {
    try {
      return (await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: `${prefix}${file}` }))).ContentLength ?? 0;
    } catch (e: unknown) {
      if (isNotFound(e)) return 0; // the loader then says which file is missing
      throw e;
    }
  };
  const [vectors, mapping, index] = await Promise.all([size(vectorsFileName(DIMS)), size(MAPPING_FILE), size(ID_INDEX_FILE)]);
  return { vectors, mapping, index };
}

function checked(body: unknown): unknown {
  checkRequest(body);
  return body;
}

/** The request object from a Function URL event (POST, JSON body) or a direct invocation. */
function requestBody(event: unknown): unknown {
  if (!isUrlEvent(event)) return event;
  const method = event.requestContext.http.method;
  if (method !== 'POST') throw new QueryError(400, 'use POST with a JSON body');
  const raw = event.body ?? '';
  if (typeof raw !== 'string' || raw.length > (MAX_BODY_BYTES * 4) / 3 + 4)
    throw new QueryError(413, `the body must be at most ${MAX_BODY_BYTES} bytes`);
  const text = event.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw;
  if (Buffer.byteLength(text) > MAX_BODY_BYTES) throw new QueryError(413, `the body must be at most ${MAX_BODY_BYTES} bytes`);
  try {
    return JSON.parse(text);
  } catch {
    throw new QueryError(400, 'the body is not valid JSON');
  }
}

function isUrlEvent(event: unknown): event is UrlEvent {
  const ctx = (event as { requestContext?: { http?: { method?: unknown } } } | null)?.requestContext;
  return typeof ctx?.http?.method === 'string';
}

function respond(statusCode: number, body: unknown): QueryResponse {
  return { statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

/** The query function's settings from its environment: the bucket, the output prefix (default `embeddings/`), the row limit. */
export function queryConfig(env: NodeJS.ProcessEnv): { bucket: string; outputPrefix: string; maxRows: number } {
  const raw = env[ENV.queryMaxRows] || String(DEFAULT_QUERY_MAX_ROWS);
  const maxRows = Number(raw);
  if (!Number.isInteger(maxRows) || maxRows < 1)
    throw new ConfigError(`invalid configuration: ${ENV.queryMaxRows} must be a positive integer, got '${raw}'`);
  return { bucket: readBucket(env), outputPrefix: readPrefixes(env).output, maxRows };
}
