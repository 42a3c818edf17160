/** Every `track-embeddings` command README.md shows, and every --help example, is one the program accepts (test/slow runs the quick start for real). */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/tmp.ts';
import { shellWords, shownCommands } from '../helpers/readme-commands.ts';
import { COMMANDS } from '../../bin/commands/index.ts';
import { DEFAULT_COMMAND } from '../../lib/cli/program.ts';
import { parseCommand } from '../../lib/cli/command.ts';

/** Parses argv as the program does; a usage error throws. */
async function accepts(argv: readonly string[]): Promise<string> {
  const named = COMMANDS.find((c) => c.name === argv[0]);
  const entry = named ?? COMMANDS.find((c) => c.name === DEFAULT_COMMAND)!;
  parseCommand(await entry.load(), named ? argv.slice(1) : argv);
  return entry.name;
}

const readme = shownCommands(join(ROOT, 'README.md'));

describe('the commands README.md shows', () => {
  it('are many enough to be the ones it shows', () => {
    expect(readme.length).toBeGreaterThanOrEqual(10);
    expect(readme.map((c) => c.argv[0])).toEqual(expect.arrayContaining(['similar', 'transform', 'generate', 'pipeline-local', 'status']));
  });

  it.each(readme.map((c) => [c.line, c.argv] as const))('%s', async (_line, argv) => {
    await expect(accepts(argv)).resolves.toBeTypeOf('string');
  });

  it('splits shell words as the shell does', () => {
    expect(shellWords(`similar out --features '{"a": 1}' --k 3 > x.jsonl`)).toEqual([
      'similar',
      'out',
      '--features',
      '{"a": 1}',
      '--k',
      '3',
    ]);
    expect(shellWords(`similar out --id "$X" # a comment`)).toEqual(['similar', 'out', '--id', '$X']);
  });
});

describe('the files the docs cite', () => {
  const pages = [
    'README.md',
    'events/README.md',
    ...['usage', 'python', 'pipeline', 'deploy', 'testing', 'benchmarks', 'internals', 'explore', 'ids'].map((p) => `docs/${p}.md`),
  ];
  it.each(pages)('%s cites only files that exist', (page) => {
    const text = readFileSync(join(ROOT, page), 'utf8');
    const cited = [...text.matchAll(/\b((?:test|lib|bin|functions|cdk|bench|scripts|examples)\/[\w./-]+\.(?:ts|py|json|mjs|sh))\b/g)].map(
      (m) => m[1]!,
    );
    expect(cited.filter((p) => !existsSync(join(ROOT, p)))).toEqual([]);
  });
});

describe('the examples of every --help', () => {
  it.each(COMMANDS.map((c) => c.name))('%s', async (name) => {
    const command = await COMMANDS.find((c) => c.name === name)!.load();
    expect(command.examples.length).toBeGreaterThan(0);
    for (const example of command.examples) {
      const line = example.replace(/^(?:[A-Z_0-9]+=\S+ )+/, '');
      expect(line).toMatch(/^track-embeddings /);
      await expect(accepts(shellWords(line.slice('track-embeddings '.length)))).resolves.toBe(name);
    }
  });
});
