"""Fluid components: butt-weld reducers, caps and crosses, threaded fittings, valve bodies, hose
barbs and hydraulic adapters (flanges: ``families_flanges``)."""

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
    Solid,
    along_x,
    chamfered_hex,
    cylinder,
    fmt,
    make_part,
    num,
    revolve,
    scaled_segments,
    segments_for,
    subtract,
    union,
)
from data_jobs.catalog.geometry_kit import bolt_circle, tapped_bore, threaded_shank

SPANNERS = (10, 12, 13, 14, 17, 19, 22, 24, 27, 30, 32, 36, 41, 46, 50, 55, 60, 65, 70, 75, 80)


# --------------------------------------------------------------------------- helpers


def _spanner(width: float) -> float:
    """Smallest standard spanner size (mm) at least ``width``."""
    return float(next((s for s in SPANNERS if s >= width), SPANNERS[-1]))


# --------------------------------------------------------------------------- butt-weld fittings


def concentric_reducer(rng: np.random.Generator, extreme: str | None = None) -> GeneratedPart:
    """ASME B16.9 concentric butt-weld reducer: coaxial cone between two pipe sizes."""
    dn, (h, smaller) = choose_row(rng, sf.REDUCERS, extreme)
    sdn = int(choose(rng, smaller, None if extreme is None else "min"))
    nps, od, wall = std.PIPE_SIZES[dn]
    snps, sod, swall = std.PIPE_SIZES[sdn]
    t1, t2 = 0.15 * h, 0.15 * h
    r1, r2 = od / 2, sod / 2
    prof = [(r1 - wall, 0.0), (r1, 0.0), (r1, t1), (r2, h - t2), (r2, h), (r2 - swall, h)]
    prof += [(r2 - swall, h - t2), (r1 - wall, t1)]
    n = scaled_segments(r1, density(rng, extreme, draw_at_extremes=True), 40, 72)
    body = revolve(np.array(prof), n)
    material = pick(rng, ("carbon steel", "stainless", "stainless"))
    attrs = ShapeAttributes(form="fitting", holes=1, symmetry="axisymmetric")
    return make_part(
        rng,
        body,
        name=f"Concentric reducer DN{dn} x DN{sdn}",
        tags=[material, "ASME B16.9", "butt weld", "reducer", "concentric", "Sch 40"],
        parameters=dict(
            nominal_diameter=dn,
            small_nominal_diameter=sdn,
            outer_diameter=num(od),
            small_outer_diameter=num(sod),
            length=num(h),
            wall_thickness=num(wall),
        ),
        attributes=attrs,
        names=["concentric reducer", "pipe reducer", "reducing coupling", "cone reducer"],
        size=f"{nps} x {snps} (DN{dn} x DN{sdn})",
        standard="ASME B16.9",
        material=material,
        extras=[
            f"butt-weld concentric reducer {fmt(od)} x {fmt(sod)} mm, {fmt(h)} mm end to end",
            f"conical pipe transition from DN{dn} to DN{sdn} on one centreline, schedule 40 wall",
        ],
    )


