/** `track-embeddings transform NEW.parquet --fitted DIR/manifest.json -o OUT`: new tracks into an existing space. */
import { info } from '../../lib/cli/messages.ts';
import { statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { MANIFEST_FILE } from '../../lib/outputs/file-names.ts';
import { outputFilesNote } from '../../lib/outputs/manifest.ts';
import { fittedScaler } from '../../lib/outputs/manifest-check.ts';
import { checkOutDir, workersOption } from '../../lib/cli/options.ts';
import { positionals, stringOption, usageError, type Command } from '../../lib/cli/command.ts';
import { readJsonFile, runWithProgress } from './local-run.ts';

/** `--fitted`: an earlier run's manifest.json, or its output folder (the manifest inside it). */
export function fittedManifestPath(given: string): string {
  let isDir = false;
  try {
    isDir = statSync(given).isDirectory();
  } catch {
    // missing: reading it says so, naming the path
  }
  return isDir ? join(given, MANIFEST_FILE) : given;
}

/** The fitted spec and scaler of an earlier run's manifest, checked as every reader of an output folder checks it. */
async function readFitted(path: string) {
  return fittedScaler(await readJsonFile(path, 'the manifest'), path);
}

export const command: Command = {
  name: 'transform',
  summary: 'Embed a new tracks file with a scaler fitted earlier (scikit-learn’s transform after fit), without refitting',
  usage: 'NEW.parquet --fitted DIR -o OUT [OPTIONS]',
  arguments: [['NEW.parquet', 'The new tracks: the same columns as the fitted file']],
  options: {
    fitted: {
      type: 'string',
      value: 'DIR',
      description: 'An earlier run’s output folder, or its manifest.json: its spec, means and scales are used (required)',
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
  examples: ['track-embeddings transform this-week.parquet --fitted out -o out-this-week'],
  async run(args) {
    const [input] = positionals(this, args, ['NEW.parquet']);
    const fittedGiven = stringOption(args, 'fitted');
    if (!fittedGiven) throw usageError(this, 'missing --fitted DIR (or DIR/manifest.json)');
    const fittedPath = fittedManifestPath(fittedGiven);
    const out = stringOption(args, 'out');
    if (!out) throw usageError(this, 'missing -o/--out DIR');
    checkOutDir(out);
    const workers = workersOption(this, args);
    const { spec, scaler } = await readFitted(fittedPath);
    const { result, secs } = await runWithProgress({ input: input!, outDir: out, spec, fitted: { scaler, from: fittedPath }, workers });
    const m = result.manifest;
    info(
      `transformed ${m.input.rows.toLocaleString('en-US')} rows × ${m.dims} dims with the scaler of ${fittedPath} in ${secs.toFixed(2)} s → ` +
        `${relative(process.cwd(), out) || '.'}/${outputFilesNote(m)}\n`,
    );
    return 0;
  },
};
