/** Runs the built command (dist/track-embeddings.js, built once by test/build.global-setup.ts) as a user would. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './tmp.ts';

export const CLI = join(ROOT, 'dist', 'track-embeddings.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stderr's lines, trimmed. */
  lines: string[];
}

/** Runs `track-embeddings ARGS` to the end, with stdout and stderr not terminals. */
export function runCli(args: readonly string[], env: NodeJS.ProcessEnv = process.env): CliResult {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: 'utf8', env, timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, lines: r.stderr.trim().split('\n') };
}

/** Starts `track-embeddings ARGS` without waiting for it. */
export function spawnCli(args: readonly string[]): ChildProcess {
  return spawn(process.execPath, [CLI, ...args], { cwd: ROOT });
}
