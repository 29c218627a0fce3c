"""Rolling bearings and housed units: tapered roller, needle and thrust bearings, pillow blocks
and flanged units with UC inserts."""

from __future__ import annotations

import math

import numpy as np
import shapely.geometry as sg

from data_jobs.catalog import standards_motion as sm
from data_jobs.catalog.attributes import ShapeAttributes
from data_jobs.catalog.choices import choose, choose_row, flag, nominal_density
from data_jobs.catalog.families_base import (
    Family,
    GeneratedPart,
    Solid,
    box,
    chamfered_hex,
    circle,
    cylinder,
    extrude,
    fmt,
    make_part,
    polar_copies,
    revolve,
    rounded,
    rounded_rectangle,
    scaled_segments,
    subtract,
    union,
)
from data_jobs.catalog.geometry_kit import (
    ring_section,
    stadium,
)

BEARING_MATERIALS = ("bearing steel", "bearing steel", "stainless")


def _ring(r_in: float, r_out: float, z0: float, z1: float, c: float, n: int) -> Solid:
    """Chamfered rectangular ring section (r_in..r_out, z0..z1) revolved about Z."""
    c = min(c, 0.3 * (r_out - r_in), 0.3 * (z1 - z0))
    return revolve(np.array(ring_section(r_in, r_out, z0, z1, c)), n)


def tapered_roller_bearing(rng: np.random.Generator, extreme: str | None = None) -> GeneratedPart:
    """Tapered roller bearing ISO 355 (302xx / 322xx): cup, and cone carrying tapered rollers.

    The rollers rest on the cone raceway (one body with the cone) and clear the cup by a gap,
    so the bearing is two ring bodies with one bore.
    """
    designation, row = choose_row(rng, sm.TAPERED_ROLLER_BEARINGS, extreme)
    d, D, T, B, C = map(float, row)
    alpha = math.radians(float(rng.uniform(12.0, 16.0)))
    theta, phi = 0.75 * alpha, 0.25 * alpha  # roller axis tilt, roller half-angle
    n = scaled_segments(D / 2, nominal_density(rng, extreme), 48, 72)
    dm = (d + D) / 2
    r1 = 0.11 * (D - d)
    length = 0.68 * B
    r2 = r1 - length * math.tan(phi)
    rib = 0.1 * B
    s_in, c_th = math.sin(theta), math.cos(theta)
    x0 = dm / 2 + length / 2 * s_in
    z0 = rib + 0.15 + r1 * s_in
    roller = revolve(np.array([(0, 0), (r1, 0), (r2, length), (0, length)]), 16)
    roller = roller.rotate((0, -math.degrees(theta), 0)).translate((x0, 0, z0))
    count = max(8, int(math.pi * dm / (2.5 * r1)))

    def line_x(z: float, offset: float, sign: float) -> float:
        """x of the roller's outer (sign +1) or inner (-1) generatrix shifted by offset, at z."""
        # point along the axis at s, plus (r(s) + offset) * sign * normal (cos th, sin th)
        a = z0 + sign * (r1 + offset) * s_in
        b = c_th - sign * math.tan(phi) * s_in
        s = (z - a) / b
        return x0 - s * s_in + sign * (r1 - s * math.tan(phi) + offset) * c_th

    gap = 0.04 * r1 + 0.05
    cup = revolve(
        np.array(
            [(line_x(T - C, gap, 1), T - C), (D / 2, T - C), (D / 2, T), (line_x(T, gap, 1), T)]
        ),
        n,
    )
    race0, race1 = rib, B - 0.6 * rib
    sink = 0.03 * r1  # rollers sink into the cone raceway to join it
    x_a, x_b = line_x(race0, -sink, -1), line_x(race1, -sink, -1)
    cone = revolve(
        np.array(
            [
                (d / 2, 0),
                (x_a + 0.45 * r1, 0),
                (x_a + 0.45 * r1, race0),
                (x_a, race0),
                (x_b, race1),
                (x_b + 0.2 * r1, race1),
                (x_b + 0.2 * r1, B),
                (d / 2, B),
            ]
        ),
        n,
    )
    bearing = union([cup, cone, *polar_copies(roller, count)])
    material = choose(rng, BEARING_MATERIALS)
    series = "302" if designation.startswith("302") else "322"
    return make_part(
        rng,
        bearing,
        name=f"Tapered roller bearing {designation}",
        tags=[
            material,
            "ISO 355",
            "tapered roller bearing",
            "cup and cone",
            f"{series} series",
            "DIN 720",
            "single row",
        ],
        parameters=rounded(
            whole_as_int=True,
            designation=designation,
            bore=d,
            outside_diameter=D,
            width=T,
            cone_width=B,
            cup_width=C,
            rollers=count,
            contact_angle=round(math.degrees(alpha), 1),
        ),
        attributes=ShapeAttributes(form="ring", holes=1, symmetry="polar"),
        names=[
            "tapered roller bearing",
            "taper roller bearing",
            "cup and cone bearing",
            "conical roller bearing",
        ],
        size=f"{designation} ({fmt(d)}x{fmt(D)}x{fmt(T)})",
        standard="ISO 355",
        material=material,
        extras=[
            f"{designation} tapered roller bearing, bore {fmt(d)} mm, OD {fmt(D)} mm, "
            f"width {fmt(T)} mm",
            f"single row taper roller bearing with {count} rollers, cone width {fmt(B)} mm, "
            f"cup width {fmt(C)} mm",
            f"{fmt(d)}x{fmt(D)}x{fmt(T)} cup and cone bearing for combined radial and axial load",
        ],
    )


