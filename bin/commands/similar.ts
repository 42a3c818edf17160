/** `track-embeddings similar DIR --id ID`: the tracks nearest to one track, or to the mean of several (a playlist's seeds). */
import { info } from '../../lib/cli/messages.ts';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { ByteSource } from '../../lib/io/byte-source.ts';
import { openOutputs, type SearchOutputs as Embeddings, type OutputFiles } from '../../lib/search/embeddings.ts';
import { openForOneQuery } from '../../lib/search/streamed-outputs.ts';
import { readRows } from '../../lib/search/join-columns.ts';
import { meanOf, nearest, type Metric, type Neighbour } from '../../lib/search/nearest.ts';
import { searchMany } from '../../lib/search/search-pool.ts';
import { availableParallelism } from 'node:os';
import { workersOption } from '../../lib/cli/options.ts';
import { METRICS, featuresVector, meanOfRows, ranked, seedRows, type RankedNeighbour, type VectorSearch } from '../../lib/search/query.ts';
import { FORMATS, columnsOf, flatten, formatRows, type Format, type Row } from '../../lib/cli/rows-format.ts';
import { didYouMean } from '../../lib/cli/suggest.ts';
import { readQueryTracks } from '../../lib/search/query-tracks.ts';
import { parseIds } from '../../lib/search/ids-file.ts';
import { parseJsonText } from '../../lib/search/json-text.ts';
import { parseSpec } from '../../lib/embedding/spec.ts';
import { scalerFromSection } from '../../lib/outputs/manifest.ts';
import { openFileSource } from '../../lib/io/file-source.ts';
import { PipelineError, SourceError, SpecError, messageOf } from '../../lib/errors.ts';
import { openS3Folder } from '../../lib/cli/s3-folder.ts';
import { intOption, positionals, stringOption, usageError, type Command } from '../../lib/cli/command.ts';

type Input = ByteSource & { close(): Promise<void> };
/** An output folder as a query reads it, the vectors apart (held, or streamed through the scan). */
type Outputs = Omit<Embeddings, 'vectors'>;

/** Where the outputs and the input they name are read: this machine, or S3. */
interface Place {
  files: string | OutputFiles;
  /** The input named in the manifest, or null (and one line on stderr) when it cannot be read from here. */
  openInput(e: Outputs, columns: readonly string[]): Promise<Input | null>;
  close(): void;
}

const unreachable = (input: string, columns: readonly string[]): null => {
  info(`note: cannot show ${columns.join(', ')}: the input named in the manifest, ${input}, is not reachable from here\n`);
  return null;
};

/** The input Parquet on this machine (`--input`, or the path the manifest names), if it is the file the embeddings came from. */
async function openLocalInput(input: string, e: Outputs, columns: readonly string[]): Promise<Input | null> {
  if (input.startsWith('s3://') || !existsSync(input)) return unreachable(input, columns);
  const source = await openFileSource(input);
  // Another file now at that path would show another table's columns beside these neighbours.
  if (source.size === e.manifest.input.bytes) return source;
  await source.close();
  info(
    `note: cannot show ${columns.join(', ')}: ${input} is ${source.size.toLocaleString('en-US')} bytes, not the ${e.manifest.input.bytes.toLocaleString('en-US')} the manifest names: it is not the file these embeddings came from\n`,
  );
  return null;
}

/** A local output folder; its input is the path the manifest names, as given to `embed` (relative to the working folder then). */
function localPlace(dir: string): Place {
  return { files: dir, openInput: (e, columns) => openLocalInput(e.manifest.input.name, e, columns), close() {} };
}

/**
 * `place` with its input read from `--input PATH` on this machine instead of where the manifest
 * says; asked for by name, a missing file or another table is refused rather than noted.
 */
