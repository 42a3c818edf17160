/** The command lines leave nothing behind and name ordinary mistakes, checked before any work. */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tmpdir } from 'node:os';
import { fixture, useTmp } from '../helpers/tmp.ts';
import { runCli, spawnCli } from '../helpers/cli.ts';
import { writeTracksParquet } from '../../lib/generate/write-parquet.ts';

const temps = (dir: string) => (existsSync(dir) ? readdirSync(dir).filter((f) => f.startsWith('.track-embeddings-')) : []);

describe('the command line', () => {
  const tmp = useTmp();
  const shared = mkdtempSync(join(tmpdir(), 'track-embeddings-signals-'));
  const tmpShared = () => shared;
  afterAll(() => rmSync(shared, { recursive: true, force: true }));

  it('refuses --out naming a file, with one line and exit 2, before any work', () => {
    const file = join(tmp(), 'taken');
    writeFileSync(file, 'keep me');
    const r = runCli([fixture('tracks-5k.parquet'), '--out', file]);
    expect(r.code).toBe(2);
    expect(r.lines[0]).toBe(`error: --out ${file}: exists and is not a folder`);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(readFileSync(file, 'utf8')).toBe('keep me');
  });

  it.each([
    ['not Parquet (refused at the footer)', 'not-parquet.parquet', /not a Parquet file/],
    ['a null id (refused while embedding)', 'null-id.parquet', /column 'id'/],
  ])('creates no --out folder for a refused run: %s', (_what, file, message) => {
    const out = join(tmp(), 'new', 'out');
    const r = runCli([fixture('bad', file), '--out', out]);
    expect(r.code).toBe(1);
    expect(r.lines).toHaveLength(1);
    expect(r.lines[0]).toMatch(message);
    expect(existsSync(dirname(out))).toBe(false);
  });

  it('refuses a FIFO as input at once instead of waiting on it', () => {
    const fifo = join(tmp(), 'tracks.parquet');
    execFileSync('mkfifo', [fifo]);
    const r = runCli([fifo, '--out', join(tmp(), 'out')]);
    expect(r.code).toBe(1);
    expect(r.lines).toEqual([`error: ${fifo}: not a regular file`]);
  });

  it('removes a temporary folder left by a killed run', () => {
    const out = tmp();
    // pid 2^22 + 1 is above Linux's pid_max limit: no process can have it.
    mkdirSync(join(out, '.track-embeddings-4194305-abc123'));
    writeFileSync(join(out, '.track-embeddings-4194305-abc123', 'spotify_vectors_14d.npy'), 'partial');
    const r = runCli([fixture('tracks-5k.parquet'), '--out', out, '--workers', '1']);
    expect(r.code).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['id_index.bin', 'id_to_index.json', 'manifest.json', 'spotify_vectors_14d.npy']);
  });

  let big: string | undefined;
  it.each(['SIGTERM', 'SIGINT'] as const)('removes its temporary folder (and the --out it created) on %s', async (signal) => {
    const dir = tmp();
    // One input for both signals, kept outside the folders the test removes.
    if (!big) await writeTracksParquet((big = join(tmpShared(), 'big.parquet')), { rows: 400_000, rowGroupSize: 50_000 });
    const input = big;
    const out = join(dir, 'made', 'out');
    const child = spawnCli([input, '--out', out, '--workers', '1']);
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, sig) => resolve(sig)));
    // Wait for the run to be mid-way: its temporary folder exists.
    const started = await new Promise<boolean>((resolve) => {
      const poll = setInterval(() => {
        if (temps(out).length > 0 || child.exitCode !== null) {
          clearInterval(poll);
          resolve(temps(out).length > 0);
        }
      }, 5);
    });
    expect(started).toBe(true);
    child.kill(signal);
    expect(await exited).toBe(signal);
    expect(existsSync(join(dir, 'made'))).toBe(false);
  });
});

describe('track-embeddings pipeline-local', () => {
  const tmp = useTmp();

  it('refuses a missing input with one line, before starting anything', () => {
    const missing = join(tmp(), 'nope.parquet');
    const r = runCli(['pipeline-local', missing, '--out', join(tmp(), 'out')]);
    expect(r.code).toBe(1);
    expect(r.lines).toEqual([`error: ${missing}: no such file`]);
  });

  it('refuses --out naming a file with exit 2, before running the pipeline', () => {
    const file = join(tmp(), 'taken');
    writeFileSync(file, '');
    const r = runCli(['pipeline-local', fixture('tracks-5k.parquet'), '--out', file]);
    expect(r.code).toBe(2);
    expect(r.lines[0]).toBe(`error: --out ${file}: exists and is not a folder`);
  });

  it('says what to install when moto_server is missing, in one line', () => {
    // No moto_server on the PATH, and none of the project's own (.moto/venv) either.
    const env = { ...process.env, PATH: dirname(process.execPath), MOTO_SERVER: join(tmp(), 'no-moto', 'moto_server') };
    const out = join(tmp(), 'out');
    const r = runCli(['pipeline-local', fixture('tracks-5k.parquet'), '--out', out], env);
    expect(r.code).toBe(1);
    expect(r.lines).toEqual([`error: moto_server not found: pip install 'moto[server]'`]);
    expect(existsSync(out)).toBe(false);
  });
});
