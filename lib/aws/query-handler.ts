/**
 * The query function: "tracks like this" over a published output, behind a Function URL (AWS_IAM
 * auth) or invoked directly. A warm instance keeps the outputs it loaded, up to its row budget,
 * and reloads a name when its manifest's ETag changes (the outputs were republished).
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { SearchOutputs } from '../search/embeddings.ts';
import { openOutputs, OutputFolderError, OutputTooLargeError } from '../search/embeddings.ts';
import { answerQuery, parseQuery, QueryError, type Query } from '../search/query.ts';
import { manifestETag, s3OutputFiles } from './s3-outputs.ts';
import { s3Url } from './s3-objects.ts';
import { DEFAULT_QUERY_MAX_ROWS, ENV } from './env.ts';
import { ConfigError, readBucket, readPrefixes } from './config.ts';
import { messageOf } from '../errors.ts';

export interface QueryDeps {
  s3: S3Client;
  bucket: string;
  outputPrefix: string;
  /** Rows this instance keeps loaded at most (all names together); a larger output is refused. */
  maxRows: number;
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

/** The handler over the given clients: one query per invocation. */
export function queryHandler(deps: QueryDeps): (event: unknown) => Promise<QueryResponse> {
  const loaded = new Map<string, { etag: string; embeddings: SearchOutputs }>();

  /** The name's outputs, loaded or reloaded as its manifest's ETag says; least recently used names make room. */
  async function outputsOf(name: string): Promise<SearchOutputs> {
    const prefix = `${deps.outputPrefix}${name}/`;
    const etag = await manifestETag(deps.s3, deps.bucket, prefix);
    if (etag === null) throw new QueryError(404, `no published outputs named '${name}' (no ${s3Url(deps.bucket, prefix)}manifest.json)`);
    const hit = loaded.get(name);
    loaded.delete(name);
    if (hit && hit.etag === etag) {
      loaded.set(name, hit);
      return hit.embeddings;
    }
    const embeddings = await openOutputs(s3OutputFiles(deps.s3, deps.bucket, prefix), {
      maxRows: deps.maxRows,
      limitNote: 'the query function’s limit: raise the CDK context values queryMaxRows and queryMemoryMb',
    });
    let rows = embeddings.rows;
    for (const e of loaded.values()) rows += e.embeddings.rows;
    for (const [other, e] of loaded) {
      if (rows <= deps.maxRows) break;
      loaded.delete(other);
      rows -= e.embeddings.rows;
    }
    // The manifest read may be newer than the HEAD: keyed by the HEAD's ETag, a change reloads once more.
    loaded.set(name, { etag, embeddings });
    return embeddings;
  }

  return async (event) => {
    let query: Query;
    try {
      query = parseQuery(requestBody(event));
      const e = await outputsOf(query.name);
      const neighbours = await answerQuery(e, query);
      return respond(200, {
        name: query.name,
        k: query.k,
        metric: query.metric,
        rows: e.rows,
        ...(query.ids ? { ids: query.ids } : {}),
        neighbours: neighbours.map(({ rank, id, distance }) => ({ rank, id, distance })),
      });
    } catch (err: unknown) {
      if (err instanceof QueryError) return respond(err.status, { error: err.message });
      if (err instanceof OutputTooLargeError) return respond(413, { error: err.message });
      if (err instanceof OutputFolderError) return respond(500, { error: err.message });
      // Unexpected: logged whole for the operator; the caller gets one line.
      console.error(err);
      return respond(500, { error: `internal error: ${messageOf(err)}` });
    }
  };
}

/** The request object from a Function URL event (POST, JSON body) or a direct invocation. */
function requestBody(event: unknown): unknown {
  if (!isUrlEvent(event)) return event;
  const method = event.requestContext.http.method;
  if (method !== 'POST') throw new QueryError(400, `use POST with a JSON body, not ${method}`);
  const text = event.isBase64Encoded ? Buffer.from(event.body ?? '', 'base64').toString('utf8') : (event.body ?? '');
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
