/**
 * moto_server where the machine has none: a project-local virtual environment (`.moto/venv`,
 * git-ignored) with the pinned `moto[server]`, made once by the test setup. On machines whose
 * system Python refuses `pip install` (PEP 668, Debian's), a venv is the way that works.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export const MOTO_VERSION = '5.2.1';

/** The project-local venv's moto_server, under `root`. */
export function localMotoServer(root: string): string {
  return join(root, '.moto', 'venv', 'bin', 'moto_server');
}

/** The commands that make the venv and install moto into it, in order. */
export function provisionCommands(root: string, python = 'python3'): string[][] {
  const venv = join(root, '.moto', 'venv');
  return [
    [python, '-m', 'venv', venv],
    [join(venv, 'bin', 'python'), '-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', `moto[server]==${MOTO_VERSION}`],
  ];
}

/**
 * Makes the venv if it has no moto_server yet; returns the moto_server to run, or one line on
 * what failed (no Python 3, no package index) and what to install.
 */
export function provisionMoto(root: string, log: (line: string) => void, python = 'python3'): { server: string } | { error: string } {
  const server = localMotoServer(root);
  if (existsSync(server)) return { server };
  log(`moto_server not found: installing moto[server]==${MOTO_VERSION} into .moto/venv (once)`);
  for (const [cmd, ...args] of provisionCommands(root, python)) {
    const r = spawnSync(cmd!, args, { encoding: 'utf8' });
    if (r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT') {
      return {
        error: `${cmd} not found: the S3 tests need Python 3 (python3 on the PATH) or moto_server itself (pip install 'moto[server]==${MOTO_VERSION}')`,
      };
    }
    if (r.status !== 0) {
      const why = (r.stderr || r.stdout || '').trim().split('\n').pop();
      return {
        error: `could not install moto[server]==${MOTO_VERSION} into .moto/venv (${cmd} ${args.slice(0, 3).join(' ')} …: ${why}); install it yourself: pip install 'moto[server]==${MOTO_VERSION}'`,
      };
    }
  }
  return existsSync(server) ? { server } : { error: `.moto/venv has no moto_server after installing moto[server]==${MOTO_VERSION}` };
}
