import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixture, useTmp } from '../helpers/tmp.ts';

const ROOT = join(import.meta.dirname, '..', '..');

describe('the bundle that npm start runs', () => {
  const tmp = useTmp();

  it('builds, finds its worker beside it, and gives the same bytes as the sources', () => {
    execFileSync('npm', ['run', '-s', 'build'], { cwd: ROOT, stdio: 'pipe' });
    const out = tmp();
    const r = spawnSync(
      process.execPath,
      [join(ROOT, 'dist', 'embed.js'), fixture('tracks-5k.parquet'), '--out', out, '--shard-rows', '1000'],
      {
        cwd: ROOT,
        encoding: 'utf8',
      },
    );
    expect(r.stderr).toMatch(/^embedded 5,000 rows × 14 dims .* 5 shard\(s\)/);
    expect(r.status).toBe(0);
    expect(readFileSync(join(out, 'id_to_index.json')).equals(readFileSync(fixture('tracks-5k.reference', 'id_to_index.json')))).toBe(true);
    // The 5k reference is Fortran-ordered, so compare against a C-ordered run from the sources instead.
    const viaSources = tmp();
    spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'bin', 'embed.ts'), fixture('tracks-5k.parquet'), '--out', viaSources], {
      cwd: ROOT,
    });
    expect(readFileSync(join(out, 'spotify_vectors_14d.npy')).equals(readFileSync(join(viaSources, 'spotify_vectors_14d.npy')))).toBe(true);
  });
});
