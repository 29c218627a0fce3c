"""Pipe flanges by type: ASME B16.5 weld neck, slip-on and blind flanges, EN 1092-1 lap joint."""

from __future__ import annotations

import math

import numpy as np

from data_jobs.catalog import families_standards as std
from data_jobs.catalog import standards_fluid as sf
from data_jobs.catalog.attributes import ShapeAttributes
from data_jobs.catalog.choices import choose, choose_row, density, flag, pick
from data_jobs.catalog.families_base import (
    Family,
    GeneratedPart,
    fmt,
    make_part,
    num,
    revolve,
    scaled_segments,
    subtract,
)
from data_jobs.catalog.geometry_kit import bolt_circle

FLANGE_MATERIALS = ("carbon steel", "stainless", "carbon steel", "galvanized steel")


def _class150_dn(rng: np.random.Generator, extreme: str | None) -> int:
    return int(choose(rng, [dn for dn in sf.CLASS150 if dn in std.PIPE_SIZES], extreme))


def weld_neck_flange(rng: np.random.Generator, extreme: str | None = None) -> GeneratedPart:
    """ASME B16.5 Class 150 weld neck flange: tapered hub, bevelled weld end, raised face."""
    dn = _class150_dn(rng, extreme)
    o, tf, rf, x, y, _, pcd, bolts, hole = sf.CLASS150[dn]
    nps, od, wall = std.PIPE_SIZES[dn]
    raised = flag(rng, 0.8, extreme, at_min=True, draw_at_extremes=True)
    c = 1.5 if flag(rng, 0.6, extreme, at_min=True, draw_at_extremes=True) else 0.0
    ri, ro = od / 2 - wall, od / 2
    land = min(1.6, 0.4 * wall)
    bevel_h = (wall - land) * math.tan(math.radians(37.5))
    straight = max(bevel_h + 2.0, 0.12 * y)
    face = y - (1.6 if raised else 0.0)
    fil = min(0.3 * tf, 6.0)  # hub-to-flange fillet
    prof = [(ri, 0.0), (ri + land, 0.0), (ro, bevel_h), (ro, straight)]
    prof += [
        (x / 2 + fil - fil * math.cos(a), y - tf - fil + fil * math.sin(a))
        for a in np.linspace(0.0, math.pi / 2, 5)
    ]
    prof += [(o / 2 - c, y - tf), (o / 2, y - tf + c), (o / 2, face)]
    prof += [(rf / 2, face), (rf / 2, y)] if raised else []
    prof += [(ri, face if not raised else y)]
    n = scaled_segments(o / 2, density(rng, extreme, draw_at_extremes=True), 48, 80)
    flange = subtract(revolve(np.array(prof), n), bolt_circle(pcd, bolts, hole, y - tf - 1, tf + 2))
    material = pick(rng, FLANGE_MATERIALS)
    size = f"{nps} Class 150 (DN{dn})"
    attrs = ShapeAttributes(form="ring", holes=bolts + 1, symmetry="polar")
    return make_part(
        rng,
        flange,
        name=f"Weld neck flange {nps} Class 150",
        tags=[material, "ASME B16.5", "Class 150", "weld neck", "WN", "flange", "bolt circle"]
        + (["raised face"] if raised else ["flat face"]),
        parameters=dict(
            nominal_diameter=dn,
            nps=nps,
            outer_diameter=num(o),
            thickness=num(tf),
            hub_diameter=num(x),
            length_through_hub=num(y),
            bolt_circle=num(pcd),
            bolt_holes=bolts,
            bolt_hole_diameter=num(hole),
            bore=num(2 * ri),
        ),
        attributes=attrs,
        names=["weld neck flange", "WN flange", "welding neck flange", "high hub flange"],
        size=size,
        standard="ASME B16.5",
        material=material,
        extras=[
            f"{nps} 150# WNRF flange, {fmt(o)} mm OD, {bolts} x {fmt(hole)} mm holes on "
            f"{fmt(pcd)} mm bolt circle",
            f"weld neck flange with {fmt(y)} mm long tapered hub, bevelled for butt welding to "
            f"{fmt(od)} x {fmt(wall)} mm pipe",
        ],
    )


