"""Bearings and linear motion: roller, needle and thrust bearings, housed units, rails, screws."""

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
    along_x,
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
    segments_for,
    subtract,
    union,
)
from data_jobs.catalog.geometry_kit import (
    helical_faces,
    helical_rod,
    ring_section,
    stadium,
    standard_bore,
)

BEARING_MATERIALS = ("bearing steel", "bearing steel", "stainless")


def _ring(r_in: float, r_out: float, z0: float, z1: float, c: float, n: int) -> Solid:
    """Chamfered rectangular ring section (r_in..r_out, z0..z1) revolved about Z."""
    c = min(c, 0.3 * (r_out - r_in), 0.3 * (z1 - z0))
    return revolve(np.array(ring_section(r_in, r_out, z0, z1, c)), n)


# --------------------------------------------------------------------------- rolling bearings


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
            dict(
                designation=designation,
                bore=d,
                outside_diameter=D,
                width=T,
                cone_width=B,
                cup_width=C,
                rollers=count,
                contact_angle=round(math.degrees(alpha), 1),
            ),
            whole_as_int=True,
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
            dict(
                designation=kind,
                shaft_diameter=fw,
                outside_diameter=D,
                width=C,
                needles=count,
                needle_diameter=round(dw, 2),
            ),
            whole_as_int=True,
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
            dict(
                designation=designation,
                bore=d,
                outside_diameter=D,
                height=T,
                balls=count,
                ball_diameter=round(dw, 2),
            ),
            whole_as_int=True,
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
            dict(
                designation=f"UCP{number}",
                bore=d,
                centre_height=H,
                length=L,
                bolt_spacing=J,
                base_width=A,
                total_height=H2,
            ),
            whole_as_int=True,
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
            dict(
                designation=f"{prefix}{number}",
                bore=d,
                bolt_spacing=J,
                bolt_hole=N,
                flange_thickness=A2,
                bolts=len(bolts),
            ),
            whole_as_int=True,
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


# --------------------------------------------------------------------------- linear motion


def linear_rail(rng: np.random.Generator, extreme: str | None = None) -> GeneratedPart:
    """Profiled linear guide rail ISO 12090-1 with counterbored mounting holes at pitch P."""
    size, row = choose_row(rng, sm.LINEAR_RAILS, extreme)
    W, H, cb_d, cb_h, hole_d, P, E = map(float, row)
    holes = int(choose(rng, (2, 3, 4, 5, 6, 8), extreme))
    length = P * (holes - 1) + 2 * E
    g0, g1, gd = 0.45 * H, 0.75 * H, 0.12 * W
    c = 0.05 * W
    groove = [(W / 2 - gd, g0 + 0.25 * (g1 - g0)), (W / 2 - gd, g1 - 0.25 * (g1 - g0))]
    half = [(W / 2, 0), (W / 2, g0), *groove, (W / 2, g1), (W / 2, H - c), (W / 2 - c, H)]
    prof = sg.Polygon(half + [(-x, y) for x, y in half[::-1]])
    rail = extrude(prof, length).rotate((90, 0, 0))  # length along -Y, height along Z
    cuts = []
    for i in range(holes):
        y = -(E + i * P)
        cuts.append(cylinder(hole_d / 2, H + 2, 20, z0=-1).translate((0, y, 0)))
        cuts.append(cylinder(cb_d / 2, cb_h + 1, 24, z0=H - cb_h).translate((0, y, 0)))
    rail = subtract(rail, cuts)
    material = choose(rng, ("bearing steel", "stainless", "carbon steel"))
    return make_part(
        rng,
        rail,
        name=f"Linear rail {size} x {fmt(length)}",
        tags=[
            material,
            "ISO 12090-1",
            "linear guide rail",
            "profile rail",
            "counterbored holes",
            size[:3],
        ],
        parameters=rounded(
            dict(
                size=size,
                width=W,
                height=H,
                length=length,
                hole_pitch=P,
                end_distance=E,
                holes=holes,
            ),
            whole_as_int=True,
        ),
        attributes=ShapeAttributes(form="profile", holes=holes, symmetry="mirror"),
        names=["linear guide rail", "profiled rail", "linear rail", "LM guide rail"],
        size=f"{size} L={fmt(length)}",
        standard="ISO 12090-1",
        material=material,
        extras=[
            f"{size} linear rail {fmt(length)} mm long, {fmt(W)} mm wide, {fmt(H)} mm high",
            f"profile rail with {holes} counterbored holes for M{fmt(hole_d - 1, 0)} screws "
            f"at {fmt(P)} mm pitch",
            f"hardened guide rail {size} with ball raceway grooves on both sides",
        ],
    )