def needle_roller_bearing(rng: np.random.Generator, extreme: str | None = None) -> GeneratedPart:
    """Drawn cup needle roller bearing ISO 3245: HK (open ends) or BK (one end closed)."""
    designation, row = choose_row(rng, sm.NEEDLE_BEARINGS, extreme)
    fw, D, C = map(float, row)
    closed = flag(rng, 0.25, extreme, draw_at_extremes=True)
    s = max(0.4, 0.12 * (D - fw))
    dw = (D - fw) / 2 - s
    n = scaled_segments(D / 2, nominal_density(rng, extreme), 40, 64)
    r_lip = fw / 2 + 0.35 * dw
    c = 0.3 * s
    prof = [(r_lip, 0), (D / 2 - c, 0), (D / 2, c), (D / 2, C - c), (D / 2 - c, C)]
    prof += [(0.0, C), (0.0, C - s)] if closed else [(r_lip, C), (r_lip, C - s)]
    prof += [(D / 2 - s, C - s), (D / 2 - s, s), (r_lip, s)]
    cup = revolve(np.array(prof), n)
    lz = C - 2 * s - 0.3
    e = 0.2 * dw
    needle = revolve(np.array([(0, 0), (dw / 2 - e, 0), (dw / 2, e), (dw / 2, lz - e),
                               (dw / 2 - e, lz), (0, lz)]), 10)  # fmt: skip
    count = int(math.pi * (fw + dw) / (1.2 * dw))
    # needles touch the cup wall (one body with it) and leave the shaft circle Fw free
    needle = needle.translate((fw / 2 + dw / 2 + 0.02, 0, s + 0.15))
    bearing = union([cup, *polar_copies(needle, count)])
    kind = "BK" + designation[2:] if closed else designation
    material = choose(rng, BEARING_MATERIALS)
    return make_part(
        rng,
        bearing,
        name=f"Needle roller bearing {kind}",
        tags=[
            material,
            "ISO 3245",
            "needle roller bearing",
            "drawn cup",
            "closed end" if closed else "open ends",
        ],
        parameters=rounded(
            whole_as_int=True,
            designation=kind,
            shaft_diameter=fw,
            outside_diameter=D,
            width=C,
            needles=count,
            needle_diameter=round(dw, 2),
        ),
        attributes=ShapeAttributes(form="ring", holes=0 if closed else 1, symmetry="polar"),
        names=[
            "needle roller bearing",
            "drawn cup needle bearing",
            "needle bearing",
            "needle roller cage bearing",
        ],
        size=f"{kind} ({fmt(fw)}x{fmt(D)}x{fmt(C)})",
        standard="ISO 3245",
        material=material,
        extras=[
            f"{kind} drawn cup needle bearing for a {fmt(fw)} mm shaft, {fmt(D)} mm OD, "
            f"{fmt(C)} mm wide",
            f"thin-section needle roller bearing with {count} needles, "
            + ("closed end" if closed else "open both ends"),
            f"{fmt(fw)}x{fmt(D)}x{fmt(C)} needle bush pressed into the housing bore",
        ],
    )


