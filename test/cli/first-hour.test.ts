/** The defects a new user met in the first hour (issue 22, item 3), each run as the user ran it. */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { fixture, ROOT, useTmp } from '../helpers/tmp.ts';
import { CLI, runCli } from '../helpers/cli.ts';
import { Progress } from '../../lib/cli/progress.ts';
import { setQuiet } from '../../lib/cli/messages.ts';
import { barOf } from '../../bin/commands/local-run.ts';
import { command as similar } from '../../bin/commands/similar.ts';
import { quietSdkWarning, sdkNoteAfterRun } from '../../lib/cli/node-version.ts';
import { closest } from '../../lib/cli/suggest.ts';
import { csvField } from '../../lib/cli/rows-format.ts';
import { generateTracksBlock } from '../../lib/generate/tracks.ts';
import { DEFAULT_SEED } from '../../lib/generate/write-parquet.ts';
import type { Utf8Column } from '../../lib/generate/schema.ts';

const TRACKS = fixture('tracks-5k.parquet');

/** A stream that says it is a terminal and keeps what is written. */
function fakeTerminal(): { stream: NodeJS.WriteStream; written: string[] } {
  const written: string[] = [];
  return { stream: { isTTY: true, write: (s: string) => written.push(s) } as unknown as NodeJS.WriteStream, written };
}

