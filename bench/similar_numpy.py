"""numpy brute-force k-NN over an .npy of vectors, the peer of `npm run bench:similar`.

usage: similar_numpy.py VECTORS.npy QUERIES K
Loads the matrix, then for rows 0, step, 2*step, … (QUERIES of them) finds the K nearest rows by
euclidean distance (float32 arithmetic as numpy does it on a float32 matrix; argpartition, then a
sort of the K), the query row excluded. Prints JSON: load seconds and each query's milliseconds.
"""
import json, sys, time
import numpy as np

path, queries, k = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
t0 = time.perf_counter()
V = np.load(path)
load = time.perf_counter() - t0
step = max(1, len(V) // queries)
times = []
for r in range(0, step * queries, step):
    t = time.perf_counter()
    d = ((V - V[r]) ** 2).sum(axis=1)
    d[r] = np.inf
    top = np.argpartition(d, k)[:k]
    top = top[np.argsort(d[top], kind="stable")]
    times.append(1000 * (time.perf_counter() - t))
print(json.dumps({"loadSeconds": load, "queryMs": times}))
