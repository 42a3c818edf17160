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

/** Runs the job with a progress bar per phase on a terminal; returns its result and seconds. */
export async function runWithProgress(opts: Omit<RunOptions, 'onProgress'>): Promise<{ result: RunResult; secs: number }> {
  const bars = new ProgressBars(process.stderr);
  const t0 = performance.now();
  try {
    const result = await runLocal({ ...opts, onProgress: (phase, done, total) => bars.update(phase, done, total) });
    return { result, secs: (performance.now() - t0) / 1000 };
  } finally {
    bars.finish();
  }
}
