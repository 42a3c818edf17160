/**
 * Run in a child process by test/parquet/panic-guard.test.ts (a real uncaught exception would
 * also reach the test runner's own listener): two decoder calls in flight at once, the first
 * panics the way parquet-wasm does (an uncaught RuntimeError outside its promise), the second is
 * still working. Prints what each call ended with, one JSON line.
 */
import { panicGuard } from '../../lib/parquet/panic-guard.ts';

const settle = (p: Promise<unknown>) =>
  p.then(
    (v) => ({ ok: String(v) }),
    (e: Error) => ({ error: e.message }),
  );

const panicking = panicGuard.run({ file: 'bad.parquet', where: 'row group 1', columns: ['tempo'] }, () => {
  setImmediate(() => {
    // What the wasm trap is: an Error named RuntimeError.
    throw Object.assign(new Error('unreachable'), { name: 'RuntimeError' });
  });
  return new Promise<never>(() => {}); // parquet-wasm's promise never settles after a panic
});
const working = panicGuard.run({ file: 'good.parquet', where: 'row group 0', columns: ['tempo'] }, async () => {
  await new Promise((resolve) => setTimeout(resolve, 20));
  return 'decoded';
});
const [bad, good] = await Promise.all([settle(panicking), settle(working)]);
process.stdout.write(JSON.stringify({ bad, good }) + '\n');
