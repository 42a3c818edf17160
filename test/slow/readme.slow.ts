/** README.md's quick start run as written (npm run test:slow): the demo, the neighbour list, the Python snippet. */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/tmp.ts';

const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
const quickStart = readme.slice(readme.indexOf('## Quick start'), readme.indexOf('## The commands'));
const sh = /```sh\n([\s\S]*?)```/
  .exec(quickStart)![1]!
  .split('\n')
  .map((l) => l.replace(/\s+#.*$/, '').trim())
  .filter(Boolean);
const python = /```python\n([\s\S]*?)```/.exec(quickStart)![1]!;

/** A Python with numpy: REFERENCE_PYTHON, else python3. */
function pythonWithNumpy(): string | undefined {
  for (const p of [process.env.REFERENCE_PYTHON, 'python3'].filter(Boolean) as string[])
    if (spawnSync(p, ['-c', 'import numpy'], { encoding: 'utf8' }).status === 0) return p;
  return undefined;
}

describe("README's quick start", () => {
  it('gets from a clone to a neighbour list, and the Python snippet loads the outputs', () => {
    for (const line of sh) {
      if (/^npm ci$/.test(line) || / explore /.test(line)) continue; // the tree is installed; explore serves a page (tested with it)
      const r = spawnSync('sh', ['-c', line], { cwd: ROOT, encoding: 'utf8', timeout: 240_000 });
      expect(r.status, `${line}\n${r.stderr}`).toBe(0);
      if (/ similar /.test(line)) {
        const rows = r.stdout.trim().split('\n');
        expect(rows[0]).toMatch(/^rank {2}id +euclidean distance {2}name +artists$/);
        expect(rows).toHaveLength(6);
      }
    }
    const py = pythonWithNumpy();
    if (!py) {
      console.log('README Python snippet not run: no Python with numpy (set REFERENCE_PYTHON)');
      return;
    }
    const r = spawnSync(py, ['-c', `${python}\nassert vectors.shape == (169776, 14) and v.shape == (14,)\nprint("ok")`], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(r.stdout.trim(), r.stderr).toBe('ok');
  });
});
