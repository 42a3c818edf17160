import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // One moto_server (a real S3 API) for the whole run.
    globalSetup: ['test/moto.global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
