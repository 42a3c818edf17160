/**
 * The explore page's HTTP server (node:http): the page's own files and a small JSON/binary API
 * over an Explorer. A thin shell: it parses the request, calls the explorer, writes the answer.
 * Every answer carries a strict Content-Security-Policy (only this origin; nothing loads from or
 * goes to anywhere else), and a request whose Host is not the address served is refused, so a
 * web page elsewhere cannot reach the API through DNS rebinding.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import type { Metric } from '../search/nearest.ts';
import { ExploreRequestError, type Explorer } from './explorer.ts';
import { neighboursCsv, neighboursJson } from './export.ts';

/** The page's files, served from `explore-page/` beside this module (and beside the bundle in dist/). */
const ASSETS: Readonly<Record<string, string>> = {
  '/': 'index.html',
  '/index.html': 'index.html',
  '/app.js': 'app.js',
  '/map.js': 'map.js',
  '/api.js': 'api.js',
  '/style.css': 'style.css',
};
const TYPES: Readonly<Record<string, string>> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
};
export const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const assetsDir = new URL('./explore-page/', import.meta.url);

export interface ExploreServer {
  server: Server;
  url: string;
  close(): Promise<void>;
}

const SECURITY_HEADERS = {
  'content-security-policy': CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-resource-policy': 'same-origin',
  'cache-control': 'no-store',
};

function send(res: ServerResponse, status: number, type: string, body: string | Uint8Array, extra: Record<string, string> = {}): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': type, 'content-length': Buffer.byteLength(body), ...extra });
  res.end(body);
}

const json = (res: ServerResponse, value: unknown) => send(res, 200, 'application/json; charset=utf-8', JSON.stringify(value));

/** The integers of a comma-separated parameter (`rows=1,5,9`). */
function rowsParam(text: string | null): number[] {
  if (!text) return [];
  return text.split(',').map((s) => {
    if (!/^\d+$/.test(s)) throw new ExploreRequestError(400, `not a row number: '${s.slice(0, 40)}'`);
    return Number(s);
  });
}

async function answer(explorer: Explorer, url: URL, res: ServerResponse): Promise<void> {
  const p = url.searchParams;
  switch (url.pathname) {
    case '/api/info':
      return json(res, explorer.info());
    case '/api/search':
      return json(res, explorer.search(p.get('q') ?? '', Math.min(50, Number(p.get('limit') ?? 20) || 20)));
    case '/api/track':
      return json(res, await explorer.track(Number(p.get('row')), p.get('features') !== '0'));
    case '/api/map': {
      const { rows, xy } = explorer.map;
      const body = new Uint8Array(4 + rows.byteLength + xy.byteLength);
      new DataView(body.buffer).setUint32(0, rows.length, true);
      body.set(new Uint8Array(rows.buffer, rows.byteOffset, rows.byteLength), 4);
      body.set(new Uint8Array(xy.buffer, xy.byteOffset, xy.byteLength), 4 + rows.byteLength);
      return send(res, 200, 'application/octet-stream', body);
    }
    case '/api/column': {
      const values = await explorer.column(p.get('name') ?? '');
      return send(res, 200, 'application/octet-stream', new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
    }
    case '/api/neighbours': {
      const seeds = rowsParam(p.get('rows'));
      const k = Number(p.get('k') ?? 10);
      const metric = (p.get('metric') ?? 'euclidean') as Metric;
      const { neighbours, ms } = explorer.neighbours(seeds, k, metric);
      const format = p.get('format') ?? 'page';
      const e = explorer.embeddings;
      const fileName = `neighbours-${e.ids[seeds[0]!] ?? seeds[0]}${seeds.length > 1 ? `-and-${seeds.length - 1}` : ''}.${format}`.replace(
        /[^\w.-]/g,
        '_',
      );
      const attachment = { 'content-disposition': `attachment; filename="${fileName}"` };
      if (format === 'csv') return send(res, 200, 'text/csv; charset=utf-8', neighboursCsv(neighbours), attachment);
      if (format === 'json') {
        const query = { seeds: seeds.map((row) => ({ row, id: e.ids[row] ?? `#${row}` })), metric, k };
        return send(res, 200, 'application/json; charset=utf-8', neighboursJson(query, neighbours), attachment);
      }
      return json(res, { neighbours, ms });
    }
  }
  const asset = ASSETS[url.pathname];
  if (!asset) throw new ExploreRequestError(404, `nothing at ${url.pathname}`);
  send(res, 200, TYPES[asset.split('.').pop()!]!, await readFile(new URL(asset, assetsDir)));
}

/**
 * Serves the explorer on `host:port` (port 0: any free one) until closed. Only GET and HEAD; a
 * Host header other than the served address (by name or number) is refused with 421.
 */
export async function serveExplorer(explorer: Explorer, host: string, port: number): Promise<ExploreServer> {
  let allowedHosts = new Set<string>();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (!allowedHosts.has(req.headers.host ?? '')) return send(res, 421, 'text/plain; charset=utf-8', 'unexpected Host header\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain; charset=utf-8', 'only GET\n', { allow: 'GET' });
    const url = new URL(req.url ?? '/', 'http://explore.invalid');
    answer(explorer, url, res).catch((e: unknown) => {
      const status = e instanceof ExploreRequestError ? e.status : 500;
      const message = e instanceof Error ? e.message : String(e);
      if (!res.headersSent) send(res, status, 'application/json; charset=utf-8', JSON.stringify({ error: message }));
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  allowedHosts = new Set([`${shownHost}:${bound}`, `localhost:${bound}`, ...(host === '127.0.0.1' ? [] : [`127.0.0.1:${bound}`])]);
  return {
    server,
    url: `http://${shownHost}:${bound}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
