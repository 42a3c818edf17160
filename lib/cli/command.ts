/**
 * One subcommand of `track-embeddings`: its options, positionals, help text and entry point.
 * Parsing is Node's `parseArgs` (strict); help is generated here, in the layout of gh and cargo:
 * a summary, USAGE, ARGUMENTS, OPTIONS with their defaults, EXAMPLES.
 */
import { parseArgs } from 'node:util';
import { UsageError, messageOf } from '../errors.ts';
import { setQuiet } from './messages.ts';
import { didYouMean } from './suggest.ts';

export const PROGRAM = 'track-embeddings';

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  /** The placeholder in help, e.g. DIR or N. */
  value?: string;
  /** The default as help shows it; the command applies it. */
  default?: string;
  multiple?: boolean;
  description: string;
}

export interface Command {
  name: string;
  summary: string;
  /** After the program and command names, e.g. `IN.parquet -o DIR [OPTIONS]`. */
  usage: string;
  arguments: readonly (readonly [name: string, description: string])[];
  options: Readonly<Record<string, OptionSpec>>;
  examples: readonly string[];
  /** Extra paragraphs after the options (environment, exit codes). */
  notes?: string;
  run(args: ParsedArgs): Promise<number>;
}

export interface ParsedArgs {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

const HELP: OptionSpec = { type: 'boolean', short: 'h', description: 'Print this help and exit' };
const QUIET: OptionSpec = {
  type: 'boolean',
  short: 'q',
  description: 'Print no progress, notes or summary on stderr (errors still print)',
};
/** The options every command takes, after its own. */
const COMMON = { quiet: QUIET, help: HELP };

/** A usage error that points at the command's help. */
export function usageError(command: Command, message: string): UsageError {
  return new UsageError(`${message}\nsee '${PROGRAM} ${command.name} --help'`);
}

/**
 * `--k -1` as `--k=-1`: after an option that takes a value, a word with one leading dash (a
 * negative number, an id such as `-x1`) is that value, as the user meant; parseArgs would call
 * it ambiguous and never say what was wrong with the number. A word that is one of the command's
 * short options (`--k -h`) stays an option, so a forgotten value is still refused.
 */
function attachDashValues(options: Readonly<Record<string, OptionSpec>>, argv: readonly string[]): string[] {
  const longOf = new Map(Object.entries(options).flatMap(([name, o]) => (o.short ? [[o.short, name] as const] : [])));
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    if (word === '--') return [...out, ...argv.slice(i)];
    const name = word.startsWith('--') ? word.slice(2) : /^-[^-]$/.test(word) ? longOf.get(word[1]!) : undefined;
    const next = argv[i + 1];
    const takesValue = name !== undefined && Object.hasOwn(options, name) && options[name]!.type === 'string';
    if (takesValue && next !== undefined && /^-[^-]/.test(next) && !longOf.has(next[1]!)) {
      out.push(`--${name}=${next}`);
      i++;
    } else out.push(word);
  }
  return out;
}

/**
 * One line for what parseArgs refused, in words a user acts on: the option that needs a value
 * and what followed it, the flag that takes none, an unknown option with the closest known one.
 */
export function parseErrorMessage(e: unknown, options: Readonly<Record<string, OptionSpec>>): string {
  const message = messageOf(e);
  const code = (e as { code?: string }).code;
  const flag = /Option '(?:-\w, )?(--[\w-]+)/.exec(message)?.[1] ?? /'(-[^']+)'/.exec(message)?.[1] ?? '';
  const value = flag && options[flag.slice(2)]?.value;
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    if (/ambiguous|missing/.test(message)) return `${flag} needs a value${value ? ` (${flag} ${value})` : ''}`;
    if (/does not take an argument/.test(message)) return `${flag} is a switch and takes no value`;
  }
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const known = Object.entries(options).flatMap(([name, o]) => [`--${name}`, ...(o.short ? [`-${o.short}`] : [])]);
    const word = flag.split('=')[0]!;
    return `unknown option '${word}'${didYouMean(word, flag.startsWith('--') ? known.filter((k) => k.startsWith('--')) : known)}`;
  }
  // Node's messages carry a long hint after the first sentence.
  return message.split(/\.\s/)[0]!.replace(/\.$/, '');
}

