import { once } from 'node:events';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runLocal } from '../../lib/local/runner.ts';
import { fixture, useTmp } from '../helpers/tmp.ts';
import { runCli, spawnCli } from '../helpers/cli.ts';
import { expectRowsMatch, readEmbeddingsWithDuckDb } from '../helpers/duckdb.ts';
import { parseNpy } from '../../lib/search/embeddings.ts';

describe('track-embeddings pipeline-local', () => {
  const tmp = useTmp();

  it('runs the serverless flow on its own moto and Invoke endpoint, with the command line’s bytes', async () => {
    const out = tmp();
    const r = runCli(['pipeline-local', fixture('tracks-5k.parquet'), '--out', out, '--shard-rows', '1000']);
    expect(r.stderr).toMatch(/pipeline: 5,000 rows × 14 dims in 5 shard\(s\), 10 Lambda invocations/);
    expect(r.code).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['id_index.bin', 'id_to_index.json', 'manifest.json', 'spotify_vectors_14d.npy']);
    const cli = await runLocal({ input: fixture('tracks-5k.parquet'), outDir: tmp(), workers: 1 });
    expect(readFileSync(join(out, 'spotify_vectors_14d.npy')).equals(readFileSync(cli.vectorsPath))).toBe(true);
    expect(readFileSync(join(out, 'id_to_index.json')).equals(readFileSync(cli.mappingPath))).toBe(true);
  });

  it('with --parquet, downloads one part per shard into DIR/parquet/, read by DuckDB equal to the .npy; a run without it removes them', async () => {
    const out = tmp();
    const r = runCli(['pipeline-local', fixture('tracks-5k.parquet'), '--out', out, '--shard-rows', '1000', '--parquet']);
    expect(r.stderr).toMatch(
      /→ .*\{spotify_vectors_14d\.npy, id_to_index\.json, id_index\.bin, parquet\/part-\*\.parquet, manifest\.json\}\njob \w+: execution SUCCEEDED, \d+ durable operations\n$/,
    );
    expect(r.code).toBe(0);
    expect(readdirSync(join(out, 'parquet'))).toEqual([0, 1, 2, 3, 4].map((i) => `part-0000${i}.parquet`));
    const npy = parseNpy(readFileSync(join(out, 'spotify_vectors_14d.npy')), 'npy');
    const mapping = JSON.parse(readFileSync(join(out, 'id_to_index.json'), 'utf8')) as Record<string, number>;
    expectRowsMatch(await readEmbeddingsWithDuckDb(join(out, 'parquet', '*.parquet')), npy.data, mapping);
    expect(runCli(['pipeline-local', fixture('tracks-5k.parquet'), '--out', out, '--shard-rows', '2500']).code).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['id_index.bin', 'id_to_index.json', 'manifest.json', 'spotify_vectors_14d.npy']);
  });

  it('exits 1 with the job’s error for bad input, and leaves no outputs', () => {
    const out = tmp();
    const r = runCli(['pipeline-local', fixture('bad', 'missing-column.parquet'), '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /error: s3:\/\/track-embeddings-local\/incoming\/missing-column\.parquet: column 'tempo': required column is missing/,
    );
    expect(readdirSync(out)).toEqual([]);
  });

  it('with --keep, prints a status command that works as printed, then stops on Ctrl-C', async () => {
    const child = spawnCli(['pipeline-local', fixture('tracks-5k.parquet'), '--out', tmp(), '--keep']);
    let stdout = '';
    child.stdout!.setEncoding('utf8');
    const printed = new Promise<string>((resolve, reject) => {
      child.stdout!.on('data', (chunk: string) => {
        stdout += chunk;
        const line = /^ {2}(.* npx track-embeddings status .*)$/m.exec(stdout);
        if (line) resolve(line[1]!);
      });
      child.once('exit', () => reject(new Error(`exited before printing the status command: ${stdout}`)));
    });
    const command = await printed;
    // The command as a user pastes it: its variables, then the status subcommand (here the built file for npx).
    const env = Object.fromEntries([...command.matchAll(/(\w+)=(\S+)/g)].map((m) => [m[1]!, m[2]!]));
    expect(Object.keys(env).sort()).toEqual(['AWS_ACCESS_KEY_ID', 'AWS_ENDPOINT_URL_S3', 'AWS_REGION', 'AWS_SECRET_ACCESS_KEY']);
    const target = command.split(' npx track-embeddings ')[1]!.split(' ');
    const { AWS_PROFILE: _profile, ...base } = process.env;
    const status = runCli(target, { ...base, ...env });
    expect(status.stdout).toMatch(/^s3:\/\/track-embeddings-local\/incoming\/tracks-5k\.parquet: done \(job \w+\): 5,000 rows × 14 dims/);
    expect(status.code).toBe(0);
    // So does the redrive command printed below it: this version is published, nothing to run.
    const redrive = /^ {2}(.* npx track-embeddings redrive .*)$/m.exec(stdout)![1]!;
    const redriveEnv = Object.fromEntries([...redrive.matchAll(/(\w+)=(\S+)/g)].map((m) => [m[1]!, m[2]!]));
    const again = runCli(redrive.split(' npx track-embeddings ')[1]!.split(' '), { ...base, ...redriveEnv });
    expect(again.stdout).toMatch(/tracks-5k\.parquet: this version is already published: nothing to do/);
    expect(again.code).toBe(0);
    child.kill('SIGINT');
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(0);
  });
});
