/**
 * Where a worker thread starts: `NAME.js` beside the bundle, or `NAME.ts` beside the module
 * when run from TypeScript sources (tsx, vitest). From sources the worker registers tsx itself
 * before importing its entry: `--import tsx` in a worker's execArgv does not reach the worker's
 * main module on Node 20.
 */
export function workerEntry(moduleUrl: string, name: string): URL {
  const fromSource = moduleUrl.endsWith('.ts');
  const url = new URL(`./${name}.${fromSource ? 'ts' : 'js'}`, moduleUrl);
  if (!fromSource) return url;
  const api = import.meta.resolve('tsx/esm/api');
  const code = `import { register } from ${JSON.stringify(api)}; register(); await import(${JSON.stringify(url.href)});`;
  return new URL(`data:text/javascript,${encodeURIComponent(code)}`);
}
