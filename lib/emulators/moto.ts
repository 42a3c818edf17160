/** A local S3 API for tests and `npm run pipeline:local`: moto_server on a free loopback port. */
import { spawn } from 'node:child_process';
import { S3Client } from '@aws-sdk/client-s3';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PipelineError } from '../errors.ts';
import { localMotoServer } from './moto-provision.ts';
import { withUnsignedChecksummedPayloads } from '../aws/unsigned-payload.ts';

const ROOT = join(import.meta.dirname, '..', '..');

/** moto_server is missing or did not start: one line on what to install or what it said. */
export class MotoError extends PipelineError {
  override name = 'MotoError';
}

/** A running moto_server: its base URL and a way to stop it. */
/** The region the local services are addressed in (moto accepts any). */
export const LOCAL_REGION = 'us-east-1';

export interface Moto {
  endpoint: string;
  stop(): Promise<void>;
}

// Long enough for a cold Python start on a busy CI machine; short enough that a hang fails the run.
const READY_TIMEOUT_MS = 30_000;
const NOT_FOUND = "moto_server not found: pip install 'moto[server]'";

/**
 * Starts moto_server on a free loopback port (it accepts `-p 0` and prints the port it got)
 * and resolves once it has announced "Running on http://…".
 */
export async function startMoto(command?: string): Promise<Moto> {
  if (command) return startMotoCommand(command);
  // MOTO_SERVER names one; else the PATH's, else the project-local one the test setup makes.
  const env = process.env.MOTO_SERVER;
  if (env) return startMotoCommand(env);
  try {
    return await startMotoCommand('moto_server');
  } catch (e: unknown) {
    const local = localMotoServer(ROOT);
    if (e instanceof MotoError && e.message.startsWith(NOT_FOUND) && existsSync(local)) return startMotoCommand(local);
    throw e;
  }
}

function startMotoCommand(command: string): Promise<Moto> {
  // Unbuffered so the "Running on" line reaches us as soon as werkzeug writes it.
  const child = spawn(command, ['-H', '127.0.0.1', '-p', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PYTHONUNBUFFERED: '1' },
  });
  // A spawn that failed (ENOENT) emits 'error' and never 'exit'.
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', () => resolve());
  });
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };

  return new Promise<Moto>((resolve, reject) => {
    let output = '';
    const fail = (message: string): void => {
      clearTimeout(timer);
      void stop().then(() => reject(new MotoError(message)));
    };
    const onData = (chunk: Buffer): void => {
      output += chunk.toString('utf8');
      const m = /Running on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (!m?.[1]) return;
      clearTimeout(timer);
      // Keep draining the pipes: a full pipe buffer would block moto's request logging.
      child.stdout.removeListener('data', onData);
      child.stderr.removeListener('data', onData);
      child.stdout.resume();
      child.stderr.resume();
      resolve({ endpoint: m[1], stop });
    };
    const timer = setTimeout(
      () => fail(`moto_server did not report "Running on" within ${READY_TIMEOUT_MS} ms; output:\n${output}`),
      READY_TIMEOUT_MS,
    );
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('error', (e: NodeJS.ErrnoException) => {
      fail(e.code === 'ENOENT' ? NOT_FOUND : `moto_server failed to start: ${e.message}`);
    });
    child.once('exit', (code, signal) => {
      // A pyenv shim exists even where the package is not installed; it exits 127.
      if (code === 127) fail(`${NOT_FOUND}\n${output}`);
      else fail(`moto_server exited (code ${code}, signal ${signal}) before it was ready; output:\n${output}`);
    });
  });
}

/** An S3 client for moto: path-style URLs, us-east-1, dummy credentials. */
export function s3ClientFor(endpoint: string): S3Client {
  const client = new S3Client({
    endpoint,
    region: LOCAL_REGION,
    forcePathStyle: true,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  return withUnsignedChecksummedPayloads(client);
}