def slip_on_flange(rng: np.random.Generator, extreme: str | None = None) -> GeneratedPart:
    """ASME B16.5 Class 150 hubbed slip-on flange (EN 1092-1 type 12 counterpart)."""
    dn = _class150_dn(rng, extreme)
    o, tf, rf, x, _, y, pcd, bolts, hole = sf.CLASS150[dn]
    nps, od, _ = std.PIPE_SIZES[dn]
    raised = flag(rng, 0.75, extreme, at_min=True, draw_at_extremes=True)
    bore = od + max(1.1, round(0.014 * od, 1))
    hub_len = y - tf
    x_end = x - 2 * hub_len * math.tan(math.radians(7.0))
    face = y - (1.6 if raised else 0.0)
    ch = min(0.3 * (y - tf), 3.0)
    prof = [(bore / 2, 0.0), (x_end / 2, 0.0), (x / 2, hub_len), (o / 2 - 1.0, hub_len)]
    prof += [(o / 2, hub_len + 1.0), (o / 2, face)]
    prof += [(rf / 2, face), (rf / 2, y)] if raised else []
    top = y if raised else face
    prof += [(bore / 2 + ch, top), (bore / 2, top - ch)]
    n = scaled_segments(o / 2, density(rng, extreme, draw_at_extremes=True), 48, 80)
    flange = subtract(
        revolve(np.array(prof), n), bolt_circle(pcd, bolts, hole, hub_len - 1, tf + 2)
    )
    material = pick(rng, FLANGE_MATERIALS)
    attrs = ShapeAttributes(form="ring", holes=bolts + 1, symmetry="polar")
    return make_part(
        rng,
        flange,
        name=f"Slip-on flange {nps} Class 150",
        tags=[
            material,
            "ASME B16.5",
            "Class 150",
            "slip-on",
            "SO",
            "hubbed",
            "flange",
            "bolt circle",
        ]
        + (["raised face"] if raised else ["flat face"]),
        parameters=dict(
            nominal_diameter=dn,
            nps=nps,
            outer_diameter=num(o),
            thickness=num(tf),
            hub_diameter=num(x),
            length_through_hub=num(y),
            bore=num(bore),
            bolt_circle=num(pcd),
            bolt_holes=bolts,
            bolt_hole_diameter=num(hole),
        ),
        attributes=attrs,
        names=["slip-on flange", "SO flange", "hubbed slip-on flange", "type 12 flange"],
        size=f"{nps} Class 150 (DN{dn})",
        standard="ASME B16.5",
        material=material,
        extras=[
            f"{nps} 150 lb slip on flange with short hub, {fmt(bore)} mm bore for "
            f"{fmt(od)} mm pipe",
            f"SORF flange {fmt(o)} mm OD, {bolts} bolt holes {fmt(hole)} mm on {fmt(pcd)} mm PCD",
        ],
    )


def blind_flange(rng: np.random.Generator, extreme: str | None = None) -> GeneratedPart:
    """ASME B16.5 blind flange, Class 150 or 300: solid disc with raised face and bolt holes."""
    cls = choose(rng, (150, 300), extreme)
    if cls == 150:
        dn = _class150_dn(rng, extreme)
        o, tf, rf, _, _, _, pcd, bolts, hole = sf.CLASS150[dn]
    else:
        dn, (o, tf, rf, pcd, bolts, hole) = choose_row(rng, sf.CLASS300, extreme)
    nps = std.PIPE_SIZES[dn][0]
    raised = flag(rng, 0.8, extreme, at_min=True, draw_at_extremes=True)
    c = 1.5 if flag(rng, 0.5, extreme, at_min=True, draw_at_extremes=True) else 0.0
    face = tf - (1.6 if raised else 0.0)
    prof = [(0.0, 0.0), (o / 2 - c, 0.0), (o / 2, c), (o / 2, face)]
    prof += [(rf / 2, face), (rf / 2, tf), (0.0, tf)] if raised else [(0.0, face)]
    n = scaled_segments(o / 2, density(rng, extreme, draw_at_extremes=True), 48, 80)
    flange = subtract(revolve(np.array(prof), n), bolt_circle(pcd, bolts, hole, -1.0, tf + 2))
    material = pick(rng, FLANGE_MATERIALS)
    attrs = ShapeAttributes(form="disc", holes=bolts, symmetry="polar")
    return make_part(
        rng,
        flange,
        name=f"Blind flange {nps} Class {cls}",
        tags=[
            material,
            "ASME B16.5",
            f"Class {cls}",
            "blind",
            "BL",
            "flange",
            "bolt circle",
            "no bore",
        ]
        + (["raised face"] if raised else ["flat face"]),
        parameters=dict(
            nominal_diameter=dn,
            nps=nps,
            pressure_class=cls,
            outer_diameter=num(o),
            thickness=num(tf),
            bolt_circle=num(pcd),
            bolt_holes=bolts,
            bolt_hole_diameter=num(hole),
        ),
        attributes=attrs,
        names=["blind flange", "blanking flange", "blank flange", "end flange"],
        size=f"{nps} Class {cls} (DN{dn})",
        standard="ASME B16.5",
        material=material,
        extras=[
            f"{nps} {cls}# blind flange, {fmt(tf)} mm thick, closes the end of a flanged pipe",
            f"solid blanking disc {fmt(o)} mm OD with {bolts} x {fmt(hole)} mm holes on "
            f"{fmt(pcd)} mm bolt circle, no bore",
        ],
    )


