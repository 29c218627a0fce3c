"""Structural parts: gusset and base plates, profiles, brackets."""

from __future__ import annotations

import math

import numpy as np
import shapely.affinity as sa
import shapely.geometry as sg

from data_jobs.catalog import families_standards as std
from data_jobs.catalog.attributes import ShapeAttributes
from data_jobs.catalog.choices import choose, choose_row, flag, pick
from data_jobs.catalog.families_base import (
    Family,
    GeneratedPart,
    Solid,
    box,
    cylinder,
    extrude,
    fillet_profile,
    fmt,
    make_part,
    num,
    rounded_rectangle,
    subtract,
    union,
)
from data_jobs.catalog.geometry_kit import drill, drill_end_holes, round_convex, section_bar

# EN 10055 equal-leg T-bars: name -> (height = width h, thickness t, root radius r1), mm.
T_BARS: dict[str, tuple[float, float, float]] = {
    "T30": (30, 4, 4), "T35": (35, 4.5, 4.5), "T40": (40, 5, 5), "T50": (50, 6, 6),
    "T60": (60, 7, 7), "T70": (70, 8, 8), "T80": (80, 9, 9), "T100": (100, 11, 11),
    "T120": (120, 13, 13),
}  # fmt: skip

# DIN 1027 hot-rolled Z sections: name -> (height h, flange width b, web s, flange t), mm.
Z_SECTIONS: dict[str, tuple[float, float, float, float]] = {
    "Z30": (30, 38, 4, 4.5), "Z40": (40, 40, 4.5, 5), "Z50": (50, 43, 5, 5.5),
    "Z60": (60, 45, 5, 6), "Z80": (80, 50, 6, 7), "Z100": (100, 55, 6.5, 8),
    "Z120": (120, 60, 7, 9), "Z140": (140, 65, 8, 10), "Z160": (160, 70, 8.5, 11),
}  # fmt: skip

# EN 10058 hot-rolled flat bar: widths and thicknesses (mm) of the standard range.
FLAT_WIDTHS = (20, 25, 30, 35, 40, 45, 50, 60, 70, 80, 90, 100, 120, 150)
FLAT_THICKNESSES = (5, 6, 8, 10, 12, 15, 20, 25, 30)

# EN 10029 plate thicknesses used for gussets and base plates (mm).
PLATE_THICKNESSES = (6, 8, 10, 12, 15, 20, 25, 30, 35, 40)

# Cast angle brackets for slot profiles: series -> (leg, width, hole, wall, key width), mm.
SLOT_BRACKETS: dict[str, tuple[float, float, float, float, float]] = {
    "20": (18, 18, 5.5, 3.0, 6.0), "30": (28, 28, 6.6, 4.0, 8.0), "40": (38, 36, 8.5, 5.0, 8.0),
    "45": (43, 41, 8.5, 5.5, 10.0), "40x80": (38, 76, 8.5, 5.0, 8.0),
}  # fmt: skip

SHEET_THICKNESSES = (1.5, 2.0, 2.5, 3.0, 4.0, 5.0)


# --------------------------------------------------------------------------- plates


