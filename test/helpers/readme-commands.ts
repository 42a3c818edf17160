/** The `track-embeddings` commands a Markdown page shows, as argument lists (README tests). */
import { readFileSync } from 'node:fs';

export interface ShownCommand {
  /** The line as written. */
  line: string;
  /** The arguments after `track-embeddings` (or `npm start --`). */
  argv: string[];
}

/** Splits a shell line into words (quotes honoured), up to a redirection, a pipe or a comment. */
export function shellWords(line: string): string[] {
  const words: string[] = [];
  let word: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (/\s/.test(c)) {
      if (word !== null) words.push(word);
      word = null;
    } else if (word === null && /[>|#&]/.test(c)) break;
    else if (c === "'" || c === '"') {
      const end = line.indexOf(c, i + 1);
      word = (word ?? '') + line.slice(i + 1, end);
      i = end;
    } else word = (word ?? '') + c;
  }
  if (word !== null) words.push(word);
  return words;
}

const PREFIXES: readonly RegExp[] = [/^npm start -- /, /^npx (?:--package \S+ )?track-embeddings /, /^track-embeddings /];

/** The commands in the page's code blocks and in its inline code that begins with `track-embeddings `. */
export function shownCommands(path: string): ShownCommand[] {
  const text = readFileSync(path, 'utf8');
  const lines: string[] = [];
  for (const block of text.matchAll(/^```(?:sh|console|)\n([\s\S]*?)^```/gm)) lines.push(...block[1]!.split('\n'));
  // Inline code: the synopsis of a table row; an alternative (`a \| b`) or an optional part ([…]) is left out.
  for (const code of text.matchAll(/`(track-embeddings [^`]+)`/g)) lines.push(code[1]!.split(' \\| ')[0]!.replace(/\s*\[[^\]]*\]/g, ''));
  const out: ShownCommand[] = [];
  for (const raw of lines) {
    const line = raw
      .replace(/^\$ /, '')
      .replace(/^(?:[A-Z_0-9]+=\S+ )+/, '')
      .trim();
    const prefix = PREFIXES.find((p) => p.test(line));
    if (!prefix) continue;
    const argv = shellWords(line.replace(prefix, ''));
    if (argv.length > 0 && !/^(COMMAND|--help|-h|help)$/.test(argv[0]!)) out.push({ line, argv });
  }
  return out;
}
