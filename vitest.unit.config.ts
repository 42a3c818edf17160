import { defineConfig } from 'vitest/config';

/** `npm run test:unit`: every suite that needs no S3 API (moto_server) and no CDK synthesis. */
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: [
      'test/aws/pipeline.test.ts',
      'test/aws/s3.test.ts',
      'test/cdk/**',
      'test/chaos/**',
      'test/pipeline/reduce-memory.test.ts',
      'test/emulators/serverless-pipeline.test.ts',
    ],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