def gusset_plate(rng: np.random.Generator, extreme: str | None = None) -> GeneratedPart:
    """Right-triangle gusset plate with bolt rows along both legs, spaced per EN 1993-1-8."""
    bolt = float(choose(rng, (12, 16, 20, 24), extreme))
    d0 = std.CLEARANCE_HOLES[bolt]
    e1, p1 = round(1.5 * d0), round(3.0 * d0)
    per_leg = int(choose(rng, (2, 3, 4), extreme))
    t = float(choose(rng, [x for x in PLATE_THICKNESSES if 0.4 * d0 <= x <= 1.2 * d0], extreme))
    snip = (
        round(float(rng.uniform(15, 25)))
        if flag(rng, 0.6, extreme, at_min=True, draw_at_extremes=True)
        else 0
    )
    tip = 2.2 * d0  # blunt tips: a square end as wide as a bolt's edge distance
    gauge = e1 - 0.2 * d0
    start = max(snip + e1 + 0.5 * d0, gauge + 2.0 * d0)  # first holes of both legs apart
    run = start + (per_leg - 1) * p1 + e1 + 0.6 * tip + gauge
    leg_a = math.ceil(run / 10) * 10
    leg_b = leg_a if choose(rng, (True, False), extreme) else leg_a + p1
    tri = sg.Polygon([(0, 0), (leg_b, 0), (0, leg_a)])
    tri = tri.difference(sg.box(leg_b - tip * 0.6, -1, leg_b + 1, leg_a))
    tri = tri.difference(sg.box(-1, leg_a - tip * 0.6, leg_b, leg_a + 1))
    if snip:
        tri = tri.difference(sg.Polygon([(-1, -1), (snip, -1), (-1, snip)]))
    plate = extrude(tri, t)
    spots = [(start + i * p1, gauge) for i in range(per_leg)]
    spots += [(gauge, start + i * p1) for i in range(per_leg)]
    plate = subtract(plate, [drill(d0, 400.0, lo=20).translate((x, y, 0)) for x, y in spots])
    holes = len(spots)
    material = pick(rng, ("steel", "galvanized steel", "steel"))
    size = f"{fmt(leg_a)} x {fmt(leg_b)} x {fmt(t)} mm"
    attrs = ShapeAttributes(
        form="plate", holes=holes, symmetry="mirror" if leg_a == leg_b else "none"
    )
    return make_part(
        rng,
        plate,
        name=f"Gusset plate {fmt(leg_a)}x{fmt(leg_b)}x{fmt(t)}",
        tags=[material, "EN 10025", "S355", "EN 1993-1-8", "gusset", "triangular", "bolted"]
        + (["corner snipe"] if snip else []),
        parameters=dict(
            leg_a=num(leg_a),
            leg_b=num(leg_b),
            thickness=num(t),
            hole_diameter=num(d0),
            bolt=f"M{fmt(bolt)}",
            holes=holes,
            pitch=num(p1),
            corner_snipe=num(snip),
        ),
        attributes=attrs,
        names=["gusset plate", "gusset", "triangular plate", "knee plate", "corner plate"],
        size=size,
        standard="EN 1993-1-8",
        material=material,
        extras=[
            f"triangular steel gusset {fmt(leg_a)} x {fmt(leg_b)} mm, {fmt(t)} mm thick, "
            f"{per_leg} M{fmt(bolt)} holes along each leg at {fmt(p1)} mm pitch",
            "gusset plate connecting a brace to a column, "
            + ("weld snipe in the corner" if snip else "square corner"),
        ],
    )


