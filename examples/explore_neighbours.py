# %% [markdown]
# # Nearest tracks in pandas, from track-embeddings' outputs
#
# A notebook-style script (cells marked `# %%`, for VS Code or Jupytext): loads an output folder,
# finds a track by name, its nearest tracks by exact search, and joins their names and artists
# from the input table. Then measures how much the raw `key` dimension (0–11, not standardised,
# as in the notebook) steers the neighbours.
#
#     npm run demo                                   # demo/tracks-170k.parquet → demo/out/
#     python examples/explore_neighbours.py demo/out demo/tracks-170k.parquet
#
# Needs numpy, pandas and pyarrow.

# %%
import json
import sys

import numpy as np
import pandas as pd

out = sys.argv[1] if len(sys.argv) > 1 else "demo/out"
table = sys.argv[2] if len(sys.argv) > 2 else "demo/tracks-170k.parquet"

manifest = json.load(open(f"{out}/manifest.json"))
vectors = np.load(f"{out}/{manifest['outputs']['vectors']}", mmap_mode="r")  # (rows, dims) float32, input row order
index = json.load(open(f"{out}/id_to_index.json"))                          # id → row
tracks = pd.read_parquet(table, columns=["id", "name", "artists", "year", "key"])
assert len(tracks) == vectors.shape[0] == manifest["input"]["rows"]
print(f"{vectors.shape[0]:,} tracks × {vectors.shape[1]} dims, spec {manifest['spec']['name']}")

# %% Find a track by name (the first match), as the explore page's search does.
query_name = tracks["name"].iloc[0]
row = int(tracks.index[tracks["name"] == query_name][0])
track_id = tracks["id"].iloc[row]
assert index[track_id] == row

# %% Its 10 nearest tracks: exact euclidean search, like `track-embeddings similar --id`.
def nearest(v, k=10, exclude=()):
    d = np.sqrt(np.nansum((np.asarray(vectors, dtype=np.float64) - v) ** 2, axis=1))
    d[list(exclude)] = np.inf
    order = np.lexsort((np.arange(len(d)), d))[:k]  # ties go to the lower row
    return pd.DataFrame({"row": order, "distance": d[order]})

hits = nearest(vectors[row].astype(np.float64), exclude=[row])
hits.insert(0, "rank", range(1, len(hits) + 1))
neighbours = hits.join(tracks, on="row")
print(f"nearest to {query_name!r} by {tracks['artists'].iloc[row]} ({track_id}):")
print(neighbours[["rank", "id", "distance", "name", "artists", "year"]].to_string(index=False))

# %% The same from the command line, as CSV: `similar --format csv` (rank 0 is the query itself).
#     npx track-embeddings similar demo/out --id <id> --k 10 --with name,artists --format csv > neighbours.csv
#     pd.read_csv("neighbours.csv")

# %% How much does the raw key steer the neighbours? Share of top-10 neighbours with the query's key.
dims = [f["column"] for f in manifest["spec"]["features"]]
variances = np.nanvar(np.asarray(vectors, dtype=np.float64), axis=0)
print("variance per dimension:", ", ".join(f"{c} {v:.2f}" for c, v in zip(dims, variances)))
rng = np.random.default_rng(0)
queries = rng.choice(len(tracks), size=200, replace=False)
keys = tracks["key"].to_numpy()
same = [np.mean(keys[nearest(vectors[q].astype(np.float64), exclude=[q])["row"]] == keys[q]) for q in queries]
print(f"top-10 neighbours sharing the query's key: {np.mean(same):.1%} (200 random queries; chance is about 1/12 = 8%)")
