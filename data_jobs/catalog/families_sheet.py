"""Sheet-metal parts: bent, punched and formed parts of constant thickness."""

from __future__ import annotations

import math

import numpy as np
import shapely.geometry as sg
from shapely import affinity
from shapely.ops import unary_union

from data_jobs.catalog import families_standards as std
from data_jobs.catalog.attributes import ShapeAttributes
from data_jobs.catalog.choices import between, choose, choose_row, flag, pick, stepped_count
from data_jobs.catalog.families_base import (
    Family,
    GeneratedPart,
    circle,
    cylinder,
    extrude,
    fmt,
    make_part,
    rounded,
    rounded_rectangle,
    subtract,
)
from data_jobs.catalog.geometry_kit import bent_section, prism_along_x, prism_along_y, stadium

# Sheet gauges (mm) used for bent parts; inner bend radius about 1 x t (DIN 6935 for steel).
GAUGES = (0.8, 1.0, 1.25, 1.5, 2.0, 2.5, 3.0)

# Round perforations DIN 24041: designation -> (hole diameter, pitch), mm; Rv staggered 60 deg,
# Rg straight rows; slotted Lv: (slot width, slot length, pitch across, pitch along).
ROUND_PERFORATIONS: dict[str, tuple[float, float]] = {
    "Rv 2-3.5": (2.0, 3.5), "Rv 3-5": (3.0, 5.0), "Rv 4-6": (4.0, 6.0), "Rv 5-8": (5.0, 8.0),
    "Rg 5-8": (5.0, 8.0), "Rv 6-9": (6.0, 9.0), "Rv 8-12": (8.0, 12.0), "Rg 10-14": (10.0, 14.0),
    "Rv 10-15": (10.0, 15.0),
}  # fmt: skip
SLOT_PERFORATIONS: dict[str, tuple[float, float, float, float]] = {
    "Lv 2x10": (2.0, 10.0, 5.0, 14.0), "Lv 3x15": (3.0, 15.0, 6.0, 20.0),
    "Lv 5x20": (5.0, 20.0, 9.0, 26.0),
}  # fmt: skip

# Cable trays EN 61537: width -> (side heights, sheet thickness), mm.
CABLE_TRAYS: dict[int, tuple[tuple[int, ...], float]] = {
    50: ((35, 60), 0.75), 100: ((35, 60), 1.0), 150: ((60,), 1.0), 200: ((60, 85), 1.0),
    300: ((60, 85, 110), 1.25), 400: ((60, 85, 110), 1.5), 500: ((85, 110), 1.5),
    600: ((85, 110), 1.5),
}  # fmt: skip

# Copper and steel tube outside diameters (EN 1057 / EN 10305), mm, for tube clips.
TUBE_ODS = (6, 8, 10, 12, 15, 16, 18, 20, 22, 25, 28, 32, 35)

MATERIALS = ("steel", "zinc-plated steel", "stainless", "aluminium", "galvanized steel")


def _holes_z(spots, d: float, t: float, z0: float = 0.0) -> list:
    """Vertical round punches of diameter ``d`` through a sheet lying from z0 to z0 + t."""
    return [cylinder(d / 2, t + 2, None, z0=z0 - 1).translate((x, y, 0)) for x, y in spots]


def z_bracket(rng: np.random.Generator, extreme: str | None = None) -> GeneratedPart:
    """Z bracket (joggle): two parallel flanges offset by a web, punched clearance holes."""
    t = float(choose(rng, GAUGES[1:], extreme))
    screw = float(choose(rng, [s for s in (3, 4, 5, 6, 8, 10) if s <= 3.5 * t], extreme))
    d = std.CLEARANCE_HOLES[screw]
    r_in = t
    flat = between(rng, 2.5 * d, 4.5 * d, extreme)
    a = float(round(flat + r_in + t))
    b = float(round(between(rng, 2.5 * d, 4.5 * d, extreme) + r_in + t))
    h = float(round(between(rng, 3 * t + 2 * r_in + 4, 12 * t + 20, extreme)))
    w = float(round(between(rng, 2.2 * d + 6, 7 * d + 10, extreme)))
    mid = [(0, t / 2), (a, t / 2), (a, h - t / 2), (a + b, h - t / 2)]
    body = prism_along_y(bent_section(mid, t, r_in, stepped_count(rng, 6, extreme, step=2)), w)
    per = 2 if w >= 5 * d + 4 else 1
    ys = [0.0] if per == 1 else [-w / 4 - d / 4, w / 4 + d / 4]
    x_lo = (a - r_in - t / 2) / 2
    x_hi = a + (r_in + t / 2) + (b - r_in - t / 2) / 2
    cuts = _holes_z([(x_lo, y) for y in ys], d, t) + _holes_z([(x_hi, y) for y in ys], d, t, h - t)
    body = subtract(body, cuts)
    material = pick(rng, MATERIALS)
    holes = len(cuts)
    size = f"{fmt(a)} x {fmt(h)} x {fmt(b)} x {fmt(w)} mm, t = {fmt(t)}"
    return make_part(
        rng,
        body,
        name=f"Z bracket {fmt(a)}x{fmt(h)}x{fmt(b)}x{fmt(w)}x{fmt(t)}",
        tags=[material, "sheet metal", "bracket", "Z-shaped", "bent", "DIN 6935", "ISO 273"],
        parameters=rounded(
            flange_a=a,
            offset=h,
            flange_b=b,
            width=w,
            thickness=t,
            bend_radius=r_in,
            hole_diameter=d,
            holes=holes,
        ),
        names=["Z bracket", "joggle bracket", "offset bracket", "Z angle", "step bracket"],
        size=size,
        standard="DIN 6935",
        material=material,
        attributes=ShapeAttributes(form="bracket", holes=holes, symmetry="none"),
        extras=[
            f"Z-shaped offset bracket, {fmt(h)} mm offset between the flanges, {fmt(t)} mm sheet",
            f"bent joggle bracket with {holes} holes for M{fmt(screw)} screws ({fmt(d)} mm)",
            f"sheet metal Z angle {fmt(w)} mm wide, flanges {fmt(a)} and {fmt(b)} mm",
        ],
    )


