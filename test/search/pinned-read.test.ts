/**
 * A reader of a published folder during a republish: the manifest names each file's ETag, the
 * reader fetches exactly those versions, and when a newer publish replaces a file under it, it
 * starts over from the newer manifest — never one publish's vectors with another's ids.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateBucketCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { s3ClientFor } from '../../lib/emulators/moto.ts';
import { s3OutputFiles } from '../../lib/aws/s3-outputs.ts';
import { loadEmbeddings, type OutputFiles } from '../../lib/search/embeddings.ts';
import { runLocal } from '../../lib/local/runner.ts';
import type { Manifest } from '../../lib/outputs/manifest.ts';
import { s3Endpoint } from '../helpers/s3.ts';
import { fixture, useTmp } from '../helpers/tmp.ts';

const BUCKET = `pinned-${process.pid}`;
const PREFIX = 'embeddings/live/';
let s3: S3Client;
beforeAll(async () => {
  s3 = s3ClientFor(s3Endpoint());
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
});
afterAll(() => s3.destroy());

describe('reading a published folder while it is republished', () => {
  const tmp = useTmp();

  /** Publishes a command-line output folder the way the reducer does: files, then the manifest naming their ETags. */
  async function publish(dir: string, withEtags: boolean): Promise<number> {
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest;
    const etags: Record<string, string> = {};
    for (const file of [manifest.outputs.vectors, manifest.outputs.mapping]) {
      const put = await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${PREFIX}${file}`, Body: readFileSync(join(dir, file)) }));
      etags[file] = put.ETag!;
    }
    if (withEtags) manifest.outputs.etags = etags;
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${PREFIX}manifest.json`, Body: JSON.stringify(manifest) }));
    return manifest.outputs.shape[0];
  }

  /** The folder's files, with a newer publish landing right after the reader's first manifest read. */
  function duringRepublish(republish: () => Promise<unknown>): { files: OutputFiles; manifestReads: () => number } {
    const inner = s3OutputFiles(s3, BUCKET, PREFIX);
    let reads = 0;
    const files: OutputFiles = {
      where: inner.where,
      async read(file, etag) {
        const bytes = await inner.read(file, etag);
        if (file === 'manifest.json' && ++reads === 1) await republish();
        return bytes;
      },
    };
    return { files, manifestReads: () => reads };
  }

  it.each([
    ['naming each file’s ETag', true, 'the newer publish, whole, after starting over from its manifest'],
    ['without ETags (what this guards against)', false, 'a mix of both publishes'],
  ])('with a manifest %s, the reader gets %s', async (_what, withEtags) => {
    const v1 = await runLocal({ input: fixture('tracks-5k.parquet'), outDir: tmp(), workers: 1 });
    const v2 = await runLocal({ input: fixture('edge', 'many-rowgroups.parquet'), outDir: tmp(), workers: 1 });
    const v1Rows = await publish(dirname(v1.manifestPath), withEtags);
    const { files, manifestReads } = duringRepublish(() => publish(dirname(v2.manifestPath), withEtags));

    const load = loadEmbeddings(files);
    if (withEtags) {
      const e = await load;
      expect(manifestReads()).toBe(2);
      expect(e.rows).toBe(1000);
      expect(e.ids.filter((id) => id !== null)).toHaveLength(1000);
    } else {
      // The first manifest's 5,000 rows against the newer 1,000-row vectors: refused, but only by luck of the sizes.
      await expect(load).rejects.toThrow(`the vectors are 1000 × 14, the manifest says ${v1Rows} × 14`);
    }
  });
});