def linear_carriage(rng: np.random.Generator, extreme: str | None = None) -> GeneratedPart:
    """Linear guide carriage (block) with end caps and four tapped mounting holes on top."""
    size, row = choose_row(rng, sm.LINEAR_CARRIAGES, extreme)
    H, H1, W, L, Bs, Cs, M = map(float, row)
    rail_w, rail_h = (float(x) for x in sm.LINEAR_RAILS[size][:2])
    body_l, cap_l = 0.7 * L, 0.15 * L
    e = min(0.6, 0.04 * W)
    steel = box(body_l, W, H - H1, (0, 0, (H + H1) / 2))
    cap = box(cap_l + 0.1, W - 2 * e, H - H1 - e, (0, 0, (H + H1 - e) / 2))
    caps = [cap.translate((sx * (body_l + cap_l) / 2, 0, 0)) for sx in (-1, 1)]
    parts = [steel, *caps]
    nipple = flag(rng, 0.6, extreme, draw_at_extremes=True) and H >= 20
    if nipple:
        z = H1 + 0.55 * (H - H1)
        r_n = 0.06 * (H - H1) + 1
        stem = cylinder(r_n, 0.15 * L, 12).rotate((0, 90, 0)).translate((L / 2 - 0.05, 0, z))
        parts.append(stem)
    block = union(parts)
    channel = box(L + 2, rail_w + 0.6, rail_h - H1 + 1, (0, 0, H1 + (rail_h - H1 + 1) / 2 - 1))
    cuts = [channel]
    for sx in (-1, 1):
        for sy in (-1, 1):
            cuts.append(cylinder(0.42 * M, H - H1 + 2, 16, z0=H1 - 1)
                        .translate((sx * Cs / 2, sy * Bs / 2, 0)))  # fmt: skip
    carriage = subtract(block, cuts)
    style = "long" if L / W > 1.6 else "standard"
    material = choose(rng, ("bearing steel", "stainless"))
    return make_part(
        rng,
        carriage,
        name=f"Linear carriage {size} block",
        tags=[
            material,
            "ISO 12090-1",
            "linear guide carriage",
            "linear bearing block",
            "ball recirculating",
            "tapped holes",
            size[:3],
        ]
        + (["grease nipple"] if nipple else []),  # fmt: skip
        parameters=rounded(
            dict(
                size=size,
                width=W,
                length=L,
                height=H,
                hole_spacing_across=Bs,
                hole_spacing_along=Cs,
                thread=f"M{fmt(M)}",
            ),
            whole_as_int=True,
        ),
        attributes=ShapeAttributes(form="block", threaded=True, holes=4, symmetry="mirror"),
        names=["linear guide carriage", "linear block", "rail carriage", "slide block"],
        size=f"{size} {fmt(W)}x{fmt(L)}",
        standard="ISO 12090-1",
        material=material,
        extras=[
            f"{size} carriage {fmt(W)} mm wide, {fmt(L)} mm long, four M{fmt(M)} tapped holes "
            f"{fmt(Bs)} x {fmt(Cs)} mm",
            f"{style} ball bearing block for a {fmt(rail_w)} mm profile rail, end caps and seals",
            f"linear bearing slider, height {fmt(H)} mm from the rail foot",
        ],
    )


