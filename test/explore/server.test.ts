/**
 * The explore server and command without a browser: what it answers, what it refuses (another
 * Host, another method, bad parameters), the headers that keep the page to its own origin, the
 * map's sample above the limit, and the command's refusals and clean stop.
 */
import { mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openExplorer, type OpenedExplorer } from '../../lib/explore/open-explorer.ts';
import { CSP, serveExplorer, type ExploreServer } from '../../lib/explore/server.ts';
import { makeOutputFolderHere, runCommand, startExplore } from './browser.ts';
import { CLI } from '../helpers/cli.ts';
import { spawnSync } from 'node:child_process';

const ROWS = 3000;
let root: string;
let opened: OpenedExplorer;
let served: ExploreServer;

/** A raw GET (or another method) with a chosen Host header, which fetch does not let a caller set. */
function raw(path: string, host: string, method = 'GET'): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  const url = new URL(served.url);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path, method, headers: { host } }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (s: string) => (body += s));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}
const get = async (path: string) => {
  const r = await fetch(new URL(path, served.url));
  return { status: r.status, headers: r.headers, json: (await r.json()) as Record<string, unknown> & { error?: string } };
};

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'explore-server-'));
  await makeOutputFolderHere(root, ROWS);
  opened = await openExplorer(join(root, 'out'), { input: join(root, 'tracks.parquet'), mapLimit: 1000 });
  served = await serveExplorer(opened.explorer, '127.0.0.1', 0);
});
afterAll(async () => {
  await served?.close();
  await opened?.close();
  rmSync(root, { recursive: true, force: true });
});

describe('the explore server', () => {
  it('serves the page with a same-origin Content-Security-Policy', async () => {
    const r = await fetch(served.url);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-security-policy')).toBe(CSP);
    expect(CSP).toContain("default-src 'none'");
    expect(CSP).not.toMatch(/https?:|\*/);
    const html = await r.text();
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).not.toMatch(/<script>|style="/);
  });

  it.each(['evil.example:80', 'attacker.test', '127.0.0.1.attacker.test'])(
    'refuses a request with Host %j (DNS rebinding)',
    async (host) => {
      const r = await raw('/api/info', host);
      expect(r.status).toBe(421);
    },
  );

  it('answers by loopback name and number', async () => {
    const port = new URL(served.url).port;
    expect((await raw('/api/info', `localhost:${port}`)).status).toBe(200);
    expect((await raw('/api/info', `127.0.0.1:${port}`)).status).toBe(200);
  });

  it('answers only GET', async () => {
    expect((await raw('/api/info', new URL(served.url).host, 'POST')).status).toBe(405);
  });

  it.each([
    ['/api/track?row=3000', 404, /no row 3000/],
    ['/api/track?row=-1', 404, /no row/],
    ['/api/neighbours?rows=1,abc', 400, /not a row number: 'abc'/],
    ['/api/neighbours?rows=', 400, /no seed/],
    ['/api/neighbours?rows=1&k=1001', 400, /k must be/],
    ['/api/neighbours?rows=1&metric=manhattan', 400, /metric must be/],
    ['/api/column?name=nope', 404, /no numeric column 'nope'/],
    ['/../package.json', 404, /nothing at/],
    ['/explore-page/app.js', 404, /nothing at/],
  ])('%s → %i', async (path, status, message) => {
    const r = await get(path);
    expect(r.status).toBe(status);
    expect(r.json.error).toMatch(message);
  });

  it('draws an even sample above the map limit and still searches every row', async () => {
    const info = (await get('/api/info')).json;
    expect(info).toMatchObject({ rows: ROWS, mapRows: 1000, sampled: true, hasText: true });
    const mapBytes = new Uint8Array(await (await fetch(new URL('/api/map', served.url))).arrayBuffer());
    expect(mapBytes.byteLength).toBe(4 + 1000 * 12);
    const { neighbours } = (await get('/api/neighbours?rows=7&k=50')).json as unknown as { neighbours: { row: number }[] };
    const sampled = new Set(Array.from(opened.explorer.map.rows));
    expect(neighbours.some((n) => !sampled.has(n.row))).toBe(true);
    const ids = neighbours.slice(0, 10).map((n) => opened.explorer.embeddings.ids[n.row]);
    const expected = runCommand(['similar', 'out', '--id', opened.explorer.embeddings.ids[7]!, '--json'], root)
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { id: string }).id);
    expect(ids).toEqual(expected);
  });

  it('colours by an input column or an embedding dimension, one value per drawn point', async () => {
    for (const name of ['year', 'popularity', 'dim:1:energy']) {
      const r = await fetch(new URL(`/api/column?name=${name}`, served.url));
      expect(r.status).toBe(200);
      const values = new Float32Array(await r.arrayBuffer());
      expect(values.length).toBe(1000);
      expect(values.every(Number.isFinite)).toBe(true);
    }
  });

  it('exports CSV and JSON as attachments', async () => {
    const csv = await fetch(new URL('/api/neighbours?rows=7&k=5&format=csv', served.url));
    expect(csv.headers.get('content-disposition')).toMatch(/^attachment; filename="neighbours-[\w-]+\.csv"$/);
    expect((await csv.text()).split('\r\n')).toHaveLength(7);
    const json = await fetch(new URL('/api/neighbours?rows=7,9&k=5&format=json', served.url));
    const body = (await json.json()) as { query: { seeds: unknown[] }; neighbours: unknown[] };
    expect(body.query.seeds).toHaveLength(2);
    expect(body.neighbours).toHaveLength(5);
  });
});

describe('track-embeddings explore', () => {
  it('refuses an s3:// URL without a bucket and prefix in one line, exit 2', () => {
    const r = spawnSync(process.execPath, [CLI, 'explore', 's3://bucket'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe('error: s3://bucket: expected s3://BUCKET/PREFIX/, an output folder');
  });

  it('refuses a folder that is not an output folder, in one line', () => {
    const r = spawnSync(process.execPath, [CLI, 'explore', root, '--port', '0'], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe(`error: ${root}: not an output folder (no manifest.json)`);
  });

  it('serves ids without names when the input is not at hand, saying so, and stops on Ctrl-C with 0', async () => {
    renameSync(join(root, 'tracks.parquet'), join(root, 'moved.parquet'));
    try {
      const server = await startExplore('out', root);
      const info = (await (await fetch(`${server.url}api/info`)).json()) as { hasText: boolean; note: string };
      expect(info.hasText).toBe(false);
      expect(server.stderr()).toMatch(
        /note: names, artists and years not shown: the input named in the manifest, \S*tracks\.parquet, is not reachable/,
      );
      const id = opened.explorer.embeddings.ids[5]!;
      const found = (await (await fetch(`${server.url}api/search?q=${id}`)).json()) as { row: number }[];
      expect(found[0]!.row).toBe(5);
      expect(await server.stop()).toBe(0);
    } finally {
      renameSync(join(root, 'moved.parquet'), join(root, 'tracks.parquet'));
    }
  });
});
