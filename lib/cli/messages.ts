/**
 * What a command says on stderr besides its errors: progress, notes and the summary line.
 * `-q/--quiet` silences all of it (errors still print); a bar needs a terminal that is not
 * TERM=dumb, as ripgrep and cargo decide.
 */

let quiet = false;

/** Set by the program from `-q/--quiet`. */
export function setQuiet(value: boolean): void {
  quiet = value;
}

export function isQuiet(): boolean {
  return quiet;
}

/** Writes a note or summary line to stderr, unless quiet. */
export function info(text: string, stream: NodeJS.WritableStream = process.stderr): void {
  if (!quiet) stream.write(text.endsWith('\n') ? text : `${text}\n`);
}

/** Whether a progress bar (carriage returns, an escape code) may be drawn on `stream`. */
export function barsAllowed(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  return stream.isTTY === true && !quiet && env.TERM !== 'dumb';
}
