/**
 * The one decoder error parquet-wasm cannot report itself: on corrupt page data it panics (an
 * uncaught `RuntimeError: unreachable`), outside any promise we hold, and the call's own promise
 * never settles. The guard runs decoder calls one at a time in this process (they share one wasm
 * instance and one thread, so nothing is lost) and, while one runs, turns a panic into that
 * call's rejection with an error naming its file and row group. So two decodes in flight at
 * once (the local Lambda endpoint runs many handlers in one process) can never take each
 * other's errors.
 */
import { InvalidInputError } from '../errors.ts';

/** What a decoder call is working on. */
export interface DecodeSite {
  file: string;
  /** "footer", or "row group N". */
  where: string;
  columns: readonly string[];
}

interface Running {
  site: DecodeSite;
  fail: (e: InvalidInputError) => void;
}

/** The error to report for a wasm panic during a decode of `site`. */
export function decoderPanicError(e: unknown, site: DecodeSite): InvalidInputError | null {
  if (!(e instanceof Error) || e.name !== 'RuntimeError') return null;
  return new InvalidInputError(
    site.file,
    `corrupt data in ${site.where}${columnsNote(site.columns)}: the Parquet decoder failed (${e.message})`,
    {
      cause: e,
    },
  );
}

/** " (column a)", " (columns a, b)", or nothing: which columns a decode was working on. */
export function columnsNote(columns: readonly string[]): string {
  if (columns.length === 0) return '';
  return columns.length === 1 ? ` (column ${columns[0]})` : ` (columns ${columns.join(', ')})`;
}

/** Serialises decoder calls and owns the process listener for their panics while one runs. */
export class PanicGuard {
  private running: Running | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly onUncaught = (e: unknown): void => {
    const running = this.running;
    const err = running ? decoderPanicError(e, running.site) : null;
    // Not a decoder panic: what Node would have done without this listener.
    if (!running || !err) throw e;
    running.fail(err);
  };

  /** True when `e` is a panic of the decoder call running now (which this guard reports). */
  claims(e: unknown): boolean {
    return this.running !== null && decoderPanicError(e, this.running.site) !== null;
  }

  /** Runs `op` when no other decoder call is running; a panic during it rejects it with the site's error. */
  run<T>(site: DecodeSite, op: () => Promise<T>): Promise<T> {
    const result = this.queue.then(
      () =>
        new Promise<T>((resolve, reject) => {
          this.running = { site, fail: reject };
          process.on('uncaughtException', this.onUncaught);
          Promise.resolve()
            .then(op)
            .then(resolve, reject)
            .finally(() => {
              this.running = null;
              process.off('uncaughtException', this.onUncaught);
            });
        }),
    );
    this.queue = result.catch(() => undefined);
    return result;
  }
}

/** This process's guard: there is one wasm instance per process (or worker thread), so one guard. */
export const panicGuard = new PanicGuard();
