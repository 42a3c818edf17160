import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { MotoError, startMoto, type Moto } from '../lib/emulators/moto.ts';
import { provisionMoto } from '../lib/emulators/moto-provision.ts';

const ROOT = join(import.meta.dirname, '..');

/**
 * Vitest globalSetup: one moto_server for the whole run, its URL provided as `s3Endpoint`. Where
 * the machine has none, it is installed once into `.moto/venv`; where that fails (no Python 3, no
 * package index), `s3Error` says why in one line, the S3 suites fail with it, and every other
 * test still runs.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let moto: Moto | undefined;
  let error = '';
  try {
    moto = await startMoto();
  } catch (e: unknown) {
    if (!(e instanceof MotoError)) throw e;
    const got = provisionMoto(ROOT, (line) => process.stderr.write(`${line}\n`));
    if ('server' in got) moto = await startMoto(got.server);
    else error = got.error;
  }
  project.provide('s3Endpoint', moto?.endpoint ?? '');
  project.provide('s3Error', error);
  return async () => moto?.stop();
}

declare module 'vitest' {
  export interface ProvidedContext {
    /** The moto_server every test file shares (this global setup starts it); '' when it could not. */
    s3Endpoint: string;
    /** Why there is no moto_server, in one line; '' when there is. */
    s3Error: string;
  }
}