def eccentric_reducer(rng: np.random.Generator, extreme: str | None = None) -> GeneratedPart:
    """ASME B16.9 eccentric butt-weld reducer: one side flat, the small end offset."""
    dn, (h, smaller) = choose_row(rng, sf.REDUCERS, extreme)
    sdn = int(choose(rng, smaller, None if extreme is None else "min"))
    nps, od, wall = std.PIPE_SIZES[dn]
    snps, sod, swall = std.PIPE_SIZES[sdn]
    t = 0.15 * h
    r1, r2 = od / 2, sod / 2
    e = r1 - r2
    n = scaled_segments(r1, density(rng, extreme, draw_at_extremes=True), 40, 72)
    outer = Solid.batch_hull(
        [cylinder(r1, t, n), cylinder(r2, t, n, z0=h - t).translate((0.0, -e, 0.0))]
    )
    inner = Solid.batch_hull(
        [
            cylinder(r1 - wall, t + 1.0, n, z0=-1.0),
            cylinder(r2 - swall, t + 1.0, n, z0=h - t).translate((0.0, -e, 0.0)),
        ]
    )
    body = along_x(outer - inner)
    material = pick(rng, ("carbon steel", "stainless", "stainless"))
    attrs = ShapeAttributes(form="fitting", holes=1, symmetry="mirror")
    return make_part(
        rng,
        body,
        name=f"Eccentric reducer DN{dn} x DN{sdn}",
        tags=[material, "ASME B16.9", "butt weld", "reducer", "eccentric", "flat side", "Sch 40"],
        parameters=dict(
            nominal_diameter=dn,
            small_nominal_diameter=sdn,
            outer_diameter=num(od),
            small_outer_diameter=num(sod),
            length=num(h),
            offset=num(e),
        ),
        attributes=attrs,
        names=["eccentric reducer", "offset reducer", "flat-side reducer", "pump suction reducer"],
        size=f"{nps} x {snps} (DN{dn} x DN{sdn})",
        standard="ASME B16.9",
        material=material,
        extras=[
            f"eccentric reducer DN{dn} to DN{sdn}, {fmt(e)} mm offset, flat on one side so "
            f"no air pocket forms at a pump inlet",
            f"{fmt(h)} mm long butt-weld eccentric reducing fitting {fmt(od)} x {fmt(sod)} mm",
        ],
    )


def pipe_cap(rng: np.random.Generator, extreme: str | None = None) -> GeneratedPart:
    """ASME B16.9 butt-weld cap: straight skirt and 2:1 ellipsoidal dished end."""
    dn, e = choose_row(rng, sf.CAP_LENGTHS, extreme)
    nps, od, wall = std.PIPE_SIZES[dn]
    ro, ri = od / 2, od / 2 - wall
    bevel = flag(rng, 0.5, extreme, at_min=True, draw_at_extremes=True)
    steps = 10
    ang = np.linspace(0.0, math.pi / 2, steps)
    outer = [(ro * math.cos(a), e - ro / 2 + ro / 2 * math.sin(a)) for a in ang]
    top_in = e - wall
    inner = [(ri * math.cos(a), top_in - ri / 2 + ri / 2 * math.sin(a)) for a in ang]
    land = min(1.6, 0.4 * wall)
    bh = (wall - land) * math.tan(math.radians(37.5))
    prof = [(ri, 0.0), (ri + land, 0.0), (ro, bh)] if bevel else [(ri, 0.0), (ro, 0.0)]
    prof += outer[:-1] + [(0.0, e), (0.0, top_in)] + inner[::-1][1:]
    n = scaled_segments(ro, density(rng, extreme, draw_at_extremes=True), 40, 72)
    cap = revolve(np.array(prof), n)
    material = pick(rng, ("carbon steel", "stainless", "stainless"))
    attrs = ShapeAttributes(form="fitting", holes=0, symmetry="axisymmetric")
    return make_part(
        rng,
        cap,
        name=f"Pipe cap DN{dn} ({nps})",
        tags=[material, "ASME B16.9", "butt weld", "cap", "end cap", "ellipsoidal", "Sch 40"]
        + (["bevelled"] if bevel else ["plain end"]),
        parameters=dict(
            nominal_diameter=dn,
            nps=nps,
            outer_diameter=num(od),
            wall_thickness=num(wall),
            length=num(e),
        ),
        attributes=attrs,
        names=["pipe cap", "butt-weld cap", "end cap", "weld cap"],
        size=f"{nps} (DN{dn})",
        standard="ASME B16.9",
        material=material,
        extras=[
            f"butt weld end cap {fmt(od)} x {fmt(wall)} mm, {fmt(e)} mm long, dished 2:1 head",
            f"DN{dn} cap that closes a pipe end by welding"
            + (", bevelled for the weld" if bevel else ""),
        ],
    )


