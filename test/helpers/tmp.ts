import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';

/** A fresh temporary directory per call, removed after the test. */
export function useTmp(): () => string {
  const made: string[] = [];
  afterEach(() => {
    for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  return () => {
    const d = mkdtempSync(join(tmpdir(), 'track-embeddings-test-'));
    made.push(d);
    return d;
  };
}

export const fixture = (...parts: string[]) => join(import.meta.dirname, '..', 'fixtures', ...parts);
export const ROOT = join(import.meta.dirname, '..', '..');
