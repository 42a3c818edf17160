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
    globalSetup: ['test/build.global-setup.ts'],
    // Vitest's default is one worker fewer than the cores: one file at a time on a 2-core machine.
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
