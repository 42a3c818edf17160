import { describe, expect, it } from 'vitest';
import { S3_ATTEMPTS, localRegion, s3ClientFromEnv } from '../../lib/aws/clients.ts';

describe('the S3 client', () => {
  it(`tries a request ${S3_ATTEMPTS} times, so that a shard rides out a prefix's 503 SlowDown`, async () => {
    const client = s3ClientFromEnv({ AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:1', AWS_REGION: 'us-east-1' });
    expect(S3_ATTEMPTS).toBeGreaterThan(3); // the SDK's default, which failed shards at 1B rows (the simulator)
    expect(await client.config.maxAttempts()).toBe(S3_ATTEMPTS);
    expect(client.config.forcePathStyle).toBe(true);
  });

  it('takes us-east-1 for a loopback endpoint without a region, and leaves AWS endpoints to the SDK', () => {
    expect(localRegion({}, 'http://localhost:5000')).toBe('us-east-1');
    expect(localRegion({ AWS_REGION: 'eu-west-1' }, 'http://localhost:5000')).toBeUndefined();
    expect(localRegion({}, 'https://s3.eu-west-1.amazonaws.com')).toBeUndefined();
  });
});
