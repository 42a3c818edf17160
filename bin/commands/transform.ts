/** `track-embeddings transform NEW.parquet --fitted DIR/manifest.json -o OUT`: new tracks into an existing space. */
import { relative } from 'node:path';
import { outputFilesNote } from '../../lib/outputs/manifest.ts';
import { fittedScaler } from '../../lib/outputs/manifest-check.ts';
import { checkOutDir, workersOption } from '../../lib/cli/options.ts';
import { positionals, stringOption, usageError, type Command } from '../../lib/cli/command.ts';
import { readJsonFile, runWithProgress } from './local-run.ts';

/** The fitted spec and scaler of an earlier run's manifest, checked as every reader of an output folder checks it. */
async function readFitted(path: string) {
  return fittedScaler(await readJsonFile(path, 'the manifest'), path);
}

export const command: Command = {
  name: 'transform',
  summary: 'Embed a new tracks file with a scaler fitted earlier (scikit-learn’s transform after fit), without refitting',
  usage: 'NEW.parquet --fitted DIR/manifest.json -o OUT [OPTIONS]',
  arguments: [['NEW.parquet', 'The new tracks: the same columns as the fitted file']],
  options: {
    fitted: {
      type: 'string',
      value: 'MANIFEST',
      description: 'The manifest.json of an earlier run: its spec, means and scales are used (required)',
    },
    out: {
      type: 'string',
      short: 'o',
      value: 'DIR',
      description: 'Output folder, as for embed; its manifest names the fit in `fittedFrom`',
    },
    workers: {
      type: 'string',
      value: 'N',
      default: 'as for embed',
      description: 'Worker threads; 1 runs in this process; at most one per core',
    },
  },
  examples: ['track-embeddings transform this-week.parquet --fitted out/manifest.json -o out-this-week'],
  async run(args) {
    const [input] = positionals(this, args, ['NEW.parquet']);
    const fittedPath = stringOption(args, 'fitted');
    if (!fittedPath) throw usageError(this, 'missing --fitted DIR/manifest.json');
    const out = stringOption(args, 'out');
    if (!out) throw usageError(this, 'missing -o/--out DIR');
    checkOutDir(out);
    const workers = workersOption(this, args);
    const { spec, scaler } = await readFitted(fittedPath);
    const { result, secs } = await runWithProgress({ input: input!, outDir: out, spec, fitted: { scaler, from: fittedPath }, workers });
    const m = result.manifest;
    process.stderr.write(
      `transformed ${m.input.rows.toLocaleString('en-US')} rows × ${m.dims} dims with the scaler of ${fittedPath} in ${secs.toFixed(2)} s → ` +
        `${relative(process.cwd(), out) || '.'}/${outputFilesNote(m)}\n`,
    );
    return 0;
  },
};