def pipe_cross(rng: np.random.Generator, extreme: str | None = None) -> GeneratedPart:
    """ASME B16.9 butt-weld cross, equal or reducing: run along X, branch along Z both ways."""
    dn = int(choose(rng, list(std.BUTT_WELD_FITTINGS), extreme))
    nps, od, wall = std.PIPE_SIZES[dn]
    c = std.BUTT_WELD_FITTINGS[dn][1]
    smaller = [d for d in std.BUTT_WELD_FITTINGS if d < dn and std.PIPE_SIZES[d][1] < 0.8 * od]
    reducing = bool(smaller) and extreme is None and rng.random() < 0.35
    bdn = int(pick(rng, smaller[-2:])) if reducing else dn
    _, bod, bwall = std.PIPE_SIZES[bdn]
    n = scaled_segments(od / 2, density(rng, extreme, draw_at_extremes=True), 40, 64)
    run_o = along_x(cylinder(od / 2, 2 * c, n, z0=-c))
    run_i = along_x(cylinder(od / 2 - wall, 2 * c + 2, n, z0=-c - 1))
    br_o = cylinder(bod / 2, 2 * c, n, z0=-c)
    br_i = cylinder(bod / 2 - bwall, 2 * c + 2, n, z0=-c - 1)
    cross = subtract(union([run_o, br_o]), [run_i, br_i])
    material = pick(rng, ("carbon steel", "stainless", "stainless"))
    size = f"{nps} (DN{dn})" if not reducing else f"DN{dn} x DN{bdn}"
    attrs = ShapeAttributes(form="fitting", holes=3, symmetry="mirror")
    return make_part(
        rng,
        cross,
        name=f"Cross DN{dn}" + (f"xDN{bdn}" if reducing else ""),
        tags=[
            material,
            "ASME B16.9",
            "butt weld",
            "cross",
            "four-way",
            "reducing" if reducing else "equal",
        ],
        parameters=dict(
            nominal_diameter=dn,
            branch_nominal_diameter=bdn,
            outer_diameter=num(od),
            branch_outer_diameter=num(bod),
            wall_thickness=num(wall),
            center_to_end=num(c),
        ),
        attributes=attrs,
        names=["pipe cross", "butt-weld cross", "four-way fitting", "cross tee"],
        size=size,
        standard="ASME B16.9",
        material=material,
        extras=[
            f"{'reducing' if reducing else 'equal'} cross, four butt-weld ends, {fmt(c)} mm "
            f"centre to end",
            f"4-way pipe fitting {fmt(od)} mm run"
            + (f" with {fmt(bod)} mm branches" if reducing else ""),
        ],
    )


# --------------------------------------------------------------------------- threaded fittings


def _bsp(size: str) -> tuple[float, float]:
    d, tpi = sf.BSP_THREADS[size]
    return d, 25.4 / tpi


