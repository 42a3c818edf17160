#!/usr/bin/env node
/**
 * Bundles the command (bin/track-embeddings.ts) and the local runner's worker into dist/.
 * `--if-stale` builds only when a source is newer than the bundle, so `npm start` costs no
 * rebuild when nothing changed. The explore page's files (plain HTML, JS, CSS) are copied beside
 * the bundle, to dist/explore-page/, where the server looks for them.
 */
import { build } from 'esbuild';
import { cpSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..');
const ENTRIES = ['bin/track-embeddings.ts', 'lib/local/worker.ts', 'lib/search/search-worker.ts'];
const OUT = join(ROOT, 'dist', 'track-embeddings.js');

function newestSource(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs);
  }
  return newest;
}

function isStale() {
  let built;
  try {
    built = statSync(OUT).mtimeMs;
  } catch {
    return true;
  }
  const sources = Math.max(newestSource(join(ROOT, 'bin')), newestSource(join(ROOT, 'lib')), statSync(join(ROOT, 'package.json')).mtimeMs);
  return sources > built;
}

if (!process.argv.includes('--if-stale') || isStale()) {
  await build({
    absWorkingDir: ROOT,
    entryPoints: ENTRIES,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    // Subcommands load lazily: the embed command never parses the AWS SDK. Chunks sit beside
    // the entries, so the runner finds worker.js next to whichever chunk holds it.
    splitting: true,
    entryNames: '[name]',
    chunkNames: '[name]-[hash]',
    outdir: 'dist',
    // parquet-wasm loads its .wasm from beside its own module: it stays a dependency.
    // The AWS SDK is CommonJS, which an ESM bundle cannot require: it loads from node_modules.
    // The durable SDK and its local runner are CommonJS with a worker thread of their own: loaded from node_modules too.
    external: ['parquet-wasm', '@aws-sdk/*', '@smithy/*', '@aws/*'],
    sourcemap: true,
    logLevel: 'warning',
  });
  rmSync(join(ROOT, 'dist', 'explore-page'), { recursive: true, force: true });
  cpSync(join(ROOT, 'lib', 'explore', 'explore-page'), join(ROOT, 'dist', 'explore-page'), { recursive: true });
}
