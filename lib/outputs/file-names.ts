/** Names of the published files that do not depend on the spec (the matrix's does: see vectorsFileName). */
export const MAPPING_FILE = 'id_to_index.json';
export const MANIFEST_FILE = 'manifest.json';
/** The optional Parquet copy of the embeddings (id, row, vector). */
export const PARQUET_FILE = 'embeddings.parquet';
