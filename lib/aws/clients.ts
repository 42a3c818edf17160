/**
 * The SDK clients a process builds once, at module scope, from the standard SDK environment
 * (AWS_REGION, AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL_LAMBDA), so the same code runs on AWS, under
 * SAM and against local endpoints. Handler factories take them as arguments.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { withUnsignedChecksummedPayloads } from './unsigned-payload.ts';

/** The clients a handler uses. */
export interface AwsClients {
  s3: S3Client;
  lambda: LambdaClient;
}

/** An S3 client for the environment; path-style addressing where a local S3 API (moto, SAM setups) needs it. */
export function s3ClientFromEnv(env: NodeJS.ProcessEnv = process.env): S3Client {
  const client = new S3Client({
    forcePathStyle: Boolean(env.AWS_ENDPOINT_URL_S3),
    region: localRegion(env, env.AWS_ENDPOINT_URL_S3),
    // The SDK's default of 50 sockets would queue the reducer's three stitches (64 part copies in
    // flight each) and a partition's 16 slice reads behind one another.
    requestHandler: { httpsAgent: { maxSockets: S3_SOCKETS }, httpAgent: { maxSockets: S3_SOCKETS } },
    // A thousand shards starting together read one input object past its prefix's 5,500 GETs a
    // second: more of the SDK's backed-off retries ride out the 503 SlowDown inside the shard,
    // where the default 3 attempts failed the shard and cost an engine retry (a new start-up).
    maxAttempts: S3_ATTEMPTS,
  });
  return withUnsignedChecksummedPayloads(client);
}

/** Connections an S3 client keeps open at most. */
export const S3_SOCKETS = 256;
/** Attempts of one S3 request (the SDK's standard mode: full-jitter backoff, 1 s base for throttling). */
export const S3_ATTEMPTS = 8;

/** Both clients for the environment. */
export function clientsFromEnv(env: NodeJS.ProcessEnv = process.env): AwsClients {
  return { s3: s3ClientFromEnv(env), lambda: new LambdaClient({ region: localRegion(env, env.AWS_ENDPOINT_URL_LAMBDA) }) };
}

const LOOPBACK = /^https?:\/\/(localhost|127\.0\.0\.1|\[::1\])(:\d+)?(\/|$)/;

/**
 * us-east-1 for a loopback endpoint when no region is set (moto and the local Lambda endpoint
 * accept any); otherwise undefined, and the SDK looks in its usual places.
 */
export function localRegion(env: NodeJS.ProcessEnv, endpoint: string | undefined): string | undefined {
  if (env.AWS_REGION || env.AWS_DEFAULT_REGION || !endpoint || !LOOPBACK.test(endpoint)) return undefined;
  return 'us-east-1';
}

/** An SDK failure as one line that says what to set, where the SDK's own message does not. */
export function sdkProblem(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  if (/Region is missing/i.test(message)) return 'no AWS region: set AWS_REGION (or use a profile that has one)';
  if (/Could not load credentials/i.test(message))
    return 'no AWS credentials: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY';
  return message;
}
