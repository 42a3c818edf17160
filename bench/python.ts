/**
 * The Python that runs the benchmark's peers: REFERENCE_PYTHON when set, else bench/.venv, made
 * once from bench/requirements.txt (pinned pandas, scikit-learn, pyarrow, DuckDB, Polars).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './data.ts';

const VENV = join(ROOT, 'bench', '.venv');
const REQUIREMENTS = join(ROOT, 'bench', 'requirements.txt');

/** The interpreter's path, or an explanation of why there is none. */
export function benchPython(): { python: string } | { error: string } {
  if (process.env.REFERENCE_PYTHON) return { python: process.env.REFERENCE_PYTHON };
  const python = join(VENV, 'bin', 'python');
  const ready = () => {
    try {
      execFileSync(python, ['-c', 'import pandas, sklearn, pyarrow, duckdb, polars'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  };
  if (existsSync(python) && ready()) return { python };
  process.stderr.write(`making the peers' Python environment: bench/.venv from bench/requirements.txt (once)\n`);
  try {
    execFileSync('python3', ['-m', 'venv', VENV], { stdio: 'inherit' });
    execFileSync(python, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '-r', REQUIREMENTS], { stdio: 'inherit' });
  } catch (e: unknown) {
    return {
      error: `could not make bench/.venv (${e instanceof Error ? e.message.split('\n')[0] : String(e)}); set REFERENCE_PYTHON to a Python with bench/requirements.txt installed`,
    };
  }
  return ready() ? { python } : { error: 'bench/.venv lacks the packages of bench/requirements.txt' };
}
