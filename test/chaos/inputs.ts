/**
 * What the cases upload, and what they compare against: the 5k fixture with the command line's
 * outputs for it; the same rows written again (another version of the upload, with other bytes);
 * bad files; and, for the multipart case only, a file whose vectors pass one 8 MiB part.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as pw from 'parquet-wasm';
import { runLocal } from '../../lib/local/runner.ts';
import { writeTracksParquet } from '../../lib/generate/write-parquet.ts';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures');

/** An input and the command line's outputs for it. */
export interface Reference {
  input: Uint8Array;
  vectors: Buffer;
  mapping: Buffer;
}

export type BadInput = 'not-parquet' | 'missing-column' | 'corrupt-page';

export interface Inputs {
  /** tracks-5k.parquet: the upload of every case, and the newest version where there are two. */
  main: Reference;
  /** The same rows re-encoded (zstd, 1,000-row groups as the fixture): an older version with other bytes. */
  older: Uint8Array;
  bad: Record<BadInput, Uint8Array>;
  /** 160k rows (vectors of 8.96 MB: a multipart upload), made on first use. */
  big(): Promise<Reference>;
}

/** Runs the command line on `path` and keeps its outputs. */
async function reference(path: string): Promise<Reference> {
  const out = mkdtempSync(join(tmpdir(), 'chaos-cli-'));
  try {
    const cli = await runLocal({ input: path, outDir: out, workers: 1 });
    return { input: readFileSync(path), vectors: readFileSync(cli.vectorsPath), mapping: readFileSync(cli.mappingPath) };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/** The fixture's rows in another encoding. */
function reencoded(bytes: Uint8Array): Uint8Array {
  const table = pw.readParquet(bytes);
  const props = new pw.WriterPropertiesBuilder().setCompression(pw.Compression.ZSTD).setMaxRowGroupSize(1000).build();
  return pw.writeParquet(table, props);
}

/** Prepares every input (the big one lazily). */
export async function prepareInputs(): Promise<Inputs> {
  const main = await reference(join(FIXTURES, 'tracks-5k.parquet'));
  const corrupt = Buffer.from(main.input);
  // Page data of row group 1, which the second statistics part reads: refused there, not at the check.
  for (let i = 200_000; i < 200_400; i++) corrupt[i]! ^= 0x5a;
  let big: Promise<Reference> | undefined;
  return {
    main,
    older: reencoded(main.input),
    bad: {
      'not-parquet': readFileSync(join(FIXTURES, 'bad', 'not-parquet.parquet')),
      'missing-column': readFileSync(join(FIXTURES, 'bad', 'missing-column.parquet')),
      'corrupt-page': corrupt,
    },
    big: () =>
      (big ??= (async () => {
        const dir = mkdtempSync(join(tmpdir(), 'chaos-big-'));
        try {
          const path = join(dir, 'tracks-160k.parquet');
          await writeTracksParquet(path, { rows: 160_000, rowGroupSize: 40_000 });
          return await reference(path);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      })()),
  };
}
