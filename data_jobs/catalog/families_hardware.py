"""Machine hardware: angle brackets, mounting plates, butt hinges and star knobs."""

from __future__ import annotations

import math

import numpy as np
import shapely.geometry as sg

from data_jobs.catalog import families_standards as std
from data_jobs.catalog.attributes import ShapeAttributes
from data_jobs.catalog.choices import choose_row, pick, pick_weighted
from data_jobs.catalog.families_base import (
    Family,
    GeneratedPart,
    Solid,
    box,
    circle,
    cylinder,
    extrude,
    fillet_profile,
    fmt,
    make_part,
    material_word,
    num,
    revolve,
    rounded_rectangle,
    segments_for,
    subtract,
    union,
)
from data_jobs.catalog.geometry_kit import drill, stadium

SHEET_THICKNESSES = (2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0)


def l_bracket(rng: np.random.Generator) -> GeneratedPart:
    """Bent sheet-metal angle bracket with holes or slots in both legs and an optional gusset."""
    t = float(pick(rng, SHEET_THICKNESSES))
    leg_a = float(round(float(rng.uniform(6, 20)) * t / 5) * 5 + 15)
    leg_b = float(
        leg_a if rng.random() < 0.5 else round(float(rng.uniform(6, 20)) * t / 5) * 5 + 15
    )
    width = float(round(float(rng.uniform(0.5, 1.6)) * leg_a / 5) * 5 + 10)
    r_in = t
    corner_r = r_in + t
    heel = sg.box(0, 0, corner_r, corner_r).difference(
        sg.Point(corner_r, corner_r).buffer(corner_r, quad_segs=8)
    )
    profile = fillet_profile(sg.box(0, 0, leg_b, t).union(sg.box(0, 0, t, leg_a)), r_in)
    profile = profile.difference(heel)
    bracket = extrude(profile, width).rotate((90, 0, 0)).translate((0, width / 2, 0))
    screw = float(pick(rng, [s for s in (4, 5, 6, 8, 10, 12) if 1.6 * s <= width - 2 * t]))
    d = std.CLEARANCE_HOLES[screw]
    per_leg = 2 if width >= 4.5 * d + 10 else 1
    slots = rng.random() < 0.3
    ys = [0.0] if per_leg == 1 else [-width / 4 - d / 4, width / 4 + d / 4]
    cuts = []
    x_h = t + corner_r + (leg_b - t - corner_r) * 0.55
    z_v = t + corner_r + (leg_a - t - corner_r) * 0.55
    for y in ys:
        if slots:
            slot_len = min(1.5 * d, 0.5 * (leg_b - t - corner_r - d))
            slot = stadium(max(slot_len, 0.5 * d) / 2, d / 2, 8)
            cuts.append(extrude(slot, 200.0, z0=-100.0).translate((x_h, y, 0)))
        else:
            cuts.append(drill(d).translate((x_h, y, 0)))
        cuts.append(drill(d).rotate((0, 90, 0)).translate((0, y, z_v)))
    gusset = rng.random() < 0.4 and t >= 3 and per_leg == 2
    parts = [bracket]
    if gusset:
        g = 0.55 * min(leg_a, leg_b)
        tri = sg.Polygon([(t - 0.5, t - 0.5), (t + g, t - 0.5), (t - 0.5, t + g)])
        parts.append(extrude(tri, t).rotate((90, 0, 0)).translate((0, t / 2, 0)))
    body = subtract(union(parts), cuts)
    holes = len(cuts)
    material = pick(rng, ["steel", "zinc-plated steel", "stainless", "aluminium"])
    feature = "slotted" if slots else "drilled"
    return make_part(
        rng,
        body,
        ShapeAttributes(form="bracket", holes=holes, symmetry="mirror"),
        name=f"Angle bracket {fmt(leg_a)}x{fmt(leg_b)}x{fmt(width)}x{fmt(t)}",
        tags=[material, "sheet metal", "bracket", "L-shaped", "bent", "through-hole", feature]
        + (["gusset"] if gusset else []),
        parameters=dict(
            leg_a=num(leg_a),
            leg_b=num(leg_b),
            width=num(width),
            thickness=num(t),
            bend_radius=num(r_in),
            hole_diameter=num(d),
            holes=holes,
        ),
        names=["angle bracket", "L bracket", "corner bracket", "right-angle bracket"],
        size=f"{fmt(leg_a)} x {fmt(leg_b)} x {fmt(width)} mm, {fmt(t)} mm thick",
        extras=[
            f"L bracket {fmt(leg_a)} x {fmt(leg_b)} mm, {fmt(width)} mm wide, {fmt(t)} mm thick",
            f"90 degree angle bracket with {holes} {'slots and holes' if slots else 'holes'} "
            f"for M{fmt(screw)} screws",
            f"{material_word(material)} bent corner bracket"
            + (" with stiffening gusset" if gusset else ""),
            f"right-angle mounting bracket, {fmt(t)} mm sheet, {fmt(d)} mm holes",
        ],
        material=material,
    )