def threaded_coupling(rng: np.random.Generator, extreme: str | None = None) -> GeneratedPart:
    """Female-female pipe socket, EN 10241 round steel, hex brass or beaded EN 10242 body."""
    size, (od, length) = choose_row(rng, sf.EN10241_SOCKETS, extreme)
    d, pitch = _bsp(size)
    body_kind = choose(rng, ("round", "hex", "beaded"), extreme)
    modelled = flag(rng, 0.6, extreme, at_min=True, draw_at_extremes=True)
    n = scaled_segments(od / 2, density(rng, extreme, draw_at_extremes=True), 32, 64)
    if body_kind == "hex":
        af = _spanner(d * 1.18 + 2)
        body = chamfered_hex(af, length, both_ends=True)
    elif body_kind == "round":
        c = 0.8
        prof = [(0.0, 0.0), (od / 2 - c, 0.0), (od / 2, c), (od / 2, length - c)]
        body = revolve(np.array([*prof, (od / 2 - c, length), (0.0, length)]), n)
    else:
        bead, w = 0.06 * od + 0.6, 0.14 * length
        prof = [(0.0, 0.0), (od / 2 + bead, 0.0), (od / 2 + bead, w), (od / 2, w + bead)]
        prof += [(od / 2, length - w - bead), (od / 2 + bead, length - w)]
        body = revolve(np.array([*prof, (od / 2 + bead, length), (0.0, length)]), n)
    body = body - tapped_bore(d, pitch, 0.0, length, modelled, max(32, n))
    material = {"hex": "brass", "round": "steel", "beaded": "galvanized steel"}[body_kind]
    standard = {"hex": "ISO 228-1", "round": "EN 10241", "beaded": "EN 10242"}[body_kind]
    drive = "external hex" if body_kind == "hex" else None
    symmetry = "polar" if body_kind == "hex" else "axisymmetric"
    attrs = ShapeAttributes(form="fitting", drive=drive, threaded=True, holes=1, symmetry=symmetry)
    return make_part(
        rng,
        body,
        name=f"Pipe socket G{size}" + (" hex" if body_kind == "hex" else ""),
        tags=[material, standard, "socket", "coupling", "female thread", "BSP", body_kind]
        + (["modelled thread"] if modelled else ["plain bore"]),
        parameters=dict(
            thread=f"G{size}",
            thread_diameter=num(d, 3),
            pitch=num(pitch, 3),
            length=num(length),
            outer_diameter=num(od),
            body=body_kind,
        ),
        attributes=attrs,
        names=["threaded coupling", "pipe socket", "full coupling", "female coupler", "muff"],
        size=f'{size}" BSP',
        standard=standard,
        material=material,
        extras=[
            f'{size}" female-female pipe socket, {fmt(length)} mm long, {body_kind} body',
            f"threaded coupling joining two {fmt(d, 1)} mm BSP male pipe ends",
        ],
    )