def lead_screw(rng: np.random.Generator, extreme: str | None = None) -> GeneratedPart:
    """Trapezoidal lead screw DIN 103 with machined journals; helical thread when the mesh
    budget allows, otherwise annular cosmetic grooves."""
    label, (d, P, lead) = choose_row(rng, sm.TRAPEZOIDAL_THREADS, extreme)
    starts = int(round(lead / P))
    h3 = 0.5 * P + sm.trapezoidal_clearance(P)
    d3 = d - 2 * h3
    thread_len = float(choose(rng, (60, 80, 100, 150, 200, 300, 400, 500), extreme))
    thread_len = min(max(thread_len, 6 * d), 35 * d)
    modelled = helical_faces(P, starts, thread_len) <= 14000 and rng.random() < 0.8
    if modelled:
        thread = helical_rod(d / 2, h3, P, starts, thread_len, 15.0)
    else:
        grooves = int(thread_len / P)
        # flat-crested grooves while the mesh budget allows, plain V grooves on long fine screws
        flat = grooves * 4 * 2 * 16 <= 14000
        knots = (0.1, 0.35, 0.65, 0.9) if flat else (0.0, 0.5)
        prof = [(0.0, 0.0), (d3 / 2, 0.0)]
        for i in range(grooves):
            for k, t in enumerate(knots):
                crest = k in (1, 2) if flat else k == 1
                prof.append((d / 2 if crest else d3 / 2, (i + t) * P))
        prof += [(d3 / 2, thread_len), (0.0, thread_len)]
        prof = [pt for i, pt in enumerate(prof) if i == 0 or pt != prof[i - 1]]
        budget = 14000 // (2 * len(prof) + 16)
        segs = int(np.clip(budget, 16, segments_for(d / 2, 24, 40)))
        thread = revolve(np.array(prof), segs + segs % 2)
    jd = max(4.0, standard_bore(d3 - 1) if d3 - 1 >= 6 else math.floor(d3 - 1))
    j1 = round(float(rng.uniform(1.5, 3.0)) * jd)
    j2 = round(float(rng.uniform(0.8, 1.5)) * jd)
    c = 0.5 if jd < 15 else 1.0
    n = segments_for(jd / 2, 24, 40)
    rj = jd / 2
    end1 = revolve(np.array([(0, -j1), (rj - c, -j1), (rj, -j1 + c), (rj, 0.3), (0, 0.3)]), n)
    end2 = revolve(np.array([(0, thread_len - 0.3), (rj, thread_len - 0.3),
                             (rj, thread_len + j2 - c), (rj - c, thread_len + j2),
                             (0, thread_len + j2)]), n)  # fmt: skip
    screw = along_x(union([thread, end1, end2]))
    total = thread_len + j1 + j2
    material = choose(rng, ("steel", "carbon steel", "stainless"))
    return make_part(
        rng,
        screw,
        name=f"Lead screw {label} x {fmt(total)}",
        tags=[
            material,
            "DIN 103",
            "lead screw",
            "trapezoidal thread",
            "acme-like",
            "machined ends",
            "helical thread" if modelled else "cosmetic thread",
        ]
        + ([f"{starts}-start"] if starts > 1 else []),  # fmt: skip
        parameters=rounded(
            dict(
                thread=label,
                nominal_diameter=d,
                pitch=P,
                lead=lead,
                starts=starts,
                minor_diameter=round(d3, 2),
                thread_length=thread_len,
                journal_diameter=jd,
                length=total,
            ),
            whole_as_int=True,
        ),
        attributes=ShapeAttributes(form="shaft", threaded=True, holes=0, symmetry="none"),
        names=[
            "lead screw",
            "trapezoidal lead screw",
            "Acme screw",
            "power screw",
            "trapezoidal threaded spindle",
        ],
        size=f"{label} x {fmt(total)}",
        standard="DIN 103",
        material=material,
        extras=[
            f"{label} trapezoidal lead screw {fmt(total)} mm long, lead {fmt(lead)} mm"
            + (f", {starts} starts" if starts > 1 else ""),
            f"threaded spindle with {fmt(jd)} mm machined journals for bearings at both ends",
            f"power transmission screw {fmt(d)} mm, 30 degree thread, "
            f"{fmt(thread_len)} mm threaded",
        ],
    )


