"""Enclosures and electrical hardware: boxes, DIN rail, cable glands, terminal blocks."""

from __future__ import annotations

import math

import numpy as np
import shapely.geometry as sg
from shapely import affinity
from shapely.ops import unary_union

from data_jobs.catalog.attributes import ShapeAttributes
from data_jobs.catalog.choices import between, choose, choose_row, flag, pick, stepped_count
from data_jobs.catalog.families_base import (
    Family,
    GeneratedPart,
    along_x,
    box,
    chamfered_hex,
    cylinder,
    extrude,
    fmt,
    make_part,
    revolve,
    rounded,
    rounded_rectangle,
    segments_for,
    subtract,
    union,
)
from data_jobs.catalog.geometry_kit import bent_section, prism_along_x, prism_along_y, stadium

# Die-cast / moulded electronics boxes, common catalogue sizes: (length, width, height), mm.
ENCLOSURES = (
    (50, 35, 20), (65, 50, 30), (92.6, 38.5, 31), (112, 60, 31), (120, 80, 40), (119.5, 94, 34),
    (150, 100, 50), (188, 120, 56), (220, 145, 65),
)  # fmt: skip
# Junction boxes EN 60670-22, surface mounted: (length, width, height, wall), mm.
JUNCTION_BOXES = (
    (75, 75, 40, 2.5), (85, 85, 45, 2.5), (100, 100, 50, 3.0), (150, 110, 70, 3.0),
    (190, 140, 70, 3.5), (240, 190, 90, 4.0),
)  # fmt: skip
# Metric cable entries EN 62444 / EN 60423: size -> entry hole (knockout) diameter, mm.
CABLE_ENTRIES = {16: 16.5, 20: 20.5, 25: 25.5, 32: 32.5}
# Top-hat rails EN 60715: name -> (width, depth, thickness, base outer width), mm.
DIN_RAILS = {"TS35x7.5": (35.0, 7.5, 1.0, 27.0), "TS35x15": (35.0, 15.0, 1.5, 27.0)}
# Cable glands with metric thread EN 62444: thread -> (body AF, thread length, cable min,
# cable max), mm; pitch 1.5 for all sizes.
CABLE_GLANDS = {
    12: (15, 8, 3.0, 6.5), 16: (20, 8, 4.0, 8.0), 20: (24, 9, 6.0, 12.0), 25: (30, 10, 9.0, 16.0),
    32: (40, 11, 13.0, 21.0), 40: (50, 12, 19.0, 28.0), 50: (57, 13, 27.0, 35.0),
    63: (68, 14, 34.0, 44.0),
}  # fmt: skip
# Feed-through terminal blocks EN 60947-7-1, common catalogue sizes: cross-section mm^2 ->
# (pitch width, length, height), mm, for TS35 rail.
TERMINAL_BLOCKS = {
    2.5: (5.2, 42.5, 47.0), 4: (6.2, 42.5, 47.0), 6: (8.2, 46.5, 47.0), 10: (10.2, 53.0, 47.0),
    16: (12.2, 62.0, 55.0), 35: (15.2, 70.0, 60.0),
}  # fmt: skip


