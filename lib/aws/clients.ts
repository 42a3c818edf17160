/**
 * The SDK clients the handlers share: built once per process from the standard SDK environment
 * (AWS_REGION, AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL_LAMBDA), so the same code runs on AWS,
 * under SAM and against local endpoints; tests may inject their own.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { readConfig, type Config } from './config.ts';
import { PipelineError } from '../errors.ts';

let clients: { s3: S3Client; lambda: LambdaClient } | null = null;
let config: Config | null = null;

/** The shared clients, created on first use. */
export function awsClients(): { s3: S3Client; lambda: LambdaClient } {
  // Path-style addressing is what local S3 APIs (moto, SAM setups) need; AWS accepts it too.
  clients ??= { s3: new S3Client({ forcePathStyle: Boolean(process.env.AWS_ENDPOINT_URL_S3) }), lambda: new LambdaClient({}) };
  return clients;
}

/** Replaces the shared clients and configuration (tests, the local pipeline). */
export function setAwsClients(next: { s3: S3Client; lambda: LambdaClient } | null, nextConfig: Config | null = null): void {
  clients = next;
  config = nextConfig;
}

/** The validated configuration, read from the environment on first use. */
export function pipelineConfig(): Config {
  config ??= readConfig();
  return config;
}

/** Invokes `fn` asynchronously (InvocationType Event) with a small JSON payload. */
export async function invokeAsync(fn: string, payload: unknown): Promise<void> {
  const body = new TextEncoder().encode(JSON.stringify(payload));
  const out = await awsClients().lambda.send(new InvokeCommand({ FunctionName: fn, InvocationType: 'Event', Payload: body }));
  if (out.StatusCode !== 202) throw new PipelineError(`async invoke of ${fn} returned status ${out.StatusCode}`);
}

/** Runs `fn` over `items` with at most `limit` in flight, failing on the first error. */
export async function mapLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