def ball_valve_body(rng: np.random.Generator, extreme: str | None = None) -> GeneratedPart:
    """Two-piece ball valve body along X: flanged PN16 or threaded BSP ends, ISO 5211 stem boss."""
    ends = choose(rng, ("threaded", "flanged"), extreme)
    dns = [15, 20, 25, 32, 40, 50] if ends == "threaded" else [15, 20, 25, 32, 40, 50, 80, 100]
    dn = int(choose(rng, dns, extreme))
    bsp = {15: "1/2", 20: "3/4", 25: "1", 32: "1-1/4", 40: "1-1/2", 50: "2"}.get(dn, "2")
    ftf = {15: 108, 20: 117, 25: 127, 32: 140, 40: 165, 50: 178, 80: 203, 100: 229}[dn]
    flow = float(dn)
    rb = 0.8 * flow + 8.0
    n = scaled_segments(rb, density(rng, extreme, draw_at_extremes=True), 40, 64)
    cuts: list[Solid] = []
    holes = 2
    if ends == "flanged":
        d_out, k, bolts, hole, thick, _ = std.PN16_FLANGES[dn]
        half = ftf / 2
        gap = max(4.0, 0.06 * ftf)
        lb = half - thick - gap
        neck = min(rb, k / 2 - hole / 2 - 2.0)
        prof = [(0.0, -half), (d_out / 2, -half), (d_out / 2, -half + thick), (neck, -half + thick)]
        prof += [(neck, half - thick), (d_out / 2, half - thick), (d_out / 2, half), (0.0, half)]
        n_ends = scaled_segments(d_out / 2, density(rng, extreme, draw_at_extremes=True), 48, 72)
        ends_solid = revolve(np.array(prof), n_ends)
        for z0 in (-half - 1.0, half - thick - 1.0):
            cuts += bolt_circle(k, bolts, hole, z0, thick + 2.0)
        holes += 2 * bolts
        size, standard = f"DN{dn} PN16", "EN 558"
    else:
        d, pitch = _bsp(bsp)
        af = _spanner(d * 1.2 + 4)
        le = round(0.65 * d + 6)
        half = round(1.3 * d + 0.6 * rb + 10)
        lb = half - le - 1.0
        ends_solid = union(
            [
                chamfered_hex(af, le, both_ends=True).translate((0, 0, -half)),
                chamfered_hex(af, le, both_ends=True).translate((0, 0, half - le)),
                cylinder(min(rb, 0.45 * af), 2 * half - 2 * le + 2, n, z0=-half + le - 1),
            ]
        )
        modelled = flag(rng, 0.6, extreme, at_min=True, draw_at_extremes=True)
        cuts += [
            tapped_bore(d, pitch, -half, -half + le, modelled, min(n, 48)),
            tapped_bore(d, pitch, half - le, half, modelled, min(n, 48)),
        ]
        flow = min(flow, d - 1.28 * pitch - 2.0)
        size, standard = f'{bsp}" BSP', "EN 13828"
    barrel = [(0.0, -lb)]
    barrel += [
        (rb * math.sin(a), -lb + 0.35 * rb * (1 - math.cos(a))) for a in np.linspace(0.2, 1.57, 5)
    ]
    barrel += [
        (rb * math.sin(a), lb - 0.35 * rb * (1 - math.cos(a))) for a in np.linspace(1.57, 0.2, 5)
    ]
    barrel += [(0.0, lb)]
    joint = [
        (0.0, 0.3 * lb),
        (rb + 2.5, 0.3 * lb),
        (rb + 2.5, 0.3 * lb + 6.0),
        (0.0, 0.3 * lb + 6.0),
    ]
    body = union([ends_solid, revolve(np.array(barrel), n), revolve(np.array(joint), n)])
    cuts.append(cylinder(flow / 2, 2 * half + 4, n, z0=-half - 2))
    body = along_x(subtract(body, cuts))
    pad = "F03" if dn <= 20 else "F04" if dn <= 32 else "F05" if dn <= 50 else "F07"
    pad_d, pad_k, pad_m = sf.ISO5211_PADS[pad]
    hs = rb + 0.4 * flow + 18.0
    pad_t = 1.5 * pad_m + 3.0
    stem_r = max(0.3 * pad_d, 0.5 * pad_k - pad_m) - 0.5 * pad_m
    stem_bore = max(6.0, 0.18 * flow + 4.0)
    boss = union(
        [
            cylinder(stem_r, hs - pad_t + 1.0, n, z0=0.0),
            cylinder(pad_d / 2, pad_t, segments_for(pad_d / 2), z0=hs - pad_t),
        ]
    )
    blind = bolt_circle(pad_k, 4, pad_m * 0.84, hs - 1.5 * pad_m, 1.5 * pad_m + 1.0)
    body = subtract(union([body, boss]), [*blind, cylinder(stem_bore / 2, hs + 2, 24, z0=0.0)])
    material = pick(rng, ("stainless", "brass", "carbon steel", "cast iron"))
    attrs = ShapeAttributes(
        form="housing", threaded=ends == "threaded", holes=holes, symmetry="mirror"
    )
    return make_part(
        rng,
        body,
        name=f"Ball valve body {size} {ends}",
        tags=[material, standard, "ISO 5211", pad, "ball valve", "two-piece", "full bore", ends],
        parameters=dict(
            nominal_diameter=dn,
            ends=ends,
            length=num(2 * half),
            flow_bore=num(flow),
            stem_bore=num(stem_bore),
            mounting_pad=pad,
        ),
        attributes=attrs,
        names=["ball valve body", "two-piece ball valve", "full port ball valve", "valve housing"],
        size=size,
        standard=standard,
        material=material,
        extras=[
            f"{ends} two-piece ball valve body {size}, {fmt(2 * half)} mm face to face",
            f"full bore valve housing with stem boss and ISO 5211 {pad} actuator pad",
        ],
    )