function withInput(place: Place, path: string): Place {
  return {
    ...place,
    openInput: async (e) => {
      if (!existsSync(path)) throw new SourceError(`--input ${path}: no such file`);
      const source = await openFileSource(path);
      if (source.size === e.manifest.input.bytes) return source;
      await source.close();
      throw new SourceError(
        `--input ${path}: ${source.size.toLocaleString('en-US')} bytes, not the ${e.manifest.input.bytes.toLocaleString('en-US')} of ${e.manifest.input.name} that the manifest names: not the file these embeddings came from`,
      );
    },
  };
}

/** An S3 output folder; its input is read from S3 too, pinned to the ETag the manifest recorded. */
async function s3Place(url: string): Promise<Place> {
  const folder = await openS3Folder(url);
  return {
    files: folder.files,
    openInput: async (e, columns) => (await folder.openInput(e.manifest)) ?? unreachable(e.manifest.input.name, columns),
    close: () => folder.close(),
  };
}

/** The input's columns for the rows, or an empty map when the input cannot be read from here. */
async function joinColumns(place: Place, e: Outputs, columns: string[], rows: number[]): Promise<Map<number, Record<string, unknown>>> {
  const source = await place.openInput(e, columns);
  if (!source) return new Map();
  try {
    return await readRows(source, columns, rows);
  } finally {
    await source.close();
  }
}

/** The ids of an --ids-file (see `parseIds`: each line as written). */
async function readIds(path: string): Promise<string[]> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e: unknown) {
    throw new SourceError(`${path}: cannot read: ${messageOf(e)}`);
  }
  return parseIds(bytes, path);
}

/** One answer of a batch search: a query's neighbours, or why it has none. */
type Answer = { query: string; found: Neighbour[] } | { query: string; error: string };
type Emit = (answer: Answer) => void;

/**
 * Writes the answers `produce` hands over as JSON lines, in order: {"query", "neighbours":
 * [{rank, id, row, distance, …--with columns}]} or {"query", "error"}. Without --with columns a
 * line goes out as soon as it is known; with them the answers are kept to the last, so the input
 * is read once for the rows of all of them.
 */
async function writeAnswers(
  place: Place,
  e: Embeddings,
  extra: string[],
  format: Format,
  produce: (emit: Emit) => Promise<void>,
): Promise<void> {
  type Line = Answer | { query: string; neighbours: Record<string, unknown>[] };
  const lineOf = async (a: Answer, joined?: Map<number, Record<string, unknown>>): Promise<Line> =>
    'error' in a ? a : { query: a.query, neighbours: (await ranked(e, a.found)).map((r) => ({ ...r, ...joined?.get(r.row) })) };
  const write = (line: Line) => process.stdout.write(`${JSON.stringify(line)}\n`);
  if (extra.length === 0 && format === 'jsonl') {
    // The neighbours' ids are looked up (an index read each) as answers come: chained, so lines still leave in order.
    let written = Promise.resolve();
    await produce((a) => {
      const line = lineOf(a);
      line.catch(() => {}); // awaited in the chain, which reports it
      written = written.then(async () => void write(await line));
    });
    return written;
  }
  const answers: Answer[] = [];
  await produce((a) => answers.push(a));
  const rows = answers.flatMap((a) => ('found' in a ? a.found.map((n) => n.row) : []));
  const joined = extra.length > 0 ? await joinColumns(place, e, extra, rows) : undefined;
  const lines = await Promise.all(answers.map((a) => lineOf(a, joined)));
  if (format === 'jsonl') {
    for (const line of lines) write(line);
    return;
  }
  if (format === 'json') {
    process.stdout.write(`${JSON.stringify(lines)}\n`);
    return;
  }
  // table and csv: one flat row per (query, neighbour); a query without an answer has its error.
  const flat = lines.flatMap((l): Row[] =>
    'error' in l
      ? [{ query: l.query, error: l.error }]
      : 'neighbours' in l
        ? l.neighbours.map((r) => flatten({ query: l.query, ...r }))
        : [],
  );
  const columns = ['query', 'rank', 'id', 'row', 'distance', ...columnsOf(flat).filter((c) => !BASE.includes(c) && c !== 'error')];
  if (flat.some((r) => 'error' in r)) columns.push('error');
  process.stdout.write(formatRows(flat, format, columns));
}

