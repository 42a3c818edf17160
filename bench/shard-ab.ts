/**
 * npm run bench:shard-ab -- [--baseline c9ea57e] [--rounds 5]
 * One embed shard's CPU against an earlier build, the way issue 24's goal is judged: a git
 * worktree of `--baseline` (in the temp folder, on this checkout's node_modules), then `--rounds`
 * rounds of `bench/lambda.ts --only embed --runs 3` in that worktree and in this one, alternately,
 * so both see the same machine. Prints each round's default shard (CPU and peak RSS of the whole
 * step process), then both estimates of the change: the ratio of the two medians and the median
 * of the rounds' own ratios. The worktree is removed at the end.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT, fmt } from './data.ts';
import { median } from './measure.ts';

const { values } = parseArgs({
  options: {
    baseline: { type: 'string', default: 'c9ea57e' },
    rounds: { type: 'string', default: '5' },
  },
});
const rounds = Number(values.rounds);
if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds: a whole number of rounds, not ${values.rounds}`);

/** The default shard's CPU (s) and peak RSS (MiB) from one `bench/lambda.ts --only embed` run in `dir`. */
function shardIn(dir: string): { cpu: number; rss: number } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/lambda.ts', '--only', 'embed', '--runs', '3'], {
    cwd: dir,
    encoding: 'utf8',
  });
  const row = r.stdout.split('\n').find((l) => l.startsWith('| default |'));
  if (r.status !== 0 || !row) throw new Error(`bench/lambda.ts in ${dir} failed:\n${r.stderr}`);
  // | default | start-up | read | decode | embed | write | step | rows/s | CPU | peak RSS |
  const cells = row.split('|').map((c) => c.trim());
  const num = (c: string | undefined) => Number((c ?? '').replace(/,/g, ''));
  return { cpu: num(cells[9]), rss: num(cells[10]) };
}

const base = mkdtempSync(join(tmpdir(), 'track-embeddings-shard-ab-'));
const tree = join(base, 'baseline');
const git = (...args: string[]) => execFileSync('git', args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
git('worktree', 'add', '--detach', tree, values.baseline);
try {
  symlinkSync(join(ROOT, 'node_modules'), join(tree, 'node_modules'));
  const head = git('rev-parse', '--short', 'HEAD').toString().trim();
  const rows: { before: { cpu: number; rss: number }; after: { cpu: number; rss: number } }[] = [];
  for (let r = 0; r < rounds; r++) {
    process.stderr.write(`round ${r + 1}/${rounds}\n`);
    rows.push({ before: shardIn(tree), after: shardIn(ROOT) });
  }
  const lines = [
    `One embed shard (1,048,576 rows, \`bench/lambda.ts --only embed --runs 3\`): ${values.baseline} against this checkout (${head}, with any uncommitted changes), ${rounds} alternating round(s).`,
    '',
    '| round | baseline CPU (s) | this CPU (s) | ratio | baseline peak RSS (MiB) | this peak RSS (MiB) |',
    '|---:|---:|---:|---:|---:|---:|',
    ...rows.map(
      (x, i) =>
        `| ${i + 1} | ${fmt(x.before.cpu)} | ${fmt(x.after.cpu)} | ${fmt(x.after.cpu / x.before.cpu)} | ${x.before.rss} | ${x.after.rss} |`,
    ),
  ];
  const before = median(rows.map((x) => x.before.cpu));
  const after = median(rows.map((x) => x.after.cpu));
  const ofRatios = median(rows.map((x) => x.after.cpu / x.before.cpu));
  const pct = (ratio: number) => `${fmt(100 * (ratio - 1), 1)} %`;
  lines.push(
    '',
    `Medians: ${fmt(before)} s against ${fmt(after)} s: ratio of the medians ${fmt(after / before, 3)} (${pct(after / before)}); ` +
      `median of the rounds' ratios ${fmt(ofRatios, 3)} (${pct(ofRatios)}).`,
  );
  process.stdout.write(`${lines.join('\n')}\n`);
} finally {
  git('worktree', 'remove', '--force', tree);
  rmSync(base, { recursive: true, force: true });
}