def base_plate(rng: np.random.Generator, extreme: str | None = None) -> GeneratedPart:
    """Column base plate with anchor-bolt holes, column stub (SHS or HEA) and stiffeners."""
    stub_kind = choose(rng, ("SHS", "HEA", "none"), None if extreme is None else "min")
    if stub_kind == "HEA":
        sec = pick(rng, [k for k in std.IPE_BEAMS if k.startswith("HE")])
        sh, sb, tw, tf, r = std.IPE_BEAMS[sec]
        foot_x, foot_y = sb, sh
    else:
        squares = [s for s in std.HOLLOW_SECTIONS if s[0] == s[1] and s[0] >= 60]
        sh, sb, tw = choose(rng, squares, extreme)
        sec, foot_x, foot_y = f"SHS {fmt(sh)}x{fmt(sb)}x{fmt(tw)}", sb, sh
    anchor = float(choose(rng, (16, 20, 24, 30), extreme))
    hole = anchor + (6.0 if anchor <= 24 else 8.0)  # oversize for anchor placement tolerance
    edge = round(1.5 * hole + 5)
    tp = float(choose(rng, [t for t in PLATE_THICKNESSES if 15 <= t <= 40], extreme))
    lx = math.ceil((foot_x + 4 * edge + 2 * hole) / 10) * 10
    ly = math.ceil((foot_y + 2 * edge + hole) / 10) * 10
    six = lx >= 300 and flag(rng, 0.4, extreme, at_min=True, draw_at_extremes=True)
    spots = [(sx * (lx / 2 - edge), sy * (ly / 2 - edge)) for sx in (-1, 1) for sy in (-1, 1)]
    spots += [(sx * (lx / 2 - edge), 0.0) for sx in (-1, 1)] if six else []
    corner = float(pick(rng, (0.0, 10.0, 20.0)))
    parts = [extrude(rounded_rectangle(lx, ly, corner, 4), tp)]
    stub_h = round(float(rng.uniform(1.0, 1.6)) * foot_y / 10) * 10 + 40
    grout = stub_kind != "HEA" and flag(rng, 0.5, extreme, at_min=True, draw_at_extremes=True)
    stiff = stub_kind != "none" and flag(rng, 0.6, extreme, at_min=True, draw_at_extremes=True)
    if stub_kind == "SHS":
        ring = rounded_rectangle(sb, sh, 2 * tw, 4).difference(
            rounded_rectangle(sb - 2 * tw, sh - 2 * tw, tw, 4)
        )
        parts.append(extrude(ring, stub_h + 0.5, tp - 0.5))
    elif stub_kind == "HEA":
        shape = sg.box(-sb / 2, -sh / 2, sb / 2, -sh / 2 + tf)
        shape = shape.union(sg.box(-sb / 2, sh / 2 - tf, sb / 2, sh / 2))
        shape = fillet_profile(shape.union(sg.box(-tw / 2, -sh / 2, tw / 2, sh / 2)), r)
        parts.append(extrude(shape, stub_h + 0.5, tp - 0.5))
    ts = max(8.0, round(0.5 * tp))
    if stiff:
        reach = ly / 2 - foot_y / 2 - 5
        rib_h = 0.7 * stub_h
        rib = sg.Polygon([(0, 0), (reach, 0), (reach, 0.15 * rib_h), (0, rib_h)])
        for sgn in (-1, 1):
            g = extrude(rib, ts).rotate((90, 0, 0)).translate((0, ts / 2, tp - 0.5))
            g = g.rotate((0, 0, 90 * sgn)).translate((0, sgn * (foot_y / 2 - 0.5), 0))
            parts.append(g)
    cuts = [drill(hole, 400.0, lo=20).translate((x, y, 0)) for x, y in spots]
    if grout:
        cuts.append(cylinder(25.0, tp + 2, 40, z0=-1.0))
    body = subtract(union(parts), cuts)
    holes = len(cuts)
    material = pick(rng, ("steel", "galvanized steel"))
    size = f"{lx} x {ly} x {fmt(tp)} mm"
    attrs = ShapeAttributes(form="plate", holes=holes, symmetry="mirror")
    return make_part(
        rng,
        body,
        name=f"Column base plate {lx}x{ly}x{fmt(tp)}" + (f", {sec}" if stub_kind != "none" else ""),
        tags=[material, "EN 10025", "S355", "EN 1993-1-8", "base plate", "anchor bolts", "welded"]
        + ([stub_kind, "column stub"] if stub_kind != "none" else [])
        + (["stiffeners"] if stiff else [])
        + (["grout hole"] if grout else []),
        parameters=dict(
            length=lx,
            width=ly,
            thickness=num(tp),
            anchor_bolt=f"M{fmt(anchor)}",
            anchor_hole=num(hole),
            anchor_holes=len(spots),
            column=sec if stub_kind != "none" else "none",
            stub_height=stub_h if stub_kind != "none" else 0,
        ),
        attributes=attrs,
        names=["column base plate", "base plate", "foot plate", "column footing plate"],
        size=size,
        standard="EN 1993-1-8",
        material=material,
        extras=[
            f"steel column base plate {lx} x {ly} mm, {fmt(tp)} mm thick, {len(spots)} "
            f"{fmt(hole)} mm holes for M{fmt(anchor)} anchor bolts",
            (
                f"base plate welded to a {sec} column stub"
                if stub_kind != "none"
                else "plain base plate"
            )
            + (" with stiffener ribs" if stiff else "")
            + (" and a grout hole" if grout else ""),
        ],
    )


# --------------------------------------------------------------------------- profiles


def z_section(rng: np.random.Generator, extreme: str | None = None) -> GeneratedPart:
    """DIN 1027 hot-rolled Z section with root and toe radii, cut to length along X."""
    name, (h, b, s, t) = choose_row(rng, Z_SECTIONS, extreme)
    shape = sg.box(-s / 2, 0, s / 2, h)
    shape = shape.union(sg.box(-s / 2, h - t, b - s / 2, h))
    shape = shape.union(sg.box(-(b - s / 2), 0, s / 2, t))
    shape = round_convex(fillet_profile(shape, t), 0.4 * t)
    shape = shape.union(sg.box(-s / 4, 0, s / 4, h))
    length = int(choose(rng, (3, 5, 8), extreme) * 10 * round(h / 10 + 1))
    bar = section_bar(shape, length)
    holes = 0
    if flag(rng, 0.4, extreme, at_min=True, draw_at_extremes=True) and h >= 50:
        d = 11.0 if h < 100 else 13.5
        bar, holes = drill_end_holes(rng, bar, length, (2 * t + d, h - 2 * t - d), d)
    material = pick(rng, ("steel", "galvanized steel"))
    attrs = ShapeAttributes(form="profile", holes=holes, symmetry="polar")
    return make_part(
        rng,
        bar,
        name=f"{name} Z-section, {length} mm",
        tags=[material, "DIN 1027", "S235JR", "Z-profile", "hot rolled", "section"]
        + (["bolt holes"] if holes else []),
        parameters=dict(
            section=name,
            height=num(h),
            flange_width=num(b),
            web_thickness=num(s),
            flange_thickness=num(t),
            length=length,
            holes=holes,
        ),
        attributes=attrs,
        names=["Z-section", "Z-profile", "zed section", "Z bar", "Z steel"],
        size=f"{name} ({fmt(h)} x {fmt(b)} mm), {length} mm",
        standard="DIN 1027",
        material=material,
        extras=[
            f"hot rolled Z profile {fmt(h)} mm high, flanges {fmt(b)} mm pointing opposite ways",
            f"{length} mm length of {name} zed bar, {fmt(s)} mm web",
        ],
    )


