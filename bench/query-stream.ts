/**
 * npm run bench:query-stream -- [--dir /tmp/track-embeddings-big-output] [--queries 5] [--s3]
 * A query over an output too large to hold, as the query function answers it (the vectors read
 * chunk by chunk as they are scanned, lib/search/streamed-outputs.ts), on a folder that
 * `npm run bench:big-output -- --rows N --dir DIR` built. Prints the time to open it, each
 * query's time (a random row's id, k 10, euclidean; median) and the process's peak RSS. With
 * `--s3` the folder is also uploaded to a moto_server and queried through the query handler over
 * its S3 API with a budget that makes it stream (moto holds the files in memory: 10M rows, not 100M).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { folderFiles } from '../lib/search/embeddings.ts';
import { openStreamedOutputs, streamedSearch } from '../lib/search/streamed-outputs.ts';
import { answerWith } from '../lib/search/query.ts';
import { startMoto, s3ClientFor } from '../lib/emulators/moto.ts';
import { queryHandler } from '../lib/aws/query-handler.ts';
import { median } from './measure.ts';

const USAGE = 'usage: npm run bench:query-stream -- [--dir DIR] [--queries N] [--s3]';
let values: { dir: string; queries: string; s3: boolean };
try {
  ({ values } = parseArgs({
    options: {
      dir: { type: 'string', default: '/tmp/track-embeddings-big-output' },
      queries: { type: 'string', default: '5' },
      s3: { type: 'boolean', default: false },
    },
  }) as { values: typeof values });
} catch (e: unknown) {
  process.stderr.write(`bench:query-stream: ${e instanceof Error ? e.message : String(e)}\n${USAGE}\n`);
  process.exit(2);
}
const queries = Number(values.queries);
if (!Number.isInteger(queries) || queries < 1) {
  process.stderr.write(`bench:query-stream: --queries must be a positive integer, got '${values.queries}'\n${USAGE}\n`);
  process.exit(2);
}
const ms = (t: number) => `${t.toFixed(0)} ms`;
const peakMiB = () => `${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`;

const t0 = performance.now();
const s = await openStreamedOutputs(folderFiles(values.dir));
const openMs = performance.now() - t0;
const search = streamedSearch(s);
const rowsAsked = Array.from({ length: queries }, (_, i) => Math.floor(((i + 0.5) / queries) * s.rows));
const ids = await Promise.all(rowsAsked.map((r) => s.lookup.idOf(r)));
const times: number[] = [];
for (const id of ids) {
  const t = performance.now();
  const found = await answerWith(s, search, { name: 'bench', ids: [id!], k: 10, metric: 'euclidean' });
  times.push(performance.now() - t);
  if (found.length !== 10) throw new Error(`expected 10 neighbours, got ${found.length}`);
}
const out = [
  `bench:query-stream, ${s.rows.toLocaleString('en-US')} rows (${values.dir}), ${queries} queries (an id, k 10, euclidean)`,
  '',
  '| figure | value |',
  '|---|---:|',
  `| open: manifest, vectors' header, id index | ${ms(openMs)} |`,
  `| a query from local files, median | ${ms(median(times))} (${times.map((t) => (t / 1000).toFixed(2)).join(', ')} s) |`,
  `| peak RSS so far | ${peakMiB()} |`,
];

if (values.s3) {
  const moto = await startMoto();
  try {
    const s3 = s3ClientFor(moto.endpoint);
    await s3.send(new CreateBucketCommand({ Bucket: 'bench' }));
    const t = performance.now();
    // The manifest last, as the reducer publishes; the mapping is not needed (the id index serves).
    const files = readdirSync(values.dir).filter((f) => f !== 'id_to_index.json');
    files.sort((a, b) => Number(a === 'manifest.json') - Number(b === 'manifest.json'));
    for (const f of files)
      await s3.send(new PutObjectCommand({ Bucket: 'bench', Key: `embeddings/big/${f}`, Body: readFileSync(join(values.dir, f)) }));
    out.push(`| upload to moto (${files.length} files) | ${ms(performance.now() - t)} |`);
    const handler = queryHandler({ s3, bucket: 'bench', outputPrefix: 'embeddings/', maxRows: 1, maxBytes: 1 << 20 });
    const s3Times: number[] = [];
    for (const id of ids) {
      const q = performance.now();
      const r = await handler({ name: 'big', id, k: 10 });
      s3Times.push(performance.now() - q);
      if (r.statusCode !== 200) throw new Error(`the query handler answered ${r.statusCode}: ${r.body}`);
    }
    out.push(
      `| a query through the query handler over moto, median | ${ms(median(s3Times))} (${s3Times.map((t) => (t / 1000).toFixed(2)).join(', ')} s; the first opens the output) |`,
    );
    out.push(`| peak RSS (this process; moto apart) | ${peakMiB()} |`);
  } finally {
    await moto.stop();
  }
}
process.stdout.write(`${out.join('\n')}\n`);
