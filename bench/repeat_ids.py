"""Rewrites a tracks Parquet file so every tenth id repeats the id seven rows before it (10 % repeats), for measuring the repeated-id pass.
Usage: python bench/repeat_ids.py IN.parquet OUT.parquet  (pyarrow and numpy: the reference venv has them)"""
import sys, pyarrow as pa, pyarrow.parquet as pq, numpy as np
t = pq.read_table(sys.argv[1])
ids = t.column('id').to_numpy(zero_copy_only=False).astype(object)
n = len(ids)
idx = np.arange(n)
rep = idx[(idx % 10 == 9)]
ids[rep] = ids[rep - 7]
t = t.set_column(t.schema.get_field_index('id'), 'id', pa.array(ids, pa.string()))
pq.write_table(t, sys.argv[2], row_group_size=1 << 20)
print(n, len(rep))
