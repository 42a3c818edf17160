/** Base of every error this project raises on purpose; its message is meant for the user. */
export class PipelineError extends Error {
  override name = 'PipelineError';
}

/** The input is not a readable Parquet file: empty, not Parquet, truncated or corrupt. */
export class InvalidInputError extends PipelineError {
  override name = 'InvalidInputError';
  constructor(
    readonly file: string,
    readonly problem: string,
    options?: ErrorOptions,
  ) {
    super(`${file}: ${problem}`, options);
  }
}

/** A required column is missing or has a type the embedding cannot use. */
export class SchemaError extends PipelineError {
  override name = 'SchemaError';
  constructor(
    readonly file: string,
    readonly column: string,
    readonly problem: string,
    options?: ErrorOptions,
  ) {
    super(`${file}: column '${column}': ${problem}`, options);
  }
}

/** A value in the data makes the file unusable (a null id, for example). */
export class DataError extends PipelineError {
  override name = 'DataError';
  constructor(
    readonly file: string,
    readonly column: string,
    readonly problem: string,
    options?: ErrorOptions,
  ) {
    super(`${file}: column '${column}': ${problem}`, options);
  }
}

/** The feature spec (default or user JSON) is malformed. */
export class SpecError extends PipelineError {
  override name = 'SpecError';
}

/** Reading bytes from the source failed (I/O, network, a changed object). */
export class SourceError extends PipelineError {
  override name = 'SourceError';
}

/** Narrows an unknown thrown value to a message a user can read. */
export function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
