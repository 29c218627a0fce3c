"""Readable similarity: a hit's match score and its calibrated percentage.

- ``match_score``: the weighted mean of the exact cosines of the pairs that took part in the
  query, ``raw = sum_i w_i c_i / sum_i w_i`` over the query's fused pairs i that the hit has a
  vector for (w_i the plan's pair weight, c_i the cosine of the query's vector of modality m_i
  with the hit's vector t_i). It is the same whatever the fusion (an RRF score is a rank, not a
  similarity) and with or without a rerank.
- ``SimilarityScale``: a monotone map ``raw -> percent``: ``np.interp`` over knots (raw
  increasing, percent non-decreasing in 0..100), clamped to the end knots' percents outside
  them, rounded to 0.1. A bundle's ``similarity.json`` holds one scale per query kind
  (``QUERY_KINDS``) fitted as ``100 x P(same kind | raw)`` on training-split pairs;
  ``UNCALIBRATED`` (``100 x raw`` clamped to 0..100) stands in where a bundle has none.

See docs/similarity.md for the calibration and the shipped bundle's table.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from store.errors import InvalidQueryError

QUERY_KINDS = ("text", "image", "mesh", "like")  # calibrated separately: their raws differ
SIMILARITY_FILE = "similarity.json"  # in a bundle's directory
FORMAT_VERSION = 1
PERCENT_DECIMALS = 1  # percentages are shown and compared at this rounding


def match_score(cosines: Mapping[str, float], weights: Mapping[str, float]) -> float | None:
    """``sum_i w_i c_i / sum_i w_i`` over the pairs in both (``"modality->target"`` keys) with
    ``w_i > 0``; None when no weighted pair has a cosine."""
    total = weight_sum = 0.0
    for name, weight in weights.items():
        value = cosines.get(name)
        if value is not None and weight > 0:
            total += weight * float(value)
            weight_sum += weight
    return total / weight_sum if weight_sum > 0 else None


@dataclass(frozen=True)
class SimilarityScale:
    """A monotone ``raw -> percent`` map over knots.

    raw : (K,) float, strictly increasing knots of the match score, K >= 2
    percent : (K,) float, non-decreasing, each in 0..100
    calibrated : False for the stand-in of a bundle without a calibration
    """

    raw: tuple[float, ...]
    percent: tuple[float, ...]
    calibrated: bool = True

    def __post_init__(self) -> None:
        raw = tuple(float(x) for x in self.raw)
        percent = tuple(float(y) for y in self.percent)
        if len(raw) < 2 or len(raw) != len(percent):
            raise ValueError(
                f"a scale needs >= 2 knots and as many percents, got {len(raw)} and {len(percent)}"
            )
        if not all(math.isfinite(v) for v in (*raw, *percent)):
            raise ValueError("scale knots must be finite")
        if any(b <= a for a, b in zip(raw, raw[1:], strict=False)):
            raise ValueError(f"scale raw knots must increase strictly, got {list(raw)}")
        if any(b < a for a, b in zip(percent, percent[1:], strict=False)):
            raise ValueError(f"scale percents must not decrease, got {list(percent)}")
        if percent[0] < 0 or percent[-1] > 100:
            raise ValueError(f"scale percents must lie in 0..100, got {list(percent)}")
        object.__setattr__(self, "raw", raw)
        object.__setattr__(self, "percent", percent)

    def percent_of(self, raw: float) -> float:
        """The percentage of a match score: interpolated, clamped, rounded to 0.1."""
        value = float(np.interp(float(raw), self.raw, self.percent))
        return round(value, PERCENT_DECIMALS)

    def percents(self, raw: Sequence[float] | np.ndarray) -> np.ndarray:
        """``percent_of`` of many scores: (n,) float."""
        values = np.interp(np.asarray(raw, dtype=np.float64), self.raw, self.percent)
        return np.round(values, PERCENT_DECIMALS)

    def to_json(self) -> dict[str, Any]:
        return {"raw": list(self.raw), "percent": list(self.percent)}


# a bundle without a calibration: the raw cosine read as a percentage (not a probability)
UNCALIBRATED = SimilarityScale((0.0, 1.0), (0.0, 100.0), calibrated=False)


@dataclass(frozen=True)
class SimilarityTable:
    """The scales of one bundle's vectors by query kind (a bundle's ``similarity.json``).

    bundle_id : the bundle whose vectors were calibrated (a table of another bundle is refused)
    scales : query kind -> scale; a kind without one maps through ``UNCALIBRATED``
    info : what else the file says (how and on what it was fitted, pairs per kind)
    """

    bundle_id: str
    scales: dict[str, SimilarityScale]
    info: dict[str, Any] = field(default_factory=dict)

    def scale(self, kind: str) -> SimilarityScale:
        if kind not in QUERY_KINDS:
            raise ValueError(f"unknown query kind {kind!r}; known: {list(QUERY_KINDS)}")
        return self.scales.get(kind, UNCALIBRATED)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SimilarityTable:
        """A table of a parsed ``similarity.json``; ValueError naming what is wrong."""
        if not isinstance(data, Mapping):
            raise ValueError(f"expected a JSON object, got {type(data).__name__}")
        version = data.get("format_version", FORMAT_VERSION)
        if not isinstance(version, int) or version > FORMAT_VERSION:
            raise ValueError(f"format_version {version!r} is newer than {FORMAT_VERSION}")
        bundle_id = data.get("bundle_id")
        if not isinstance(bundle_id, str) or not bundle_id:
            raise ValueError("bundle_id is missing")
        kinds = data.get("kinds")
        if not isinstance(kinds, Mapping):
            raise ValueError("kinds is missing: {kind: {raw: [...], percent: [...]}}")
        scales = {}
        for kind, entry in kinds.items():
            if kind not in QUERY_KINDS:
                raise ValueError(f"unknown query kind {kind!r}; known: {list(QUERY_KINDS)}")
            try:
                scales[kind] = SimilarityScale(tuple(entry["raw"]), tuple(entry["percent"]))
            except (KeyError, TypeError, ValueError) as e:
                raise ValueError(f"kinds.{kind}: {e}") from e
        return cls(bundle_id, scales, dict(data))


def check_min_similarity(value: Any, field: str = "min_similarity") -> float | None:
    """A minimum percentage: None, or a finite number in 0..100 (InvalidQueryError of field)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 100:
        raise InvalidQueryError(
            f"{field} must be a percentage between 0 and 100, got {value!r}", field=field
        )
    return float(value)
