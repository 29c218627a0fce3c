"""Solids shared by the part families: threads, drive recesses, holes and bores, bent and
extruded sections, wires and helices.

Generated catalogs must stay byte-identical (docs/training.md), so a change here must keep every
family that uses the function drawing the same solid.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import shapely.geometry as sg
import trimesh

from data_jobs.catalog import families_standards as std
from data_jobs.catalog.choices import pick
from data_jobs.catalog.families_base import (
    Solid,
    box,
    cross_section,
    cylinder,
    extrude,
    from_trimesh,
    polar_copies,
    regular_polygon,
    revolve,
    segments_for,
    subtract,
    union,
)

# --------------------------------------------------------------------------- threads

THREAD_DEPTH = 0.54  # cosmetic V groove depth, in pitches


def _thread_teeth(r_major: float, pitch: float, z_start: float, z_end: float) -> list:
    """Zig-zag (r, z) points of cosmetic annular V grooves from z_start up to z_end."""
    depth = THREAD_DEPTH * pitch
    teeth = max(1, int((z_end - z_start) / pitch))
    pts = []
    for i in range(teeth):
        z = z_start + i * pitch
        pts += [(r_major - depth, z + 0.1 * pitch), (r_major, z + 0.5 * pitch)]
    pts.append((r_major - depth, z_start + teeth * pitch))
    return pts


def threaded_shank(
    r: float, pitch: float, length: float, thread_end: float, n: int, modelled: bool = True
) -> Solid:
    """Male thread along Z from a chamfered tip at 0 to ``length`` + 0.5 (buried in a head or
    hex), cosmetic grooves up to ``thread_end``; ``modelled=False``: a plain shank."""
    prof = [(0.0, 0.0), (r - THREAD_DEPTH * pitch, 0.0)]
    if modelled:
        prof += _thread_teeth(r, pitch, 0.6 * pitch, thread_end)
        prof += [(r, prof[-1][1] + 0.3 * pitch)]
    else:
        prof += [(r, 0.5 * pitch)]
    prof += [(r, length + 0.5), (0.0, length + 0.5)]
    return revolve(np.array(prof), n)


def threaded_rod(
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
    r, depth = d / 2, THREAD_DEPTH * pitch
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


def internal_thread_cutter(d: float, pitch: float, height: float) -> Solid:
    """Cutter of a cosmetically threaded bore of major diameter d through 0..height (nuts)."""
    r_minor = d / 2 - THREAD_DEPTH * pitch
    teeth = max(2, int(height / pitch))
    z0 = (height - teeth * pitch) / 2
    profile = [(0.0, -1.0), (r_minor + 0.15 * pitch, -1.0), (r_minor + 0.15 * pitch, 0.0)]
    for i in range(teeth):
        z = z0 + i * pitch
        profile += [(r_minor, z + 0.1 * pitch), (d / 2, z + 0.5 * pitch)]
    profile += [
        (r_minor, z0 + teeth * pitch),
        (r_minor + 0.15 * pitch, height),
        (r_minor + 0.15 * pitch, height + 1.0),
        (0.0, height + 1.0),
    ]
    return revolve(np.array(profile), segments_for(d / 2, lo=24, hi=40))


def plain_bore(d: float, pitch: float, height: float, n: int) -> Solid:
    """Cutter of a plain (unthreaded) bore at the thread's minor diameter through 0..height."""
    return cylinder(d / 2 - THREAD_DEPTH * pitch + 0.15 * pitch, height + 2.0, n, z0=-1.0)


def tapped_bore(d: float, pitch: float, z0: float, z1: float, modelled: bool, n: int) -> Solid:
    """Cutter of a pipe-thread bore of major diameter d (mm) along Z from z0 to z1 (+1 mm out):
    cosmetic grooves, or plain at the minor diameter."""
    r_minor = d / 2 - 0.64 * pitch
    if not modelled:
        return cylinder(r_minor, z1 - z0 + 2.0, n, z0=z0 - 1.0)
    teeth = max(2, int((z1 - z0) / pitch) - 1)
    za = z0 + 0.5 * pitch
    prof = [(0.0, z0 - 1.0), (r_minor, z0 - 1.0)]
    for i in range(teeth):
        z = za + i * pitch
        prof += [(r_minor, z + 0.1 * pitch), (d / 2, z + 0.5 * pitch)]
    prof += [(r_minor, za + teeth * pitch), (r_minor, z1 + 1.0), (0.0, z1 + 1.0)]
    return revolve(np.array(prof), n)


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


# --------------------------------------------------------------------------- drives and recesses


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


def screwdriver_slot(width: float, depth: float, span: float, z_top: float) -> Solid:
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


# --------------------------------------------------------------------------- holes, bores and hubs


def drill(d: float, length: float = 200.0, *, lo: int = 24, countersink: bool = False) -> Solid:
    """Through-hole cutter of diameter d along Z centred at the origin (``lo``: fewest circle
    segments); with a 90 degree countersink opening upward from the plane z = 0."""
    n = segments_for(d / 2, lo=lo, hi=40)
    hole = cylinder(d / 2, length, n, z0=-length / 2)
    if countersink:
        head = 1.9 * d
        sink = head / 2 - d / 2
        cone = Solid.cylinder(sink + 0.01, d / 2, head / 2 + 0.01, n).translate((0, 0, -sink))
        hole = union([hole, cone, cylinder(head / 2 + 0.01, 1.0, n)])
    return hole