def hose_barb(rng: np.random.Generator, extreme: str | None = None) -> GeneratedPart:
    """Hose tail: male BSP thread, hex collar and barbed spigot for a push-on hose."""
    hose = float(choose(rng, list(sf.HOSE_TAILS), extreme))
    size, af = sf.HOSE_TAILS[hose]
    d, pitch = _bsp(size)
    barbs = int(choose(rng, (3, 4, 5), extreme))
    modelled = flag(rng, 0.6, extreme, at_min=True, draw_at_extremes=True)
    wall = max(1.0, 0.14 * hose)
    bore = hose - 2 * wall
    r_stem, r_barb = hose / 2, hose / 2 + max(0.6, 0.07 * hose)
    lt = round(0.55 * d + 4)
    hh = round(0.35 * af + 2)
    bp = max(3.0, 0.45 * hose)
    tail = barbs * bp + 0.4 * hose + 2
    n = scaled_segments(d / 2, density(rng, extreme, draw_at_extremes=True), 32, 56)
    thread = threaded_shank(d / 2, pitch, lt, lt - pitch, n, modelled)
    hexa = chamfered_hex(af, hh, both_ends=True).translate((0, 0, lt))
    z = lt + hh
    sp = [(0.0, z - 0.5), (r_stem, z - 0.5), (r_stem, z + 0.4 * hose)]
    for i in range(barbs):
        zb = z + 0.4 * hose + i * bp
        sp += [(r_barb, zb + 0.05 * bp), (r_stem * 0.97, zb + bp)]
    top = z + tail
    sp += [(r_stem * 0.97 - 0.5, top), (0.0, top)]
    n_spigot = scaled_segments(r_barb, density(rng, extreme, draw_at_extremes=True), 32, 56)
    spigot = revolve(np.array(sp), n_spigot)
    body = subtract(union([thread, hexa, spigot]), [cylinder(bore / 2, top + 2, n, z0=-1.0)])
    material = pick(rng, ("brass", "brass", "stainless", "nylon"))
    attrs = ShapeAttributes(
        form="fitting", drive="external hex", threaded=True, holes=1, symmetry="polar"
    )
    return make_part(
        rng,
        body,
        name=f"Hose barb G{size} x {fmt(hose)} mm",
        tags=[material, "ISO 228-1", "hose tail", "barb", "BSP", "male thread", "hex"]
        + (["modelled thread"] if modelled else ["plain shank"]),
        parameters=dict(
            thread=f"G{size}",
            hose_bore=num(hose),
            barbs=barbs,
            hex_across_flats=num(af),
            bore=num(bore),
            length=num(top),
        ),
        attributes=attrs,
        names=["hose barb", "hose tail", "hose nipple", "barbed fitting", "hose connector"],
        size=f'G{size}" x {fmt(hose)} mm hose',
        standard="ISO 228-1",
        material=material,
        extras=[
            f"barbed hose tail for {fmt(hose)} mm ID hose, {barbs} barbs, G{size} male thread, "
            f"{fmt(af)} mm hex",
            f"push-on hose connector with {fmt(bore)} mm through bore",
        ],
    )


