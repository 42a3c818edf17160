/** `track-embeddings [embed] IN.parquet -o DIR`: the whole job on one machine. */
import { info } from '../../lib/cli/messages.ts';
import { availableParallelism } from 'node:os';
import { relative } from 'node:path';
import { outputFilesNote } from '../../lib/outputs/manifest.ts';
import { INLINE_MAX_ROWS } from '../../lib/local/runner.ts';
import { parseSpec, DEFAULT_SPEC, type FeatureSpec } from '../../lib/embedding/spec.ts';
import { checkOutDir, workersOption } from '../../lib/cli/options.ts';
import { intOption, positionals, stringOption, usageError, type Command } from '../../lib/cli/command.ts';
import { readJsonFile, runWithProgress } from './local-run.ts';

async function loadSpec(path: string | undefined): Promise<FeatureSpec> {
  return path === undefined ? DEFAULT_SPEC : parseSpec(await readJsonFile(path, 'spec'), path);
}

export const command: Command = {
  name: 'embed',
  summary: 'Embed a tracks Parquet file into a .npy matrix, an id → row JSON mapping and a manifest',
  usage: 'IN.parquet -o DIR [OPTIONS]',
  arguments: [['IN.parquet', 'The tracks table (read only, never modified)']],
  options: {
    out: { type: 'string', short: 'o', value: 'DIR', description: 'Output folder; created if missing, filled only when the run succeeds' },
    spec: { type: 'string', value: 'FILE', default: 'the notebook’s 14 features', description: 'Feature spec JSON (see README)' },
    'shard-rows': {
      type: 'string',
      value: 'N',
      default: 'rows ÷ workers (or a row group), at most 1,048,576',
      description: 'Rows per embedding shard',
    },
    workers: {
      type: 'string',
      value: 'N',
      default: `1 below ${INLINE_MAX_ROWS.toLocaleString('en-US')} rows, else ${availableParallelism()} (the cores)`,
      description: 'Worker threads; 1 runs in this process; at most one per core',
    },
    parquet: {
      type: 'boolean',
      description: 'Also write DIR/embeddings.parquet: id, row and the vector as a fixed-size list of float32 (pyarrow, DuckDB, LanceDB)',
    },
  },
  notes: 'Writes DIR/spotify_vectors_14d.npy (float32, rows × 14), DIR/id_to_index.json and DIR/manifest.json.',
  examples: [
    'track-embeddings tracks.parquet -o out',
    'track-embeddings embed tracks.parquet -o out --workers 2 --spec my-spec.json',
    'track-embeddings tracks.parquet -o out --parquet',
  ],
  async run(args) {
    const [input] = positionals(this, args, ['IN.parquet']);
    const out = stringOption(args, 'out');
    if (!out) throw usageError(this, 'missing -o/--out DIR');
    checkOutDir(out);
    const shardRows = intOption(this, args, 'shard-rows');
    const workers = workersOption(this, args);
    const spec = await loadSpec(stringOption(args, 'spec'));
    const { result, secs } = await runWithProgress({
      input: input!,
      outDir: out,
      spec,
      shardRows,
      workers,
      parquet: args.values.parquet === true,
    });
    const m = result.manifest;
    const rows = m.input.rows;
    const where = relative(process.cwd(), out) || '.';
    info(
      `embedded ${rows.toLocaleString('en-US')} rows × ${m.dims} dims in ${secs.toFixed(2)} s ` +
        `(${Math.round(rows / secs).toLocaleString('en-US')} rows/s, ${m.shards.count} shard(s), ${result.workers === 1 ? 'in-process' : `${result.workers} workers`})` +
        `${m.outputs.repeatedIds ? ', some ids repeat: the mapping keeps the last index of each' : ''} → ${where}/${outputFilesNote(m)}\n`,
    );
    return 0;
  },
};