def thrust_ball_bearing(rng: np.random.Generator, extreme: str | None = None) -> GeneratedPart:
    """Single direction thrust ball bearing ISO 104, 511 series: two grooved washers and a
    caged ball set between them."""
    designation, row = choose_row(rng, sm.THRUST_BEARINGS, extreme)
    d, D, T = map(float, row)
    t = 0.28 * T
    dw = 0.63 * T
    d1 = d + (1.0 if d < 20 else 2.0)  # housing washer bore clears the shaft
    dm = (d + D) / 2
    n = scaled_segments(D / 2, nominal_density(rng, extreme), 48, 72)
    c = max(0.2, 0.05 * T)
    shaft_washer = _ring(d / 2, D / 2 - 0.5, 0.0, t, c, n)
    housing_washer = _ring(d1 / 2, D / 2, T - t, T, c, n)
    k = np.linspace(0, 2 * math.pi, 21)[:-1]
    groove = revolve(np.c_[dm / 2 + 0.53 * dw * np.cos(k), T / 2 + 0.53 * dw * np.sin(k)], n)
    washers = [shaft_washer - groove, housing_washer - groove]
    count = max(6, int(math.pi * dm / (1.3 * dw)))
    ball = Solid.sphere(dw / 2, 16).translate((dm / 2, 0, T / 2))
    cage = _ring(dm / 2 - 0.22 * dw, dm / 2 + 0.22 * dw, T / 2 - 0.12 * dw, T / 2 + 0.12 * dw,
                 0.0, n)  # fmt: skip
    bearing = union([*washers, cage, *polar_copies(ball, count)])
    material = choose(rng, BEARING_MATERIALS)
    return make_part(
        rng,
        bearing,
        name=f"Thrust ball bearing {designation}",
        tags=[
            material,
            "ISO 104",
            "thrust ball bearing",
            "axial bearing",
            "single direction",
            "511 series",
        ],
        parameters=rounded(
            whole_as_int=True,
            designation=designation,
            bore=d,
            outside_diameter=D,
            height=T,
            balls=count,
            ball_diameter=round(dw, 2),
        ),
        attributes=ShapeAttributes(form="ring", holes=1, symmetry="polar"),
        names=[
            "thrust ball bearing",
            "axial ball bearing",
            "thrust bearing",
            "axial deep groove bearing",
        ],
        size=f"{designation} ({fmt(d)}x{fmt(D)}x{fmt(T)})",
        standard="ISO 104",
        material=material,
        extras=[
            f"{designation} thrust ball bearing {fmt(d)} mm bore, {fmt(D)} mm OD, {fmt(T)} mm high",
            f"axial bearing with shaft washer, housing washer and {count} caged balls",
            f"single direction thrust bearing {fmt(d)}x{fmt(D)}x{fmt(T)} for axial loads only",
        ],
    )


# --------------------------------------------------------------------------- housed units


def _insert(d: float, D: float, B: float, n: int) -> Solid:
    """UC insert bearing on Z: outer ring (sphere-like rim) and an inner ring extended to one
    side (z from -0.35 B to 0.65 B), as one body."""
    ri = d / 2 + 0.16 * (D - d)
    wo = 0.55 * B
    e = 0.12 * wo
    prof = [(d / 2, -0.35 * B), (ri, -0.35 * B), (ri, -wo / 2), (D / 2 - e, -wo / 2),
            (D / 2, -wo / 2 + e), (D / 2, wo / 2 - e), (D / 2 - e, wo / 2), (ri, wo / 2),
            (ri, 0.65 * B), (d / 2, 0.65 * B)]  # fmt: skip
    return revolve(np.array(prof), n)


