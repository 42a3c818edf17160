/** The ids of a `similar --ids-file`: one track id a line, each taken as it is written. */
import { InvalidInputError } from '../errors.ts';

/**
 * The ids in `bytes` (UTF-8, one a line), in file order. Each line is taken exactly: only its
 * ending (`\n`, or `\r\n` as Windows editors write it) is removed, so an id with spaces or a
 * no-break space is found; a byte-order mark at the start of the file is dropped; empty lines are
 * skipped. A file that is not UTF-8, or holds no id, is refused naming `path`.
 */
export function parseIds(bytes: Uint8Array, path: string): string[] {
  let text: string;
  try {
    // fatal: a Latin-1 file would otherwise become ids with U+FFFD in them, every one "not found".
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (e: unknown) {
    throw new InvalidInputError(path, 'not UTF-8 text (expected one track id a line)', { cause: e });
  }
  const ids = text.split(/\r?\n/).filter((line) => line !== '');
  if (ids.length === 0)
    throw new InvalidInputError(
      path,
      `no ids: the file ${text === '' ? 'is empty' : 'has only empty lines'} (expected one track id a line)`,
    );
  return ids;
}