def bolt_circle(pcd: float, bolts: int, hole: float, z0: float, height: float) -> list[Solid]:
    """Bolt-hole cutters on a pitch circle about Z from z0 up, half a pitch off the X axis."""
    tool = cylinder(hole / 2, height, segments_for(hole / 2), z0=z0).translate((pcd / 2, 0, 0))
    return polar_copies(tool, bolts, 180.0 / bolts)


def stadium(half: float, radius: float, quad_segs: int, axis: str = "x") -> sg.Polygon:
    """Slot outline centred at the origin: end-circle centres ``half`` mm either side along
    ``axis`` ("x" or "y"), radius ``radius``."""
    ends = [(-half, 0), (half, 0)] if axis == "x" else [(0, -half), (0, half)]
    return sg.LineString(ends).buffer(radius, quad_segs=quad_segs)


def keyseat(shaft_d: float, slot_len: float, quad_segs: int = 8) -> Solid:
    """Cutter of a DIN 6885 keyseat ``slot_len`` long milled into a shaft on Z, on its -X side,
    centred on z = 0."""
    key = std.parallel_key(shaft_d)
    outline = stadium((slot_len - key["b"]) / 2, key["b"] / 2, quad_segs)
    return extrude(outline, key["t1"] + 5.0, z0=shaft_d / 2 - key["t1"]).rotate((0, -90, 0))


def bore_with_keyway(bore: float, height: float, keyway: bool, z0: float = -1.0) -> Solid:
    """Cutter for a central bore (and DIN 6885 hub keyway along +X) through a hub on Z."""
    n = segments_for(bore / 2, lo=32, hi=48)
    cutter = cylinder(bore / 2, height + 2.0, n, z0=z0)
    if keyway:
        key = std.parallel_key(bore)
        depth = bore / 2 + key["t2"]
        cutter = cutter + box(depth, key["b"], height + 2.0, (depth / 2, 0, z0 + height / 2 + 1))
    return cutter


def hub_on_face(diameter: float, length: float, z_face: float) -> Solid:
    """Cylindrical hub on Z standing on a wheel's face at ``z_face``, sunk 0.5 mm into it so
    that their union is one solid."""
    return cylinder(diameter / 2, length + 0.5, segments_for(diameter / 2), z0=z_face - 0.5)


def standard_bore(limit: float) -> float:
    """Largest preferred bore (mm) not above ``limit`` (and at least 6)."""
    bores = (6, 8, 10, 12, 14, 15, 16, 18, 20, 22, 25, 28, 30, 32, 35, 40, 45, 50, 55, 60)
    fit = [b for b in bores if b <= limit]
    return float(fit[-1] if fit else 6)


# --------------------------------------------------------------------------- sections

_UVW_TO_YZX = ((0.0, 0.0, 1.0, 0.0), (1.0, 0.0, 0.0, 0.0), (0.0, 1.0, 0.0, 0.0))


def section_bar(profile, length: float) -> Solid:
    """Extrude a profile drawn as (u, v) along +X for ``length`` mm; u becomes Y, v becomes Z."""
    return extrude(profile, length).transform(_UVW_TO_YZX)


def prism_along_y(section, length: float) -> Solid:
    """Profile drawn in the XZ plane (x, z), extruded along Y from -length/2 to +length/2."""
    return extrude(section, length).rotate((90.0, 0.0, 0.0)).translate((0.0, length / 2, 0.0))


def prism_along_x(section, length: float) -> Solid:
    """Profile drawn in the YZ plane (y, z), extruded along X from 0 to length."""
    return extrude(section, length).rotate((90.0, 0.0, 90.0))


def round_convex(polygon, radius: float, segments: int = 4):
    """Round the convex corners of a profile by ``radius`` (open-close offset)."""
    if radius <= 0:
        return polygon
    return polygon.buffer(-radius, quad_segs=segments, join_style="mitre").buffer(
        radius, quad_segs=segments, join_style="round"
    )


def ring_section(r_in: float, r_out: float, z0: float, z1: float, c: float) -> list:
    """(r, z) loop of a rectangular ring section r_in..r_out, z0..z1, corners chamfered by c."""
    return [(r_in + c, z0), (r_out - c, z0), (r_out, z0 + c), (r_out, z1 - c), (r_out - c, z1),
            (r_in + c, z1), (r_in, z1 - c), (r_in, z0 + c)]  # fmt: skip


def drill_end_holes(
    rng: np.random.Generator,
    bar: Solid,
    length: float,
    web_z: tuple[float, float],
    d: float,
    max_per_end: int = 2,
) -> tuple[Solid, int]:
    """A section bar along +X with one or two bolt holes of diameter d near each end, drilled
    along Y through its web.

    web_z : (min, max) heights across which a hole pair is spread (mm)
    returns: (drilled bar, number of holes)
    """
    lo, hi = web_z
    if hi - lo < 2.5 * d:
        max_per_end = 1
    per_end = int(pick(rng, (1, 2)[:max_per_end]))
    spots = [(lo + hi) / 2] if per_end == 1 else [lo + 0.3 * (hi - lo), lo + 0.7 * (hi - lo)]
    inset = max(1.5 * d, 0.06 * length)
    cutters = []
    for x in (inset, length - inset):
        for s in spots:
            c = cylinder(d / 2, 400.0, 24, z0=-200.0)
            cutters.append(c.rotate((90, 0, 0)).translate((x, 0, s)))
    return subtract(bar, cutters), len(cutters)


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


# --------------------------------------------------------------------------- bars and wires


def bar_between(p0, p1, radius: float, segments: int | None = None, twist_deg: float = 0.0):
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