def electronics_enclosure(rng: np.random.Generator, extreme: str | None = None) -> GeneratedPart:
    """Electronics box body: rounded shell, lid rebate at the rim, corner screw bosses with
    pilot holes, optional mounting ears with holes."""
    length, width, height = (float(x) for x in choose(rng, ENCLOSURES, extreme))
    wall = round(between(rng, 2.0, 3.0, extreme), 1)
    floor = round(between(rng, wall, wall + 1.0, extreme), 1)
    corner = round(between(rng, wall + 1.0, min(12.0, 0.15 * width), extreme), 1)
    lip_h = round(between(rng, 1.5, 3.0, extreme), 1)
    outer = extrude(rounded_rectangle(length, width, corner, 6), height)
    inner_r = max(corner - wall, 0.8)
    cavity = extrude(
        rounded_rectangle(length - 2 * wall, width - 2 * wall, inner_r, 6), height, floor
    )
    rebate = extrude(
        rounded_rectangle(length - wall, width - wall, max(corner - wall / 2, 0.8), 6),
        lip_h + 1,
        height - lip_h,
    )
    screw = 3.0 if width < 100 else 4.0
    boss_r = 0.5 * screw + 2.0
    bx, by = length / 2 - wall - 0.6 * boss_r, width / 2 - wall - 0.6 * boss_r
    spots = [(sx * bx, sy * by) for sx in (-1, 1) for sy in (-1, 1)]
    boss_h = height - lip_h - 1.0 - floor
    bosses = [
        cylinder(boss_r, boss_h + 0.5, 24, z0=floor - 0.5).translate((x, y, 0)) for x, y in spots
    ]
    pilots = [
        cylinder(0.42 * screw, boss_h, 16, z0=floor + 1.0).translate((x, y, 0)) for x, y in spots
    ]
    body = subtract(union([subtract(outer, [cavity, rebate]), *bosses]), pilots)
    ears = flag(rng, 0.4, extreme)
    holes = 0
    if ears:
        ear_w, d = 2.4 * (screw + 1) + 4, screw + 0.5
        tabs = [
            box(ear_w, 0.5 * width, floor, (s * (length / 2 + ear_w / 2 - 0.5), 0, floor / 2))
            for s in (-1, 1)
        ]
        tabs = [
            subtract(
                tab,
                [
                    cylinder(d / 2, floor + 2, 20, z0=-1).translate(
                        (s * (length / 2 + ear_w / 2), 0, 0)
                    )
                ],
            )
            for tab, s in zip(tabs, (-1, 1), strict=True)
        ]
        body = union([body, *tabs])
        holes = 2
    material = pick(rng, ["aluminium", "ABS", "polycarbonate", "aluminium"])
    size = f"{fmt(length)} x {fmt(width)} x {fmt(height)} mm"
    return make_part(
        rng,
        body,
        name=f"Enclosure {fmt(length)}x{fmt(width)}x{fmt(height)}",
        tags=[
            material,
            "enclosure",
            "electronics",
            "die-cast" if material == "aluminium" else "moulded",
            "screw bosses",
            "IP54",
        ]
        + (["mounting flange"] if ears else []),
        parameters=rounded(
            length=length,
            width=width,
            height=height,
            wall=wall,
            floor=floor,
            lid_rebate=lip_h,
            screw=screw,
            mounting_ears=int(ears),
        ),
        names=[
            "electronics enclosure",
            "project box",
            "instrument case",
            "die-cast box",
            "housing",
        ],
        size=size,
        material=material,
        attributes=ShapeAttributes(form="housing", holes=holes, symmetry="mirror"),
        extras=[
            f"hollow electronics box {size}, {fmt(wall)} mm walls, "
            f"four M{fmt(screw)} lid screw bosses",
            f"enclosure base with a {fmt(lip_h)} mm lid rebate around the rim"
            + (" and two flanged mounting ears" if ears else ""),
        ],
    )


