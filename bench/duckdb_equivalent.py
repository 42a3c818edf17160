"""The notebook's embedding done the DuckDB way, as the benchmark's second baseline.

usage: duckdb_equivalent.py IN.parquet OUT_DIR
Reads the Parquet file with DuckDB SQL, standardises with avg / stddev_pop in SQL, rounds to
float32 there, then writes the .npy with numpy.save and the mapping with json.dump, as the
notebook does. Prints the wall time of each step. (Not bit-identical: SQL's float arithmetic
order differs; it is a speed baseline.)
"""
import json, os, sys, time
import duckdb
import numpy as np

src, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
t0 = time.perf_counter()
weighted = [("danceability", 1.2), ("energy", 1.2), ("valence", 1.0), ("tempo", 1.0), ("acousticness", 0.8),
            ("instrumentalness", 0.8), ("liveness", 0.7), ("speechiness", 0.6), ("loudness", 0.5), ("popularity", 1.0)]
con = duckdb.connect()
rel = f"read_parquet('{src}')"
cols = [c for c, _ in weighted] + ["year"]
row = con.execute("SELECT " + ", ".join(f"avg({c}), stddev_pop({c})" for c in cols) + f" FROM {rel}").fetchone()
stats = {c: (row[2 * i], row[2 * i + 1] or 1.0) for i, c in enumerate(cols)}
t1 = time.perf_counter()
exprs = [f"CAST(CAST(({c} - {stats[c][0]!r}) / {stats[c][1]!r} AS FLOAT) * CAST({w!r} AS FLOAT) AS FLOAT) AS d{i}" for i, (c, w) in enumerate(weighted)]
exprs += ["CAST(key AS FLOAT) AS d10", "CAST(mode AS FLOAT) AS d11", "CAST(explicit AS FLOAT) AS d12",
          f"CAST((year - {stats['year'][0]!r}) / {stats['year'][1]!r} AS FLOAT) AS d13", "id"]
res = con.execute(f"SELECT {', '.join(exprs)} FROM {rel}").fetchnumpy()
emb = np.column_stack([res[f"d{i}"] for i in range(14)]).astype(np.float32)
t2 = time.perf_counter()
np.save(os.path.join(out, "spotify_vectors_14d.npy"), emb)
t3 = time.perf_counter()
json.dump({tid: i for i, tid in enumerate(res["id"].tolist())}, open(os.path.join(out, "id_to_index.json"), "w"))
t4 = time.perf_counter()
for name, a, b in [("stats", t0, t1), ("embed", t1, t2), ("save_npy", t2, t3), ("save_json", t3, t4)]:
    print(f"{name:13s} {1000 * (b - a):8.1f} ms")
print(f"{'total':13s} {1000 * (t4 - t0):8.1f} ms  rows={len(emb)}")
