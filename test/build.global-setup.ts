import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { quietSdkWarning } from '../lib/cli/node-version.ts';

/**
 * Vitest globalSetup: builds dist/ when a source is newer (the command-line tests run the built
 * command, as a user does), and on a Node older than the AWS SDK asks for, says so once for the
 * whole run instead of eight lines in every process that loads the SDK.
 */
export default function setup(): void {
  quietSdkWarning();
  execFileSync(process.execPath, [join(import.meta.dirname, '..', 'scripts', 'build.mjs'), '--if-stale'], { stdio: 'inherit' });
}
