import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixture, ROOT, useTmp } from '../helpers/tmp.ts';
import { runCli } from '../helpers/cli.ts';
import { runLocal } from '../../lib/local/runner.ts';

describe('the built command (dist/, what npm start and the package run)', () => {
  const tmp = useTmp();

  it('finds its worker beside it and gives the bytes the sources give', async () => {
    const out = tmp();
    const r = runCli([fixture('tracks-5k.parquet'), '--out', out, '--shard-rows', '1000', '--workers', '2']);
    expect(r.stderr).toMatch(/^embedded 5,000 rows × 14 dims .* 5 shard\(s\), 2 workers\)/);
    expect(r.code).toBe(0);
    const viaSources = await runLocal({ input: fixture('tracks-5k.parquet'), outDir: tmp(), workers: 1 });
    for (const file of ['spotify_vectors_14d.npy', 'id_to_index.json'])
      expect(readFileSync(join(out, file)).equals(readFileSync(join(viaSources.vectorsPath, '..', file)))).toBe(true);
  });

  it('prints the package version', () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) {
      const r = runCli([flag]);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(`track-embeddings ${version}\n`);
    }
  });

  it('lists every subcommand in its help, and each has help with options and examples, exit 0', () => {
    const top = runCli(['--help']);
    expect(top.code).toBe(0);
    const names = [
      ...top.stdout
        .split('COMMANDS\n')[1]!
        .split('\n\n')[0]!
        .matchAll(/^ {2}(\S+)/gm),
    ].map((m) => m[1]!);
    expect(names).toEqual(['embed', 'similar', 'transform', 'explore', 'generate', 'pipeline-local', 'status', 'redrive']);
    // Every command's --help, and the other two spellings once each.
    const asked = [...names.map((name) => [name, '--help']), ['generate', '-h'], ['help', 'status']];
    for (const args of asked) {
      const name = args[0] === 'help' ? args[1]! : args[0]!;
      const r = runCli(args);
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.stdout).toMatch(
        new RegExp(
          `^.+\\n\\nUSAGE\\n  track-embeddings ${name} .+\\n[\\s\\S]*\\nOPTIONS\\n[\\s\\S]*-h, --help[\\s\\S]*\\nEXAMPLES\\n  \\$ `,
        ),
      );
      expect(r.stderr).toBe('');
    }
  });

  it('names a mistyped command instead of looking for a file of that name', () => {
    const r = runCli(['embedd', 'x.parquet']);
    expect(r.code).toBe(2);
    expect(r.lines).toEqual(["error: unknown command 'embedd'; did you mean 'embed'?", "see 'track-embeddings --help'"]);
  });
});
