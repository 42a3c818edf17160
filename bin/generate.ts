/**
 * generate OUT.parquet --rows N [--row-group-size R] [--seed S] [--compression C]
 *
 * Writes realistic Spotify-like tracks to OUT (see lib/tracks-parquet.ts), with progress on a
 * terminal and a one-line summary.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  COMPRESSIONS,
  DEFAULT_ROW_GROUP_SIZE,
  DEFAULT_SEED,
  writeTracksParquet,
  type CompressionName,
  type GenerateOptions,
} from '../lib/generate/write-parquet.ts';
import { UsageError } from '../lib/errors.ts';

/** The one-line usage message printed with argument errors. */
export const USAGE =
  'usage: generate OUT.parquet --rows N [--row-group-size R] [--seed S] [--compression snappy|zstd|gzip|brotli|lz4|none]';

/** Parsed command line of the generate CLI. */
export interface GenerateArgs extends Required<Omit<GenerateOptions, 'onProgress'>> {
  out: string;
}

function parseCount(flag: string, raw: string | undefined, min: number): number {
  if (raw === undefined) throw new UsageError(`missing required option --${flag}`);
  const text = raw.replace(/_/g, '');
  if (!/^\d+$/.test(text)) throw new UsageError(`--${flag} must be a whole number, got '${raw}'`);
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new UsageError(`--${flag} is too large: '${raw}'`);
  if (value < min) throw new UsageError(`--${flag} must be at least ${min}, got ${value}`);
  return value;
}

/** Parses CLI arguments (without node and script) into options; throws {@link UsageError} when they are bad. */
export function parseGenerateArgs(argv: readonly string[]): GenerateArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        rows: { type: 'string' },
        'row-group-size': { type: 'string' },
        seed: { type: 'string' },
        compression: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    // node's messages can carry a long hint after the first sentence ("Unknown option '--x'. To specify ...").
    const message = err instanceof Error ? err.message : String(err);
    throw new UsageError(message.split(/\.\s/)[0]!.replace(/\.$/, ''));
  }
  const { values, positionals } = parsed;
  if (values.help) throw new UsageError('');
  if (positionals.length !== 1) {
    throw new UsageError(
      positionals.length === 0
        ? 'missing output path OUT.parquet'
        : `expected one output path, got ${positionals.length}: ${positionals.join(' ')}`,
    );
  }
  const compression = values.compression ?? 'snappy';
  if (!Object.hasOwn(COMPRESSIONS, compression)) {
    throw new UsageError(`--compression must be one of ${Object.keys(COMPRESSIONS).join(', ')}, got '${compression}'`);
  }
  return {
    out: positionals[0]!,
    rows: parseCount('rows', values.rows, 1),
    rowGroupSize:
      values['row-group-size'] === undefined ? DEFAULT_ROW_GROUP_SIZE : parseCount('row-group-size', values['row-group-size'], 1),
    seed: values.seed === undefined ? DEFAULT_SEED : parseCount('seed', values.seed, 0),
    compression: compression as CompressionName,
  };
}

function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i === 0 ? n : n.toFixed(1)} ${units[i]}`;
}

/** Runs the CLI on `argv` (arguments after the script) and resolves to the process exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  let args: GenerateArgs;
  try {
    args = parseGenerateArgs(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    if (err.message === '') {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    process.stderr.write(`generate: ${err.message}\n${USAGE}\n`);
    return 2;
  }
  const tty = process.stderr.isTTY === true;
  let lastPercent = -1;
  try {
    const summary = await writeTracksParquet(args.out, {
      ...args,
      onProgress: tty
        ? (done, total) => {
            const percent = Math.floor((100 * done) / total);
            if (percent !== lastPercent) {
              lastPercent = percent;
              process.stderr.write(`\rgenerate: ${percent}% (${done.toLocaleString('en-US')} / ${total.toLocaleString('en-US')} rows)`);
            }
          }
        : undefined,
    });
    if (tty) process.stderr.write('\r\x1b[K');
    const peakRss = process.resourceUsage().maxRSS * 1024; // maxRSS is in KiB
    process.stdout.write(
      `wrote ${summary.path}: ${summary.rows.toLocaleString('en-US')} rows, ${summary.rowGroupRows.length} row group${summary.rowGroupRows.length === 1 ? '' : 's'}, ` +
        `${formatBytes(summary.bytes)}, ${summary.seconds.toFixed(2)} s, peak RSS ${formatBytes(peakRss)}\n`,
    );
    return 0;
  } catch (err) {
    if (tty) process.stderr.write('\n');
    process.stderr.write(`generate: failed to write ${args.out}: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}

function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  process.exitCode = await main(process.argv.slice(2));
}
