/** `track-embeddings similar DIR --id ID`: the tracks nearest to one track, or to the mean of several (a playlist's seeds). */
import { existsSync } from 'node:fs';
import { loadEmbeddings } from '../../lib/search/embeddings.ts';
import { readRows } from '../../lib/search/join-columns.ts';
import { meanOf, nearest, type Metric } from '../../lib/search/nearest.ts';
import { PipelineError, SpecError, messageOf } from '../../lib/errors.ts';
import { embedFeatures } from '../../lib/search/features.ts';
import { parseSpec } from '../../lib/embedding/spec.ts';
import { scalerFromSection, type Manifest } from '../../lib/outputs/manifest.ts';
import { intOption, positionals, stringOption, usageError, type Command } from '../../lib/cli/command.ts';

const METRICS: readonly Metric[] = ['euclidean', 'cosine'];

/** The input's columns for the rows, or an empty map and one line on stderr when the input cannot be read from here. */
async function joinColumns(input: string, columns: string[], rows: number[]): Promise<Map<number, Record<string, unknown>>> {
  if (!existsSync(input)) {
    process.stderr.write(
      `note: cannot show ${columns.join(', ')}: the input named in the manifest, ${input}, is not reachable from here\n`,
    );
    return new Map();
  }
  return readRows(input, columns, rows);
}

/** The embedding of `--features`, with the manifest's spec and fitted scaler. */
function queryFromFeatures(text: string, manifest: Manifest): Float64Array {
  let features: unknown;
  try {
    features = JSON.parse(text);
  } catch (e: unknown) {
    throw new SpecError(`--features: not valid JSON: ${messageOf(e)}`);
  }
  if (features === null || typeof features !== 'object' || Array.isArray(features))
    throw new SpecError('--features: expected a JSON object of column → value');
  return embedFeatures(features as Record<string, unknown>, parseSpec(manifest.spec, 'manifest.json'), scalerFromSection(manifest.scaler));
}

export const command: Command = {
  name: 'similar',
  summary: 'Find the tracks nearest to a track (or to several: a playlist) in an output folder',
  usage: 'DIR (--id ID [--id ID …] | --features JSON) [OPTIONS]',
  arguments: [['DIR', 'An output folder (spotify_vectors_14d.npy, id_to_index.json, manifest.json)']],
  options: {
    id: { type: 'string', multiple: true, value: 'ID', description: 'A track id; several: search from their mean, excluding them all' },
    features: {
      type: 'string',
      value: 'JSON',
      description:
        'A track not in the table, as {"column": value, …} for every column of the spec: embedded with the manifest’s scaler, then searched',
    },
    k: { type: 'string', value: 'N', default: '10', description: 'How many neighbours' },
    metric: { type: 'string', value: 'NAME', default: 'euclidean', description: 'euclidean or cosine (1 − cosine similarity)' },
    with: {
      type: 'string',
      value: 'COL,COL',
      description: 'Columns of the input Parquet (named in the manifest) to show beside each id, e.g. name,artists',
    },
    json: { type: 'boolean', description: 'One JSON object a line ({"rank", "id", "row", "distance", …columns}) instead of a table' },
  },
  notes: `Exact search over every row; the query tracks themselves are left out; ties go to the lower row. A NaN
dimension (a null feature) is left out of that pair's distance.`,
  examples: [
    'track-embeddings similar demo/out --id 0zU5MPvQ4E6aNd4jdsSs3B',
    'track-embeddings similar out --id A --id B --k 20 --metric cosine --json',
  ],
  async run(args) {
    const [dir] = positionals(this, args, ['DIR']);
    const ids = (args.values.id as string[] | undefined) ?? [];
    const featuresText = stringOption(args, 'features');
    if (ids.length === 0 && featuresText === undefined) throw usageError(this, 'missing --id ID or --features JSON');
    if (ids.length > 0 && featuresText !== undefined) throw usageError(this, '--id and --features cannot be used together');
    const k = intOption(this, args, 'k') ?? 10;
    const metric = (stringOption(args, 'metric') ?? 'euclidean') as Metric;
    if (!METRICS.includes(metric)) throw usageError(this, `--metric must be one of ${METRICS.join(', ')}, got '${metric}'`);
    const e = await loadEmbeddings(dir!);
    const seeds = ids.map((id) => {
      const row = e.index.get(id);
      if (row === undefined)
        throw new PipelineError(`${dir}: no track with id '${id}' (${e.index.size.toLocaleString('en-US')} ids in id_to_index.json)`);
      return row;
    });
    const query = featuresText === undefined ? meanOf(e.vectors, e.dims, seeds) : queryFromFeatures(featuresText, e.manifest);
    const found = nearest(e.vectors, e.dims, query, k, metric, new Set(seeds));
    const extra = (stringOption(args, 'with') ?? '').split(',').filter(Boolean);
    const joined =
      extra.length > 0
        ? await joinColumns(
            e.manifest.input.name,
            extra,
            found.map((n) => n.row),
          )
        : new Map();
    const rows = found.map((n, i) => ({
      rank: i + 1,
      id: e.ids[n.row] ?? `#${n.row}`,
      row: n.row,
      distance: n.distance,
      ...joined.get(n.row),
    }));
    if (args.values.json) {
      process.stdout.write(rows.map((r) => JSON.stringify(r)).join('\n') + (rows.length ? '\n' : ''));
      return 0;
    }
    const shown = joined.size > 0 ? extra : [];
    const text = (v: unknown) => (typeof v === 'string' ? v : (JSON.stringify(v) ?? ''));
    const header = ['rank', 'id', `${metric} distance`, ...shown];
    const cells = rows.map((r) => [
      String(r.rank),
      r.id,
      r.distance.toFixed(6),
      ...shown.map((c) => text((r as Record<string, unknown>)[c])),
    ]);
    const widths = header.map((h, j) => Math.max(h.length, ...cells.map((row) => row[j]!.length)));
    const line = (row: string[]) =>
      row
        .map((v, j) => (j === 0 ? v.padStart(widths[j]!) : v.padEnd(widths[j]!)))
        .join('  ')
        .trimEnd();
    process.stdout.write([line(header), ...cells.map(line)].join('\n') + '\n');
    return 0;
  },
};
