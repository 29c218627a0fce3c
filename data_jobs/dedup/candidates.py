"""Candidate stage: pairs of parts whose stored vectors are near neighbours."""

from __future__ import annotations

from typing import Any

import numpy as np


def neighbour_pairs(
    matrices: dict[str, np.ndarray], start: int, stop: int, k: int, thresholds: dict[str, float]
) -> list[tuple[int, int, str, float]]:
    """Pairs (i, j) with i in [start, stop), j != i, where j is among i's k nearest neighbours
    by some vector whose cosine reaches that vector's threshold.

    matrices   : vector name -> (n, D) float unit rows, the same part order in each
    thresholds : vector name -> the cosine a neighbour must reach
    returns    : (min(i, j), max(i, j), vector name, cosine), the best vector of each pair
    """
    best: dict[tuple[int, int], tuple[str, float]] = {}
    for name, matrix in matrices.items():
        block = np.asarray(matrix[start:stop], dtype=np.float32)
        scores = block @ np.asarray(matrix, dtype=np.float32).T  # (b, n)
        scores[np.arange(stop - start), np.arange(start, stop)] = -np.inf  # not itself
        take = min(k, scores.shape[1] - 1)
        if take <= 0:
            continue
        top = np.argpartition(-scores, take - 1, axis=1)[:, :take]
        for row, cols in enumerate(top):
            i = start + row
            for j in cols:
                cos = float(scores[row, j])
                if cos < thresholds[name]:
                    continue
                key = (min(i, int(j)), max(i, int(j)))
                if key not in best or cos > best[key][1]:
                    best[key] = (name, cos)
    return [(i, j, name, cos) for (i, j), (name, cos) in sorted(best.items())]


def neighbour_batch(
    batch: dict[str, np.ndarray],
    matrices: Any,
    block_size: int,
    k: int,
    thresholds: dict[str, float],
) -> dict[str, np.ndarray]:
    """Ray Data task: a batch of block starts -> the candidate pairs of those blocks.

    matrices : the ``neighbour_pairs`` matrices, or their object-store reference (read without a
               copy: a task needs no actor of its own, whose start costs seconds)
    """
    import ray

    if isinstance(matrices, ray.ObjectRef):
        matrices = ray.get(matrices)
    n = len(next(iter(matrices.values())))
    pairs = []
    for start in batch["start"]:
        stop = min(int(start) + block_size, n)
        pairs += neighbour_pairs(matrices, int(start), stop, k, thresholds)
    return {
        "i": np.array([p[0] for p in pairs], dtype=np.int64),
        "j": np.array([p[1] for p in pairs], dtype=np.int64),
        "vector": np.array([p[2] for p in pairs], dtype=object),
        "cosine": np.array([p[3] for p in pairs], dtype=np.float32),
    }