def lead_screw_nut(rng: np.random.Generator, extreme: str | None = None) -> GeneratedPart:
    """Flanged trapezoidal lead screw nut (DIN 103 internal thread) with a bolt circle."""
    labels = tuple(sm.TRAPEZOIDAL_THREADS)
    label = str(choose(rng, labels, extreme))
    d, P, lead = sm.TRAPEZOIDAL_THREADS[label]
    starts = int(round(lead / P))
    body_d, length, fl_d, fl_t, hole_d, pcd = (float(x) for x in sm.LEAD_SCREW_NUTS[d])
    n = segments_for(fl_d / 2, 40, 64)
    c = 0.5 if body_d < 20 else 1.0
    prof = [(0, 0), (fl_d / 2 - c, 0), (fl_d / 2, c), (fl_d / 2, fl_t), (body_d / 2, fl_t),
            (body_d / 2, length - c), (body_d / 2 - c, length), (0, length)]  # fmt: skip
    nut = revolve(np.array(prof), n)
    bolts = int(choose(rng, (4, 6), extreme)) if fl_d >= 30 else 4
    hole = cylinder(hole_d / 2, fl_t + 2, 16, z0=-1).translate((pcd / 2, 0, 0))
    cuts = polar_copies(hole, bolts, 45.0 if bolts == 4 else 0.0)
    h3 = 0.5 * P + sm.trapezoidal_clearance(P)
    modelled = (
        flag(rng, 0.6, extreme, draw_at_extremes=True)
        and helical_faces(P, starts, length + 2 * lead) <= 16000
    )
    if modelled:
        cutter = helical_rod(d / 2 + 0.1, h3, P, starts, length + 2 * lead, 15.0)
        cuts.append(cutter.translate((0, 0, -lead)))
    else:
        cuts.append(cylinder((d - P) / 2, length + 2, segments_for(d / 2, 24, 40), z0=-1))
    nut = subtract(nut, cuts)
    material = choose(rng, ("bronze", "brass", "POM", "steel"))
    return make_part(
        rng,
        nut,
        name=f"Lead screw nut {label} flanged",
        tags=[
            material,
            "DIN 103",
            "lead screw nut",
            "flanged nut",
            "trapezoidal thread",
            "modelled thread" if modelled else "plain bore",
        ],
        parameters=rounded(
            dict(
                thread=label,
                body_diameter=body_d,
                length=length,
                flange_diameter=fl_d,
                flange_thickness=fl_t,
                bolt_holes=bolts,
                hole_circle=pcd,
            ),
            whole_as_int=True,
        ),
        attributes=ShapeAttributes(
            form="cylinder", threaded=True, holes=1 + bolts, symmetry="polar"
        ),
        names=["lead screw nut", "trapezoidal flange nut", "Acme nut", "spindle nut"],
        size=f"{label}",
        standard="DIN 103",
        material=material,
        extras=[
            f"flanged {label} lead screw nut, {fmt(fl_d)} mm flange with {bolts} holes "
            f"on {fmt(pcd)} mm",
            f"{fmt(body_d)} mm body, {fmt(length)} mm long trapezoidal nut for a {fmt(d)} mm screw",
            f"{material} spindle nut with mounting flange, lead {fmt(lead)} mm",
        ],
    )