const BASE = ['query', 'rank', 'id', 'row', 'distance'];

/**
 * The answers for each query id, in input order: its neighbours, or an error for an id the
 * folder does not have (exit status 1 then, after every line). The searches run on `workers`
 * threads when there are enough of them to pay.
 */
async function searchEach(
  e: Embeddings,
  queries: readonly string[],
  k: number,
  metric: Metric,
  workers: number,
  emit: Emit,
): Promise<number> {
  const rows = await Promise.all(queries.map((q) => e.lookup.rowOf(q)));
  const known = rows.flatMap((row, i) => (row === undefined ? [] : [i]));
  let printed = 0;
  const unknownUntil = (end: number) => {
    for (; printed < end; printed++) emit({ query: queries[printed]!, error: 'no track with this id' });
  };
  await searchMany(
    e.vectors,
    e.dims,
    known.map((i) => ({ vector: meanOf(e.vectors, e.dims, [rows[i]!]), exclude: [rows[i]!] })),
    k,
    metric,
    workers,
    (j, found) => {
      unknownUntil(known[j]!);
      emit({ query: queries[known[j]!]!, found });
      printed++;
    },
  );
  unknownUntil(queries.length);
  const unknown = queries.length - known.length;
  if (unknown > 0) process.stderr.write(`error: ${unknown} of ${queries.length} ids are not in ${e.dir}\n`);
  return unknown > 0 ? 1 : 0;
}

/** The answers for each track of a --features-file, labelled by its id or #position. */
async function searchFeatureFile(e: Embeddings, path: string, k: number, metric: Metric, workers: number, emit: Emit): Promise<void> {
  const tracks = await readQueryTracks(path, parseSpec(e.manifest.spec, 'manifest.json'), scalerFromSection(e.manifest.scaler));
  await searchMany(
    e.vectors,
    e.dims,
    tracks.map((t) => ({ vector: t.vector, exclude: [] })),
    k,
    metric,
    workers,
    (i, found) => emit({ query: tracks[i]!.label, found }),
  );
}

/** The embedding of `--features`, with the manifest's spec and fitted scaler. */
function queryFromFeatures(text: string, e: Outputs): Float64Array {
  const features = parseJsonText(text, '--features');
  if (features === null || typeof features !== 'object' || Array.isArray(features))
    throw new SpecError('--features: expected a JSON object of column → value');
  return featuresVector(e, features as Record<string, unknown>, '--features');
}

/**
 * The query's own tracks as rank-0 rows, each at its distance from the query (0 for one seed;
 * from the seeds' mean for several), so a data frame holds the query beside its neighbours.
 */
async function seedRowsRanked(
  e: Outputs,
  search: VectorSearch,
  seeds: readonly number[],
  query: Float64Array,
  metric: Metric,
): Promise<RankedNeighbour[]> {
  const own = await search.rowsOf(seeds);
  const found = nearest(own, e.dims, query, seeds.length, metric, new Set());
  const ids = await Promise.all(found.map((n) => e.lookup.idOf(seeds[n.row]!)));
  return found
    .map((n, i) => ({ rank: 0, id: ids[i] ?? `#${seeds[n.row]}`, row: seeds[n.row]!, distance: n.distance }))
    .sort((a, b) => seeds.indexOf(a.row) - seeds.indexOf(b.row));
}

