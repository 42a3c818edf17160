/** `track-embeddings similar DIR --id ID`: the tracks nearest to one track, or to the mean of several (a playlist's seeds). */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { loadEmbeddings, type Embeddings } from '../../lib/search/embeddings.ts';
import { readRows } from '../../lib/search/join-columns.ts';
import { meanOf, nearest, type Metric, type Neighbour } from '../../lib/search/nearest.ts';
import { PipelineError, SourceError, SpecError, messageOf } from '../../lib/errors.ts';
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

/** The ids of an --ids-file: one a line, blank lines skipped. */
async function readIds(path: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e: unknown) {
    throw new SourceError(`${path}: cannot read: ${messageOf(e)}`);
  }
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean);
}

/** Neighbours as printed: rank, id (`#row` for a row whose id repeats later), row, distance. */
function ranked(e: Embeddings, found: readonly Neighbour[]) {
  return found.map((n, i) => ({ rank: i + 1, id: e.ids[n.row] ?? `#${n.row}`, row: n.row, distance: n.distance }));
}

/**
 * One JSON line per query id: {"query", "neighbours": [{rank, id, row, distance}]}, or
 * {"query", "error"} for an id the folder does not have (exit status 1 then, after every line).
 */
function searchEach(e: Embeddings, queries: readonly string[], k: number, metric: Metric): number {
  let unknown = 0;
  for (const query of queries) {
    const row = e.index.get(query);
    if (row === undefined) {
      unknown++;
      process.stdout.write(`${JSON.stringify({ query, error: 'no track with this id' })}\n`);
      continue;
    }
    const found = nearest(e.vectors, e.dims, meanOf(e.vectors, e.dims, [row]), k, metric, new Set([row]));
    process.stdout.write(`${JSON.stringify({ query, neighbours: ranked(e, found) })}\n`);
  }
  if (unknown > 0) process.stderr.write(`error: ${unknown} of ${queries.length} ids are not in ${e.dir}\n`);
  return unknown > 0 ? 1 : 0;
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
  usage: 'DIR (--id ID [--id ID …] | --features JSON | --ids-file FILE) [OPTIONS]',
  arguments: [['DIR', 'An output folder (spotify_vectors_14d.npy, id_to_index.json, manifest.json)']],
  options: {
    id: { type: 'string', multiple: true, value: 'ID', description: 'A track id; several: search from their mean, excluding them all' },
    'ids-file': {
      type: 'string',
      value: 'FILE',
      description: 'Many queries: one id a line; prints one JSON line per id ({"query", "neighbours"}), in this process',
    },
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
    'track-embeddings similar demo/out --id 0zU5MPvQ4E6aNd4jdsSs3B --with name,artists',
    'track-embeddings similar demo/out --ids-file ids.txt --k 5 > neighbours.jsonl',
    'track-embeddings similar out --id A --id B --k 20 --metric cosine --json',
  ],
  async run(args) {
    const [dir] = positionals(this, args, ['DIR']);
    const ids = (args.values.id as string[] | undefined) ?? [];
    const featuresText = stringOption(args, 'features');
    const idsFile = stringOption(args, 'ids-file');
    const given = [ids.length > 0, featuresText !== undefined, idsFile !== undefined].filter(Boolean).length;
    if (given === 0) throw usageError(this, 'missing --id ID, --features JSON or --ids-file FILE');
    if (given > 1) throw usageError(this, '--id, --features and --ids-file cannot be used together');
    const k = intOption(this, args, 'k') ?? 10;
    const metric = (stringOption(args, 'metric') ?? 'euclidean') as Metric;
    if (!METRICS.includes(metric)) throw usageError(this, `--metric must be one of ${METRICS.join(', ')}, got '${metric}'`);
    const e = await loadEmbeddings(dir!);
    if (idsFile !== undefined) return searchEach(e, await readIds(idsFile), k, metric);
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
    const rows = ranked(e, found).map((r) => ({ ...r, ...joined.get(r.row) }));
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
