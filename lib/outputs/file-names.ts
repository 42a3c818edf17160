/** Names of the published files that do not depend on the spec (the matrix's does: see vectorsFileName). */
export const MAPPING_FILE = 'id_to_index.json';
export const MANIFEST_FILE = 'manifest.json';
/** The optional Parquet copy of the embeddings (id, row, vector). */
export const PARQUET_FILE = 'embeddings.parquet';
/** The pipeline's Parquet copy: a folder of one part per shard, read as one data set (`parquet/*.parquet`). */
export const PARQUET_DIR = 'parquet';
/** Part `index` of the pipeline's Parquet copy: `parquet/part-00003.parquet`. */
export const parquetPartFile = (index: number): string => `${PARQUET_DIR}/part-${String(index).padStart(5, '0')}.parquet`;
/** Whether a file of an output folder is one of its Parquet parts (and not a file of another output named `<name>/parquet/…`). */
const PART_FILE = new RegExp(`^${PARQUET_DIR}/part-\\d{5,}\\.parquet$`);
export const isParquetPartFile = (file: string): boolean => PART_FILE.test(file);
