import { defineConfig } from 'vitest/config';

/** `npm run test:slow`: the first-hour checks too slow for `npm test` (the packed tarball, pipeline-local --keep, every README command). */
export default defineConfig({
  test: {
    include: ['test/slow/**/*.slow.ts'],
    globalSetup: ['test/build.global-setup.ts', 'test/moto.global-setup.ts'],
    maxWorkers: 1,
    testTimeout: 300_000,
    hookTimeout: 300_000,
  },
});