def mounting_plate(rng: np.random.Generator) -> GeneratedPart:
    """Flat plate with rounded corners and a hole pattern (corners, grid or bolt circle)."""
    t = float(pick(rng, (3, 4, 5, 6, 8, 10, 12, 15, 20)))
    length = float(round(float(rng.uniform(50, 250)) / 10) * 10)
    width = float(max(40, round(float(rng.uniform(0.4, 1.0)) * length / 10) * 10))
    corner = float(pick(rng, (0.0, 3.0, 5.0, 10.0)))
    round_pattern_ok = min(length, width) >= 80
    pattern = pick_weighted(
        rng, ["corners", "grid", "bolt circle"], [0.4, 0.3, 0.3 if round_pattern_ok else 0.0]
    )
    screw = float(pick(rng, [s for s in (4, 5, 6, 8, 10, 12) if s * 6 <= min(length, width)]))
    d = std.CLEARANCE_HOLES[screw]
    countersunk = rng.random() < 0.3 and t >= 0.6 * d
    body = extrude(rounded_rectangle(length, width, corner, 6), t)
    m = 1.6 * d + corner * 0.3
    spots: list[tuple[float, float]] = []
    center_bore = 0.0
    if pattern == "corners":
        spots = [(sx * (length / 2 - m), sy * (width / 2 - m)) for sx in (-1, 1) for sy in (-1, 1)]
    elif pattern == "grid":
        nx = int(np.clip(round((length - 2 * m) / (4 * d)), 2, 5))
        ny = int(np.clip(round((width - 2 * m) / (4 * d)), 2, 4))
        spots = [
            (x, y)
            for x in np.linspace(-length / 2 + m, length / 2 - m, nx)
            for y in np.linspace(-width / 2 + m, width / 2 - m, ny)
        ]
    else:
        count = int(pick(rng, (3, 4, 6, 8)))
        pcd = min(length, width) - 2 * m
        center_bore = round(min(0.45 * pcd, pcd - 3.0 * d), 0)
        spots = [
            (
                pcd / 2 * math.cos(2 * math.pi * k / count + math.pi / count),
                pcd / 2 * math.sin(2 * math.pi * k / count + math.pi / count),
            )
            for k in range(count)
        ]
    cuts = [drill(d, countersink=countersunk).translate((float(x), float(y), t)) for x, y in spots]
    if center_bore >= 8:
        cuts.append(cylinder(center_bore / 2, t + 2, segments_for(center_bore / 2), z0=-1))
    plate = subtract(body, cuts)
    holes = len(cuts)
    material = pick(rng, ["steel", "aluminium", "stainless", "zinc-plated steel"])
    sink = "countersunk " if countersunk else ""
    pattern_words = {
        "corners": "four corner holes",
        "grid": f"a {holes}-hole grid",
        "bolt circle": f"{len(spots)} holes on a bolt circle"
        + (f" around a {fmt(center_bore)} mm centre bore" if center_bore >= 8 else ""),
    }[pattern]
    return make_part(
        rng,
        plate,
        ShapeAttributes(form="plate", holes=holes, symmetry="mirror"),
        name=f"Mounting plate {fmt(length)}x{fmt(width)}x{fmt(t)}, {holes} holes",
        tags=[material, "plate", "machined", "through-hole", pattern.replace(" ", "-")]
        + (["countersunk"] if countersunk else []),
        parameters=dict(
            length=num(length),
            width=num(width),
            thickness=num(t),
            corner_radius=num(corner),
            hole_diameter=num(d),
            holes=holes,
            pattern=pattern,
        ),
        names=["mounting plate", "base plate", "adapter plate", "flat plate"],
        size=f"{fmt(length)} x {fmt(width)} x {fmt(t)} mm",
        extras=[
            f"{fmt(length)} x {fmt(width)} x {fmt(t)} mm mounting plate with {holes} holes",
            f"flat {material_word(material)} plate with {pattern_words}",
            f"base plate {fmt(length)}x{fmt(width)}, {fmt(t)} mm thick, {sink}holes for "
            f"M{fmt(screw)} screws",
            f"rectangular adapter plate, {fmt(d)} mm {sink}through holes, "
            f"{'rounded' if corner else 'square'} corners",
        ],
        material=material,
    )