def junction_box(rng: np.random.Generator, extreme: str | None = None) -> GeneratedPart:
    """Surface-mounted junction box EN 60670-22: open box with cable entries through the walls,
    knockout rings still closed, floor fixing holes and corner lid screw posts."""
    length, width, height, wall = (float(x) for x in choose(rng, JUNCTION_BOXES, extreme))
    entry = int(
        choose(rng, [m for m in CABLE_ENTRIES if CABLE_ENTRIES[m] <= 0.55 * height], extreme)
    )
    d = CABLE_ENTRIES[entry]
    outer = extrude(rounded_rectangle(length, width, 2 * wall, 4), height)
    cavity = extrude(rounded_rectangle(length - 2 * wall, width - 2 * wall, wall, 4), height, wall)
    post = 3.5 * wall
    ox, oy = length / 2 - wall - post / 2 + 0.5, width / 2 - wall - post / 2 + 0.5
    posts = [
        box(post, post, height - 2 * wall, (sx * ox, sy * oy, height / 2))
        for sx in (-1, 1) for sy in (-1, 1)
    ]  # fmt: skip
    pilots = [
        cylinder(1.7, height, 16, z0=2 * wall).translate((sx * ox, sy * oy, 0))
        for sx in (-1, 1) for sy in (-1, 1)
    ]  # fmt: skip
    body = subtract(union([subtract(outer, [cavity]), *posts]), pilots)
    zc = wall + 0.45 * (height - wall)
    n = segments_for(d / 2, lo=24, hi=40)
    if extreme in ("min", "max"):
        opened = [0, 1] if extreme == "min" else [0, 1, 2, 3]
    else:
        opened = sorted(int(i) for i in rng.choice(4, size=int(rng.integers(1, 5)), replace=False))
    hole = along_x(cylinder(d / 2, 4 * wall, n, z0=-2 * wall))
    # knockout still closed: a 0.6 mm deep ring groove on the outside of the wall
    ring = along_x(subtract(cylinder(d / 2 + 0.8, 1.2, n, z0=-0.6), [cylinder(d / 2, 2, n, z0=-1)]))
    cuts, rings = [], []
    walls = (
        (0, length / 2, 0.0),
        (180, -length / 2, 0.0),
        (90, 0.0, width / 2),
        (270, 0.0, -width / 2),
    )
    for side, (ang, cx, cy) in enumerate(walls):
        span = width if side < 2 else length
        offsets = [0.0] if span < 3 * d + 40 else [-span / 5, span / 5]
        for u in offsets:
            at = (cx, cy + u, zc) if side < 2 else (cx + u, cy, zc)
            if side in opened:
                cuts.append(hole.rotate((0, 0, ang)).translate(at))
            else:
                rings.append(ring.rotate((0, 0, ang)).translate(at))
    fixing = [
        cylinder(2.25, 3 * wall, 16, z0=-wall).translate((sx * length / 4, sy * width / 4, 0))
        for sx, sy in ((-1, -1), (1, 1))
    ]
    body = subtract(body, cuts + rings + fixing)
    holes = len(cuts) + len(fixing)
    material = pick(rng, ["polycarbonate", "ABS", "aluminium", "polycarbonate"])
    size = f"{fmt(length)} x {fmt(width)} x {fmt(height)} mm"
    return make_part(
        rng,
        body,
        name=f"Junction box {fmt(length)}x{fmt(width)}x{fmt(height)}, {len(cuts)} x M{entry}",
        tags=[material, "junction box", "EN 60670-22", "IP65", "knockouts", f"M{entry} entries"],
        parameters=rounded(
            length=length,
            width=width,
            height=height,
            wall=wall,
            entry_size=entry,
            entry_diameter=d,
            open_entries=len(cuts),
            closed_knockouts=len(rings),
        ),
        names=["junction box", "terminal box", "connection box", "adaptable box", "wall box"],
        size=size,
        standard="EN 60670-22",
        material=material,
        attributes=ShapeAttributes(form="housing", holes=holes, symmetry="mirror"),
        extras=[
            f"IP65 junction box {size} with {len(cuts)} open M{entry} cable entries "
            f"({fmt(d)} mm) and {len(rings)} knockouts still closed",
            f"surface mounted terminal box, {fmt(wall)} mm walls, two fixing holes in the floor",
        ],
    )


