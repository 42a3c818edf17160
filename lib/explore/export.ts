/** The neighbours as files to take away: CSV (RFC 4180, for pandas and spreadsheets) or JSON. */
import type { NeighbourRow } from './explorer.ts';

const COLUMNS = ['rank', 'id', 'row', 'name', 'artists', 'year', 'distance'] as const;

/** A CSV cell: quoted when it holds a comma, quote or line break (quotes doubled); a formula prefix defused. */
function cell(v: unknown): string {
  let s = v === null || v === undefined ? '' : String(v);
  // A spreadsheet runs a cell that starts with = + - @ as a formula; names come from the data.
  if (typeof v === 'string' && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The neighbours as CSV with a header line, CRLF line ends. */
export function neighboursCsv(rows: readonly NeighbourRow[]): string {
  return [COLUMNS.join(','), ...rows.map((r) => COLUMNS.map((c) => cell(r[c])).join(','))].map((l) => `${l}\r\n`).join('');
}

/** The neighbours as JSON: the query (seed rows and ids, metric) and the list. */
export function neighboursJson(
  query: { seeds: { row: number; id: string }[]; metric: string; k: number },
  rows: readonly NeighbourRow[],
): string {
  return `${JSON.stringify({ query, neighbours: rows.map((r) => Object.fromEntries(COLUMNS.map((c) => [c, r[c]]))) }, null, 2)}\n`;
}
