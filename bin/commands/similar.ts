/** `track-embeddings similar DIR --id ID`: the tracks nearest to one track, or to the mean of several (a playlist's seeds). */
import { loadEmbeddings } from '../../lib/search/embeddings.ts';
import { meanOf, nearest, type Metric } from '../../lib/search/nearest.ts';
import { PipelineError } from '../../lib/errors.ts';
import { intOption, positionals, stringOption, usageError, type Command } from '../../lib/cli/command.ts';

const METRICS: readonly Metric[] = ['euclidean', 'cosine'];

export const command: Command = {
  name: 'similar',
  summary: 'Find the tracks nearest to a track (or to several: a playlist) in an output folder',
  usage: 'DIR --id ID [--id ID …] [OPTIONS]',
  arguments: [['DIR', 'An output folder (spotify_vectors_14d.npy, id_to_index.json, manifest.json)']],
  options: {
    id: { type: 'string', multiple: true, value: 'ID', description: 'A track id; several: search from their mean, excluding them all' },
    k: { type: 'string', value: 'N', default: '10', description: 'How many neighbours' },
    metric: { type: 'string', value: 'NAME', default: 'euclidean', description: 'euclidean or cosine (1 − cosine similarity)' },
    json: { type: 'boolean', description: 'One JSON object a line ({"rank", "id", "row", "distance"}) instead of a table' },
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
    if (ids.length === 0) throw usageError(this, 'missing --id ID');
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
    const query = meanOf(e.vectors, e.dims, seeds);
    const found = nearest(e.vectors, e.dims, query, k, metric, new Set(seeds));
    const rows = found.map((n, i) => ({ rank: i + 1, id: e.ids[n.row] ?? `#${n.row}`, row: n.row, distance: n.distance }));
    if (args.values.json) {
      process.stdout.write(rows.map((r) => JSON.stringify(r)).join('\n') + (rows.length ? '\n' : ''));
      return 0;
    }
    const width = Math.max(2, ...rows.map((r) => r.id.length));
    const lines = [
      `rank  ${'id'.padEnd(width)}  ${metric} distance`,
      ...rows.map((r) => `${String(r.rank).padStart(4)}  ${r.id.padEnd(width)}  ${r.distance.toFixed(6)}`),
    ];
    process.stdout.write(lines.join('\n') + '\n');
    return 0;
  },
};
