/** `track-embeddings generate OUT.parquet --rows N`: realistic Spotify-like tracks, for demos, tests and benchmarks. */
import {
  COMPRESSIONS,
  DEFAULT_ROW_GROUP_SIZE,
  DEFAULT_SEED,
  writeTracksParquet,
  type CompressionName,
} from '../../lib/generate/write-parquet.ts';
import { intOption, positionals, stringOption, usageError, type Command } from '../../lib/cli/command.ts';
import { Progress } from '../../lib/cli/progress.ts';
import { SourceError, messageOf } from '../../lib/errors.ts';

function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i === 0 ? n : n.toFixed(1)} ${units[i]}`;
}

export const command: Command = {
  name: 'generate',
  summary: 'Write a realistic tracks Parquet file (the reference schema, seeded random data)',
  usage: 'OUT.parquet --rows N [OPTIONS]',
  arguments: [['OUT.parquet', 'The file to write (its folder is created); written whole or not at all']],
  options: {
    rows: { type: 'string', value: 'N', description: 'Rows to write (required; 1_000_000 style allowed)' },
    'row-group-size': {
      type: 'string',
      value: 'N',
      default: DEFAULT_ROW_GROUP_SIZE.toLocaleString('en-US'),
      description: 'Rows per row group',
    },
    seed: { type: 'string', value: 'N', default: String(DEFAULT_SEED), description: 'Random seed: the same seed gives the same bytes' },
    compression: { type: 'string', value: 'CODEC', default: 'snappy', description: `One of ${Object.keys(COMPRESSIONS).join(', ')}` },
  },
  examples: [
    'track-embeddings generate demo/tracks.parquet --rows 169776',
    'track-embeddings generate big.parquet --rows 10_000_000 --compression zstd',
  ],
  async run(args) {
    const [out] = positionals(this, args, ['OUT.parquet']);
    const rows = intOption(this, args, 'rows');
    if (rows === undefined) throw usageError(this, 'missing required option --rows N');
    const compression = stringOption(args, 'compression') ?? 'snappy';
    if (!Object.hasOwn(COMPRESSIONS, compression))
      throw usageError(this, `--compression must be one of ${Object.keys(COMPRESSIONS).join(', ')}, got '${compression}'`);
    const rowGroupSize = intOption(this, args, 'row-group-size') ?? DEFAULT_ROW_GROUP_SIZE;
    const seed = intOption(this, args, 'seed', 0) ?? DEFAULT_SEED;
    const bar = new Progress(process.stderr, 'generate', rows);
    let summary;
    try {
      summary = await writeTracksParquet(out!, {
        rows,
        rowGroupSize,
        seed,
        compression: compression as CompressionName,
        onProgress: (done) => bar.update(done),
      });
    } catch (e: unknown) {
      throw new SourceError(`${out}: cannot write: ${messageOf(e)}`, { cause: e });
    } finally {
      bar.finish();
    }
    const peakRss = process.resourceUsage().maxRSS * 1024; // maxRSS is in KiB
    const groups = summary.rowGroupRows.length;
    process.stdout.write(
      `wrote ${summary.path}: ${summary.rows.toLocaleString('en-US')} rows, ${groups} row group${groups === 1 ? '' : 's'}, ` +
        `${formatBytes(summary.bytes)}, ${summary.seconds.toFixed(2)} s, peak RSS ${formatBytes(peakRss)}\n`,
    );
    return 0;
  },
};
