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

/** A problem with one column of one file; the message names both. */
export abstract class ColumnError extends PipelineError {
  constructor(
    readonly file: string,
    readonly column: string,
    readonly problem: string,
    options?: ErrorOptions,
  ) {
    super(`${file}: column '${column}': ${problem}`, options);
  }
}

/** A required column is missing or has a type the embedding cannot use. */
export class SchemaError extends ColumnError {
  override name = 'SchemaError';
}

/** A value in the data makes the file unusable (a null id, for example). */
export class DataError extends ColumnError {
  override name = 'DataError';
}

/** The feature spec (default or user JSON) is malformed. */
export class SpecError extends PipelineError {
  override name = 'SpecError';
}

/** Reading bytes from the source failed (I/O, network, a changed object). */
export class SourceError extends PipelineError {
  override name = 'SourceError';
}

/** A bad command line: the message and the usage line go to stderr, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** An error crossing a thread boundary: enough to rebuild the same PipelineError class. */
export interface SerializedError {
  name: string;
  message: string;
  file?: string;
  column?: string;
  problem?: string;
}

/** The fields of an error that survive a trip between threads (see `reviveError`). */
export function serializeError(e: unknown): SerializedError {
  if (!(e instanceof Error)) return { name: 'Error', message: String(e) };
  const { file, column, problem } = e as Partial<ColumnError>;
  return { name: e.name, message: e.message, file, column, problem };
}

/** Rebuilds an error sent by `serializeError` as the same class, so callers can narrow on it. */
export function reviveError(e: SerializedError): PipelineError {
  const { name, message, file, column, problem } = e;
  if (file !== undefined && problem !== undefined) {
    if (column !== undefined && name === 'SchemaError') return new SchemaError(file, column, problem);
    if (column !== undefined && name === 'DataError') return new DataError(file, column, problem);
    if (name === 'InvalidInputError') return new InvalidInputError(file, problem);
  }
  if (name === 'SpecError') return new SpecError(message);
  if (name === 'SourceError') return new SourceError(message);
  return new PipelineError(message);
}

/** Narrows an unknown thrown value to a message a user can read. */
export function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
