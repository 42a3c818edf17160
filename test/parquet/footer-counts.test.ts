/** A footer whose row counts disagree with the pages is refused in one line, not half-read or crashed on. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runLocal } from '../../lib/local/runner.ts';
import { InvalidInputError } from '../../lib/errors.ts';
import { withRowCountOff } from '../helpers/footer-patch.ts';
import { fixture, useTmp } from '../helpers/tmp.ts';
import { runCli } from '../helpers/cli.ts';

describe('a footer that disagrees with its pages', () => {
  const tmp = useTmp();

  it.each([
    [100, 'the footer says 5,100 rows, the pages of its columns hold 5,000'],
    [-100, 'the footer says 4,900 rows, the pages of its columns hold more'],
  ])('row group 1 counted %i rows off: refused, naming the file and the disagreement', async (delta, says) => {
    const input = join(tmp(), 'off.parquet');
    writeFileSync(input, withRowCountOff(readFileSync(fixture('tracks-5k.parquet')), 1, delta));
    const run = runLocal({ input, outDir: tmp(), workers: 1 });
    await expect(run).rejects.toThrow(InvalidInputError);
    await expect(run).rejects.toThrow(says);
  });

  it('is one line and exit 1 from the command (was: exit 70 with a stack trace)', () => {
    const dir = tmp();
    const input = join(dir, 'off.parquet');
    writeFileSync(input, withRowCountOff(readFileSync(fixture('tracks-5k.parquet')), 1, 100));
    const r = runCli([input, '-o', join(dir, 'out')]);
    expect(r.code).toBe(1);
    expect(r.lines).toEqual([
      `error: ${input}: row groups 0–4: the footer says 5,100 rows, the pages of its columns hold 5,000: the file is corrupt`,
    ]);
  });
});