def _set_screws(d: float, D: float, B: float) -> list[Solid]:
    """Two radial set screw holes 120 degrees apart in the extended inner ring (on Z)."""
    ri = d / 2 + 0.16 * (D - d)
    r_hole = max(1.2, 0.07 * d + 0.8)
    hole = cylinder(r_hole, ri + 1, 16).rotate((0, 90, 0)).translate((0, 0, 0.5 * B))
    return [hole.rotate((0, 0, 30)), hole.rotate((0, 0, 150))]


def pillow_block(rng: np.random.Generator, extreme: str | None = None) -> GeneratedPart:
    """Plummer block unit UCP2xx: cast pedestal housing with slotted base and UC insert bearing."""
    number, row = choose_row(rng, sm.PILLOW_BLOCKS, extreme)
    H, L, J, A, N, H1, H2 = map(float, row)
    d, D, B = (float(x) for x in sm.UC_INSERTS[number])
    rh = H2 - H
    wh = 0.6 * B + 2
    web_w = min(J - 1.6 * N - 4, 2 * rh + 0.25 * L)
    side = sg.MultiPolygon(
        [circle(rh, (0, H), 64), sg.box(-web_w / 2, 0, web_w / 2, H1)]
    ).convex_hull
    housing = extrude(side, wh, z0=-wh / 2).rotate((90, 0, 0))
    base = box(L, A, H1, (0, 0, H1 / 2))
    slot = stadium(0.25 * N, N / 2, 6)
    cuts = [extrude(slot, H1 + 2, z0=-1).translate((x, 0, 0)) for x in (-J / 2, J / 2)]
    nipple = union([cylinder(0.05 * H2 + 1.5, 0.08 * H2 + 2, 16, z0=H2 - 1),
                    chamfered_hex(0.09 * H2 + 2.5, 0.06 * H2 + 1.5, True)
                    .translate((0, 0, H2 + 0.08 * H2))])  # fmt: skip
    body = subtract(union([housing, base, nipple]), cuts)
    n = scaled_segments(D / 2, nominal_density(rng, extreme), 40, 64)
    body = subtract(body, [cylinder(0.98 * D / 2, wh + 2, n, z0=-wh / 2 - 1)
                           .rotate((90, 0, 0)).translate((0, 0, H))])  # fmt: skip
    screws = flag(rng, 0.7, extreme, draw_at_extremes=True)
    insert = _insert(d, D, B, n)
    if screws:
        insert = subtract(insert, _set_screws(d, D, B))
    unit = union([body, insert.rotate((90, 0, 0)).rotate((0, 0, 180)).translate((0, 0, H))])
    holes = 3 + (2 if screws else 0)
    material = choose(rng, ("cast iron", "cast iron", "stainless", "zinc-plated steel"))
    return make_part(
        rng,
        unit,
        name=f"Pillow block UCP{number}",
        tags=[
            material,
            "ISO 3228",
            "pillow block",
            "plummer block",
            "bearing unit",
            "UC insert",
            "grease nipple",
            "slotted base",
        ]
        + (["set screw locking"] if screws else []),  # fmt: skip
        parameters=rounded(
            whole_as_int=True,
            designation=f"UCP{number}",
            bore=d,
            centre_height=H,
            length=L,
            bolt_spacing=J,
            base_width=A,
            total_height=H2,
        ),
        attributes=ShapeAttributes(form="housing", threaded=screws, holes=holes, symmetry="mirror"),
        names=[
            "pillow block bearing",
            "plummer block",
            "pedestal bearing unit",
            "housed bearing unit",
        ],
        size=f"UCP{number} ({fmt(d)} mm bore)",
        standard="ISO 3228",
        material=material,
        extras=[
            f"UCP{number} pillow block for a {fmt(d)} mm shaft, centre height {fmt(H)} mm",
            f"two-bolt pedestal bearing housing {fmt(L)} mm long, bolt slots {fmt(J)} mm apart",
            "cast plummer block with self-aligning insert bearing"
            + (" and set screw locking" if screws else ""),
        ],
    )


