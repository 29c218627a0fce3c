"""Readable similarity as pure functions: the match score, the percent scale and its table, the
threshold and size-window checks (store/similarity.py, store/query.py; docs/similarity.md)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from store import Filters, InvalidQueryError, Range
from store.query import same_size_filters
from store.similarity import (
    UNCALIBRATED,
    SimilarityScale,
    SimilarityTable,
    check_min_similarity,
    match_score,
)

SCALE = SimilarityScale((0.1, 0.3, 0.5, 0.8), (0.0, 10.0, 60.0, 95.0))


def test_match_score_is_the_weighted_mean_of_the_fused_pairs():
    cosines = {"text->text": 0.8, "text->image": 0.2, "text->geometry": 0.5}
    weights = {"text->text": 1.0, "text->image": 0.6, "text->geometry": 0.6}
    want = (0.8 * 1.0 + 0.2 * 0.6 + 0.5 * 0.6) / 2.2
    assert match_score(cosines, weights) == pytest.approx(want)
    # a pair the hit has no vector for, or of weight 0, takes no part; a cosine of a pair the
    # query did not fuse (a rerank-only pair) neither
    assert match_score({"text->text": 0.8}, weights) == pytest.approx(0.8)
    assert match_score({**cosines, "geometry->geometry": -1.0}, weights) == pytest.approx(want)
    assert match_score(cosines, {"text->text": 1.0, "text->image": 0.0}) == pytest.approx(0.8)
    assert match_score({}, weights) is None


def test_scale_interpolates_is_monotone_and_clamped():
    assert SCALE.percent_of(0.4) == pytest.approx(35.0)
    assert SCALE.percent_of(0.3) == 10.0
    assert SCALE.percent_of(-1.0) == 0.0 and SCALE.percent_of(0.05) == 0.0  # below: first knot
    assert SCALE.percent_of(1.0) == 95.0 and SCALE.percent_of(5.0) == 95.0  # above: last knot
    raw = np.linspace(-1.5, 1.5, 301)
    percents = SCALE.percents(raw)
    assert np.all(np.diff(percents) >= 0)
    assert percents.min() >= 0 and percents.max() <= 100
    assert [SCALE.percent_of(r) for r in raw[::37]] == list(percents[::37])
    assert SCALE.percent_of(0.3 + 1e-4) == 10.0  # rounded to 0.1: shown and compared alike


def test_uncalibrated_fallback_is_the_cosine_as_a_percentage():
    assert not UNCALIBRATED.calibrated and SCALE.calibrated
    assert UNCALIBRATED.percent_of(0.873) == 87.3
    assert UNCALIBRATED.percent_of(-0.2) == 0.0 and UNCALIBRATED.percent_of(1.2) == 100.0


@pytest.mark.parametrize(
    ("raw", "percent", "message"),
    [
        ((0.1,), (5.0,), ">= 2 knots"),
        ((0.1, 0.2), (5.0,), ">= 2 knots"),
        ((0.2, 0.2), (0.0, 5.0), "increase strictly"),
        ((0.1, 0.2), (50.0, 40.0), "must not decrease"),
        ((0.1, 0.2), (-1.0, 40.0), "0..100"),
        ((0.1, 0.2), (10.0, 100.5), "0..100"),
        ((0.1, math.nan), (10.0, 20.0), "finite"),
    ],
)
def test_scale_refuses_knots_that_are_not_a_monotone_map(raw, percent, message):
    with pytest.raises(ValueError, match=message):
        SimilarityScale(raw, percent)


def test_table_reads_similarity_json():
    data = {
        "format_version": 1,
        "bundle_id": "cad-mini-abc",
        "kinds": {"text": SCALE.to_json(), "mesh": {"raw": [0, 1], "percent": [0, 100]}},
        "pairs": {"text": 10},
    }
    table = SimilarityTable.from_json(data)
    assert table.bundle_id == "cad-mini-abc" and table.info["pairs"] == {"text": 10}
    assert table.scale("text") == SCALE and table.scale("mesh").calibrated
    assert table.scale("image") is UNCALIBRATED  # a kind without a fit
    with pytest.raises(ValueError, match="unknown query kind 'points'"):
        table.scale("points")
    for broken, message in (
        ({**data, "kinds": {"sketch": SCALE.to_json()}}, "unknown query kind 'sketch'"),
        ({**data, "kinds": {"text": {"raw": [0, 1]}}}, "kinds.text"),
        ({**data, "kinds": {"text": {"raw": [1, 0], "percent": [0, 1]}}}, "kinds.text"),
        ({k: v for k, v in data.items() if k != "bundle_id"}, "bundle_id"),
        ({**data, "format_version": 9}, "newer"),
        ([], "JSON object"),
    ):
        with pytest.raises(ValueError, match=message):
            SimilarityTable.from_json(broken)


@pytest.mark.parametrize("value", [-0.1, 100.5, math.nan, math.inf, "90", True])
def test_min_similarity_outside_0_to_100_names_its_field(value):
    with pytest.raises(InvalidQueryError) as err:
        check_min_similarity(value)
    assert err.value.field == "min_similarity"


def test_min_similarity_bounds_are_inclusive():
    assert check_min_similarity(None) is None
    assert check_min_similarity(0) == 0.0 and check_min_similarity(100) == 100.0


def bounds(window: Range) -> tuple:
    return window.gte, window.lte


def test_same_size_window_of_the_sorted_extents():
    got = same_size_filters(None, [10.0, 40.0, 20.0], 10)
    assert bounds(got.extent_max) == pytest.approx((36.0, 44.0))
    assert bounds(got.extent_mid) == pytest.approx((18.0, 22.0))
    assert bounds(got.extent_min) == pytest.approx((9.0, 11.0))
    assert got.size_x is None and got.categories == []
    full = same_size_filters(None, [10.0, 40.0, 20.0], 100)
    assert bounds(full.extent_min) == pytest.approx((0.0, 20.0))


def test_same_size_intersects_the_requests_own_filters():
    own = Filters(categories=["bolt"], extent_max=Range(lte=42.0), extent_min=Range(gte=1.0))
    got = same_size_filters(own, [40.0, 20.0, 10.0], 10)
    assert got.categories == ["bolt"]
    assert bounds(got.extent_max) == pytest.approx((36.0, 42.0))
    assert bounds(got.extent_min) == pytest.approx((9.0, 11.0))
    assert same_size_filters(own.model_dump(), [40.0, 20.0, 10.0], 10) == got  # a mapping too
    with pytest.raises(InvalidQueryError, match="extent_max of 40 mm.*misses") as err:
        same_size_filters(Filters(extent_max=Range(gte=50.0)), [40.0, 20.0, 10.0], 10)
    assert err.value.field == "same_size"


@pytest.mark.parametrize(
    ("extents", "tolerance", "message"),
    [
        ([40.0, 20.0, 10.0], 0, "> 0 and <= 100"),
        ([40.0, 20.0, 10.0], -5, "> 0 and <= 100"),
        ([40.0, 20.0, 10.0], 100.1, "> 0 and <= 100"),
        ([40.0, 20.0, 10.0], math.nan, "> 0 and <= 100"),
        ([40.0, 20.0, 10.0], None, "needs a tolerance"),
        ([40.0, 20.0], 10, "3 extents"),
        ([40.0, math.nan, 10.0], 10, "3 extents"),
        (None, 10, "extents"),
    ],
)
def test_same_size_refusals_name_same_size(extents, tolerance, message):
    with pytest.raises(InvalidQueryError, match=message) as err:
        same_size_filters(None, extents, tolerance)
    assert err.value.field == "same_size"


# -- the calibration's fit (data_jobs/evaluate/calibrate.py) -------------------------------------


def test_fit_scale_recovers_a_known_probability():
    from data_jobs.evaluate.calibrate import KNOT_STEP, fit_scale

    rng = np.random.default_rng(0)
    raw = rng.uniform(-0.2, 1.0, 20_000)
    truth = np.clip((raw - 0.2) / 0.6, 0, 1)  # P(same | raw): 0 below 0.2, 1 above 0.8
    same = rng.uniform(size=raw.size) < truth
    scale = fit_scale(raw, same)
    assert scale.calibrated and len(scale.raw) <= 2 * (100 / KNOT_STEP + 1)
    assert np.all(np.diff(scale.percent) >= 0) and np.all(np.diff(scale.raw) > 0)
    grid = np.linspace(-0.2, 1.0, 61)
    error = np.abs(scale.percents(grid) - 100 * np.clip((grid - 0.2) / 0.6, 0, 1))
    assert error.max() < 12 and error.mean() < 4
    assert scale.percent_of(-5) == scale.percent[0] < 5 and scale.percent_of(5) > 95
    with pytest.raises(ValueError, match="both labels"):
        fit_scale(raw, np.zeros(raw.size, dtype=bool))


def test_reduced_knots_keep_a_jump_and_stay_within_a_step():
    from data_jobs.evaluate.calibrate import reduce_knots

    raw = np.linspace(0, 1, 201)
    percent = np.where(raw < 0.5, 20 * raw, 80 + 20 * (raw - 0.5))  # 10 -> 80 in one step
    xs, ys = reduce_knots(raw, percent, step=5)
    assert len(xs) < 60
    error = np.abs(np.interp(raw, xs, ys) - percent)
    assert error.max() <= 5 + 1e-9
    assert np.interp(0.495, xs, ys) == pytest.approx(9.9) and np.interp(0.5, xs, ys) == 80
