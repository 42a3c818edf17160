/** `track-embeddings explore DIR`: a local web page to search, list neighbours of and map an output folder. */
import { openExplorer } from '../../lib/explore/open-explorer.ts';
import { serveExplorer } from '../../lib/explore/server.ts';
import { UsageError } from '../../lib/errors.ts';
import { intOption, positionals, stringOption, usageError, type Command } from '../../lib/cli/command.ts';

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

export const command: Command = {
  name: 'explore',
  summary: 'Open an output folder in a local web page: search tracks by name, list their neighbours, see the map',
  usage: 'DIR [--port N] [--host ADDR] [--input FILE]',
  arguments: [['DIR', 'An output folder (spotify_vectors_14d.npy, id_to_index.json, manifest.json)']],
  options: {
    port: { type: 'string', value: 'N', default: '8737', description: 'The port to serve on (0: any free port)' },
    host: {
      type: 'string',
      value: 'ADDR',
      default: '127.0.0.1',
      description: 'The address to serve on; anything but this machine’s loopback lets other machines read the data',
    },
    input: {
      type: 'string',
      value: 'FILE',
      description: 'The input Parquet, for names, artists and years (default: the path the manifest names, as embed was given it)',
    },
  },
  notes: `Prints the page's address on stdout and serves until interrupted (Ctrl-C). Nothing is fetched from or
sent to anywhere else: the page, its scripts and its data come from this server only (Content-Security-Policy
'self'). The map is a PCA of the vectors, computed once and cached in DIR/.explore-pca-v1.bin; above 250,000
rows it draws an even sample of them, and neighbours are still searched over every row.`,
  examples: ['track-embeddings explore demo/out', 'track-embeddings explore demo/out --port 0 --input demo/tracks-170k.parquet'],
  async run(args) {
    const [dir] = positionals(this, args, ['DIR']);
    if (dir!.startsWith('s3://'))
      throw new UsageError(
        `explore reads a local output folder; copy it first: aws s3 cp --recursive ${dir} ./out/ (s3:// is not served yet)`,
      );
    const port = intOption(this, args, 'port', 0) ?? 8737;
    if (port > 65_535) throw usageError(this, `--port must be at most 65535, got '${port}'`);
    const host = stringOption(args, 'host') ?? '127.0.0.1';
    if (!LOOPBACK.has(host))
      process.stderr.write(`warning: serving on ${host}: other machines that reach it can read this folder's data\n`);
    const opened = await openExplorer(dir!, { input: stringOption(args, 'input') });
    for (const line of opened.notes) process.stderr.write(`${line}\n`);
    const served = await serveExplorer(opened.explorer, host, port).catch(async (e: unknown) => {
      await opened.close();
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EADDRINUSE') throw new UsageError(`port ${port} is in use on ${host}; choose another with --port (0: any free port)`);
      throw e;
    });
    process.stdout.write(`${served.url}\n`);
    process.stderr.write('serving; Ctrl-C to stop\n');
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await served.close();
    await opened.close();
    return 0;
  },
};
