/** Checks a file's schema against the spec before any data is read: missing or mistyped columns are refused here. */
import type { FeatureSpec } from './spec.ts';
import type { ColumnSchema, ParquetLayout } from '../parquet/footer.ts';
import { requiredColumns } from './spec.ts';
import { DataError, InvalidInputError, SchemaError } from '../errors.ts';

const NUMERIC_LOGICAL = new Set([null, 'integer']);

/** How a column's type reads in an error message ("string", "timestamp (INT64)", "struct"...). */
export function describeType(c: ColumnSchema): string {
  if (c.physical === null) return c.logical ?? 'struct';
  if (c.logical) return `${c.logical} (${c.physical})`;
  switch (c.physical) {
    case 'BYTE_ARRAY':
      return 'binary (BYTE_ARRAY)';
    case 'INT96':
      return 'timestamp (INT96)';
    default:
      return c.physical;
  }
}

/**
 * Checks up front, from the footer alone, that the file can be embedded with `spec`: rows exist,
 * every required column is there with a usable type, and the id column has no null (when the
 * writer recorded null counts). Throws the first problem as one clear error.
 */
export function checkSchema(file: string, layout: ParquetLayout, spec: FeatureSpec): void {
  if (layout.numRows === 0) throw new InvalidInputError(file, 'the file has no rows');
  const byName = new Map(layout.columns.map((c) => [c.name, c]));
  for (const name of requiredColumns(spec)) {
    const positions = layout.columns.flatMap((c, i) => (c.name === name ? [i + 1] : []));
    if (positions.length > 1) {
      // pyarrow refuses such a file; taking the first silently could embed the wrong one.
      throw new SchemaError(
        file,
        name,
        `appears ${positions.length} times (columns ${positions.join(' and ')}); a column name must be unique`,
      );
    }
    const col = byName.get(name);
    if (!col) {
      throw new SchemaError(file, name, `required column is missing (the file has: ${layout.columns.map((c) => c.name).join(', ')})`);
    }
    if (name === spec.id) {
      const isString = col.physical === 'BYTE_ARRAY' && (col.logical === 'string' || col.logical === 'enum');
      if (!isString) throw new SchemaError(file, name, `expected a string column of track ids, found ${describeType(col)}`);
    } else {
      const numeric =
        (col.physical === 'BOOLEAN' ||
          col.physical === 'INT32' ||
          col.physical === 'INT64' ||
          col.physical === 'FLOAT' ||
          col.physical === 'DOUBLE') &&
        NUMERIC_LOGICAL.has(col.logical);
      if (!numeric) throw new SchemaError(file, name, `expected a number or boolean column, found ${describeType(col)}`);
    }
  }
  layout.rowGroups.forEach((g, i) => {
    const nulls = g.chunks.get(spec.id)?.nullCount ?? 0;
    if (nulls > 0) throw new DataError(file, spec.id, `${nulls} null id(s) in row group ${i}; every track needs an id`);
  });
}
