import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runLocal } from '../../lib/local/runner.ts';
import { fixture, useTmp } from '../helpers/tmp.ts';

const ROOT = join(import.meta.dirname, '..', '..');

describe('npm run pipeline:local', () => {
  const tmp = useTmp();

  it('runs the serverless flow on its own moto and Invoke endpoint, with the command line’s bytes', async () => {
    const out = tmp();
    const r = spawnSync(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'bin', 'pipeline-local.ts'), fixture('tracks-5k.parquet'), '--out', out, '--shard-rows', '1000'],
      {
        cwd: ROOT,
        encoding: 'utf8',
      },
    );
    expect(r.stderr).toMatch(/pipeline: 5,000 rows × 14 dims in 5 shard\(s\), 7 Lambda invocations/);
    expect(r.status).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['id_to_index.json', 'manifest.json', 'spotify_vectors_14d.npy']);
    const cli = await runLocal({ input: fixture('tracks-5k.parquet'), outDir: tmp(), workers: 2 });
    expect(readFileSync(join(out, 'spotify_vectors_14d.npy')).equals(readFileSync(cli.vectorsPath))).toBe(true);
    expect(readFileSync(join(out, 'id_to_index.json')).equals(readFileSync(cli.mappingPath))).toBe(true);
  });

  it('exits 1 with the job’s error for bad input, and leaves no outputs', () => {
    const out = tmp();
    const r = spawnSync(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'bin', 'pipeline-local.ts'), fixture('bad', 'missing-column.parquet'), '--out', out],
      {
        cwd: ROOT,
        encoding: 'utf8',
      },
    );
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      /error: s3:\/\/track-embeddings-local\/incoming\/missing-column\.parquet: column 'tempo': required column is missing/,
    );
    expect(readdirSync(out)).toEqual([]);
  });
});
