/**
 * A command's standard output as a good citizen of a pipe (ripgrep, gh): everything written
 * reaches the reader however slow it is, and a reader that goes away (`| head -1`) ends the
 * command quietly instead of with an EPIPE stack trace.
 */
import type { Writable } from 'node:stream';

/** Ends the process quietly, with `code`, once `out` reports its reader gone (EPIPE); other errors are left to their listeners. */
export function quietOnClosedPipe(out: Writable, code = 0): void {
  out.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(code);
    throw e;
  });
}

/** Resolves once everything written to `out` so far has been handed to the reader (at once when it is gone). */
export function drained(out: Writable): Promise<void> {
  if (out.destroyed || out.writableEnded) return Promise.resolve();
  return new Promise((resolve) => {
    out.write('', () => resolve());
  });
}