def t_section(rng: np.random.Generator, extreme: str | None = None) -> GeneratedPart:
    """EN 10055 equal-leg T-bar with root and toe radii, cut to length along X."""
    name, (h, t, r1) = choose_row(rng, T_BARS, extreme)
    shape = sg.box(-h / 2, h - t, h / 2, h).union(sg.box(-t / 2, 0, t / 2, h))
    shape = round_convex(fillet_profile(shape, r1), 0.45 * t)
    shape = shape.union(sg.box(-t / 4, h - t, t / 4, h)).union(sg.box(-h / 4, h - t / 2, h / 4, h))
    length = int(choose(rng, (4, 8, 12), extreme) * 10 * round(h / 10 + 1))
    bar = section_bar(shape, length)
    holes = 0
    if flag(rng, 0.35, extreme, at_min=True, draw_at_extremes=True) and h >= 40:
        d = 9.0 if h < 60 else 11.0
        bar, holes = drill_end_holes(rng, bar, length, (d, h - t - r1 - d), d)
    material = pick(rng, ("steel", "galvanized steel", "stainless"))
    attrs = ShapeAttributes(form="profile", holes=holes, symmetry="mirror")
    return make_part(
        rng,
        bar,
        name=f"{name} T-bar, {length} mm",
        tags=[material, "EN 10055", "S235JR", "T-profile", "hot rolled", "equal leg"]
        + (["bolt holes"] if holes else []),
        parameters=dict(section=name, height=num(h), width=num(h), thickness=num(t), length=length),
        attributes=attrs,
        names=["T-section", "T-bar", "tee bar", "T-profile", "tee section"],
        size=f"{name} ({fmt(h)} x {fmt(h)} x {fmt(t)} mm), {length} mm",
        standard="EN 10055",
        material=material,
        extras=[
            f"equal leg T bar {fmt(h)} x {fmt(h)} x {fmt(t)} mm with rounded root, cut to "
            f"{length} mm",
            f"hot rolled tee section {name}, flange and stem both {fmt(t)} mm thick",
        ],
    )