def hydraulic_adapter(rng: np.random.Generator, extreme: str | None = None) -> GeneratedPart:
    """Straight male-male hydraulic adapter ISO 8434-1 (24 degree cone ends), hex in the middle."""
    tube, (d, pitch, af) = choose_row(rng, sf.ISO8434_L, extreme)
    bsp_end = choose(rng, (False, True), extreme) and tube <= 28
    modelled = flag(rng, 0.6, extreme, at_min=True, draw_at_extremes=True)
    lt = round(0.75 * d + 6)
    hh = round(0.4 * af + 3)
    bore = max(3.0, tube - 2 * max(1.0, 0.15 * tube))
    n = scaled_segments(d / 2, density(rng, extreme, draw_at_extremes=True), 32, 56)

    def male(r_major: float, p: float, length: float) -> Solid:
        return threaded_shank(r_major, p, length, length - p, n, modelled)

    def cone_seat(z_face: float, down: bool) -> Solid:
        # 24 degree cone: mouth wider than the tube, 12 degree half angle to the tube stop
        depth = 0.3 * lt
        mouth = tube / 2 + depth * math.tan(math.radians(12.0))
        prof = [(0.0, -1.0), (mouth, -1.0), (mouth, 0.0), (tube / 2, depth)]
        prof += [(tube / 2, 0.55 * lt), (0.0, 0.55 * lt)]
        s = revolve(np.array(prof), n)
        return (
            s.mirror((0, 0, 1)).translate((0, 0, z_face)) if down else s.translate((0, 0, z_face))
        )

    top_len = lt
    if bsp_end:
        g = next(s for s, (dd, _) in sf.BSP_THREADS.items() if dd >= d - 2)
        gd, gp = _bsp(g)
        low = male(gd / 2, gp, 0.8 * gd + 2)
        low_len = 0.8 * gd + 2
        af = max(af, _spanner(gd * 1.15 + 2))
    else:
        low, low_len = male(d / 2, pitch, lt), lt
    hexa = chamfered_hex(af, hh, both_ends=True).translate((0, 0, low_len))
    top = male(d / 2, pitch, top_len).mirror((0, 0, 1)).translate((0, 0, low_len + hh + top_len))
    total = low_len + hh + top_len
    cuts = [cylinder(bore / 2, total + 2, n, z0=-1.0), cone_seat(total, down=True)]
    if not bsp_end:
        cuts.append(cone_seat(0.0, down=False))
    body = subtract(union([low, hexa, top]), cuts)
    material = pick(rng, ("steel", "zinc-plated steel", "stainless"))
    thread = f"M{fmt(d)}x{fmt(pitch)}"
    attrs = ShapeAttributes(
        form="fitting", drive="external hex", threaded=True, holes=1, symmetry="polar"
    )
    return make_part(
        rng,
        body,
        name=f"Hydraulic adapter {tube}L {thread}" + (f" x G{g}" if bsp_end else ""),
        tags=[material, "ISO 8434-1", "DIN 2353", "24 degree cone", "L series", "male-male", "hex"]
        + (["BSPP stud end"] if bsp_end else ["straight union"]),
        parameters=dict(
            tube_outer_diameter=tube,
            thread=thread,
            hex_across_flats=num(af),
            length=num(total),
            bore=num(bore),
        ),
        attributes=attrs,
        names=["hydraulic adapter", "male-male adapter", "straight union", "hydraulic nipple"],
        size=f"{tube}L {thread}",
        standard="ISO 8434-1",
        material=material,
        extras=[
            f"straight male to male hydraulic fitting for {tube} mm tube, {thread} 24 degree cone "
            + (f"to G{g} BSPP stud end" if bsp_end else "both ends"),
            f"{fmt(total)} mm long hydraulic adapter with {fmt(af)} mm hex",
        ],
    )


FAMILY_LIST = (
    Family("concentric_reducer", "reducer", concentric_reducer, "pipe_fitting"),
    Family("eccentric_reducer", "eccentric_reducer", eccentric_reducer, "pipe_fitting"),
    Family("pipe_cap", "pipe_cap", pipe_cap, "pipe_fitting"),
    Family("pipe_cross", "pipe_cross", pipe_cross, "pipe_fitting"),
    Family("threaded_coupling", "pipe_coupling", threaded_coupling, "pipe_fitting"),
    Family("ball_valve_body", "valve_body", ball_valve_body, "valve"),
    Family("hose_barb", "hose_barb", hose_barb, "hose_fitting"),
    Family("hydraulic_adapter", "hydraulic_adapter", hydraulic_adapter, "hose_fitting"),
)
