"""Score fusion as pure functions over ranked lists, with Qdrant's own definitions.

A ranked list is a sequence of ``(id, score)`` pairs, best first (one list per prefetch, i.e. per
(query modality, target vector) pair). Every function returns ``[(id, fused_score), ...]`` best
first, ties broken by id, so the same input gives the same order on every backend.

- ``weighted_rrf``: Qdrant's weighted reciprocal rank fusion. A point at 1-based rank r of list i
  scores ``1 / (r / w_i + k - 1)``; with w_i = 1 that is ``1 / (k + r - 1)`` (Qdrant counts ranks
  from 0). A weight <= 0 drops the list. k is explicit (qdrant-client's own default is 2).
- ``dbsf``: distribution-based score fusion. Each list is scaled by ``(s - (mu - 3 sd)) /
  (6 sd)`` (sample sd), a one-point or zero-variance list scores 0.5, then ``sum_i w_i * norm_i``.
- ``weighted_sum``: ``sum_i w_i * s_i`` with ``default`` for a point missing from list i.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence

import numpy as np

from store.vectors import unit_rows

Ranked = Sequence[tuple[Hashable, float]]


def rank_key(item: tuple[Hashable, float]) -> tuple[float, str]:
    """Sort key: score descending at 6 significant digits, then id ascending (stable ties)."""
    point_id, score = item
    return (-float(f"{score:.6g}"), str(point_id))


def sort_ranked(items: Iterable[tuple[Hashable, float]], limit: int | None = None) -> list:
    """``(id, score)`` pairs best first with deterministic ties, cut to ``limit``."""
    ordered = sorted(items, key=rank_key)
    return ordered if limit is None else ordered[:limit]


def _check_weights(ranked_lists: Sequence[Ranked], weights: Sequence[float] | None) -> list[float]:
    if weights is None:
        return [1.0] * len(ranked_lists)
    if len(weights) != len(ranked_lists):
        raise ValueError(f"{len(weights)} weights for {len(ranked_lists)} ranked lists")
    out = [float(w) for w in weights]
    if not all(np.isfinite(out)):
        raise ValueError(f"weights must be finite, got {list(weights)}")
    return out


def weighted_rrf(
    ranked_lists: Sequence[Ranked],
    weights: Sequence[float] | None = None,
    k: int = 60,
    limit: int = 10,
) -> list[tuple[Hashable, float]]:
    """Weighted reciprocal rank fusion: ``sum_i 1 / (rank_i / w_i + k - 1)`` (rank from 1)."""
    if k < 1:
        raise ValueError(f"RRF k must be >= 1, got {k}")
    scores: dict[Hashable, float] = {}
    for ranked, weight in zip(ranked_lists, _check_weights(ranked_lists, weights), strict=True):
        for position, (point_id, _) in enumerate(ranked):
            term = 0.0 if weight <= 0 else 1.0 / ((position + 1) / weight + k - 1)
            scores[point_id] = scores.get(point_id, 0.0) + term
    return sort_ranked(scores.items(), limit)


def dbsf_normalize(scores: Sequence[float]) -> np.ndarray:
    """One list's scores scaled to its mean +- 3 sample standard deviations."""
    values = np.asarray(scores, dtype=np.float64)
    if len(values) == 1:
        return np.full(1, 0.5)
    sd = values.std(ddof=1) if len(values) > 1 else 0.0
    if sd == 0:
        return np.full(len(values), 0.5)
    low = values.mean() - 3 * sd
    return (values - low) / (6 * sd)


def dbsf(
    ranked_lists: Sequence[Ranked],
    weights: Sequence[float] | None = None,
    limit: int = 10,
) -> list[tuple[Hashable, float]]:
    """Weighted distribution-based score fusion: ``sum_i w_i * dbsf_normalize(list_i)``."""
    scores: dict[Hashable, float] = {}
    for ranked, weight in zip(ranked_lists, _check_weights(ranked_lists, weights), strict=True):
        if not ranked:
            continue
        normalized = dbsf_normalize([score for _, score in ranked])
        for (point_id, _), value in zip(ranked, normalized, strict=True):
            scores[point_id] = scores.get(point_id, 0.0) + weight * float(value)
    return sort_ranked(scores.items(), limit)


def weighted_sum(
    ranked_lists: Sequence[Ranked],
    weights: Sequence[float] | None = None,
    limit: int = 10,
    default: float = 0.0,
) -> list[tuple[Hashable, float]]:
    """Weighted sum of scores: ``sum_i w_i * s_i``, ``default`` where list i lacks the point."""
    weights = _check_weights(ranked_lists, weights)
    per_list = [dict(ranked) for ranked in ranked_lists]
    ids = dict.fromkeys(point_id for ranked in ranked_lists for point_id, _ in ranked)
    fused = (
        (pid, sum(w * float(s.get(pid, default)) for w, s in zip(weights, per_list, strict=True)))
        for pid in ids
    )
    return sort_ranked(fused, limit)


def maxsim(query_rows: np.ndarray, doc_rows: np.ndarray) -> float:
    """MaxSim of two multivectors: ``sum_q max_d <q, d>`` over L2-normalized rows.

    query_rows : (Q, D) float
    doc_rows : (K, D) float
    """
    q = unit_rows(query_rows, np.float64)
    d = unit_rows(doc_rows, np.float64)
    return float((q @ d.T).max(axis=1).sum())