def _clip_midline(r: float, base: float, lip: float, end_deg: float) -> list[tuple[float, float]]:
    """Mid-line of a snap clip: flat base centred at the origin, two arcs of radius ``r`` up to
    ``end_deg`` above the horizontal, then short lips flaring outward."""
    right = []
    for q in np.linspace(-90.0, end_deg, 28):
        q = math.radians(q)
        right.append((base / 2 + r * math.cos(q), r + r * math.sin(q)))
    q = math.radians(end_deg)
    tip = right[-1]
    flare = math.radians(end_deg - 60.0)
    right.append((tip[0] + lip * math.cos(flare), tip[1] + lip * math.sin(flare)))
    left = [(-x, z) for x, z in reversed(right)]
    return left + right


def mounting_clip(rng: np.random.Generator, extreme: str | None = None) -> GeneratedPart:
    """Spring steel snap-in tube clip: flat base with one screw hole, open ring, flared lips."""
    od = float(choose(rng, TUBE_ODS, extreme))
    t = float(choose(rng, [g for g in GAUGES if 0.04 * od <= g <= 0.08 * od + 0.5], extreme))
    d = float(choose(rng, (3.4, 4.5) if od < 16 else (4.5, 5.5), extreme))
    w = float(round(between(rng, max(d + 4, 0.5 * od), max(d + 6, 0.8 * od), extreme)))
    r = od / 2 + t / 2
    base = max(d + 2 * t + 2, 0.35 * od)
    end_deg = between(rng, 35.0, 55.0, extreme)
    lip = between(rng, 0.15 * od + 1, 0.3 * od + 2, extreme)
    section = sg.LineString(_clip_midline(r, base, lip, end_deg)).buffer(
        t / 2, cap_style="flat", join_style="round", quad_segs=4
    )
    body = subtract(prism_along_y(section, w), _holes_z([(0.0, 0.0)], d, t, -t / 2))
    material = pick(rng, ["spring steel", "stainless", "zinc-plated steel"])
    size = f"for {fmt(od)} mm tube"
    return make_part(
        rng,
        body,
        name=f"Tube clip {fmt(od)} mm",
        tags=[material, "sheet metal", "clip", "spring clip", "snap-in", "one-hole"],
        parameters=rounded(
            tube_diameter=od, thickness=t, width=w, hole_diameter=d, base_width=round(base, 2)
        ),
        names=["spring clip", "snap-in tube clip", "pipe clip", "spring steel clip", "omega clip"],
        size=size,
        material=material,
        attributes=ShapeAttributes(form="clip", holes=1, symmetry="mirror"),
        extras=[
            f"one-hole spring steel pipe clip for {fmt(od)} mm tube, {fmt(t)} mm thick band",
            f"snap-in clip {fmt(w)} mm wide with a {fmt(d)} mm screw hole in the flat base",
            f"open ring clip holding a {fmt(od)} mm tube, lips flared outward for snapping in",
        ],
    )


