import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/tmp.ts';

describe('the decoder panic guard', () => {
  it('pins a panic on the call that caused it while another call is in flight', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'test', 'helpers', 'panic-guard-child.ts')], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(r.stderr).toBe('');
    const { bad, good } = JSON.parse(r.stdout) as { bad: { error?: string }; good: { ok?: string } };
    expect(bad.error).toMatch(/^bad\.parquet: corrupt data in row group 1 \(column tempo\): the Parquet decoder failed \(unreachable\)$/);
    expect(good).toEqual({ ok: 'decoded' });
  });
});
