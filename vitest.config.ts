import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // One moto_server (a real S3 API) for the whole run.
    globalSetup: ['test/build.global-setup.ts', 'test/moto.global-setup.ts'],
    // Vitest's default is one worker fewer than the cores: one file at a time on a 2-core machine.
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
