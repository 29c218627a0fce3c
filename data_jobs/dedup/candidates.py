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


class NeighbourBlocks:
    """Ray Data callable: a batch of block starts -> the candidate pairs of those blocks."""

    def __init__(self, matrices_ref: Any, block_size: int, k: int, thresholds: dict[str, float]):
        import ray

        self.matrices = (
            ray.get(matrices_ref) if isinstance(matrices_ref, ray.ObjectRef) else (matrices_ref)
        )
        self.n = len(next(iter(self.matrices.values())))
        self.block_size, self.k, self.thresholds = block_size, k, thresholds

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        pairs = []
        for start in batch["start"]:
            stop = min(int(start) + self.block_size, self.n)
            pairs += neighbour_pairs(self.matrices, int(start), stop, self.k, self.thresholds)
        return {
            "i": np.array([p[0] for p in pairs], dtype=np.int64),
            "j": np.array([p[1] for p in pairs], dtype=np.int64),
            "vector": np.array([p[2] for p in pairs], dtype=object),
            "cosine": np.array([p[3] for p in pairs], dtype=np.float32),
        }