def butt_hinge(rng: np.random.Generator) -> GeneratedPart:
    """Butt hinge opened flat: two leaves, alternating knuckles on a pin, countersunk holes."""
    length = float(pick(rng, (40, 50, 60, 75, 80, 100, 120)))
    leaf_w = float(round(length * float(rng.uniform(0.3, 0.45))))
    t = float(pick(rng, [x for x in (1.5, 2.0, 2.5, 3.0) if x <= 0.04 * length + 0.6]))
    knuckles = int(pick(rng, (3, 5) if length >= 75 else (3,)))
    r_k = 1.6 * t
    pin_r = 0.55 * r_k
    gap = 0.4
    seg = length / knuckles
    parts = []
    for side in (-1, 1):
        leaf = box(leaf_w, length, t, (side * (leaf_w / 2 + r_k * 0.5), 0, t / 2))
        notches = [
            box(2 * r_k + 2 * gap, seg + 2 * gap, 4 * t, (0, -length / 2 + (k + 0.5) * seg, 0))
            for k in range(knuckles)
            if (k % 2 == 0) != (side < 0)
        ]
        parts.append(subtract(leaf, notches))
    knuckle = along_y_cyl(r_k, length, r_k)
    rings = [
        along_y_cyl(r_k + 1, gap, r_k).translate((0, -length / 2 + k * seg, 0))
        for k in range(1, knuckles)
    ]
    barrel = subtract(knuckle, rings) + along_y_cyl(pin_r, length, r_k)
    heads = [
        along_y_cyl(pin_r * 1.5, 0.8, r_k).translate((0, s * (length / 2 + 0.4), 0))
        for s in (-1, 1)
    ]
    hinge = union([*parts, barrel, *heads])
    per_leaf = 2 if length < 75 else 3
    d = 3.4 if t < 2.5 else 4.5
    cuts = []
    for side in (-1, 1):
        x = side * (r_k * 0.5 + leaf_w * 0.55)
        for y in np.linspace(-length / 2 + 0.18 * length, length / 2 - 0.18 * length, per_leaf):
            cuts.append(drill(d, countersink=True).translate((x, float(y), t)))
    hinge = subtract(hinge, cuts)
    # each screw hole is a through hole; so is the clearance slot around every knuckle that
    # is not at the ends of the barrel (the leaf notch, closed by the pin)
    genus = 2 * per_leaf + knuckles - 2
    material = pick(rng, ["steel", "stainless", "brass", "zinc-plated steel"])
    open_w = 2 * leaf_w + r_k
    return make_part(
        rng,
        hinge,
        ShapeAttributes(form="plate", holes=int(genus), symmetry="mirror"),
        name=f"Butt hinge {fmt(length)}x{fmt(open_w)}",
        tags=[material, "hinge", "butt hinge", "countersunk holes", f"{knuckles} knuckles"],
        parameters=dict(
            length=num(length),
            open_width=num(open_w),
            leaf_thickness=num(t),
            knuckles=knuckles,
            pin_diameter=num(2 * pin_r),
            screw_holes=2 * per_leaf,
        ),
        names=["butt hinge", "door hinge", "leaf hinge", "cabinet hinge"],
        size=f"{fmt(length)} x {fmt(open_w)} mm",
        extras=[
            f"{fmt(length)} mm butt hinge, {fmt(open_w)} mm open width",
            f"{material_word(material)} door hinge {fmt(length)} x {fmt(open_w)} x {fmt(t)} mm "
            f"with {2 * per_leaf} countersunk screw holes",
            f"two-leaf butt hinge with {knuckles} knuckles and fixed pin, opened flat",
            f"{fmt(length)} mm leaf hinge, {fmt(t)} mm thick leaves",
        ],
        material=material,
    )


