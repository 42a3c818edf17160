/** Slow first-hour checks (npm run test:slow): pipeline-local --keep's printed commands, and the packed tarball run with npx. */
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixture, ROOT, useTmp } from '../helpers/tmp.ts';
import { CLI, spawnCli } from '../helpers/cli.ts';

const TRACKS = fixture('tracks-5k.parquet');

describe('the first hour, slow part', () => {
  const tmp = useTmp();

  it('pipeline-local --keep serves a query function that answers, and prints status, redrive and query commands ready to run', async () => {
    const child = spawnCli(['pipeline-local', TRACKS, '-o', tmp(), '--keep']);
    let stdout = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    const ended = once(child, 'exit');
    try {
      while (!/curl .*\n/.test(stdout)) {
        const [chunk] = (await Promise.race([once(child.stdout!, 'data'), ended.then(() => [null])])) as [string | null];
        if (chunk === null) throw new Error(`pipeline-local ended early: ${stdout}`);
      }
      const line = (word: string) =>
        stdout
          .split('\n')
          .find((l) => l.includes(word))!
          .trim();
      expect(line(' status ')).toMatch(/^AWS_ENDPOINT_URL_S3=\S+ .* npx track-embeddings status s3:\/\/\S+$/);
      expect(line(' redrive ')).toMatch(/JOB_FUNCTION_NAME=job:live npx track-embeddings redrive s3:\/\//);
      const curl = line('curl ');
      expect(curl).not.toMatch(/<a track id>/);
      const answer = spawnSync('sh', ['-c', curl], { encoding: 'utf8' });
      const response = JSON.parse(answer.stdout) as { statusCode: number; body: string };
      expect(response.statusCode).toBe(200);
      expect((JSON.parse(response.body) as { neighbours: unknown[] }).neighbours).toHaveLength(5);
      const status = spawnSync('sh', ['-c', line(' status ').replace('npx track-embeddings', `"${process.execPath}" "${CLI}"`)], {
        encoding: 'utf8',
      });
      expect(status.stdout).toMatch(/done/);
    } finally {
      child.kill('SIGINT');
      await ended;
    }
  });

  it('the packed tarball runs from another folder with npx --package /abs/….tgz track-embeddings (a bare absolute path is run by the shell: Permission denied)', () => {
    const dest = tmp();
    const pack = spawnSync('npm', ['pack', '--pack-destination', dest, '--silent'], { cwd: ROOT, encoding: 'utf8' });
    expect(pack.status).toBe(0);
    const tgz = join(
      dest,
      readdirSync(dest).find((f) => f.endsWith('.tgz'))!,
    );
    const elsewhere = join(dest, 'elsewhere');
    mkdirSync(elsewhere);
    const env = { ...process.env, npm_config_cache: join(dest, 'npm-cache'), npm_config_update_notifier: 'false' };
    const bare = spawnSync('npx', ['-y', tgz, '--version'], { cwd: elsewhere, encoding: 'utf8', env });
    // npm exec runs an existing file given as the command itself (libnpmexec's localFileExists): documented, not ours to fix.
    expect(bare.stderr).toMatch(/Permission denied/);
    const r = spawnSync('npx', ['-y', '--package', tgz, 'track-embeddings', TRACKS, '-o', join(elsewhere, 'out')], {
      cwd: elsewhere,
      encoding: 'utf8',
      env,
    });
    expect(r.stderr).toMatch(/embedded 5,000 rows × 14 dims/);
    expect(r.status).toBe(0);
  });
});
