"""Helpers shared by the enclosure, fixture and sheet-metal families: extremes, bent sections,
rods, wire coils, and one call that turns a solid and its words into a GeneratedPart."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import numpy as np
import shapely.geometry as sg
import trimesh

from data_jobs.catalog.attributes import ShapeAttributes, describe
from data_jobs.catalog.families_base import (
    GeneratedPart,
    Solid,
    extrude,
    finish,
    from_trimesh,
    material_word,
    segments_for,
)


def choose(rng: np.random.Generator, options: Sequence, extreme: str | None):
    """First option at "min", last at "max", else one chosen uniformly (table rows are sorted)."""
    if extreme == "min":
        return options[0]
    if extreme == "max":
        return options[-1]
    return options[int(rng.integers(len(options)))]


def between(rng: np.random.Generator, lo: float, hi: float, extreme: str | None) -> float:
    """``lo`` at "min", ``hi`` at "max", else uniform in [lo, hi]."""
    if extreme == "min":
        return float(lo)
    if extreme == "max":
        return float(hi)
    return float(rng.uniform(lo, hi))


def flag(rng: np.random.Generator, p: float, extreme: str | None, at_max: bool = True) -> bool:
    """An optional feature: on with probability ``p``; at "max" ``at_max``, at "min" the other."""
    if extreme == "max":
        return at_max
    if extreme == "min":
        return not at_max
    return bool(rng.random() < p)


def density(rng: np.random.Generator, n: int, extreme: str | None, step: int = 4) -> int:
    """Segment count ``n`` coarser or finer by a quarter (tessellation varies like real
    exports): 0.75 n at "min", 1.25 n at "max"; rounded to a multiple of ``step``."""
    factor = choose(rng, (0.75, 1.0, 1.25), extreme)
    return max(step, int(round(n * factor / step)) * step)


def bent_section(points: Sequence[tuple[float, float]], t: float, r_in: float, segs: int = 6):
    """Cross-section of a bent sheet: polyline of the sheet's mid-line -> shapely polygon.

    points : (n, 2) mid-line corners in mm; each corner becomes a bend of inner radius ``r_in``
             (mid-line radius r_in + t/2); t : sheet thickness in mm
    """
    pts = [np.asarray(p, dtype=float) for p in points]
    r = r_in + t / 2
    line = [pts[0]]
    for a, b, c in zip(pts[:-2], pts[1:-1], pts[2:], strict=True):
        u, v = (a - b) / np.linalg.norm(a - b), (c - b) / np.linalg.norm(c - b)
        turn = math.pi - math.acos(float(np.clip(u @ v, -1, 1)))
        if turn < 1e-6:
            line.append(b)
            continue
        back = r * math.tan(turn / 2)
        p0, p1 = b + u * back, b + v * back
        bis = (u + v) / np.linalg.norm(u + v)
        centre = b + bis * r / math.cos(turn / 2)
        a0 = math.atan2(*(p0 - centre)[::-1])
        a1 = math.atan2(*(p1 - centre)[::-1])
        sweep = (a1 - a0 + math.pi) % (2 * math.pi) - math.pi
        n = max(2, int(math.ceil(segs * abs(sweep) / (math.pi / 2))))
        for k in range(n + 1):
            q = a0 + sweep * k / n
            line.append(centre + r * np.array([math.cos(q), math.sin(q)]))
    line.append(pts[-1])
    return sg.LineString(line).buffer(t / 2, cap_style="flat", join_style="mitre")


def prism_along_y(section, length: float) -> Solid:
    """Profile drawn in the XZ plane (x, z), extruded along Y from -length/2 to +length/2."""
    return extrude(section, length).rotate((90.0, 0.0, 0.0)).translate((0.0, length / 2, 0.0))


def prism_along_x(section, length: float) -> Solid:
    """Profile drawn in the YZ plane (y, z), extruded along X from 0 to length."""
    return extrude(section, length).rotate((90.0, 0.0, 90.0))


def rod(p0, p1, radius: float, segments: int | None = None, twist_deg: float = 0.0) -> Solid:
    """Round bar (cylinder) from point p0 to point p1, mm; ``twist_deg`` turns its facets about
    the axis (coaxial bars with offset facets never share an edge line)."""
    p0, p1 = np.asarray(p0, dtype=float), np.asarray(p1, dtype=float)
    n = segments or segments_for(radius, lo=12, hi=32)
    mesh = trimesh.creation.cylinder(
        radius=radius, height=float(np.linalg.norm(p1 - p0)), sections=n
    )
    mesh.apply_transform(
        trimesh.transformations.rotation_matrix(math.radians(twist_deg), [0, 0, 1])
    )
    align = trimesh.geometry.align_vectors([0, 0, 1], (p1 - p0) / np.linalg.norm(p1 - p0))
    mesh.apply_transform(align)
    mesh.apply_translation((p0 + p1) / 2)
    return from_trimesh(mesh)


def helix_points(r_mean: float, pitch: float, turns: float, per_turn: int = 20) -> np.ndarray:
    """(n, 3) centre line of a helix about Z from (r_mean, 0, 0) upward, mm."""
    steps = max(2, int(round(turns * per_turn)))
    t = np.linspace(0.0, 2 * math.pi * turns, steps + 1)
    return np.c_[r_mean * np.cos(t), r_mean * np.sin(t), pitch * t / (2 * math.pi)]


def fillet_path(points, radius: float, min_turn_deg: float = 30.0, segs: int = 6) -> np.ndarray:
    """3D polyline with every corner that turns more than ``min_turn_deg`` rounded to ``radius``.

    points : (n, 3) mm; each rounded corner needs ``radius * tan(turn / 2)`` of straight on
             both sides. Returns (m, 3).
    """
    pts = np.asarray(points, dtype=float)
    out = [pts[0]]
    for a, b, c in zip(pts[:-2], pts[1:-1], pts[2:], strict=True):
        u, v = (a - b) / np.linalg.norm(a - b), (c - b) / np.linalg.norm(c - b)
        turn = math.pi - math.acos(float(np.clip(u @ v, -1, 1)))
        if math.degrees(turn) < min_turn_deg:
            out.append(b)
            continue
        back = radius * math.tan(turn / 2)
        p0, p1 = b + u * back, b + v * back
        bis = (u + v) / np.linalg.norm(u + v)
        centre = b + bis * radius / math.cos(turn / 2)
        e0, e1 = p0 - centre, p1 - centre
        n = max(2, int(math.ceil(segs * turn / (math.pi / 2))))
        for k in range(n + 1):
            f = k / n
            out.append(
                centre + (math.sin((1 - f) * turn) * e0 + math.sin(f * turn) * e1) / math.sin(turn)
            )
    out.append(pts[-1])
    return np.asarray(out)


def sweep_wire(path, wire: float, sides: int = 12) -> Solid:
    """Round wire of diameter ``wire`` swept along a smooth (n, 3) centre line, flat ends."""
    section = sg.Point(0, 0).buffer(wire / 2, quad_segs=max(2, sides // 4))
    return from_trimesh(trimesh.creation.sweep_polygon(section, np.asarray(path, dtype=float)))


def assemble(
    rng: np.random.Generator,
    solid: Solid,
    *,
    name: str,
    tags: list[str],
    parameters: dict,
    names: Sequence[str],
    size: str,
    attributes: ShapeAttributes,
    holes: int,
    standard: str | None = None,
    material: str | None = None,
    extras: Sequence[str] = (),
    rest_on_floor: bool = True,
) -> GeneratedPart:
    """A GeneratedPart from a solid: the mesh, measured attributes (holes set) and descriptions."""
    mesh = finish(solid, rest_on_floor)
    attrs = dataclasses.replace(attributes, holes=holes).measured(mesh)
    texts = describe(
        rng,
        names=names,
        size=size,
        attributes=attrs,
        standard=standard,
        material=material_word(material) if material else None,
        extras=extras,
    )
    params = {k: round(v, 3) if isinstance(v, float) else v for k, v in parameters.items()}
    return GeneratedPart(
        mesh=mesh,
        name=name,
        tags=[t for t in tags if t],
        parameters=params,
        descriptions=texts,
        through_holes=holes,
        attributes=attrs,
    )