def perforated_sheet(rng: np.random.Generator, extreme: str | None = None) -> GeneratedPart:
    """Perforated sheet DIN 24041: round holes (staggered or straight rows) or slots, with a
    plain border."""
    slotted = not flag(rng, 0.75, extreme)
    t = float(choose(rng, GAUGES, extreme))
    if slotted:
        code, (sw, sl, px, py) = choose_row(rng, SLOT_PERFORATIONS, extreme)
        nx = int(choose(rng, range(4, 11), extreme))
        ny = int(choose(rng, range(3, 9), extreme))
        one = stadium((sl - sw) / 2, sw / 2, 3, axis="y")
        spots = [
            ((i - (nx - 1) / 2) * px, (j - (ny - 1) / 2) * py + (py / 2 if i % 2 else 0.0))
            for i in range(nx) for j in range(ny)
        ]  # fmt: skip
        field_x, field_y, feature = nx * px, (ny + 0.5) * py, sl
        staggered, d, pitch = True, sw, px
    else:
        code, (d, pitch) = choose_row(rng, ROUND_PERFORATIONS, extreme)
        t = min(t, d)
        staggered = code.startswith("Rv")
        nx = int(choose(rng, range(5, 15), extreme))
        ny = int(choose(rng, range(4, 12), extreme))
        row = pitch * math.sqrt(3) / 2 if staggered else pitch
        spots = [
            ((i - (nx - 1) / 2) * pitch + (pitch / 2 if staggered and j % 2 else 0.0),
             (j - (ny - 1) / 2) * row)
            for i in range(nx) for j in range(ny)
        ]  # fmt: skip
        one = circle(d / 2, segments=12 if d < 6 else 16)
        field_x, field_y, feature = (nx + 0.5) * pitch, ny * row, d
    border = float(round(between(rng, 1.0 * feature + 3, 2.0 * feature + 10, extreme)))
    length, width = float(round(field_x + 2 * border)), float(round(field_y + 2 * border))
    corner = float(choose(rng, (0.0, 2.0, 5.0), extreme))
    punches = unary_union([affinity.translate(one, x, y) for x, y in spots])
    body = subtract(
        extrude(rounded_rectangle(length, width, corner, 4), t), [extrude(punches, t + 2, z0=-1)]
    )
    holes = len(spots)
    material = pick(rng, MATERIALS)
    pattern = "slots" if slotted else ("staggered round holes" if staggered else "round holes")
    size = f"{code}, {fmt(length)} x {fmt(width)} x {fmt(t)} mm"
    return make_part(
        rng,
        body,
        name=f"Perforated sheet {code} {fmt(length)}x{fmt(width)}x{fmt(t)}",
        tags=[material, "sheet metal", "perforated", "DIN 24041", "punched", pattern],
        parameters=rounded(
            length=length,
            width=width,
            thickness=t,
            hole_size=d,
            pitch=pitch,
            holes=holes,
            pattern=code,
        ),
        names=["perforated sheet", "perforated metal plate", "punched sheet", "screen plate"],
        size=size,
        standard="DIN 24041",
        material=material,
        attributes=ShapeAttributes(form="sheet", holes=holes, symmetry="mirror"),
        extras=[
            f"{fmt(t)} mm perforated plate with {holes} {pattern}, {fmt(pitch)} mm pitch",
            f"punched metal sheet {fmt(length)} x {fmt(width)} mm, {code} pattern, plain border",
        ],
    )


