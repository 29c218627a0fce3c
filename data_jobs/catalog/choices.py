"""Seeded choices of the part families: table rows, sizes, optional features, mesh density.

A family draws its variants from one numpy Generator. ``extreme="min"`` / ``"max"`` pins a choice
to its first / last option (tables list their rows smallest first) so tests can build a family's
extreme parts.
Whether a pinned choice still draws is part of that family's random stream, and a catalog keeps
its bytes (docs/training.md) only while every family draws the same numbers in the same order:
hence ``draw_at_extremes``, set where a family was first written that way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

# tessellation factors on circle segment counts: coarser and finer exports of the same part
DENSITIES = (0.75, 1.0, 1.25)


def pick(rng: np.random.Generator, options: Sequence):
    """One element of ``options`` chosen uniformly (keeps the element's own type)."""
    return options[int(rng.integers(len(options)))]


def pick_weighted(rng: np.random.Generator, options: Sequence, weights: Sequence[float]):
    """One element of ``options`` chosen with relative ``weights``."""
    p = np.asarray(weights, dtype=float)
    return options[int(rng.choice(len(options), p=p / p.sum()))]


def _pinned(extreme: str | None) -> bool:
    return extreme in ("min", "max")


def choose(
    rng: np.random.Generator,
    options: Sequence,
    extreme: str | None = None,
    *,
    draw_at_extremes: bool = False,
):
    """First option at ``extreme="min"``, last at ``"max"``, else one uniformly at random.

    draw_at_extremes : draw at the extremes too (and ignore the draw)
    """
    drawn = pick(rng, options) if draw_at_extremes or not _pinned(extreme) else None
    if extreme == "min":
        return options[0]
    if extreme == "max":
        return options[-1]
    return drawn


def choose_row(rng: np.random.Generator, table: Mapping, extreme: str | None = None) -> tuple:
    """``(key, row)`` of a standards table chosen as ``choose`` does, in the table's key order."""
    key = choose(rng, list(table), extreme)
    return key, table[key]


def between(rng: np.random.Generator, lo: float, hi: float, extreme: str | None = None) -> float:
    """``lo`` at "min", ``hi`` at "max", else uniform in [lo, hi]."""
    if extreme == "min":
        return float(lo)
    if extreme == "max":
        return float(hi)
    return float(rng.uniform(lo, hi))


def flag(
    rng: np.random.Generator,
    p: float,
    extreme: str | None = None,
    *,
    at_min: bool = False,
    at_max: bool = True,
    draw_at_extremes: bool = False,
) -> bool:
    """An optional feature: present with probability ``p``; ``at_min`` / ``at_max`` at the
    extremes (by default the largest part has every feature, the smallest none).

    draw_at_extremes : draw at the extremes too (and ignore the draw)
    """
    hit = bool(rng.random() < p) if draw_at_extremes or not _pinned(extreme) else False
    if extreme == "min":
        return at_min
    if extreme == "max":
        return at_max
    return hit


def density(
    rng: np.random.Generator, extreme: str | None = None, *, draw_at_extremes: bool = False
) -> float:
    """Tessellation factor from ``DENSITIES``: coarse at "min", fine at "max"."""
    return float(choose(rng, DENSITIES, extreme, draw_at_extremes=draw_at_extremes))


def nominal_density(rng: np.random.Generator, extreme: str | None = None) -> float:
    """Tessellation factor 0.75, 1, 1 or 1.25, drawn in every case; 1 at the extremes (the
    extreme parts keep the nominal mesh)."""
    factor = float(choose(rng, (0.75, 1.0, 1.0, 1.25)))
    return 1.0 if extreme else factor


def stepped_count(rng: np.random.Generator, n: int, extreme: str | None = None, step: int = 4):
    """Segment count ``n`` times a ``density`` factor, rounded to a multiple of ``step``."""
    factor = density(rng, extreme)
    return max(step, int(round(n * factor / step)) * step)