export const command: Command = {
  name: 'similar',
  summary: 'Find the tracks nearest to a track (or to several: a playlist) in an output folder',
  usage: 'DIR (--id ID [--id ID …] | --features JSON | --ids-file FILE | --features-file FILE) [OPTIONS]',
  arguments: [['DIR', 'An output folder (spotify_vectors_14d.npy, id_to_index.json, manifest.json), or s3://BUCKET/embeddings/NAME/']],
  options: {
    id: { type: 'string', multiple: true, value: 'ID', description: 'A track id; several: search from their mean, excluding them all' },
    'ids-file': {
      type: 'string',
      value: 'FILE',
      description:
        'Many queries: one id a line, UTF-8, each line as written (only its \\n or \\r\\n removed; a byte-order mark at the start dropped; empty lines skipped); prints one JSON line per id ({"query", "neighbours"}), in input order',
    },
    features: {
      type: 'string',
      value: 'JSON',
      description:
        'A track not in the table, as {"column": value, …} for every column of the spec: embedded with the manifest’s scaler, then searched',
    },
    'features-file': {
      type: 'string',
      value: 'FILE',
      description:
        'Tracks not in the table: a JSON object or array of objects, or a Parquet file with the spec’s columns (told by its PAR1 bytes, whatever its name); one JSON line per track',
    },
    k: { type: 'string', value: 'N', default: '10', description: 'How many neighbours (more than the rows: all of them)' },
    workers: {
      type: 'string',
      value: 'N',
      default: `${availableParallelism()} (the cores)`,
      description: 'Threads for --ids-file and --features-file (used when the queries are many enough to pay)',
    },
    metric: { type: 'string', value: 'NAME', default: 'euclidean', description: 'euclidean or cosine (1 − cosine similarity)' },
    with: {
      type: 'string',
      value: 'COL,COL',
      description:
        'Columns of the input Parquet (named in the manifest) to show beside each id, e.g. name,artists; with --ids-file or --features-file, in each neighbour (the lines then come once all are found)',
    },
    input: {
      type: 'string',
      value: 'FILE',
      description:
        'The input Parquet that --with reads (default: the path the manifest names, as given to embed, so relative to the folder embed ran in)',
    },
    format: {
      type: 'string',
      value: 'FORMAT',
      description:
        'table, json (one array), jsonl (an object a line) or csv, with the query track’s own row first (rank 0) and the --with columns as columns; with --ids-file/--features-file one row per query and neighbour (default there: jsonl)',
    },
    json: {
      type: 'boolean',
      description: 'One JSON object a line ({"rank", "id", "row", "distance", …columns}) instead of a table, without the rank-0 row',
    },
  },
  notes: `Exact search over every row; the query tracks themselves are left out; ties go to the lower row. A NaN
dimension (a null feature) is left out of that pair's distance. A track given by its features needs finite
values that stay within float32 once standardised and weighted; ±Infinity or 1e300 is refused with its column.

ENVIRONMENT (for s3://)
  The standard AWS SDK variables: AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_REGION,
  AWS_ENDPOINT_URL_S3 for a local S3 API (region us-east-1 when unset).`,
  examples: [
    'track-embeddings similar demo/out --id qckc1MUSsztXCSywWsQfGw --with name,artists',
    'track-embeddings similar demo/out --id qckc1MUSsztXCSywWsQfGw --k 5 --with name,artists --format csv > neighbours.csv',
    'track-embeddings similar demo/out --ids-file ids.txt --k 5 > neighbours.jsonl',
    'track-embeddings similar demo/out --features-file new-tracks.parquet --k 5',
    'track-embeddings similar s3://my-bucket/embeddings/tracks/ --id A --id B --k 20 --metric cosine --json',
  ],
  async run(args) {
    const [dir] = positionals(this, args, ['DIR']);
    const ids = (args.values.id as string[] | undefined) ?? [];
    const featuresText = stringOption(args, 'features');
    const idsFile = stringOption(args, 'ids-file');
    const featuresFile = stringOption(args, 'features-file');
    const given = [ids.length > 0, featuresText !== undefined, idsFile !== undefined, featuresFile !== undefined].filter(Boolean).length;
    if (given === 0) throw usageError(this, 'missing --id ID, --features JSON, --ids-file FILE or --features-file FILE');
    if (given > 1) throw usageError(this, '--id, --features, --ids-file and --features-file cannot be used together');
    const k = intOption(this, args, 'k') ?? 10;
    const metric = (stringOption(args, 'metric') ?? 'euclidean') as Metric;
    if (!METRICS.includes(metric)) throw usageError(this, `--metric must be one of ${METRICS.join(', ')}, got '${metric}'`);
    const extra = (stringOption(args, 'with') ?? '').split(',').filter(Boolean);
    const format = stringOption(args, 'format') as Format | undefined;
    if (format !== undefined && !FORMATS.includes(format))
      throw usageError(this, `--format must be one of ${FORMATS.join(', ')}, got '${String(format)}'${didYouMean(format, FORMATS)}`);
    if (format !== undefined && args.values.json)
      throw usageError(this, '--json and --format cannot be used together (--json is --format jsonl without the rank-0 row)');
    const input = stringOption(args, 'input');
    if (input !== undefined && extra.length === 0) throw usageError(this, '--input names the file --with reads; give --with COL,COL too');
    const base = dir!.startsWith('s3://') ? await s3Place(dir!) : localPlace(dir!);
    const place = input === undefined ? base : withInput(base, input);
    try {
      const workers = workersOption(this, args) ?? availableParallelism();
      if (idsFile !== undefined || featuresFile !== undefined) {
        // A batch scans the vectors once a query: held in memory.
        const e = await openOutputs(place.files);
        if (featuresFile !== undefined) {
          await writeAnswers(place, e, extra, format ?? 'jsonl', (emit) => searchFeatureFile(e, featuresFile, k, metric, workers, emit));
          return 0;
        }
        const ids = await readIds(idsFile!);
        let code = 0;
        await writeAnswers(
          place,
          e,
          extra,
          format ?? 'jsonl',
          async (emit) => void (code = await searchEach(e, ids, k, metric, workers, emit)),
        );
        return code;
      }
      // One query scans them once: streamed through the scan where the folder has an id index, never held.
      const { outputs: e, search } = await openForOneQuery(place.files);
      const known = (e.manifest.outputs.uniqueIds ?? e.rows).toLocaleString('en-US');
      const seeds = await seedRows(
        e,
        ids,
        (id) => new PipelineError(`${e.dir}: no track with id '${id}' (${known} ids in ${e.manifest.outputs.mapping})`),
      );
      const query = featuresText === undefined ? await meanOfRows(search, e.dims, seeds) : queryFromFeatures(featuresText, e);
      const found = await search.nearest(query, k, metric, new Set(seeds));
      const own = format === undefined ? [] : await seedRowsRanked(e, search, seeds, query, metric);
      const all = [...own, ...(await ranked(e, found))];
      const joined =
        extra.length > 0
          ? await joinColumns(
              place,
              e,
              extra,
              all.map((n) => n.row),
            )
          : new Map<number, Record<string, unknown>>();
      const rows = all.map((r) => ({ ...r, ...joined.get(r.row) }));
      if (args.values.json) {
        process.stdout.write(rows.map((r) => `${JSON.stringify(r)}\n`).join(''));
        return 0;
      }
      const shown = joined.size > 0 ? extra : [];
      if (format === undefined || format === 'table') {
        const cells = rows.map((r) => ({ ...r, distance: r.distance.toFixed(6) }));
        process.stdout.write(formatRows(cells, 'table', ['rank', 'id', 'distance', ...shown], { distance: `${metric} distance` }));
        return 0;
      }
      const flat = rows.map(flatten);
      process.stdout.write(
        formatRows(flat, format, ['rank', 'id', 'row', 'distance', ...columnsOf(flat).filter((c) => !BASE.includes(c))]),
      );
      return 0;
    } finally {
      place.close();
    }
  },
};
