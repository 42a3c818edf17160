/** A contiguous run of rows inside one row group: the unit the Parquet reader decodes. */
export interface RowRange {
  rowGroup: number;
  /** First row, counted from the start of the row group. */
  offset: number;
  rows: number;
}
