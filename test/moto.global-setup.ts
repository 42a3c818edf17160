import type { TestProject } from 'vitest/node';
import { startMoto } from '../lib/emulators/moto.ts';

/** Vitest globalSetup: one moto_server for the whole run, its URL provided as `s3Endpoint`. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const moto = await startMoto();
  project.provide('s3Endpoint', moto.endpoint);
  return () => moto.stop();
}

declare module 'vitest' {
  export interface ProvidedContext {
    /** The moto_server every test file shares (this global setup starts it). */
    s3Endpoint: string;
  }
}