def linear_bushing(rng: np.random.Generator, extreme: str | None = None) -> GeneratedPart:
    """Linear ball bushing ISO 10285 (LM..UU): closed, open (OP) or adjustable (AJ) sleeve."""
    d = float(choose(rng, tuple(sm.LINEAR_BUSHINGS), extreme))
    D, L, Bg, D1, Wg = (float(x) for x in sm.LINEAR_BUSHINGS[d])
    variant = "UU"
    if d >= 10 and extreme is None:
        variant = str(choose(rng, ("UU", "UU", "UU", "UU-OP", "UU-AJ")))
    n = scaled_segments(D / 2, nominal_density(rng, extreme), 40, 64)
    c = max(0.3, 0.03 * D)
    prof = [(d / 2, 0), (D / 2 - c, 0), (D / 2, c)]
    if Wg > 0:
        for zc in ((L - Bg) / 2, (L + Bg) / 2 - Wg):
            prof += [(D / 2, zc), (D1 / 2, zc), (D1 / 2, zc + Wg), (D / 2, zc + Wg)]
    prof += [(D / 2, L - c), (D / 2 - c, L), (d / 2, L)]
    sleeve = revolve(np.array(prof), n)
    tracks = 4 if d < 10 else 5 if d < 20 else 6
    depth = 0.2 * (D - d) / 2
    track = box(0.8 * L, 0.18 * d + 0.6, depth + 0.3, (0, 0, 0)).rotate((0, 90, 0))
    track = track.translate((d / 2 + depth / 2 - 0.15, 0, L / 2))
    cuts = polar_copies(track, tracks, 180.0 / tracks)
    holes = 1
    if variant == "UU-OP":
        gap = sg.Polygon([(0, 0), (D, -0.45 * D), (D, 0.45 * D)])  # 50 degree opening
        cuts.append(extrude(gap, L + 2, z0=-1))
        holes = 0
    elif variant == "UU-AJ":
        cuts.append(box(D, max(0.6, 0.04 * D), L + 2, (D / 2, 0, L / 2)))
        holes = 0
    bushing = subtract(sleeve, cuts)
    name = f"LM{fmt(d)}{variant}"
    words = {"UU": "closed", "UU-OP": "open (slotted for supported shafts)",
             "UU-AJ": "adjustable clearance (split)"}  # fmt: skip
    material = choose(rng, ("bearing steel", "stainless"))
    return make_part(
        rng,
        bushing,
        name=f"Linear bushing {name}",
        tags=[
            material,
            "ISO 10285",
            "linear ball bushing",
            "linear bearing",
            "recirculating balls",
            variant,
        ]
        + (["retaining ring grooves"] if Wg > 0 else []),
        parameters=rounded(
            dict(
                designation=name, shaft_diameter=d, outer_diameter=D, length=L, ball_tracks=tracks
            ),
            whole_as_int=True,
        ),
        attributes=ShapeAttributes(
            form="tube", holes=holes, symmetry="polar" if holes else "mirror"
        ),
        names=["linear ball bushing", "linear bearing", "ball bushing", "LM bearing"],
        size=f"{name} ({fmt(d)}x{fmt(D)}x{fmt(L)})",
        standard="ISO 10285",
        material=material,
        extras=[
            f"{name} linear bearing for a {fmt(d)} mm shaft, {fmt(D)} mm OD, {fmt(L)} mm long",
            f"{words[variant]} linear ball bushing with {tracks} ball circuits and rubber seals",
            f"recirculating ball sleeve {fmt(d)}x{fmt(D)}x{fmt(L)} for linear shafts",
        ],
    )


FAMILY_LIST = (
    Family("tapered_roller_bearing", "tapered_roller_bearing", tapered_roller_bearing, "bearing"),
    Family("needle_roller_bearing", "needle_bearing", needle_roller_bearing, "bearing"),
    Family("thrust_ball_bearing", "thrust_bearing", thrust_ball_bearing, "bearing"),
    Family("pillow_block", "pillow_block", pillow_block, "bearing_unit"),
    Family("flanged_bearing_unit", "flange_bearing_unit", flanged_bearing_unit, "bearing_unit"),
    Family("linear_rail", "linear_rail", linear_rail, "linear_guide"),
    Family("linear_carriage", "linear_carriage", linear_carriage, "linear_guide"),
    Family("lead_screw", "lead_screw", lead_screw, "screw_drive"),
    Family("lead_screw_nut", "lead_screw_nut", lead_screw_nut, "screw_drive"),
    Family("linear_bushing", "linear_bushing", linear_bushing, "bushing"),
)
