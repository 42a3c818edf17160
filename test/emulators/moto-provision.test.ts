import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { localMotoServer, provisionCommands, provisionMoto } from '../../lib/emulators/moto-provision.ts';
import { useTmp } from '../helpers/tmp.ts';

describe('moto_server provisioning for the test setup', () => {
  const tmp = useTmp();

  it('makes a project-local venv and installs the pinned moto[server] into it', () => {
    expect(provisionCommands('/repo', 'python3')).toEqual([
      ['python3', '-m', 'venv', '/repo/.moto/venv'],
      ['/repo/.moto/venv/bin/python', '-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', 'moto[server]==5.2.1'],
    ]);
    expect(localMotoServer('/repo')).toBe('/repo/.moto/venv/bin/moto_server');
  });

  it('says in one line what to install when Python 3 is missing, after one line saying what it tries', () => {
    const lines: string[] = [];
    const got = provisionMoto(tmp(), (l) => lines.push(l), join(tmp(), 'no-python3'));
    expect(lines).toEqual(['moto_server not found: installing moto[server]==5.2.1 into .moto/venv (once)']);
    expect(got).toEqual({
      error: expect.stringMatching(/no-python3 not found: the S3 tests need Python 3 \(python3 on the PATH\) or moto_server itself/),
    });
  });
});
