"""Helpers of the transmission and motion families: table picking at extremes, segment
counts, helical threads, and one call that turns a solid and its words into a GeneratedPart."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import shapely.geometry as sg

from data_jobs.catalog.attributes import ShapeAttributes, describe
from data_jobs.catalog.families_base import (
    GeneratedPart,
    Solid,
    cross_section,
    finish,
    material_word,
    num,
)


def choose(rng: np.random.Generator, options: Sequence, extreme: str | None = None):
    """First option at ``extreme="min"``, last at ``"max"``, else one uniformly at random."""
    if extreme == "min":
        return options[0]
    if extreme == "max":
        return options[-1]
    return options[int(rng.integers(len(options)))]


def chance(rng: np.random.Generator, p: float, extreme: str | None = None) -> bool:
    """Optional feature: off at "min", on at "max", else present with probability ``p``.

    The draw is made in every case so the rng stream does not depend on ``extreme``.
    """
    hit = bool(rng.random() < p)
    return {"min": False, "max": True}.get(extreme or "", hit)


def tessellation(rng: np.random.Generator, extreme: str | None = None) -> float:
    """Factor on circle segment counts (coarser or finer meshes of the same part); 1 at extremes."""
    factor = float(choose(rng, (0.75, 1.0, 1.0, 1.25)))
    return 1.0 if extreme else factor


def scaled(segments: int, factor: float) -> int:
    """Even segment count ``segments * factor``, at least 16."""
    n = max(16, int(round(segments * factor)))
    return n + n % 2


def make_part(
    rng: np.random.Generator,
    solid: Solid,
    *,
    name: str,
    tags: list[str],
    parameters: dict,
    attributes: ShapeAttributes,
    names: list[str],
    size: str,
    standard: str | None,
    material: str,
    extras: list[str],
) -> GeneratedPart:
    """Mesh, measured attributes and described wording of one part; ``attributes.holes`` is
    the expected genus."""
    mesh = finish(solid)
    attrs = attributes.measured(mesh)
    return GeneratedPart(
        mesh=mesh,
        name=name,
        tags=list(dict.fromkeys([material, *([standard] if standard else []), *tags])),
        parameters={k: (num(v, 3) if isinstance(v, float) else v) for k, v in parameters.items()},
        descriptions=describe(
            rng,
            names=names,
            size=size,
            standard=standard,
            material=material_word(material),
            attributes=attrs,
            extras=extras,
        ),
        through_holes=attrs.holes,
        attributes=attrs,
    )


def helical_rod(
    r_major: float,
    depth: float,
    pitch: float,
    starts: int,
    length: float,
    half_angle_deg: float,
    left_hand: bool = False,
) -> Solid:
    """Externally threaded rod along Z from 0 to ``length`` (mm), trapezoidal thread form.

    The polar cross-section r(theta) is the axial tooth profile wound once per lead; twisting it
    by 360 degrees per lead while extruding sweeps the true helicoid.
    """
    lead = pitch * starts
    flank = min(depth * math.tan(math.radians(half_angle_deg)), 0.3 * pitch)
    flat = (pitch - 2 * flank) / 2
    # axial profile over one pitch: root flat, rising flank, crest flat, falling flank
    knots = np.array([0.0, flat, flat + flank, 2 * flat + flank, pitch])
    radii = np.array([r_major - depth, r_major - depth, r_major, r_major, r_major - depth])
    per_start = max(12, int(round(48 / starts)))
    zeta = np.linspace(0.0, pitch, per_start, endpoint=False)
    zeta = np.unique(np.concatenate([zeta, knots[:-1]]))
    theta = np.concatenate([(zeta + k * pitch) / lead * 2 * np.pi for k in range(starts)])
    r = np.tile(np.interp(zeta, knots, radii), starts)
    section = sg.Polygon(np.c_[r * np.cos(theta), r * np.sin(theta)])
    turns = length / lead
    divisions = max(2, int(math.ceil(turns * 18)))
    twist = 360.0 * turns * (-1 if left_hand else 1)
    return Solid.extrude(cross_section(section), length, divisions, twist)


def helical_faces(pitch: float, starts: int, length: float) -> int:
    """Rough triangle count of ``helical_rod`` (to choose modelled vs cosmetic thread)."""
    pts = starts * (max(12, int(round(48 / starts))) + 4)
    return int(2 * pts * (length / (pitch * starts) * 18 + 2))
