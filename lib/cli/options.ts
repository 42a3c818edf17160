/** Checks the commands share, made before any work: the output folder, the input file, an s3:// argument, --workers. */
import { statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { intOption, type Command, type ParsedArgs } from './command.ts';
import { InvalidInputError, UsageError } from '../errors.ts';
import { info } from './messages.ts';

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

/** --workers, capped at the core count with a note (64 on 2 cores took 64 s instead of 3 s); undefined: the runner's default. */
export function workersOption(command: Command, args: ParsedArgs): number | undefined {
  const asked = intOption(command, args, 'workers');
  const cores = availableParallelism();
  if (asked !== undefined && asked > cores) info(`note: --workers ${asked} is more than the ${cores} cores here; using ${cores}`);
  return asked === undefined ? undefined : Math.min(asked, cores);
}
