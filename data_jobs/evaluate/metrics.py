"""Retrieval and classification metrics over category labels: pure numpy, no model, no store.

A query is relevant to an item when both carry the same category label. A ranking is a sequence
of item labels, best first. A metric that is undefined for a query (no relevant item exists) is
``nan`` and means skip ``nan``: a query without any relevant item says nothing about the model.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence

import numpy as np


def _relevant(ranked_labels: Sequence[Hashable], query_label: Hashable) -> np.ndarray:
    """(n,) bool: which ranked items carry the query's label."""
    return np.fromiter((label == query_label for label in ranked_labels), dtype=bool)


def ranking_from_scores(scores: Sequence[float], keys: Sequence[Hashable] | None = None) -> list:
    """Item indices ordered best first: score descending, ties by key (or index) ascending.

    scores : (n,) float, higher is better
    keys : (n,) sortable tie-breakers (e.g. part ids); None breaks ties by position
    Equal scores therefore always rank the same way, whatever order the items came in.
    """
    scores = np.asarray(scores, dtype=np.float64)
    if scores.ndim != 1:
        raise ValueError(f"scores must be (n,), got shape {scores.shape}")
    if keys is not None and len(keys) != len(scores):
        raise ValueError(f"{len(keys)} keys for {len(scores)} scores")
    tie = list(range(len(scores))) if keys is None else list(keys)
    return sorted(range(len(scores)), key=lambda i: (-scores[i], tie[i]))


def average_precision(
    ranked_labels: Sequence[Hashable], query_label: Hashable, n_relevant: int | None = None
) -> float:
    """Average precision of one ranking.

    AP = (1 / R) * sum over ranks k (1-based) holding a relevant item of precision@k, where
    precision@k = (relevant items in the first k) / k and R = ``n_relevant`` when given (all
    relevant items in the collection, so a relevant item missing from a truncated ranking counts
    0), else the relevant items in the ranking. ``nan`` when R is 0.
    Example: [1, 0, 1, 0] -> (1/1 + 2/3) / 2 = 0.8333.
    """
    relevant = _relevant(ranked_labels, query_label)
    found = int(relevant.sum())
    total = found if n_relevant is None else int(n_relevant)
    if total < found:
        raise ValueError(f"n_relevant {total} is less than the {found} relevant items ranked")
    if total == 0:
        return math.nan
    ranks = np.flatnonzero(relevant) + 1  # 1-based ranks of the relevant items
    precisions = np.arange(1, found + 1) / ranks
    return float(precisions.sum() / total)


def mean_average_precision(
    rankings: Sequence[Sequence[Hashable]],
    query_labels: Sequence[Hashable],
    n_relevant: Sequence[int | None] | None = None,
) -> float:
    """Mean of ``average_precision`` over the queries whose AP is defined (not ``nan``).

    rankings[i] : ranked item labels of query i; query_labels[i] : its label;
    n_relevant[i] : relevant items in the collection for query i (None: those ranked).
    ``nan`` when no query has a defined AP (or there are no queries).
    """
    _check_lengths(rankings, query_labels)
    counts = n_relevant if n_relevant is not None else [None] * len(rankings)
    _check_lengths(rankings, counts, "n_relevant")
    values = [
        average_precision(ranked, label, count)
        for ranked, label, count in zip(rankings, query_labels, counts, strict=True)
    ]
    return nanmean(values)


def precision_at_k(ranked_labels: Sequence[Hashable], query_label: Hashable, k: int) -> float:
    """(relevant items among the first k) / k; a ranking shorter than k still divides by k."""
    _check_k(k)
    return float(_relevant(ranked_labels[:k], query_label).sum() / k)


def hit_rate_at_k(
    rankings: Sequence[Sequence[Hashable]], query_labels: Sequence[Hashable], k: int
) -> float:
    """Recall@k as hit rate: fraction of queries with at least one relevant item in the first k.

    ``nan`` when there are no queries.
    """
    _check_k(k)
    _check_lengths(rankings, query_labels)
    hits = [
        bool(_relevant(ranked[:k], label).any())
        for ranked, label in zip(rankings, query_labels, strict=True)
    ]
    return float(np.mean(hits)) if hits else math.nan


def top1_accuracy(
    rankings: Sequence[Sequence[Hashable]], query_labels: Sequence[Hashable]
) -> float:
    """Fraction of queries whose first item carries the query's label (an empty ranking misses).

    Equal to ``hit_rate_at_k(rankings, query_labels, 1)``; ``nan`` when there are no queries.
    """
    return hit_rate_at_k(rankings, query_labels, 1)


def per_category(values: Sequence[float], labels: Sequence[Hashable]) -> dict:
    """Per-query values grouped by the query's label: ``{label: {"mean", "count"}}``.

    mean : mean of the label's defined values (``nan`` values skipped; ``nan`` when none is
    defined); count : the label's defined values. Labels come out sorted.
    """
    _check_lengths(values, labels, "labels")
    groups: dict = {}
    for value, label in zip(values, labels, strict=True):
        groups.setdefault(label, []).append(float(value))
    out = {}
    for label in sorted(groups):
        defined = [v for v in groups[label] if not math.isnan(v)]
        out[label] = {"mean": nanmean(defined), "count": len(defined)}
    return out


def zero_shot_predictions(similarity: np.ndarray) -> np.ndarray:
    """Predicted class of each row: argmax over columns, ties to the lowest column index.

    similarity : (parts, categories) float; returns (parts,) int64
    """
    similarity = np.asarray(similarity, dtype=np.float64)
    if similarity.ndim != 2 or similarity.shape[1] == 0:
        raise ValueError(f"similarity must be (parts, categories >= 1), got {similarity.shape}")
    return np.argmax(similarity, axis=1).astype(np.int64)  # argmax keeps the first maximum


def zero_shot_accuracy(
    similarity: np.ndarray, labels: Sequence[Hashable], categories: Sequence[Hashable]
) -> float:
    """Zero-shot classification accuracy: fraction of parts whose best-scoring category is theirs.

    similarity[i, j] : score of part i against category j's prompt (e.g. a cosine)
    labels[i] : part i's category, one of ``categories`` (the column order of ``similarity``)
    Ties go to the lowest column (``zero_shot_predictions``). ``nan`` when there are no parts.
    """
    similarity = np.asarray(similarity, dtype=np.float64)
    if similarity.shape[0] == 0:
        return math.nan
    if similarity.shape != (len(labels), len(categories)):
        raise ValueError(
            f"similarity {similarity.shape} does not match {len(labels)} labels x "
            f"{len(categories)} categories"
        )
    column = {category: j for j, category in enumerate(categories)}
    unknown = sorted({str(label) for label in labels if label not in column})
    if unknown:
        raise ValueError(f"labels not among the categories: {unknown}")
    truth = np.array([column[label] for label in labels], dtype=np.int64)
    return float(np.mean(zero_shot_predictions(similarity) == truth))


def nanmean(values: Sequence[float]) -> float:
    """Mean of the values that are not ``nan``; ``nan`` when none is (no warning)."""
    defined = [float(v) for v in values if not math.isnan(float(v))]
    return float(np.mean(defined)) if defined else math.nan


def _check_k(k: int) -> None:
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise ValueError(f"k must be an int >= 1, got {k!r}")


def _check_lengths(first: Sequence, second: Sequence, name: str = "query_labels") -> None:
    if len(first) != len(second):
        raise ValueError(f"{len(first)} queries but {len(second)} {name}")