def flanged_bearing_unit(rng: np.random.Generator, extreme: str | None = None) -> GeneratedPart:
    """Flanged bearing unit: UCF square 4-bolt or UCFL oval 2-bolt housing with UC insert."""
    oval = flag(rng, 0.5, None, draw_at_extremes=True) if extreme is None else extreme == "min"
    table = sm.OVAL_FLANGE_UNITS if oval else sm.SQUARE_FLANGE_UNITS
    number = str(choose(rng, tuple(table), extreme))
    d, D, B = (float(x) for x in sm.UC_INSERTS[number])
    if oval:
        length, J, width, N, A2 = (float(x) for x in table[number])
        end_r = (length - J) / 2
        plate = sg.MultiPolygon([circle(width / 2, segments=64), circle(end_r, (-J / 2, 0), 32),
                                 circle(end_r, (J / 2, 0), 32)]).convex_hull  # fmt: skip
        bolts = [(-J / 2, 0), (J / 2, 0)]
        prefix, outline = "UCFL", f"{fmt(length)}x{fmt(width)}"
    else:
        side, J, N, A2 = (float(x) for x in table[number])
        plate = rounded_rectangle(side, side, 0.12 * side)
        bolts = [(sx * J / 2, sy * J / 2) for sx in (-1, 1) for sy in (-1, 1)]
        prefix, outline = "UCF", f"{fmt(side)}x{fmt(side)}"
    wh = 0.6 * B + 2
    n = scaled_segments(D / 2, nominal_density(rng, extreme), 40, 64)
    boss = cylinder(D / 2 + 0.14 * D, wh, n)
    body = union([extrude(plate, A2), boss])
    cuts = [cylinder(N / 2, A2 + 2, 20, z0=-1).translate((x, y, 0)) for x, y in bolts]
    cuts.append(cylinder(0.98 * D / 2, wh + 2, n, z0=-1))
    body = subtract(body, cuts)
    screws = flag(rng, 0.7, extreme, draw_at_extremes=True)
    insert = _insert(d, D, B, n)
    if screws:
        insert = subtract(insert, _set_screws(d, D, B))
    unit = union([body, insert.translate((0, 0, wh / 2))])
    holes = 1 + len(bolts) + (2 if screws else 0)
    kind = "oval 2-bolt" if oval else "square 4-bolt"
    material = choose(rng, ("cast iron", "cast iron", "stainless", "zinc-plated steel"))
    return make_part(
        rng,
        unit,
        name=f"Flanged bearing unit {prefix}{number}",
        tags=[
            material,
            "ISO 3228",
            "flanged bearing unit",
            "flange bearing",
            kind,
            "UC insert",
            "bearing unit",
        ]
        + (["set screw locking"] if screws else []),
        parameters=rounded(
            whole_as_int=True,
            designation=f"{prefix}{number}",
            bore=d,
            bolt_spacing=J,
            bolt_hole=N,
            flange_thickness=A2,
            bolts=len(bolts),
        ),
        attributes=ShapeAttributes(form="housing", threaded=screws, holes=holes, symmetry="mirror"),
        names=[
            "flanged bearing unit",
            "flange bearing",
            f"{kind} flange unit",
            "flange mounted bearing",
        ],
        size=f"{prefix}{number} ({fmt(d)} mm bore)",
        standard="ISO 3228",
        material=material,
        extras=[
            f"{prefix}{number} {kind} flange bearing for a {fmt(d)} mm shaft, flange {outline} mm",
            f"bearing housing flange with {len(bolts)} bolt holes {fmt(N)} mm on {fmt(J)} mm",
            "wall-mounted housed bearing unit with self-aligning insert"
            + (", set screws on the inner ring" if screws else ""),
        ],
    )


FAMILY_LIST = (
    Family("tapered_roller_bearing", "tapered_roller_bearing", tapered_roller_bearing, "bearing"),
    Family("needle_roller_bearing", "needle_bearing", needle_roller_bearing, "bearing"),
    Family("thrust_ball_bearing", "thrust_bearing", thrust_ball_bearing, "bearing"),
    Family("pillow_block", "pillow_block", pillow_block, "bearing_unit"),
    Family("flanged_bearing_unit", "flange_bearing_unit", flanged_bearing_unit, "bearing_unit"),
)
