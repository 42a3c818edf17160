/** `track-embeddings explore DIR`: a local web page to search, list neighbours of and map an output folder. */
import { openExplorer, type ExploreOptions } from '../../lib/explore/open-explorer.ts';
import { serveExplorer } from '../../lib/explore/server.ts';
import type { OutputFiles } from '../../lib/search/embeddings.ts';
import { UsageError } from '../../lib/errors.ts';
import { openS3Folder } from '../../lib/cli/s3-folder.ts';
import { intOption, positionals, stringOption, usageError, type Command } from '../../lib/cli/command.ts';

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/** An S3 output folder for the explorer: a manifest whose input is not in S3 gets a note instead of names. */
async function s3Folder(url: string): Promise<{ files: OutputFiles; openInput: NonNullable<ExploreOptions['openInput']>; close(): void }> {
  const folder = await openS3Folder(url);
  return {
    files: folder.files,
    openInput: async (manifest) => {
      const source = await folder.openInput(manifest);
      return source
        ? { source }
        : { note: `the input named in the manifest, ${manifest.input.name}, is not in S3 (give a local copy with --input)` };
    },
    close: () => folder.close(),
  };
}

export const command: Command = {
  name: 'explore',
  summary: 'Open an output folder in a local web page: search tracks by name, list their neighbours, see the map',
  usage: 'DIR [--port N] [--host ADDR] [--input FILE]',
  arguments: [['DIR', 'An output folder (spotify_vectors_14d.npy, id_to_index.json, manifest.json), or s3://BUCKET/embeddings/NAME/']],
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
rows it draws an even sample of them, and neighbours are still searched over every row. For s3:// the
folder and its input are read from S3 (the input pinned to the ETag the manifest records), nothing is
written there, and the map is projected at each start.

ENVIRONMENT (for s3://)
  The standard AWS SDK variables: AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_REGION,
  AWS_ENDPOINT_URL_S3 for a local S3 API (region us-east-1 when unset).`,
  examples: [
    'track-embeddings explore demo/out',
    'track-embeddings explore demo/out --port 0 --input demo/tracks-170k.parquet',
    'AWS_PROFILE=prod track-embeddings explore s3://my-bucket/embeddings/tracks/',
  ],
  async run(args) {
    const [dir] = positionals(this, args, ['DIR']);
    const port = intOption(this, args, 'port', 0) ?? 8737;
    if (port > 65_535) throw usageError(this, `--port must be at most 65535, got '${port}'`);
    const host = stringOption(args, 'host') ?? '127.0.0.1';
    if (!LOOPBACK.has(host))
      process.stderr.write(`warning: serving on ${host}: other machines that reach it can read this folder's data\n`);
    const s3 = dir!.startsWith('s3://') ? await s3Folder(dir!) : null;
    const opened = await openExplorer(s3 ? s3.files : dir!, { input: stringOption(args, 'input'), openInput: s3?.openInput }).catch(
      (e: unknown) => {
        s3?.close();
        throw e;
      },
    );
    for (const line of opened.notes) process.stderr.write(`${line}\n`);
    const served = await serveExplorer(opened.explorer, host, port).catch(async (e: unknown) => {
      await opened.close();
      s3?.close();
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
    s3?.close();
    return 0;
  },
};
