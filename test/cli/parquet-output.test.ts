import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixture, useTmp } from '../helpers/tmp.ts';
import { runCli } from '../helpers/cli.ts';
import { parseNpy } from '../../lib/search/embeddings.ts';
import { expectRowsMatch, readEmbeddingsWithDuckDb } from '../helpers/duckdb.ts';

const tmp = useTmp();

describe('embed --parquet', () => {
  it.each([
    ['in this process', []],
    ['in 5 shards on 2 workers', ['--workers', '2', '--shard-rows', '1300']],
  ])('writes embeddings.parquet %s: every row’s id, its row, and its vector bit for bit the .npy’s', async (_, extra) => {
    const out = tmp();
    const r = runCli([fixture('tracks-5k.parquet'), '-o', out, '--parquet', ...extra]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/→ .*\{spotify_vectors_14d\.npy, id_to_index\.json, id_index\.bin, embeddings\.parquet, manifest\.json\}\n$/);
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    expect(manifest.outputs.parquet).toBe('embeddings.parquet');
    expect(manifest.shards.count).toBe(extra.length > 0 ? 5 : 1);
    const rows = await readEmbeddingsWithDuckDb(join(out, 'embeddings.parquet'));
    const npy = parseNpy(readFileSync(join(out, 'spotify_vectors_14d.npy')), 'npy');
    const mapping = JSON.parse(readFileSync(join(out, 'id_to_index.json'), 'utf8')) as Record<string, number>;
    expect(rows).toHaveLength(5000);
    expectRowsMatch(rows, npy.data, mapping);
  });

  it('is off by default, and a run without it removes an earlier run’s copy', () => {
    const out = tmp();
    expect(runCli([fixture('tracks-5k.parquet'), '-o', out, '--parquet']).code).toBe(0);
    expect(existsSync(join(out, 'embeddings.parquet'))).toBe(true);
    expect(runCli([fixture('tracks-5k.parquet'), '-o', out]).code).toBe(0);
    expect(existsSync(join(out, 'embeddings.parquet'))).toBe(false);
    expect(JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')).outputs.parquet).toBeUndefined();
  });
});
