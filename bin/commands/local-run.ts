/** What `embed` and `transform` share: a JSON file read, and a run with progress bars. */
import { readFile } from 'node:fs/promises';
import { runLocal, type RunOptions, type RunResult } from '../../lib/local/runner.ts';
import { SpecError, messageOf } from '../../lib/errors.ts';
import { ProgressBars } from '../../lib/cli/progress.ts';

/** A JSON file the user named (`what`: "spec", "manifest"), or one SpecError line naming it. */
export async function readJsonFile(path: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e: unknown) {
    throw new SpecError(`${path}: cannot read ${what}: ${messageOf(e)}`);
  }
  try {
    return JSON.parse(text);
  } catch (e: unknown) {
    throw new SpecError(`${path}: not valid JSON: ${messageOf(e)}`);
  }
}

/**
 * The bar of a phase. The statistics read every row twice, as scikit-learn does (the sums, then
 * the deviations from the means), and report 2 × rows in all: shown as the rows of the file,
 * each counted once both passes have read it ("5,000,000 rows", not 10,000,000).
 */
export function barOf(phase: 'stats' | 'embed', done: number, total: number): [string, number, number] {
  return phase === 'stats' ? [phase, Math.floor(done / 2), Math.floor(total / 2)] : [phase, done, total];
}

/** Runs the job with a progress bar per phase on a terminal; returns its result and seconds. */
export async function runWithProgress(opts: Omit<RunOptions, 'onProgress'>): Promise<{ result: RunResult; secs: number }> {
  const bars = new ProgressBars(process.stderr);
  const t0 = performance.now();
  try {
    const result = await runLocal({ ...opts, onProgress: (phase, done, total) => bars.update(...barOf(phase, done, total)) });
    return { result, secs: (performance.now() - t0) / 1000 };
  } finally {
    bars.finish();
  }
}