def lap_joint_flange(rng: np.random.Generator, extreme: str | None = None) -> GeneratedPart:
    """EN 1092-1 type 02 loose plate flange (lap joint backing flange), PN16, flat both sides."""
    dn = int(choose(rng, [d for d in std.PN16_FLANGES if d in std.PIPE_SIZES], extreme))
    d_out, k, bolts, hole, thick, _ = std.PN16_FLANGES[dn]
    nps, od, _ = std.PIPE_SIZES[dn]
    bore = od + 1.0 + round(0.01 * od, 1)  # clears the weld collar's neck
    radius = min(0.4 * thick, 3.0 + 0.03 * od)  # clears the collar's root radius
    c = 1.0 if flag(rng, 0.7, extreme, at_min=True, draw_at_extremes=True) else 0.0
    arc = [
        (bore / 2 + radius * (1 - math.sin(a)), thick - radius * (1 - math.cos(a)))
        for a in np.linspace(0.0, math.pi / 2, 7)
    ]
    prof = [(bore / 2 + c, 0.0), (d_out / 2 - c, 0.0), (d_out / 2, c), (d_out / 2, thick - c)]
    prof += [(d_out / 2 - c, thick), (bore / 2 + radius, thick)]
    prof += arc[::-1][1:]  # from the face round into the bore
    prof += [(bore / 2, c)] if c else []
    n = scaled_segments(d_out / 2, density(rng, extreme, draw_at_extremes=True), 48, 80)
    flange = subtract(revolve(np.array(prof), n), bolt_circle(k, bolts, hole, -1.0, thick + 2))
    material = pick(rng, ("carbon steel", "galvanized steel", "stainless", "aluminium"))
    attrs = ShapeAttributes(form="ring", holes=bolts + 1, symmetry="polar")
    return make_part(
        rng,
        flange,
        name=f"Lap joint flange DN{dn} PN16",
        tags=[
            material,
            "EN 1092-1",
            "PN16",
            "type 02",
            "loose flange",
            "lap joint",
            "flange",
            "flat face",
        ],
        parameters=dict(
            nominal_diameter=dn,
            nps=nps,
            outer_diameter=num(d_out),
            bolt_circle=num(k),
            bolt_holes=bolts,
            bolt_hole_diameter=num(hole),
            thickness=num(thick),
            bore=num(bore),
            bore_radius=num(radius),
        ),
        attributes=attrs,
        names=["lap joint flange", "loose flange", "backing flange", "type 02 flange"],
        size=f"DN{dn} PN16",
        standard="EN 1092-1",
        material=material,
        extras=[
            f"loose backing ring flange DN{dn} for a type 32 weld-on collar, {fmt(bore)} mm bore "
            f"with rounded edge",
            f"{fmt(d_out)} mm lap joint flange, {bolts} x {fmt(hole)} mm holes on {fmt(k)} mm PCD, "
            f"rotates freely to align the bolt holes",
        ],
    )


FAMILY_LIST = (
    Family("weld_neck_flange", "weld_neck_flange", weld_neck_flange, "flange"),
    Family("slip_on_flange", "slip_on_flange", slip_on_flange, "flange"),
    Family("blind_flange", "blind_flange", blind_flange, "flange"),
    Family("lap_joint_flange", "lap_joint_flange", lap_joint_flange, "flange"),
)
