/**
 * A command's answer as rows for people or for data tools: an aligned table, one JSON array,
 * JSON lines, or CSV (RFC 4180) that pandas and spreadsheets read as it is.
 */

export const FORMATS = ['table', 'json', 'jsonl', 'csv'] as const;
export type Format = (typeof FORMATS)[number];

export type Row = Record<string, unknown>;

/** Nested objects become `column.field` columns (CSV has no nesting); arrays stay whole, as JSON text in CSV. */
export function flatten(row: Row): Row {
  const out: Row = {};
  const put = (prefix: string, value: unknown) => {
    if (value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Date))
      for (const [k, v] of Object.entries(value as Row)) put(`${prefix}.${k}`, v);
    else out[prefix] = value;
  };
  for (const [k, v] of Object.entries(row)) put(k, v);
  return out;
}

/** The columns of the rows, in the order they first appear. */
export function columnsOf(rows: readonly Row[]): string[] {
  const seen = new Set<string>();
  for (const r of rows) for (const k of Object.keys(r)) seen.add(k);
  return [...seen];
}

const text = (v: unknown): string =>
  v === null || v === undefined ? '' : typeof v === 'string' ? v : typeof v === 'bigint' ? v.toString() : (JSON.stringify(v) ?? '');

/** One CSV field: quoted when it holds a comma, a quote, a line break or edge spaces; quotes doubled. */
export function csvField(v: unknown): string {
  const t = text(v);
  return /[",\r\n]|^\s|\s$/.test(t) ? `"${t.replace(/"/g, '""')}"` : t;
}

/** JSON that keeps int64 values (BigInt) as numbers. */
const json = (v: unknown) => JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? Number(x) : x));

/** CSV with a header line of `columns`. */
export function csv(rows: readonly Row[], columns: readonly string[]): string {
  return [columns.map(csvField).join(','), ...rows.map((r) => columns.map((c) => csvField(r[c])).join(','))].join('\n') + '\n';
}

/** An aligned table: numbers right-aligned in the first column, the rest left; `headers` may rename columns. */
export function table(rows: readonly Row[], columns: readonly string[], headers: Readonly<Record<string, string>> = {}): string {
  const head = columns.map((c) => headers[c] ?? c);
  const cells = rows.map((r) => columns.map((c) => text(r[c])));
  // A loop, not Math.max(...cells): spread arguments overflow the stack at --k 200000.
  const widths = head.map((h) => h.length);
  for (const row of cells) row.forEach((v, j) => (widths[j] = Math.max(widths[j]!, v.length)));
  const line = (row: string[]) =>
    row
      .map((v, j) => (j === 0 ? v.padStart(widths[j]!) : v.padEnd(widths[j]!)))
      .join('  ')
      .trimEnd();
  return [line(head), ...cells.map(line)].join('\n') + '\n';
}

/** The rows in `format`; `columns` fixes the table's and CSV's columns (JSON keeps every field of each row). */
export function formatRows(
  rows: readonly Row[],
  format: Format,
  columns: readonly string[],
  headers?: Readonly<Record<string, string>>,
): string {
  switch (format) {
    case 'json':
      return `${json(rows)}\n`;
    case 'jsonl':
      return rows.map((r) => `${json(r)}\n`).join('');
    case 'csv':
      return csv(rows, columns);
    case 'table':
      return table(rows, columns, headers);
  }
}
