/**
 * What the explore page's browser tests and their benchmark share: an output folder made by the
 * built command (generate, then embed), the explore server started as a user starts it, and
 * Debian's Chromium driven by playwright-core (which brings no browser of its own).
 * No vitest import: the benchmark (browser-bench.ts) runs it outside the test runner.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { chromium, type Browser } from 'playwright-core';

export const ROOT = join(import.meta.dirname, '..', '..');
export const CLI = join(ROOT, 'dist', 'track-embeddings.js');

/** Where Chromium is: $CHROMIUM_PATH, else Debian's package; null when neither is there. */
export function findChromium(): string | null {
  for (const path of [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/lib/chromium/chromium'])
    if (path && existsSync(path)) return path;
  return null;
}

/** The one line a run without Chromium says (and fails with). */
export const NO_CHROMIUM =
  'the explore page tests need Chromium: none at $CHROMIUM_PATH or /usr/bin/chromium (apt-get install -y chromium; .ci/run installs it)';

/** Launches headless Chromium; throws NO_CHROMIUM when it is not installed. */
export async function launchChromium(): Promise<Browser> {
  const executablePath = findChromium();
  if (!executablePath) throw new Error(NO_CHROMIUM);
  // --no-sandbox: these machines run as root, where Chromium's sandbox refuses to start.
  return chromium.launch({ executablePath, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
}

/** Runs the built command to the end; throws with its stderr when it fails. */
export function runCommand(args: readonly string[], cwd: string): string {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', timeout: 300_000 });
  if (r.status !== 0) throw new Error(`track-embeddings ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

/** An output folder `dir/out` of `rows` generated tracks (`dir/tracks.parquet`), made as a user makes it. */
export function makeOutputFolder(dir: string, rows: number): string {
  runCommand(['generate', 'tracks.parquet', '--rows', String(rows)], dir);
  runCommand(['tracks.parquet', '-o', 'out'], dir);
  return join(dir, 'out');
}

/** The same folder made in this process (lib/generate, then the local runner): the quicker way for the tests. */
export async function makeOutputFolderHere(dir: string, rows: number): Promise<string> {
  const [{ writeTracksParquet }, { runLocal }] = await Promise.all([
    import('../../lib/generate/write-parquet.ts'),
    import('../../lib/local/runner.ts'),
  ]);
  await writeTracksParquet(join(dir, 'tracks.parquet'), { rows });
  await runLocal({ input: join(dir, 'tracks.parquet'), outDir: join(dir, 'out'), workers: 1 });
  return join(dir, 'out');
}

export interface RunningExplore {
  url: string;
  child: ChildProcess;
  stderr: () => string;
  /** Interrupts the server (as Ctrl-C does) and resolves to its exit code. */
  stop(): Promise<number | null>;
}

/** Starts `track-embeddings explore DIR --port 0 ARGS` in `cwd` and resolves once it prints its address. */
export function startExplore(
  dir: string,
  cwd: string,
  args: readonly string[] = [],
  env: NodeJS.ProcessEnv = process.env,
): Promise<RunningExplore> {
  const child = spawn(process.execPath, [CLI, 'explore', dir, '--port', '0', ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.once('line', (url) =>
      resolve({
        url,
        child,
        stderr: () => stderr,
        stop: async () => {
          child.kill('SIGINT');
          return exited;
        },
      }),
    );
    void exited.then((code) => reject(new Error(`explore exited (${code}) before serving: ${stderr}`)));
  });
}

/** An element as the page callbacks below use it (they run in the browser; the tsconfig has no DOM lib). */
export interface PageElement {
  dataset: Record<string, string | undefined>;
  children: ArrayLike<{ textContent: string | null }>;
  width: number;
  height: number;
  getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } };
}
/** The page's document, as those callbacks use it. */
export interface PageDocument {
  body: PageElement;
  getElementById(id: string): PageElement;
  querySelectorAll(selector: string): ArrayLike<PageElement>;
}
/** The figures the page keeps in window.exploreStats (lib/explore/explore-page/app.js). */
export interface ExploreStats {
  queries: number[];
  lastQueryMs: number;
  lastServerMs: number;
  mapDrawMs: number;
  mapShownAt: number;
  map: { draws: number; lastDrawMs: number };
}
