/** Peak memory growth around an async call, for tests that memory stays flat. */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

export interface MemoryGrowth<T> {
  result: T;
  /** Peak growth of the resident set over the baseline, in bytes. */
  rss: number;
  /** Peak growth of heapUsed + arrayBuffers over the baseline. */
  js: number;
  /** heapUsed + arrayBuffers still held after a full GC at the end. */
  retained: number;
}

/** Forces a full GC so baselines are not inflated by earlier garbage. */
export function collectGarbage(): void {
  // Vitest workers are not started with --expose-gc; V8 can still hand out the function.
  const gc = (globalThis as { gc?: () => void }).gc ?? (setFlagsFromString('--expose-gc'), runInNewContext('gc') as () => void);
  gc();
  gc();
}

/** Runs `fn`, sampling memory every 5 ms, and reports its peak and retained growth. */
export async function measureMemory<T>(fn: () => Promise<T>): Promise<MemoryGrowth<T>> {
  collectGarbage();
  const before = process.memoryUsage();
  const base = before.heapUsed + before.arrayBuffers;
  const peak = { rss: before.rss, js: base };
  const sample = () => {
    const m = process.memoryUsage();
    peak.rss = Math.max(peak.rss, m.rss);
    peak.js = Math.max(peak.js, m.heapUsed + m.arrayBuffers);
  };
  const sampler = setInterval(sample, 5);
  let result: T;
  try {
    result = await fn();
  } finally {
    clearInterval(sampler);
  }
  sample();
  collectGarbage();
  const settled = process.memoryUsage();
  return { result, rss: peak.rss - before.rss, js: peak.js - base, retained: settled.heapUsed + settled.arrayBuffers - base };
}
