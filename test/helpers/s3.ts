/** Small S3 reads the end-to-end tests share. */
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { inject } from 'vitest';

/** An object's bytes, or null when it does not exist. */
export async function getObjectOrNull(s3: S3Client, bucket: string, key: string): Promise<Buffer | null> {
  try {
    const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return Buffer.from(await out.Body!.transformToByteArray());
  } catch (e: unknown) {
    if ((e as { name?: string }).name === 'NoSuchKey') return null;
    throw e;
  }
}

/** The keys under a prefix, sorted. */
export async function keysUnder(s3: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const out = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return (out.Contents ?? []).map((c) => c.Key!).sort();
}

/** The environment a child process (the command line) needs to reach the shared moto_server as S3. */
export function s3ChildEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    AWS_ENDPOINT_URL_S3: s3Endpoint(),
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_REGION: 'us-east-1',
  };
}

/** The shared moto_server's URL; fails the calling suite with the setup's one line when there is none. */
export function s3Endpoint(): string {
  const endpoint = inject('s3Endpoint');
  if (!endpoint) throw new Error(inject('s3Error'));
  return endpoint;
}