def din_rail(rng: np.random.Generator, extreme: str | None = None) -> GeneratedPart:
    """Top-hat mounting rail EN 60715 TS35 (7.5 or 15 mm deep), plain or slotted base."""
    code, (w, h, t, b) = choose_row(rng, DIN_RAILS, extreme)
    length = float(choose(rng, (75, 100, 125, 150, 200, 250, 300, 400, 500), extreme))
    r_in = round(between(rng, 0.5, 1.0, extreme), 2)
    half = b / 2 - t / 2
    mid = [(-w / 2, h - t / 2), (-half, h - t / 2), (-half, t / 2), (half, t / 2),
           (half, h - t / 2), (w / 2, h - t / 2)]  # fmt: skip
    body = prism_along_x(bent_section(mid, t, r_in, stepped_count(rng, 6, extreme, step=2)), length)
    slotted = flag(rng, 0.7, extreme)
    holes = 0
    if slotted:
        sw, sl, pitch = 5.2, 15.0, 25.0
        count = int(length // pitch)
        slot = stadium((sl - sw) / 2, sw / 2, 4)
        start = (length - (count - 1) * pitch) / 2
        slots = unary_union([affinity.translate(slot, start + i * pitch, 0) for i in range(count)])
        body = subtract(body, [extrude(slots, t + 2, -1)])
        holes = count
    material = pick(rng, ["zinc-plated steel", "steel", "aluminium", "stainless"])
    size = f"{code}, {fmt(length)} mm"
    return make_part(
        rng,
        body,
        name=f"DIN rail {code} {fmt(length)} mm" + (" slotted" if slotted else ""),
        tags=[material, "EN 60715", "DIN rail", "top hat", code]
        + (["slotted"] if slotted else ["plain"]),
        parameters=rounded(width=w, depth=h, thickness=t, length=length, slots=holes),
        names=["DIN rail", "top-hat rail", "TS35 rail", "mounting rail", "35 mm rail"],
        size=size,
        standard="EN 60715",
        material=material,
        attributes=ShapeAttributes(form="profile", holes=holes, symmetry="mirror"),
        extras=[
            f"35 mm top hat rail, {fmt(h)} mm deep, {fmt(t)} mm sheet, {fmt(length)} mm long",
            (
                f"slotted DIN rail with {holes} slots 5.2 x 15 mm at 25 mm pitch"
                if slotted
                else "plain unslotted DIN rail for terminal blocks and breakers"
            ),
        ],
    )


def cable_gland(rng: np.random.Generator, extreme: str | None = None) -> GeneratedPart:
    """Metric cable gland EN 62444: threaded entry, hex body, dome or hex cap nut, cable bore."""
    size, (af, thread_len, cab_min, cab_max) = choose_row(rng, CABLE_GLANDS, extreme)
    pitch, r = 1.5, size / 2
    modelled = flag(rng, 0.7, extreme)
    dome = flag(rng, 0.6, extreme)
    hex_h = round(0.22 * af + 3, 1)
    cap_h = round(0.35 * af + 4, 1)
    bore = cab_max / 2 + 0.5
    depth = 0.54 * pitch
    n = stepped_count(rng, segments_for(r, lo=32, hi=64), extreme)
    prof = [(bore, 0.0), (r - depth, 0.0)]
    if modelled:
        for i in range(int((thread_len - 1) / pitch)):
            z = 0.5 + i * pitch
            prof += [(r - depth, z + 0.1 * pitch), (r, z + 0.5 * pitch)]
    else:
        prof.append((r, depth))
    prof += [(r, thread_len + 0.3), (bore, thread_len + 0.3)]
    thread = revolve(np.array(prof), n)
    collar = cylinder(0.5 * af * 1.05, 1.2, n, z0=thread_len)
    body = chamfered_hex(af, hex_h, both_ends=True).translate((0, 0, thread_len + 1.0))
    z_cap = thread_len + 1.0 + hex_h + 0.3
    cap_hex = chamfered_hex(af, 0.55 * cap_h, both_ends=True).translate((0, 0, z_cap))
    top = z_cap + 0.55 * cap_h
    seal = cab_min / 2 + 0.25 * (cab_max - cab_min)
    if dome:
        rise = 0.45 * cap_h
        k = np.linspace(0, math.pi / 2, 8)
        arc = [(seal + (0.45 * af - seal) * math.cos(q), top - 0.3 + rise * math.sin(q)) for q in k]
        cap_top = revolve(np.array([(seal, top - 0.3), *arc]), n)
    else:
        cap_top = cylinder(0.45 * af, 0.25 * cap_h, n, z0=top - 0.3)
    solid = union([thread, collar, body, cap_hex, cap_top])
    height = float(solid.bounding_box()[5])
    solid = subtract(solid, [cylinder(bore, top, n, z0=-1), cylinder(seal, height + 2, n, z0=-1)])
    material = pick(rng, ["nylon", "brass", "stainless", "nylon"])
    m = f"M{size}x1.5"
    return make_part(
        rng,
        solid,
        name=f"Cable gland {m}",
        tags=[
            material,
            "EN 62444",
            "cable gland",
            "threaded",
            "IP68",
            "dome cap" if dome else "hex cap",
        ],
        parameters=rounded(
            thread=m,
            across_flats=float(af),
            thread_length=float(thread_len),
            cable_min=cab_min,
            cable_max=cab_max,
            height=round(height, 2),
            modelled_thread=int(modelled),
        ),
        names=[
            "cable gland",
            "cord grip",
            "cable connector",
            "strain relief gland",
            "compression gland",
        ],
        size=m,
        standard="EN 62444",
        material=material,
        attributes=ShapeAttributes(
            form="fitting", drive="external hex", threaded=True, holes=1, symmetry="polar"
        ),
        extras=[
            f"{m} cable gland for cables {fmt(cab_min)} to {fmt(cab_max)} mm, {af} mm across flats",
            f"{'dome' if dome else 'hex'} cap cord grip with {fmt(thread_len)} mm entry thread "
            "and seal insert",
        ],
    )


def terminal_block(rng: np.random.Generator, extreme: str | None = None) -> GeneratedPart:
    """DIN-rail feed-through terminal block EN 60947-7-1: thin moulded slab with rail foot,
    screw clamps reached from the top and wire openings at both ends."""
    cs, (pitch, length, height) = choose_row(rng, TERMINAL_BLOCKS, extreme)
    per_side = (
        (1, 1)
        if extreme == "min"
        else (2, 2)
        if extreme == "max"
        else pick(rng, ((1, 1), (1, 1), (1, 2), (2, 2)))
    )
    step = 0.55 * height
    end = 0.3 * length
    if max(per_side) == 2:
        end = 0.36 * length
    outline = sg.Polygon([
        (-length / 2, 0), (-17.9, 0), (-17.9, 2.2), (17.9, 2.2), (17.9, 0), (length / 2, 0),
        (length / 2, step), (length / 2 - end, step), (length / 2 - end - 0.05 * length, height),
        (-length / 2 + end + 0.05 * length, height), (-length / 2 + end, step), (-length / 2, step),
    ])  # fmt: skip
    body = prism_along_y(outline, pitch)
    screw_d = round(0.55 * pitch + 0.6, 1)
    wire = round(0.5 * pitch + 0.6, 1)
    cuts = []
    for sign, k in zip((-1, 1), per_side, strict=True):
        for j in range(k):
            x_screw = sign * (length / 2 - end * (j + 0.5) / k)
            z_wire = 0.3 * height - 0.08 * height * j
            x_end = abs(x_screw) - screw_d / 2 + 0.2 * wire  # the pocket runs just past the screw
            pocket = box(
                length / 2 - x_end + 1, wire, wire, (sign * (length / 2 + 1 + x_end) / 2, 0, z_wire)
            )
            hole = cylinder(screw_d / 2, step - z_wire + 1, 20, z0=z_wire).translate(
                (x_screw, 0, 0)
            )
            cuts += [pocket, hole]
    plateau = length - 2 * end - 0.1 * length
    marker = box(0.6 * plateau, 0.6 * pitch, 1.2, (0, 0, height))
    jumpers = [box(2.2, 0.5 * pitch, 8, (s * 0.3 * plateau, 0, height)) for s in (-1, 1)]
    body = subtract(body, cuts + [marker, *jumpers])
    holes = sum(per_side)
    material = pick(rng, ["nylon", "nylon", "polyamide 66"])
    size = f"{fmt(cs)} mm2, {fmt(pitch)} mm pitch"
    return make_part(
        rng,
        body,
        name=f"Terminal block {fmt(cs)} mm2, {holes} connections",
        tags=[material, "EN 60947-7-1", "terminal block", "DIN rail", "screw clamp", "TS35"],
        parameters=rounded(
            cross_section=float(cs), pitch=pitch, length=length, height=height, connections=holes
        ),
        names=[
            "terminal block",
            "DIN rail terminal",
            "feed-through terminal",
            "screw terminal",
            "rail-mount terminal",
        ],
        size=size,
        standard="EN 60947-7-1",
        material=material,
        attributes=ShapeAttributes(
            form="block", holes=holes, symmetry="mirror" if per_side[0] == per_side[1] else "none"
        ),
        extras=[
            f"{fmt(cs)} mm2 feed-through terminal, {fmt(pitch)} mm wide, snaps onto a TS35 rail",
            f"screw clamp terminal block, {holes} wire entries, {fmt(length)} x {fmt(height)} mm",
        ],
    )


FAMILY_LIST = (
    Family("electronics_enclosure", "enclosure", electronics_enclosure, "enclosure"),
    Family("junction_box", "junction_box", junction_box, "enclosure"),
    Family("din_rail", "din_rail", din_rail, "rail"),
    Family("cable_gland", "cable_gland", cable_gland, "electrical_fitting"),
    Family("terminal_block", "terminal_block", terminal_block, "electrical_fitting"),
)
