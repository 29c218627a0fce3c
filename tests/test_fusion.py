"""Fusion pure functions against hand-computed cases and qdrant-client's own implementations."""

from __future__ import annotations

import math

import numpy as np
import pytest
from qdrant_client.http import models
from qdrant_client.hybrid.fusion import distribution_based_score_fusion, reciprocal_rank_fusion

from store.fusion import dbsf, dbsf_normalize, maxsim, sort_ranked, weighted_rrf, weighted_sum

A = [("a", 0.9), ("b", 0.5), ("c", 0.1)]
B = [("b", 0.8), ("d", 0.2)]


def test_weighted_rrf_hand_computed():
    fused = dict(weighted_rrf([A, B], [1.0, 0.5], k=60, limit=10))
    assert fused["a"] == pytest.approx(1 / 60)  # rank 1 of A: 1 / (1/1 + 60 - 1)
    assert fused["b"] == pytest.approx(1 / 61 + 1 / 61)  # rank 2 of A; rank 1 of B at w=0.5
    assert fused["c"] == pytest.approx(1 / 62)
    assert fused["d"] == pytest.approx(1 / 63)  # rank 2 / 0.5 + 59
    assert [pid for pid, _ in weighted_rrf([A, B], [1.0, 0.5], k=60)] == ["b", "a", "c", "d"]


def test_rrf_unweighted_and_limits():
    fused = weighted_rrf([A, B], k=1, limit=2)
    assert fused == [("b", pytest.approx(1 / 2 + 1 / 1)), ("a", pytest.approx(1.0))]
    assert weighted_rrf([A, B], [1.0, 0.0], k=60, limit=10)[-1] == ("d", 0.0)  # w=0 adds nothing
    with pytest.raises(ValueError, match="k must be >= 1"):
        weighted_rrf([A], k=0)
    with pytest.raises(ValueError, match="2 weights for 1"):
        weighted_rrf([A], [1.0, 2.0])


def _scored(ranked):
    return [models.ScoredPoint(id=i, version=0, score=s) for i, s in ranked]


@pytest.mark.parametrize("k", [2, 60])
def test_rrf_matches_qdrant_client(k):
    rng = np.random.default_rng(0)
    lists = [[(int(i), 0.0) for i in rng.permutation(30)[:15]] for _ in range(3)]
    weights = [1.0, 0.6, 0.3]
    ours = weighted_rrf(lists, weights, k=k, limit=10)
    theirs = reciprocal_rank_fusion(
        [_scored(r) for r in lists], limit=10, ranking_constant_k=k, weights=weights
    )
    assert [s for _, s in ours] == pytest.approx([p.score for p in theirs])


def test_dbsf_hand_computed():
    norm = dbsf_normalize([0.9, 0.5, 0.1])  # mean 0.5, sample sd 0.4: (s + 0.7) / 2.4
    assert norm == pytest.approx([1.6 / 2.4, 1.2 / 2.4, 0.8 / 2.4])
    assert dbsf_normalize([0.3]) == pytest.approx([0.5])
    assert dbsf_normalize([0.4, 0.4]) == pytest.approx([0.5, 0.5])
    fused = dict(dbsf([A, [("b", 0.3)]], [1.0, 2.0]))
    assert fused == pytest.approx({"a": 1.6 / 2.4, "b": 1.2 / 2.4 + 2 * 0.5, "c": 0.8 / 2.4})
    assert [pid for pid, _ in dbsf([A, [("b", 0.3)]], [1.0, 2.0])] == ["b", "a", "c"]
    assert dbsf([[], A], limit=1) == [("a", pytest.approx(1.6 / 2.4))]


def test_dbsf_unweighted_matches_qdrant_client():
    rng = np.random.default_rng(1)
    lists = [
        sorted(
            (
                (int(i), float(s))
                for i, s in zip(rng.permutation(40)[:20], rng.random(20), strict=True)
            ),
            key=lambda x: -x[1],
        )
        for _ in range(3)
    ]
    ours = dbsf(lists, limit=10)
    theirs = distribution_based_score_fusion([_scored(r) for r in lists], limit=10)
    assert [s for _, s in ours] == pytest.approx([p.score for p in theirs])
    assert {p for p, _ in ours} == {p.id for p in theirs}


def test_weighted_sum_hand_computed():
    fused = weighted_sum([[("a", 0.9), ("b", 0.5)], [("b", 0.8), ("c", 0.7)]], [1.0, 0.5])
    assert fused == [
        ("a", pytest.approx(0.9)),
        ("b", pytest.approx(0.9)),
        ("c", pytest.approx(0.35)),
    ]
    low = weighted_sum([[("a", 0.9)], [("c", 0.7)]], [1.0, 1.0], default=-1.0)
    assert low == [("c", pytest.approx(-0.3)), ("a", pytest.approx(-0.1))][::-1]


def test_ties_break_by_id():
    assert sort_ranked([("z", 0.5), ("a", 0.5), ("m", 0.7)]) == [("m", 0.7), ("a", 0.5), ("z", 0.5)]
    # scores equal to 6 significant digits count as ties (f32 engines vs f64 Python agree)
    assert sort_ranked([("b", 0.12345671), ("a", 0.12345669)])[0][0] == "a"


def test_maxsim():
    q = np.array([[1.0, 0.0], [0.0, 2.0]])  # rows are normalized
    d = np.array([[1.0, 0.0], [1.0, 1.0]])
    assert maxsim(q, d) == pytest.approx(1.0 + math.sqrt(0.5))
    assert maxsim(q[:1], d) == pytest.approx(1.0)
