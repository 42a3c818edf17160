/**
 * The SDK clients a process builds once, at module scope, from the standard SDK environment
 * (AWS_REGION, AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL_LAMBDA), so the same code runs on AWS, under
 * SAM and against local endpoints. Handler factories take them as arguments.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { LambdaClient } from '@aws-sdk/client-lambda';

/** The clients a handler uses. */
export interface AwsClients {
  s3: S3Client;
  lambda: LambdaClient;
}

/** An S3 client for the environment; path-style addressing where a local S3 API (moto, SAM setups) needs it. */
export function s3ClientFromEnv(env: NodeJS.ProcessEnv = process.env): S3Client {
  return new S3Client({ forcePathStyle: Boolean(env.AWS_ENDPOINT_URL_S3) });
}

/** Both clients for the environment. */
export function clientsFromEnv(env: NodeJS.ProcessEnv = process.env): AwsClients {
  return { s3: s3ClientFromEnv(env), lambda: new LambdaClient({}) };
}
