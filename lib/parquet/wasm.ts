/**
 * parquet-wasm, loaded when first needed: its module compiles its wasm as it loads (35–50 ms of
 * a process's start here), which a run the page decoders read alone never needs.
 */
import type * as ParquetWasm from 'parquet-wasm';

export type { ParquetWasm };

let loading: Promise<typeof ParquetWasm> | undefined;

/** The parquet-wasm module, imported once. */
export function parquetWasm(): Promise<typeof ParquetWasm> {
  return (loading ??= import('parquet-wasm'));
}
