import type { ByteSource } from '../io/byte-source.ts';
import type { Manifest } from '../outputs/manifest.ts';
import type { OutputFiles } from '../search/embeddings.ts';
import { UsageError } from '../errors.ts';
import { quietSdkWarning } from './node-version.ts';

/** An output folder in S3, as `similar` and `explore` read it. */
export interface S3Folder {
  files: OutputFiles;
  /** The input the manifest names, pinned to the ETag it recorded; null when that input is not in S3. */
  openInput(manifest: Manifest): Promise<(ByteSource & { close(): Promise<void> }) | null>;
  close(): void;
}

/**
 * `s3://BUCKET/PREFIX/`, an output folder the pipeline published, read with the standard SDK
 * environment (the SDK modules load only here: local folders never pay for them).
 */
export async function openS3Folder(url: string): Promise<S3Folder> {
  const m = /^s3:\/\/([^/]+)\/(.*)$/.exec(url);
  if (!m) throw new UsageError(`${url}: expected s3://BUCKET/PREFIX/, an output folder`);
  quietSdkWarning();
  const [{ s3ClientFromEnv }, { s3OutputFiles }, { openS3Source }] = await Promise.all([
    import('../aws/clients.ts'),
    import('../aws/s3-outputs.ts'),
    import('../aws/s3-source.ts'),
  ]);
  const prefix = m[2] === '' || m[2]!.endsWith('/') ? m[2]! : `${m[2]}/`;
  const client = s3ClientFromEnv();
  return {
    files: s3OutputFiles(client, m[1]!, prefix),
    openInput: async (manifest) => {
      const input = /^s3:\/\/([^/]+)\/(.+)$/.exec(manifest.input.name);
      if (!input) return null;
      const source = await openS3Source(client, { bucket: input[1]!, key: input[2]!, etag: manifest.input.etag });
      return { name: source.name, size: source.size, read: (offset, length) => source.read(offset, length), close: async () => {} };
    },
    close: () => client.destroy(),
  };
}