def along_y_cyl(radius: float, length: float, z_axis: float) -> Solid:
    """Cylinder along Y centred on y = 0 whose axis sits at height z_axis (mm)."""
    n = segments_for(radius, lo=24, hi=40)
    return cylinder(radius, length, n, z0=-length / 2).rotate((90, 0, 0)).translate((0, 0, z_axis))


def star_knob(rng: np.random.Generator) -> GeneratedPart:
    """Star (lobed) clamping knob DIN 6336 with hub and threaded through bore or blind insert."""
    d1, (thread, h, d4) = choose_row(rng, std.STAR_KNOBS)
    lobes = int(pick(rng, (5, 5, 6)))
    through = rng.random() < 0.5
    r = d1 / 2
    scallop_r = 0.36 * r * 5 / lobes
    outline = circle(r, segments=96)
    for k in range(lobes):
        a = 2 * math.pi * (k + 0.5) / lobes
        outline = outline.difference(
            circle(scallop_r, (1.02 * r * math.cos(a), 1.02 * r * math.sin(a)), 32)
        )
    outline = outline.buffer(-0.08 * r, quad_segs=6).buffer(0.08 * r, quad_segs=6)
    head_h = 0.55 * h
    head = extrude(outline, head_h, z0=h - head_h)
    dome = revolve(
        np.array([(0, 0), (r + 2, 0), (r + 2, h - 0.3 * head_h), (r - 0.2 * r, h), (0, h)]), 64
    )
    hub = cylinder(d4 / 2, h - head_h + 0.5, segments_for(d4 / 2))
    body = union([head ^ dome, hub])
    pitch = std.METRIC_THREADS[thread]["pitch"]
    bore_r = thread / 2 - 0.54 * pitch
    if through:
        body = body - cylinder(bore_r, h + 2, segments_for(bore_r), z0=-1)
        holes = 1
    else:
        body = body - cylinder(bore_r, 0.75 * h, segments_for(bore_r), z0=-1)
        holes = 0
    material = pick(rng, ["POM", "nylon", "aluminium", "stainless"])
    m = f"M{fmt(thread)}"
    bore_words = "through threaded bore" if through else "blind threaded insert"
    return make_part(
        rng,
        body,
        ShapeAttributes(form="disc", threaded=True, holes=holes, spokes=lobes, symmetry="polar"),
        name=f"Star knob {fmt(d1)} {m}",
        tags=[material, "DIN 6336", "knob", "star grip", "threaded", f"{lobes} lobes"]
        + (["through-hole"] if through else ["blind hole"]),
        parameters=dict(
            diameter=num(d1), height=num(h), hub_diameter=num(d4), thread=m, lobes=lobes
        ),
        names=["star knob", "star grip", "clamping knob", "lobed knob", "hand knob"],
        size=f"{fmt(d1)} mm {m}",
        standard="DIN 6336",
        extras=[
            f"{fmt(d1)} mm star knob with {m} {bore_words}",
            f"DIN 6336 star grip clamping knob, {lobes} lobes, {m}",
            f"{material_word(material)} {lobes}-point star handwheel knob, {fmt(h)} mm high",
            f"lobed hand knob {fmt(d1)} mm diameter for {m} screws",
        ],
        material=material,
    )


FAMILY_LIST = (
    Family("l_bracket", "angle_bracket", l_bracket, "bracket"),
    Family("mounting_plate", "mounting_plate", mounting_plate, "plate"),
    Family("butt_hinge", "hinge", butt_hinge, "hinge"),
    Family("star_knob", "star_knob", star_knob, "knob"),
)
