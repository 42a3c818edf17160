/** Runs a command and reports its wall time and peak RSS (of its largest process), for benchmarks. */
import { spawn, spawnSync, type SpawnOptions } from 'node:child_process';

export interface Measurement {
  seconds: number;
  /** Peak resident set size in MiB, or null where python3 is not there to read it. */
  peakRssMiB: number | null;
  ok: boolean;
  stderr: string;
}

// getrusage(RUSAGE_CHILDREN) is the portable way to read a finished child's peak RSS.
const WRAPPER = [
  'import resource, subprocess, sys, time',
  't = time.perf_counter()',
  'p = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL)',
  'w = time.perf_counter() - t',
  'print(f"@@measure {p.returncode} {w} {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}", file=sys.stderr)',
].join('\n');

let python: string | null | undefined;
function python3(): string | null {
  if (python === undefined) python = spawnSync('python3', ['--version']).status === 0 ? 'python3' : null;
  return python;
}

/** Runs `cmd` to completion; stderr is kept for error reporting. */
export function measure(cmd: string[], cwd: string): Measurement {
  const py = python3();
  if (!py) {
    const t = performance.now();
    const r = spawnSync(cmd[0]!, cmd.slice(1), { cwd, encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] });
    return { seconds: (performance.now() - t) / 1000, peakRssMiB: null, ok: r.status === 0, stderr: r.stderr };
  }
  const r = spawnSync(py, ['-c', WRAPPER, ...cmd], { cwd, encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] });
  const m = /@@measure (-?\d+) ([\d.]+) (\d+)/.exec(r.stderr);
  if (!m) return { seconds: NaN, peakRssMiB: null, ok: false, stderr: r.stderr };
  return { seconds: Number(m[2]), peakRssMiB: Number(m[3]) / 1024, ok: m[1] === '0', stderr: r.stderr.replace(/@@measure.*\n?/, '') };
}

/** Median of a non-empty list. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Runs a command asynchronously (the caller's own pipes, moto's among them, keep draining) and collects its output. */
export function collect(
  cmd: string,
  args: readonly string[],
  opts: SpawnOptions,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(cmd, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}
