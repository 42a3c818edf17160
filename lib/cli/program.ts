/**
 * The `track-embeddings` program: dispatches to a subcommand (embed when none is named), prints
 * help and version, and turns errors into one line and an exit code: 0 done, 1 refused input
 * or failed job, 2 usage error, 70 a bug (with its stack).
 */
import { existsSync } from 'node:fs';
import { PipelineError, UsageError } from '../errors.ts';
import { PROGRAM, helpText, parseCommand, type Command } from './command.ts';
import { sdkNoteAfterRun } from './node-version.ts';
import { info } from './messages.ts';
import { didYouMean } from './suggest.ts';

export interface CommandEntry {
  name: string;
  summary: string;
  /** Loaded only when run: the embed command never loads the AWS SDK. */
  load(): Promise<Command>;
}

export const DEFAULT_COMMAND = 'embed';

function programHelp(entries: readonly CommandEntry[], version: string): string {
  const width = Math.max(...entries.map((e) => e.name.length));
  return [
    `${PROGRAM} ${version}: 14-dimensional track embeddings from a Parquet tracks table, bit-identical to the pandas + scikit-learn reference`,
    '',
    'USAGE',
    `  ${PROGRAM} [COMMAND] [OPTIONS]`,
    `  ${PROGRAM} IN.parquet -o DIR          (the ${DEFAULT_COMMAND} command)`,
    '',
    'COMMANDS',
    ...entries.map((e) => `  ${e.name.padEnd(width)}  ${e.summary}${e.name === DEFAULT_COMMAND ? ' (the default)' : ''}`),
    '',
    'OPTIONS',
    '  -h, --help     Print help (of a command: COMMAND --help)',
    '  -q, --quiet    (after a command) no progress, notes or summary on stderr',
    '  -V, --version  Print the version',
    '',
    `Run '${PROGRAM} COMMAND --help' for a command's options and examples.`,
    '',
  ].join('\n');
}

/** Runs the program on `argv` (the arguments after the script) and resolves to its exit code; never throws. */
export async function runProgram(entries: readonly CommandEntry[], argv: readonly string[], version: string): Promise<number> {
  let code: number;
  try {
    code = await dispatch(entries, argv, version);
  } catch (e: unknown) {
    code = report(e);
  }
  // After the command's own output, and only when it ran: a usage error stays one line.
  const note = sdkNoteAfterRun(code === 2);
  if (note) info(note);
  return code;
}

async function dispatch(entries: readonly CommandEntry[], argv: readonly string[], version: string): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined || first === '-h' || first === '--help') {
    process.stdout.write(programHelp(entries, version));
    return 0;
  }
  if (first === '-V' || first === '--version') {
    process.stdout.write(`${PROGRAM} ${version}\n`);
    return 0;
  }
  if (first === 'help') return dispatch(entries, rest.length > 0 ? [rest[0]!, '--help'] : [], version);
  let entry = entries.find((e) => e.name === first);
  let args: readonly string[] = rest;
  if (!entry) {
    // A word that is neither a command nor a file is a mistyped command, not a missing input.
    if (/^[a-z][a-z-]*$/.test(first) && !existsSync(first))
      throw new UsageError(
        `unknown command '${first}'${didYouMean(
          first,
          entries.map((e) => e.name),
        )}\nsee '${PROGRAM} --help'`,
      );
    entry = entries.find((e) => e.name === DEFAULT_COMMAND)!;
    args = argv;
  }
  const command = await entry.load();
  const parsed = parseCommand(command, args);
  if (!parsed) {
    process.stdout.write(helpText(command));
    return 0;
  }
  return command.run(parsed);
}

const ERRNO: Readonly<Record<string, string>> = {
  ENOENT: 'no such file or folder',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'is a folder, not a file',
  ENOTDIR: 'a part of the path is not a folder',
  ELOOP: 'too many symbolic links',
};

/**
 * Node's file errors in a user's words: "ENOENT: no such file or directory, stat 'x.parquet'"
 * becomes "no such file or folder" (the line already names the path).
 */
export function friendlyErrno(message: string): string {
  return message.replace(/\b(E[A-Z]+): [^,\n]+, \w+ '[^'\n]*'(?: -> '[^'\n]*')?/g, (whole, code: string) => ERRNO[code] ?? whole);
}

function report(e: unknown): number {
  if (e instanceof UsageError) {
    process.stderr.write(`error: ${friendlyErrno(e.message)}\n`);
    return 2;
  }
  if (e instanceof PipelineError) {
    process.stderr.write(`error: ${friendlyErrno(e.message)}\n`);
    return 1;
  }
  process.stderr.write(`internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  return 70;
}
