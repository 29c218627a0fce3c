"""Solids and choices shared by the fastener families: threaded rods, drive recesses, records."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from data_jobs.catalog.attributes import ShapeAttributes, describe
from data_jobs.catalog.families_base import (
    GeneratedPart,
    Solid,
    box,
    cylinder,
    extrude,
    finish,
    material_word,
    pick,
    regular_polygon,
    revolve,
    segments_for,
    union,
)


def choose(rng: np.random.Generator, options: Sequence, extreme: str | None):
    """First option at extreme "min", last at "max", else a uniform pick."""
    if extreme == "min":
        return options[0]
    if extreme == "max":
        return options[-1]
    return pick(rng, options)


def flag(rng: np.random.Generator, p: float, extreme: str | None) -> bool:
    """A yes/no option: off at "min", on at "max", else true with probability ``p``."""
    if extreme is not None:
        return extreme == "max"
    return bool(rng.random() < p)


def density(rng: np.random.Generator, extreme: str | None) -> float:
    """Tessellation factor for segment counts: coarse at "min", fine at "max"."""
    return float(choose(rng, (0.75, 1.0, 1.25), extreme))


def segments(radius: float, factor: float, lo: int = 24, hi: int = 40) -> int:
    """Even segment count for a circle of ``radius`` mm scaled by ``factor``."""
    n = max(16, int(round(segments_for(radius, lo=lo, hi=hi) * factor)))
    return n + (n % 2)


def rod(
    d: float,
    pitch: float,
    length: float,
    spans: Sequence[tuple[float, float]],
    n: int,
    chamfer_top: bool = True,
) -> Solid:
    """Round rod of diameter d along Z from 0 to ``length`` (mm), chamfered at the bottom.

    spans       : (z0, z1) stretches that carry cosmetic thread grooves (annular V grooves of
                  ``pitch``), in increasing order; the rest of the rod is plain
    chamfer_top : chamfer the top end too (False: the top is buried in a head)
    """
    r, depth = d / 2, 0.54 * pitch
    pts = [(0.0, 0.0), (r - depth, 0.0), (r, depth)]
    z_last = depth
    for z0, z1 in spans:
        z0 = max(z0, z_last + 0.2 * pitch)
        teeth = int((min(z1, length - depth - 0.5 * pitch) - z0) / pitch)
        if teeth < 1:
            continue
        for i in range(teeth):
            z = z0 + i * pitch
            pts += [(r - depth, z + 0.1 * pitch), (r, z + 0.5 * pitch)]
        pts += [(r - depth, z0 + teeth * pitch), (r, z0 + (teeth + 0.3) * pitch)]
        z_last = z0 + (teeth + 0.3) * pitch
    if chamfer_top:
        pts += [(r, length - depth), (r - depth, length), (0.0, length)]
    else:
        pts += [(r, length), (0.0, length)]
    return revolve(np.array(pts), n)


def hex_socket(key: float, depth: float, z_top: float) -> Solid:
    """Cutter of a hex socket of ``key`` mm across flats, ``depth`` deep below ``z_top``,
    with the drill-point cone at its bottom."""
    e = key / math.cos(math.pi / 6)
    prism = extrude(regular_polygon(e / 2, 6), depth + 1.0, z0=z_top - depth)
    zb = z_top - depth
    cone = revolve(
        np.array([(0, zb - 0.3 * key), (0.48 * key, zb + 0.05 * key), (0, zb + 0.5 * key)]), 24
    ).rotate((0, 0, 7.5))
    return union([prism, cone])


def slot(width: float, depth: float, span: float, z_top: float) -> Solid:
    """Cutter of a straight screwdriver slot across a head of diameter ``span`` (along X)."""
    return box(span + 2.0, width, depth + 1.0, center=(0.0, 0.0, z_top - depth + (depth + 1) / 2))


def cross_recess(diameter: float, z_top: float) -> Solid:
    """Cutter of a Phillips-like cross recess of ``diameter`` mm at the top face ``z_top``."""
    w, depth = 0.2 * diameter, 0.55 * diameter
    arms = [
        box(diameter, w, depth, center=(0, 0, z_top - depth / 2 + 0.5)),
        box(w, diameter, depth, center=(0, 0, z_top - depth / 2 + 0.5)),
    ]
    cone = revolve(
        np.array([(0, z_top - depth - 0.2 * diameter), (0.3 * diameter, z_top - depth + 0.3),
                  (0.3 * diameter, z_top + 1), (0, z_top + 1)]),
        20,
    )  # fmt: skip
    return union([*arms, cone])


def plain_bore(d: float, pitch: float, height: float, n: int) -> Solid:
    """Cutter of a plain (unthreaded) bore at the thread's minor diameter through 0..height."""
    return cylinder(d / 2 - 0.54 * pitch + 0.15 * pitch, height + 2.0, n, z0=-1.0)


def part(
    rng: np.random.Generator,
    solid: Solid,
    attributes: ShapeAttributes,
    *,
    name: str,
    tags: list[str],
    parameters: dict,
    names: Sequence[str],
    size: str,
    standard: str,
    material: str,
    extras: Sequence[str],
) -> GeneratedPart:
    """Finish the solid and write its record: measured attributes, describe()'s descriptions."""
    mesh = finish(solid)
    attrs = attributes.measured(mesh)
    return GeneratedPart(
        mesh=mesh,
        name=name,
        tags=tags,
        parameters=parameters,
        descriptions=describe(
            rng,
            names=names,
            size=size,
            attributes=attrs,
            standard=standard,
            material=material_word(material),
            extras=extras,
        ),
        through_holes=attrs.holes,
        attributes=attrs,
    )