def cable_tray(rng: np.random.Generator, extreme: str | None = None) -> GeneratedPart:
    """Perforated cable tray EN 61537: U section with folded lips and slots in the bottom."""
    width, (heights, t) = choose_row(rng, CABLE_TRAYS, extreme)
    height = float(choose(rng, heights, extreme))
    lip = flag(rng, 0.6, extreme)
    r_in = t
    y, z = width / 2 - t / 2, height - t / 2
    mid = [(-y, z), (-y, t / 2), (y, t / 2), (y, z)]
    if lip:
        lip_w = min(12.0, 0.12 * width + 4)
        mid = [(-y + lip_w, z), *mid, (y - lip_w, z)]
    pitch = float(choose(rng, (25.0, 30.0, 40.0, 50.0), extreme))
    rows = int(choose(rng, range(6, 15), extreme))
    length = rows * pitch
    body = prism_along_x(bent_section(mid, t, r_in, stepped_count(rng, 6, extreme, step=2)), length)
    sw, sl = (5.0, 20.0) if width <= 100 else (7.0, 35.0)
    across = max(1, int((width - 4 * r_in - 10) // (sl + 15)))
    slot = stadium((sl - sw) / 2, sw / 2, 3)
    gap = (width - 2 * r_in - 10) / across
    # slots run across the tray, so the bottom stays whole along its length
    slot = affinity.rotate(slot, 90)
    spots = [
        ((i + 0.5) * pitch, -((width - 2 * r_in - 10) / 2) + (j + 0.5) * gap)
        for i in range(rows) for j in range(across)
    ]  # fmt: skip
    slots = unary_union([affinity.translate(slot, x, yy) for x, yy in spots])
    body = subtract(body, [extrude(slots, t + 2, z0=-1)])
    holes = len(spots)
    material = pick(rng, ["galvanized steel", "zinc-plated steel", "stainless", "aluminium"])
    size = f"{width} x {fmt(height)} mm"
    return make_part(
        rng,
        body,
        name=f"Cable tray {width}x{fmt(height)}, {fmt(length)} mm",
        tags=[material, "sheet metal", "cable tray", "perforated", "EN 61537", "U-section"]
        + (["return lip"] if lip else []),
        parameters=rounded(
            width=width, height=height, thickness=t, length=length, slots=holes, slot_pitch=pitch
        ),
        names=["cable tray", "perforated cable tray", "cable trunking tray", "cable ladder tray"],
        size=size,
        standard="EN 61537",
        material=material,
        attributes=ShapeAttributes(form="sheet", holes=holes, symmetry="mirror"),
        extras=[
            f"{width} mm wide perforated cable tray, {fmt(height)} mm sides, {fmt(t)} mm sheet",
            f"U-section cable tray {fmt(length)} mm long with {holes} slots in the bottom"
            + (", side walls with inward return lips" if lip else ""),
        ],
    )


def hat_channel(rng: np.random.Generator, extreme: str | None = None) -> GeneratedPart:
    """Cold-formed hat (omega) section: crown, sloped webs and two flanges, optional flange
    holes at a pitch."""
    t = float(choose(rng, GAUGES[1:], extreme))
    crown = float(round(between(rng, 10 * t + 8, 20 * t + 30, extreme)))
    height = float(round(between(rng, 8 * t + 8, 15 * t + 30, extreme)))
    flange = float(round(between(rng, 6 * t + 6, 10 * t + 15, extreme)))
    angle = between(rng, 65.0, 90.0, extreme)
    length = float(choose(rng, (150, 200, 250, 300, 400, 500, 600), extreme))
    r_in = t
    run = (height - t) / math.tan(math.radians(angle))
    half = crown / 2 - t / 2
    mid = [
        (-half - run - flange, t / 2), (-half - run, t / 2), (-half, height - t / 2),
        (half, height - t / 2), (half + run, t / 2), (half + run + flange, t / 2),
    ]  # fmt: skip
    body = prism_along_x(bent_section(mid, t, r_in, stepped_count(rng, 6, extreme, step=2)), length)
    holes = 0
    if flag(rng, 0.6, extreme) and flange - r_in - t >= 6:
        d = float(min(9.0, round(0.5 * (flange - r_in - t), 1)))
        pitch = float(choose(rng, (50.0, 75.0, 100.0), extreme))
        count = int(length // pitch)
        y = half + run + r_in + t / 2 + (flange - r_in - t / 2) / 2
        xs = [(i + 0.5) * length / count for i in range(count)]
        cuts = _holes_z([(x, s * y) for x in xs for s in (-1, 1)], d, t)
        body = subtract(body, cuts)
        holes = len(cuts)
    material = pick(rng, MATERIALS)
    size = f"{fmt(crown)} x {fmt(height)} x {fmt(flange)} x {fmt(t)} mm"
    overall = crown + 2 * run + 2 * flange
    return make_part(
        rng,
        body,
        name=f"Hat channel {fmt(crown)}x{fmt(height)}x{fmt(t)}, {fmt(length)} mm",
        tags=[material, "sheet metal", "hat section", "omega profile", "cold-formed", "EN 10162"],
        parameters=rounded(
            crown=crown,
            height=height,
            flange=flange,
            thickness=t,
            web_angle=round(angle, 1),
            length=length,
            overall_width=round(overall, 2),
            holes=holes,
        ),
        names=["hat channel", "omega profile", "top hat section", "furring channel", "hat section"],
        size=size,
        standard="EN 10162",
        material=material,
        attributes=ShapeAttributes(form="profile", holes=holes, symmetry="mirror"),
        extras=[
            f"cold-formed omega section {fmt(overall, 1)} mm over the flanges, {fmt(t)} mm thick",
            f"hat-shaped steel profile, {fmt(height)} mm deep, webs at {fmt(angle, 0)} degrees, "
            f"{fmt(length)} mm long" + (f", {holes} flange holes" if holes else ""),
        ],
    )


FAMILY_LIST: tuple[Family, ...] = (
    Family("z_bracket", "z_bracket", z_bracket, "bracket"),
    Family("mounting_clip", "spring_clip", mounting_clip, "clip"),
    Family("perforated_sheet", "perforated_sheet", perforated_sheet, "sheet"),
    Family("cable_tray", "cable_tray", cable_tray, "tray"),
    Family("hat_channel", "hat_channel", hat_channel, "profile"),
)