describe('the first hour', () => {
  const tmp = useTmp();
  let out = '';
  let firstIds: string[] = [];
  beforeAll(() => {
    out = join(ROOT, '.first-hour-out');
    spawnSync('rm', ['-rf', out]);
    expect(runCli([TRACKS, '-o', out]).code).toBe(0);
    firstIds = Object.keys(JSON.parse(readFileSync(join(out, 'id_to_index.json'), 'utf8')) as object).slice(0, 3);
    return () => void spawnSync('rm', ['-rf', out]);
  });

  it('transform --fitted takes the output folder itself (was: EISDIR); -q leaves stderr empty', () => {
    const dest = tmp();
    const r = runCli(['transform', TRACKS, '--fitted', out, '-o', dest, '-q']);
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(readFileSync(join(dest, 'spotify_vectors_14d.npy'))).toEqual(readFileSync(join(out, 'spotify_vectors_14d.npy')));
  });

  it('similar --input points --with at the input from any working folder; a wrong file is refused', () => {
    const elsewhere = tmp();
    const run = (input: string) =>
      spawnSync(
        process.execPath,
        [CLI, 'similar', out, '--id', firstIds[0]!, '--k', '2', '--with', 'name', '--input', input, '--format', 'jsonl'],
        {
          cwd: elsewhere,
          encoding: 'utf8',
        },
      );
    // The manifest names the input relative to the folder embed ran in: from elsewhere it is not found without --input.
    const r = run(TRACKS);
    expect(r.stderr).toBe('');
    const rows = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { rank: number; name: unknown });
    expect(rows.map((x) => x.rank)).toEqual([0, 1, 2]);
    expect(rows.every((x) => typeof x.name === 'string')).toBe(true);
    const other = join(elsewhere, 'other.parquet');
    writeFileSync(other, readFileSync(TRACKS).subarray(0, 100));
    const bad = run(other);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/^error: --input .*other\.parquet: 100 bytes, not the [\d,]+ of .* that the manifest names/);
  });

  it('similar --format csv|json|jsonl|table: the query track first at rank 0, --with columns as columns', () => {
    const args = ['similar', out, '--id', firstIds[0]!, '--k', '3', '--with', 'name,artists'];
    const csv = runCli([...args, '--format', 'csv']);
    expect(csv.code).toBe(0);
    const lines = csv.stdout.trim().split('\n');
    expect(lines[0]).toBe('rank,id,row,distance,name,artists');
    expect(lines[1]).toMatch(new RegExp(`^0,${firstIds[0]},0,0,`));
    expect(lines).toHaveLength(5);
    const json = JSON.parse(runCli([...args, '--format', 'json']).stdout) as { rank: number; id: string; distance: number; name: string }[];
    expect(json.map((r) => r.rank)).toEqual([0, 1, 2, 3]);
    expect(json[0]).toMatchObject({ id: firstIds[0], distance: 0 });
    // Two seeds: both at rank 0, at their distance from the mean; the batch form is one row per query and neighbour.
    const two = JSON.parse(runCli(['similar', out, '--id', firstIds[0]!, '--id', firstIds[1]!, '--k', '2', '--format', 'json']).stdout) as {
      rank: number;
      distance: number;
    }[];
    expect(two.filter((r) => r.rank === 0)).toHaveLength(2);
    expect(two[0]!.distance).toBeGreaterThan(0);
    const ids = join(tmp(), 'ids.txt');
    writeFileSync(ids, `${firstIds[0]}\nnope\n`);
    const batch = runCli(['similar', out, '--ids-file', ids, '--k', '2', '--format', 'csv', '--workers', '1']);
    expect(batch.stdout.trim().split('\n')).toEqual([
      'query,rank,id,row,distance,error',
      expect.stringMatching(new RegExp(`^${firstIds[0]},1,`)),
      expect.stringMatching(new RegExp(`^${firstIds[0]},2,`)),
      'nope,,,,,no track with this id',
    ]);
    expect(runCli([...args, '--format', 'cvs']).lines[0]).toBe(
      "error: --format must be one of table, json, jsonl, csv, got 'cvs'; did you mean 'csv'?",
    );
    expect(csvField('a, "b"')).toBe('"a, ""b"""');
  });

  it("similar --help's first example id is the first id of the generated demo data (npm run demo)", () => {
    const { columns } = generateTracksBlock(DEFAULT_SEED, 0);
    const id = columns.id as Utf8Column;
    const first = new TextDecoder().decode(id.data.subarray(id.offsets[0], id.offsets[1]));
    const example = /--id (\S+)/.exec(similar.examples[0]!)![1]!;
    expect(first).toBe(example);
  });

  it('the stats bar counts each row once (was: 2 × rows, "4,194,304/10,000,000 rows" for 5M)', () => {
    expect(barOf('stats', 10_000_000, 10_000_000)).toEqual(['stats', 5_000_000, 5_000_000]);
    expect(barOf('stats', 3, 10)).toEqual(['stats', 1, 5]);
    expect(barOf('embed', 7, 10)).toEqual(['embed', 7, 10]);
  });

  it('a terminal with TERM=dumb, or --quiet, gets no carriage returns or escape codes', () => {
    const dumb = fakeTerminal();
    const bar = new Progress(dumb.stream, 'embed', 10, 'rows', { TERM: 'dumb' });
    bar.update(10);
    bar.finish();
    expect(dumb.written).toEqual([]);
    const tty = fakeTerminal();
    new Progress(tty.stream, 'embed', 10, 'rows', { TERM: 'xterm' }).update(10);
    const drawn = tty.written.join('');
    expect([drawn.startsWith('\r'), drawn.endsWith('\u001b[K')]).toEqual([true, true]);
    const quiet = fakeTerminal();
    setQuiet(true);
    try {
      new Progress(quiet.stream, 'embed', 10, 'rows', { TERM: 'xterm' }).update(10);
    } finally {
      setQuiet(false);
    }
    expect(quiet.written).toEqual([]);
  });

  it('-q/--quiet still prints errors', () => {
    expect(runCli(['similar', out, '--id', 'nope', '--quiet']).lines).toEqual([expect.stringMatching(/^error: .*no track with id 'nope'/)]);
  });

  it.each([
    [['simlar', out], "error: unknown command 'simlar'; did you mean 'similar'?"],
    [['similar', out, '--id', 'x', '--jsno'], "error: unknown option '--jsno'; did you mean '--json'?"],
    [['generate', 'x.parquet', '--rows', '--seed', '1'], 'error: --rows needs a value (--rows N)'],
    [['generate', 'x.parquet', '--rows'], 'error: --rows needs a value (--rows N)'],
    [['similar', out, '--id', 'x', '--json=1'], 'error: --json is a switch and takes no value'],
    [['no-such.parquet', '-o', 'x'], 'error: no-such.parquet: cannot open: no such file or folder'],
    [
      ['similar', 'x', '--id', 'x', '--format', 'cvs'],
      "error: --format must be one of table, json, jsonl, csv, got 'cvs'; did you mean 'csv'?",
    ],
  ])('%j: one friendly line (was a parser message or a raw ENOENT … stat)', (args, line) => {
    const r = runCli(args);
    expect(r.lines[0]).toBe(line);
    expect(r.stderr).not.toMatch(/ENOENT|ambiguous|To specify/);
  });

  it('suggests only close words', () => {
    expect([closest('simlar', ['similar', 'status']), closest('xyz', ['similar', 'status'])]).toEqual(['similar', undefined]);
  });

  it('the Node 20 note comes after a command ran, never after a usage error', () => {
    const env: NodeJS.ProcessEnv = {};
    quietSdkWarning(env, '20.19.0');
    expect(env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED).toBe('true');
    expect(sdkNoteAfterRun(true)).toBeUndefined();
    quietSdkWarning({}, '20.19.0');
    expect(sdkNoteAfterRun(false)).toMatch(/^note: Node 20\.19\.0: AWS SDK releases after January 2027 need Node ≥ 22/);
    quietSdkWarning({}, '24.1.0');
    expect(sdkNoteAfterRun(false)).toBeUndefined();
    const usage = runCli(['status', 's3://only-a-bucket']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).not.toMatch(/note:/);
  });
});
