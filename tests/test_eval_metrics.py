"""Eval metrics against hand-computed cases, undefined queries and deterministic ties."""

from __future__ import annotations

import math

import numpy as np
import pytest

from data_jobs.evaluate.metrics import (
    average_precision,
    hit_rate_at_k,
    mean_average_precision,
    nanmean,
    per_category,
    precision_at_k,
    ranking_from_scores,
    top1_accuracy,
    zero_shot_accuracy,
    zero_shot_predictions,
)


def test_average_precision_by_hand():
    # relevant at ranks 1 and 3: (1/1 + 2/3) / 2
    assert average_precision([1, 0, 1, 0], 1) == pytest.approx((1 + 2 / 3) / 2)
    # the same ranking when 4 relevant items exist in the collection: two were never retrieved
    assert average_precision([1, 0, 1, 0], 1, n_relevant=4) == pytest.approx((1 + 2 / 3) / 4)
    # labels are category names; relevant at ranks 2 and 3: (1/2 + 2/3) / 2
    ranked = ["nut", "bolt", "bolt", "gear"]
    assert average_precision(ranked, "bolt") == pytest.approx((1 / 2 + 2 / 3) / 2)
    assert average_precision(["a", "a", "a"], "a") == 1.0
    # retrieved nothing relevant of 3 that exist: 0, not undefined
    assert average_precision(["b", "c"], "a", n_relevant=3) == 0.0


def test_average_precision_without_relevant_items_is_undefined():
    assert math.isnan(average_precision(["b", "c"], "a"))
    assert math.isnan(average_precision([], "a", n_relevant=0))
    with pytest.raises(ValueError, match="n_relevant 1 is less than the 2"):
        average_precision(["a", "a"], "a", n_relevant=1)


def test_mean_average_precision_skips_undefined_queries():
    rankings = [[1, 0, 1, 0], [0, 1], [0, 0]]
    labels = [1, 1, 1]
    # the third query has no relevant item: AP undefined, left out of the mean
    expected = ((1 + 2 / 3) / 2 + 1 / 2) / 2
    assert mean_average_precision(rankings, labels) == pytest.approx(expected)
    # with collection counts the third query is defined (0.0) and counts
    with_counts = mean_average_precision(rankings, labels, n_relevant=[2, 1, 2])
    assert with_counts == pytest.approx(((1 + 2 / 3) / 2 + 1 / 2 + 0.0) / 3)
    assert math.isnan(mean_average_precision([[0, 0]], [1]))
    assert math.isnan(mean_average_precision([], []))
    with pytest.raises(ValueError, match="2 queries but 1"):
        mean_average_precision([[1], [1]], [1])


def test_hit_rate_precision_and_top1():
    rankings = [["b", "a", "c"], ["c", "c", "c"], ["a"], []]
    labels = ["a", "a", "a", "a"]
    assert hit_rate_at_k(rankings, labels, 1) == pytest.approx(1 / 4)
    assert hit_rate_at_k(rankings, labels, 2) == pytest.approx(2 / 4)
    assert hit_rate_at_k(rankings, labels, 10) == pytest.approx(2 / 4)  # shorter lists are fine
    assert top1_accuracy(rankings, labels) == hit_rate_at_k(rankings, labels, 1)
    assert math.isnan(hit_rate_at_k([], [], 5))
    assert precision_at_k(["a", "b", "a", "a"], "a", 2) == 0.5
    assert precision_at_k(["a", "b", "a", "a"], "a", 4) == 0.75
    assert precision_at_k(["a"], "a", 5) == pytest.approx(1 / 5)  # divides by k, not by length
    for bad in (0, -1, True, 1.5):
        with pytest.raises(ValueError, match="k must be an int"):
            hit_rate_at_k(rankings, labels, bad)


def test_per_category_means_skip_undefined_values():
    table = per_category([1.0, 0.0, math.nan, 0.5, math.nan], ["x", "y", "y", "x", "z"])
    assert list(table) == ["x", "y", "z"]
    assert table["x"] == {"mean": 0.75, "count": 2}
    assert table["y"] == {"mean": 0.0, "count": 1}
    assert math.isnan(table["z"]["mean"]) and table["z"]["count"] == 0
    assert math.isnan(nanmean([math.nan])) and nanmean([1.0, math.nan, 0.0]) == 0.5


def test_ranking_ties_are_deterministic():
    scores = [0.5, 0.9, 0.5, 0.9]
    assert ranking_from_scores(scores) == [1, 3, 0, 2]  # ties: earlier position first
    keys = ["d", "c", "b", "a"]
    assert ranking_from_scores(scores, keys) == [3, 1, 2, 0]  # ties: smaller key first
    # the same items in another order rank the same way
    order = [2, 0, 3, 1]
    shuffled = ranking_from_scores([scores[i] for i in order], [keys[i] for i in order])
    assert [keys[order[i]] for i in shuffled] == ["a", "c", "b", "d"]
    with pytest.raises(ValueError, match="3 keys for 4 scores"):
        ranking_from_scores(scores, keys[:3])


def test_zero_shot_accuracy_from_a_similarity_matrix():
    categories = ["bolt", "nut"]
    similarity = np.array([[0.1, 0.9], [0.8, 0.2], [0.5, 0.5], [0.3, 0.4]])
    # row 2 is a tie: it goes to the first column, "bolt"
    assert zero_shot_predictions(similarity).tolist() == [1, 0, 0, 1]
    labels = ["nut", "bolt", "nut", "bolt"]
    assert zero_shot_accuracy(similarity, labels, categories) == 0.5
    assert math.isnan(zero_shot_accuracy(np.zeros((0, 2)), [], categories))
    with pytest.raises(ValueError, match="not among the categories: \\['gear'\\]"):
        zero_shot_accuracy(similarity, ["nut", "bolt", "nut", "gear"], categories)
    with pytest.raises(ValueError, match="does not match"):
        zero_shot_accuracy(similarity, labels, ["bolt"])