def flat_bar(rng: np.random.Generator, extreme: str | None = None) -> GeneratedPart:
    """EN 10058 hot-rolled flat bar cut to length along X, optional drilled holes."""
    width = float(choose(rng, FLAT_WIDTHS, extreme))
    t = float(choose(rng, [x for x in FLAT_THICKNESSES if x <= 0.5 * width], extreme))
    length = int(choose(rng, (3, 6, 10), extreme) * 10 * round(width / 10 + 1)) + 100
    edge_r = 0.15 * t if flag(rng, 0.5, extreme, at_min=True, draw_at_extremes=True) else 0.0
    profile = (
        rounded_rectangle(width, t, edge_r, 3)
        if edge_r
        else sg.box(-width / 2, -t / 2, width / 2, t / 2)
    )
    bar = section_bar(sa.translate(profile, 0, t / 2), length)
    holes = 0
    if flag(rng, 0.4, extreme, at_min=True, draw_at_extremes=True) and width >= 25:
        bolt = max(b for b in (8, 10, 12, 16, 20) if std.CLEARANCE_HOLES[b] <= 0.45 * width)
        d = std.CLEARANCE_HOLES[bolt]
        n = int(np.clip(length // (6 * d), 2, 6))
        xs = np.linspace(2 * d, length - 2 * d, n)
        bar = subtract(bar, [drill(d, 400.0, lo=20).translate((float(x), 0, 0)) for x in xs])
        holes = n
    material = pick(rng, ("steel", "galvanized steel", "stainless", "aluminium"))
    attrs = ShapeAttributes(form="rod", holes=holes, symmetry="mirror")
    return make_part(
        rng,
        bar,
        name=f"Flat bar {fmt(width)}x{fmt(t)}, {length} mm",
        tags=[material, "EN 10058", "S235JR", "flat bar", "hot rolled"]
        + (["drilled"] if holes else []),
        parameters=dict(width=num(width), thickness=num(t), length=length, holes=holes),
        attributes=attrs,
        names=["flat bar", "flat steel", "flat strip", "bar stock", "flat iron"],
        size=f"{fmt(width)} x {fmt(t)} mm, {length} mm",
        standard="EN 10058",
        material=material,
        extras=[
            f"hot rolled flat bar {fmt(width)} x {fmt(t)} mm cut to {length} mm",
            f"rectangular bar stock {fmt(width)} mm wide"
            + (f" with {holes} drilled holes in a row" if holes else ", plain ends"),
        ],
    )


# --------------------------------------------------------------------------- brackets


def _round_bottom(half_w: float, y0: float, y1: float, r: float, segments: int = 6):
    """Rectangle |x| <= half_w, y0..y1 with its two bottom corners rounded by r (mm)."""
    core = sg.box(-half_w, y0 + r, half_w, y1).union(sg.box(-half_w + r, y0, half_w - r, y1))
    arcs = [sg.Point(sx * (half_w - r), y0 + r).buffer(r, quad_segs=segments) for sx in (-1, 1)]
    return core.union(arcs[0]).union(arcs[1])


def u_bracket(rng: np.random.Generator, extreme: str | None = None) -> GeneratedPart:
    """Bent sheet-metal U bracket (channel clip): holes in the base, a cross hole in the legs."""
    t = float(choose(rng, SHEET_THICKNESSES, extreme))
    inner_w = round(float(choose(rng, (4, 8, 14), extreme)) * t + 10)
    leg = round(float(choose(rng, (5, 9, 14), extreme)) * t + 10)
    depth = round(float(choose(rng, (6, 10, 16), extreme)) * t + 10)
    r_in = t
    outer = _round_bottom(inner_w / 2 + t, 0.0, leg, r_in + t)
    shape = outer.difference(_round_bottom(inner_w / 2, t, leg + 1.0, r_in))
    body = extrude(shape, depth).rotate((90, 0, 0)).translate((0, depth / 2, 0))
    screw = max(
        [
            s
            for s in (3, 4, 5, 6, 8, 10)
            if std.CLEARANCE_HOLES[s] <= 0.45 * min(inner_w, depth, leg)
        ]
        or [3]
    )
    d = std.CLEARANCE_HOLES[screw]
    base_n = (
        2
        if depth >= 4.5 * d + 6 and flag(rng, 0.5, extreme, at_min=True, draw_at_extremes=True)
        else 1
    )
    ys = [0.0] if base_n == 1 else [-depth / 4, depth / 4]
    cuts = [drill(d, 4 * t, lo=20).translate((0, y, 0)) for y in ys]
    cross = (
        drill(d, inner_w + 4 * t + 4, lo=20)
        .rotate((0, 90, 0))
        .translate((0, 0, t + r_in + 0.55 * (leg - t - r_in)))
    )
    cuts.append(cross)
    body = subtract(body, cuts)
    holes = base_n + 2
    material = pick(rng, ("zinc-plated steel", "stainless", "galvanized steel", "aluminium"))
    size = f"{fmt(inner_w)} x {fmt(leg)} x {fmt(depth)} x {fmt(t)} mm"
    attrs = ShapeAttributes(form="bracket", holes=holes, symmetry="mirror")
    return make_part(
        rng,
        body,
        name=f"U bracket {fmt(inner_w)}x{fmt(leg)}x{fmt(depth)}x{fmt(t)}",
        tags=[material, "sheet metal", "ISO 273", "U-shaped", "bent", "bracket"],
        parameters=dict(
            inner_width=num(inner_w),
            leg_height=num(leg),
            depth=num(depth),
            thickness=num(t),
            hole_diameter=num(d),
            holes=holes,
        ),
        attributes=attrs,
        names=[
            "U bracket",
            "U-shaped bracket",
            "channel bracket",
            "saddle bracket",
            "clevis bracket",
        ],
        size=size,
        standard=None,
        material=material,
        extras=[
            f"bent U bracket {fmt(inner_w)} mm inside width, {fmt(leg)} mm legs, {fmt(t)} mm "
            f"sheet, cross hole for an M{fmt(screw)} pin",
            f"sheet metal channel clip with {base_n} mounting hole"
            + ("s" if base_n > 1 else "")
            + " in the base",
        ],
    )


def corner_bracket(rng: np.random.Generator, extreme: str | None = None) -> GeneratedPart:
    """Die-cast angle bracket for T-slot profiles: two legs, side ribs, slot keys, bolt holes."""
    series, (leg, width, hole, wall, key) = choose_row(rng, SLOT_BRACKETS, extreme)
    per_leg = 2 if series == "40x80" else 1
    slotted = flag(rng, 0.4, extreme, at_min=True, draw_at_extremes=True)
    # L section in the XZ plane, extruded along Y across the width
    ell = sg.box(0, 0, leg, wall).union(sg.box(0, 0, wall, leg))
    ell = fillet_profile(ell, 0.6 * wall)
    body = extrude(ell, width).rotate((90, 0, 0)).translate((0, width / 2, 0))
    cheek = sg.Polygon([(0, 0), (leg, 0), (leg, wall), (wall, leg), (0, leg)])
    rib_t = 0.6 * wall
    ys = [-width / 2 + rib_t / 2, width / 2 - rib_t / 2] + ([0.0] if per_leg == 2 else [])
    parts = [body]
    for y in ys:
        parts.append(extrude(cheek, rib_t).rotate((90, 0, 0)).translate((0, y + rib_t / 2, 0)))
    # keys that locate the bracket in the profile slots, under each leg
    kd = 0.08 * leg + 1.0
    parts.append(
        box(leg - 2 * wall, key, kd, (wall + (leg - 2 * wall) / 2 + wall * 0.5, 0, -kd / 2 + 0.01))
    )
    parts.append(
        box(kd, key, leg - 2 * wall, (-kd / 2 + 0.01, 0, wall + (leg - 2 * wall) / 2 + wall * 0.5))
    )
    solid = union(parts)
    hy = [0.0] if per_leg == 1 else [-width / 4, width / 4]
    pos = wall + 0.55 * (leg - wall)
    cuts = []
    for y in hy:
        for axis in ("z", "x"):
            c = drill(hole, 3 * leg, lo=20)
            if slotted:
                c = Solid.batch_hull(
                    [c.translate((-0.12 * leg, 0, 0)), c.translate((0.12 * leg, 0, 0))]
                )
            c = (
                c.translate((pos, y, 0))
                if axis == "z"
                else c.rotate((0, 90, 0)).translate((0, y, pos))
            )
            cuts.append(c)
    solid = subtract(solid, cuts)
    holes = len(cuts)
    material = pick(rng, ("aluminium", "aluminium", "zinc-plated steel"))
    size = f"{series} series, {fmt(leg)} x {fmt(leg)} x {fmt(width)} mm"
    attrs = ShapeAttributes(form="bracket", holes=holes, symmetry="mirror")
    return make_part(
        rng,
        solid,
        name=f"Corner bracket {series} for slot profiles",
        tags=[material, "die cast", "T-slot", "angle bracket", "slot key", "ribbed"]
        + (["slotted holes"] if slotted else ["round holes"]),
        parameters=dict(
            series=series,
            leg=num(leg),
            width=num(width),
            wall=num(wall),
            hole_diameter=num(hole),
            holes=holes,
        ),
        attributes=attrs,
        names=[
            "corner bracket",
            "angle bracket",
            "cast bracket",
            "profile connector",
            "gusset bracket",
        ],
        size=size,
        standard=None,
        material=material,
        extras=[
            f"die-cast {series} corner bracket for aluminium extrusion, {holes} "
            f"{'slotted ' if slotted else ''}{fmt(hole)} mm holes",
            "right-angle profile connector with side ribs and keys that sit in the T-slot",
        ],
    )


FAMILY_LIST = (
    Family("gusset_plate", "gusset_plate", gusset_plate, "plate"),
    Family("base_plate", "base_plate", base_plate, "plate"),
    Family("z_section", "z_section", z_section, "profile"),
    Family("t_section", "t_section", t_section, "profile"),
    Family("flat_bar", "flat_bar", flat_bar, "bar"),
    Family("u_bracket", "u_bracket", u_bracket, "bracket"),
    Family("corner_bracket", "corner_bracket", corner_bracket, "bracket"),
)
