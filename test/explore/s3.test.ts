/**
 * `explore s3://BUCKET/embeddings/NAME/` against a real S3 API (moto_server): the folder and the
 * input it names are read from S3 (the input pinned to its recorded ETag), nothing is written
 * there, and the page's answers are the local folder's.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateBucketCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { s3ClientFor } from '../../lib/emulators/moto.ts';
import { keysUnder, s3ChildEnv, s3Endpoint } from '../helpers/s3.ts';
import { CLI, makeOutputFolderHere, startExplore, type RunningExplore } from './browser.ts';
import { spawnSync } from 'node:child_process';
import { openExplorer, type OpenedExplorer } from '../../lib/explore/open-explorer.ts';
import { serveExplorer, type ExploreServer } from '../../lib/explore/server.ts';

const BUCKET = 'explore-s3';
let root: string;
let s3: S3Client;
let remote: RunningExplore;
let opened: OpenedExplorer;
let local: ExploreServer;

const env = s3ChildEnv;
const json = async (server: { url: string }, path: string) => (await fetch(new URL(path, server.url))).json() as Promise<unknown>;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'explore-s3-'));
  const out = await makeOutputFolderHere(root, 1500);
  s3 = s3ClientFor(s3Endpoint());
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  const put = (key: string, body: Uint8Array | string) => s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
  const { ETag } = await put('incoming/tracks.parquet', readFileSync(join(root, 'tracks.parquet')));
  const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as { input: { name: string; etag?: string } };
  manifest.input = { ...manifest.input, name: `s3://${BUCKET}/incoming/tracks.parquet`, etag: ETag! };
  for (const f of ['spotify_vectors_14d.npy', 'id_to_index.json']) await put(`embeddings/tracks/${f}`, readFileSync(join(out, f)));
  await put('embeddings/tracks/manifest.json', JSON.stringify(manifest));
  remote = await startExplore(`s3://${BUCKET}/embeddings/tracks/`, root, [], env());
  // The same folder, local, served in-process: the answers the S3 one must give.
  opened = await openExplorer(out, { input: join(root, 'tracks.parquet') });
  local = await serveExplorer(opened.explorer, '127.0.0.1', 0);
});
afterAll(async () => {
  await remote?.stop();
  await local?.close();
  await opened?.close();
  s3?.destroy();
  rmSync(root, { recursive: true, force: true });
});

describe('explore s3://…', () => {
  it('shows the names from the input in S3 and answers as the local folder does', async () => {
    expect(remote.stderr()).toMatch(/map: projected; not cached/);
    expect(await json(remote, '/api/info')).toMatchObject({ rows: 1500, hasText: true, note: null });
    for (const path of ['/api/search?q=love', '/api/neighbours?rows=3,40&k=7&metric=cosine', '/api/track?row=99']) {
      const [got, expected] = [withoutMs(await json(remote, path)), withoutMs(await json(local, path))];
      expect(got, path).toEqual(expected);
      expect(JSON.stringify(got), path).not.toBe('[]');
    }
  });

  it('says in one line that a prefix holds no output folder', () => {
    const r = spawnSync(process.execPath, [CLI, 'explore', `s3://${BUCKET}/embeddings/nothing/`, '--port', '0'], {
      encoding: 'utf8',
      env: env(),
    });
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe(`error: s3://${BUCKET}/embeddings/nothing/: not an output folder (no manifest.json)`);
  });

  it('writes nothing to the bucket', async () => {
    expect(await keysUnder(s3, BUCKET, '')).toEqual([
      'embeddings/tracks/id_to_index.json',
      'embeddings/tracks/manifest.json',
      'embeddings/tracks/spotify_vectors_14d.npy',
      'incoming/tracks.parquet',
    ]);
  });
});

/** An answer without its timing (`ms`), which differs run to run. */
function withoutMs(v: unknown): unknown {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
  return Object.fromEntries(Object.entries(v).filter(([k]) => k !== 'ms'));
}
