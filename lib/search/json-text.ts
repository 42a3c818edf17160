/** JSON a person typed or saved (a features file, an option's value), parsed with a refusal they can act on. */
import { SpecError } from '../errors.ts';

/**
 * `text` parsed as JSON; a syntax error is one SpecError line naming `where` and the place, with
 * Node's reason but not its echo of the text (a binary file's bytes would reach the terminal).
 */
export function parseJsonText(text: string, where: string, hint = ''): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (e: unknown) {
    throw new SpecError(`${where}: not valid JSON: ${reason(e, text)}${hint}`, { cause: e });
  }
}

/** "Unexpected token 'P', "PAR1…" is not valid JSON" → "unexpected token 'P'"; "… in JSON at position 9" → "… at line 2, column 4". */
function reason(e: unknown, text: string): string {
  const message = e instanceof Error ? e.message : String(e);
  const at = /\s+in JSON at position (\d+)/.exec(message);
  let why = message.replace(/,\s*".*" is not valid JSON$/s, '').replace(/\s+in JSON at position \d+.*$/s, '');
  why = why.charAt(0).toLowerCase() + why.slice(1);
  // eslint-disable-next-line no-control-regex
  why = why.replace(/[\u0000-\u001f\u007f-\u009f\ufffd]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  if (!at) return why;
  const before = text.slice(0, Number(at[1]));
  const line = before.split('\n').length;
  return `${why} at line ${line}, column ${before.length - before.lastIndexOf('\n')}`;
}