/** Parses `argv` for `command`; `null` means help was asked for. Unknown options and missing values are usage errors. */
export function parseCommand(command: Command, argv: readonly string[]): ParsedArgs | null {
  const options = { ...command.options, ...COMMON };
  let parsed;
  try {
    parsed = parseArgs({
      args: attachDashValues(options, argv),
      allowPositionals: true,
      strict: true,
      options: Object.fromEntries(
        Object.entries(options).map(([name, o]) => [
          name,
          { type: o.type, ...(o.short && { short: o.short }), ...(o.multiple && { multiple: true }) },
        ]),
      ),
    });
  } catch (e: unknown) {
    throw usageError(command, parseErrorMessage(e, options));
  }
  if (parsed.values.help) return null;
  setQuiet(parsed.values.quiet === true);
  return { values: parsed.values as ParsedArgs['values'], positionals: parsed.positionals };
}

/** The help text of a command. */
export function helpText(command: Command): string {
  const lines = [command.summary, '', 'USAGE', `  ${PROGRAM} ${command.name} ${command.usage}`];
  if (command.arguments.length > 0) {
    lines.push('', 'ARGUMENTS');
    const width = Math.max(...command.arguments.map(([n]) => n.length));
    for (const [name, description] of command.arguments) lines.push(`  ${name.padEnd(width)}  ${description}`);
  }
  const entries = Object.entries({ ...command.options, ...COMMON });
  const flags = entries.map(([name, o]) => `${o.short ? `-${o.short}, ` : '    '}--${name}${o.value ? ` ${o.value}` : ''}`);
  const width = Math.max(...flags.map((f) => f.length));
  lines.push('', 'OPTIONS');
  entries.forEach(([, o], i) => lines.push(`  ${flags[i]!.padEnd(width)}  ${o.description}${o.default ? ` [default: ${o.default}]` : ''}`));
  if (command.notes) lines.push('', command.notes.trimEnd());
  lines.push('', 'EXAMPLES', ...command.examples.map((e) => `  $ ${e}`));
  return lines.join('\n') + '\n';
}

/**
 * A `--name N` option that must be a whole number of at least `min` (underscores allowed:
 * 1_000_000), or undefined when absent; anything else (-1, 1.5, 1e400, abc, a number past 2^53)
 * is a one-line usage error that quotes what was given.
 */
export function intOption(command: Command, args: ParsedArgs, name: string, min = 1): number | undefined {
  const raw = args.values[name];
  if (raw === undefined) return undefined;
  const text = String(raw).replace(/_/g, '');
  const n = Number(text);
  const wanted = min === 0 ? 'a whole number' : `an integer of at least ${min}`;
  if (!/^\d+$/.test(text) || n < min) throw usageError(command, `--${name} must be ${wanted}, got '${String(raw)}'`);
  if (!Number.isSafeInteger(n))
    throw usageError(command, `--${name} must be ${wanted} and at most ${Number.MAX_SAFE_INTEGER} (2^53 − 1), got '${String(raw)}'`);
  return n;
}

/** A string option's value, or undefined. */
export function stringOption(args: ParsedArgs, name: string): string | undefined {
  const v = args.values[name];
  return typeof v === 'string' ? v : undefined;
}

/** Exactly `count` positionals, or a usage error naming what is missing or extra. */
export function positionals(command: Command, args: ParsedArgs, names: readonly string[]): string[] {
  const got = args.positionals;
  if (got.length < names.length) throw usageError(command, `missing ${names[got.length]}`);
  if (got.length > names.length) throw usageError(command, `unexpected argument(s): ${got.slice(names.length).join(' ')}`);
  return got;
}
