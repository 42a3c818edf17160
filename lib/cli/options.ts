/** What every command line shares: option checks, exit codes and one clear line on stderr, never a stack trace for our errors. */
import { statSync } from 'node:fs';
import { InvalidInputError, PipelineError, UsageError } from '../errors.ts';

/** Runs `main`; exit 0/its code, 2 for a usage error (with `usage`), 1 for a refused input, 70 for a bug. */
export function runCli(main: (argv: string[]) => Promise<number>, usage: string): void {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      if (e instanceof UsageError) {
        process.stderr.write(`error: ${e.message}\n${usage}\n`);
        process.exit(2);
      }
      if (e instanceof PipelineError) {
        process.stderr.write(`error: ${e.message}\n`);
        process.exit(1);
      }
      process.stderr.write(`internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exit(70);
    },
  );
}

/** A `--name N` option that must be a positive integer, or undefined when absent. */
export function positiveIntOption(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${name} must be a positive integer, got '${value}'`);
  return n;
}

/** Refuses, before any work, an output folder that names something other than a folder. */
export function checkOutDir(path: string): void {
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch {
    return; // missing: it will be created, and removed again if the run is refused
  }
  if (!isDir) throw new UsageError(`--out ${path}: exists and is not a folder`);
}

/** Refuses, before any work, an input that is missing or not a regular file. */
export function checkInputFile(path: string): void {
  let stat;
  try {
    stat = statSync(path);
  } catch (e: unknown) {
    throw new InvalidInputError(path, (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : `cannot read: ${String(e)}`);
  }
  if (!stat.isFile()) throw new InvalidInputError(path, stat.isDirectory() ? 'is a directory, not a Parquet file' : 'not a regular file');
}

/** The one `s3://BUCKET/KEY` argument of the commands that look at a job. */
export function s3ObjectArg(argv: readonly string[]): { bucket: string; key: string } {
  const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(argv[0] ?? '');
  if (argv.length !== 1 || !m) throw new UsageError('expected one s3://bucket/key argument');
  return { bucket: m[1]!, key: m[2]! };
}
