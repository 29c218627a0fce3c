"""Piping parts by DN size: straight pipe, butt-weld elbows and tees, PN16 flanges."""

from __future__ import annotations

import math

import numpy as np
import shapely.geometry as sg

from data_jobs.catalog import families_standards as std
from data_jobs.catalog.attributes import ShapeAttributes
from data_jobs.catalog.choices import choose_row, pick
from data_jobs.catalog.families_base import (
    Family,
    GeneratedPart,
    Solid,
    along_x,
    cross_section,
    cylinder,
    fmt,
    make_part,
    material_word,
    num,
    revolve,
    segments_for,
    subtract,
    union,
)
from data_jobs.catalog.geometry_kit import bolt_circle

PIPE_MATERIALS = ("carbon steel", "stainless", "galvanized steel", "stainless")


def _dn(rng: np.random.Generator, table: dict) -> int:
    return int(pick(rng, [dn for dn in std.PIPE_SIZES if dn in table]))


def straight_pipe(rng: np.random.Generator) -> GeneratedPart:
    """Seamless steel pipe Sch 40 cut to length (along X), plain or bevelled ends."""
    dn = _dn(rng, std.PIPE_SIZES)
    nps, od, wall = std.PIPE_SIZES[dn]
    length = int(round(float(rng.uniform(2.0, 8.0)) * od / 10) * 10 + 50)
    bevel = rng.random() < 0.4
    ro, ri = od / 2, od / 2 - wall
    if bevel:
        land = min(1.6, 0.4 * wall)
        run = (wall - land) * math.tan(math.radians(37.5))
        prof = [
            (ri, 0),
            (ri + land, 0),
            (ro, run),
            (ro, length - run),
            (ri + land, length),
            (ri, length),
        ]
    else:
        prof = [(ri, 0), (ro, 0), (ro, length), (ri, length)]
    pipe = along_x(revolve(np.array(prof), segments_for(ro, lo=48, hi=72)))
    material = pick(rng, PIPE_MATERIALS)
    ends = "bevelled ends for butt welding" if bevel else "plain ends"
    attrs = ShapeAttributes(form="tube", holes=1, symmetry="axisymmetric")
    names = ["steel pipe", "seamless pipe", "tube", "pipe spool"]
    return make_part(
        rng,
        pipe,
        attrs,
        name=f"Pipe DN{dn} ({nps}) Sch 40, {length} mm",
        tags=[material, "ASME B36.10", "Sch 40", "pipe", "seamless", "through-hole"]
        + (["bevelled"] if bevel else ["plain end"]),
        parameters=dict(
            nominal_diameter=dn,
            nps=nps,
            outer_diameter=num(od),
            wall_thickness=num(wall),
            length=length,
        ),
        names=names,
        size=f"DN{dn} ({nps}) Sch 40",
        standard="ASME B36.10",
        material=material,
        canonical=f"DN{dn} steel pipe, {length} mm long, {fmt(od)} mm OD",
        extras=[
            f"{nps} schedule 40 pipe {fmt(od)} x {fmt(wall)} mm, {ends}",
            f"{material_word(material)} tube DN{dn}, wall {fmt(wall)} mm, length {length} mm",
            f"{length} mm pipe spool piece, nominal size {nps}",
        ],
    )


def pipe_elbow(rng: np.random.Generator) -> GeneratedPart:
    """Butt-weld long radius elbow ASME B16.9, 90 or 45 degrees (swept annulus)."""
    dn = _dn(rng, std.BUTT_WELD_FITTINGS)
    nps, od, wall = std.PIPE_SIZES[dn]
    bend_r = std.BUTT_WELD_FITTINGS[dn][0]
    angle = float(pick(rng, (90.0, 90.0, 45.0)))
    ring = (
        sg.Point(bend_r, 0)
        .buffer(od / 2, quad_segs=8)
        .difference(sg.Point(bend_r, 0).buffer(od / 2 - wall, quad_segs=8))
    )
    steps = max(12, int(angle / 4))
    elbow = Solid.revolve(cross_section(ring), steps, angle)  # steps along the bend
    material = pick(rng, PIPE_MATERIALS)
    center_to_end = bend_r * math.tan(math.radians(angle / 2))
    attrs = ShapeAttributes(form="fitting", holes=1, symmetry="mirror")
    names = ["long radius elbow", "pipe bend", "butt-weld elbow", "LR elbow"]
    size = f"{fmt(angle)} deg DN{dn} ({nps})"
    return make_part(
        rng,
        elbow,
        attrs,
        name=f"Elbow {fmt(angle)} deg LR DN{dn} ({nps})",
        tags=[material, "ASME B16.9", "butt weld", "elbow", "long radius", "through-hole"],
        parameters=dict(
            nominal_diameter=dn,
            nps=nps,
            outer_diameter=num(od),
            wall_thickness=num(wall),
            angle=num(angle),
            bend_radius=num(bend_r),
            center_to_end=num(center_to_end),
        ),
        names=names,
        size=size,
        standard="ASME B16.9",
        material=material,
        canonical=f"{fmt(angle)} degree long radius elbow DN{dn}, butt weld",
        extras=[
            f"{nps} LR {fmt(angle)}-degree pipe bend, {fmt(bend_r)} mm centre radius",
            f"{material_word(material)} butt-weld elbow {fmt(od)} x {fmt(wall)} mm, ASME B16.9",
            f"pipe fitting: {fmt(angle)} deg elbow for DN{dn} schedule 40 pipe",
        ],
    )


def pipe_tee(rng: np.random.Generator) -> GeneratedPart:
    """Butt-weld straight (equal) or reducing tee ASME B16.9: run along X, branch up Z."""
    dn = _dn(rng, std.BUTT_WELD_FITTINGS)
    nps, od, wall = std.PIPE_SIZES[dn]
    c = std.BUTT_WELD_FITTINGS[dn][1]
    smaller = [d for d in std.BUTT_WELD_FITTINGS if d < dn and std.PIPE_SIZES[d][1] < 0.8 * od]
    reducing = bool(smaller) and rng.random() < 0.35
    bdn = int(pick(rng, smaller[-2:])) if reducing else dn
    _, bod, bwall = std.PIPE_SIZES[bdn]
    n = segments_for(od / 2, lo=48, hi=64)
    run_o = along_x(cylinder(od / 2, 2 * c, n)).translate((-c, 0, 0))
    run_i = along_x(cylinder(od / 2 - wall, 2 * c + 2, n)).translate((-c - 1, 0, 0))
    br_o = cylinder(bod / 2, c, n)
    br_i = cylinder(bod / 2 - bwall, c + 1, n)
    tee = subtract(union([run_o, br_o]), [run_i, br_i])
    material = pick(rng, PIPE_MATERIALS)
    kind = f"reducing tee DN{dn} x DN{bdn}" if reducing else f"equal tee DN{dn}"
    attrs = ShapeAttributes(form="fitting", holes=2, symmetry="mirror")
    names = ["pipe tee", "butt-weld tee", "T-piece", "reducing tee" if reducing else "equal tee"]
    size = f"DN{dn} x DN{bdn}" if reducing else f"DN{dn} ({nps})"
    return make_part(
        rng,
        tee,
        attrs,
        name=f"Tee DN{dn}" + (f"xDN{bdn}" if reducing else "") + f" ({nps})",
        tags=[
            material,
            "ASME B16.9",
            "butt weld",
            "tee",
            "reducing" if reducing else "equal",
            "through-hole",
        ],
        parameters=dict(
            nominal_diameter=dn,
            branch_nominal_diameter=bdn,
            nps=nps,
            outer_diameter=num(od),
            branch_outer_diameter=num(bod),
            wall_thickness=num(wall),
            center_to_end=num(c),
        ),
        names=names,
        size=size,
        standard="ASME B16.9",
        material=material,
        canonical=f"butt-weld {kind}, ASME B16.9",
        extras=[
            f"{nps} pipe tee, {fmt(c)} mm centre to end, schedule 40",
            f"{material_word(material)} T-piece fitting {fmt(od)} mm run"
            + (f", {fmt(bod)} mm branch" if reducing else ""),
            f"three-way pipe fitting {kind}",
        ],
    )


def pipe_flange(rng: np.random.Generator) -> GeneratedPart:
    """EN 1092-1 PN16 flange: weld neck (type 11), plate slip-on (type 01) or blind (type 05)."""
    dn, (d_out, k, bolts, hole, thick, hub) = choose_row(rng, std.PN16_FLANGES)
    od = std.PIPE_SIZES[dn][1] if dn in std.PIPE_SIZES else 219.1
    wall = std.PIPE_SIZES[dn][2] if dn in std.PIPE_SIZES else 8.18
    kind = pick(rng, ["weld neck", "weld neck", "slip-on plate", "blind"])
    raised = rng.random() < 0.7
    rf_d = k - hole - 5.0  # EN 1092-1 raised face diameter d1, within a few mm
    rf_h = 2.0 if raised else 0.0
    n = segments_for(d_out / 2, lo=64, hi=72)
    c = 1.0
    prof = [(0.0, 0.0), (d_out / 2 - c, 0.0), (d_out / 2, c), (d_out / 2, thick)]
    if raised:
        prof += [(rf_d / 2, thick), (rf_d / 2, thick + rf_h)]
    top = thick + rf_h
    if kind == "weld neck":
        neck_h = round(2.2 * thick + 0.1 * dn)
        prof = [(0.0, -neck_h), (od / 2, -neck_h), (hub / 2, 0.0), *prof[1:]]
    prof += [(0.0, top)]
    flange = revolve(np.array(prof), n)
    cuts = []
    if kind != "blind":
        bore = od - 2 * wall if kind == "weld neck" else od + 1.0
        cuts.append(cylinder(bore / 2, 1000.0, n, z0=-500.0))
    cuts += bolt_circle(k, bolts, hole, -2.0, thick + 2 * rf_h + 4)
    flange = subtract(flange, cuts)
    holes = bolts + (0 if kind == "blind" else 1)
    material = pick(rng, ["carbon steel", "stainless", "galvanized steel"])
    face = "raised face (type B1)" if raised else "flat face (type A)"
    type_no = {"weld neck": "11", "slip-on plate": "01", "blind": "05"}[kind]
    attrs = ShapeAttributes(
        form="disc" if kind == "blind" else "ring", holes=holes, symmetry="polar"
    )
    names = [f"{kind} flange", "PN16 flange", "pipe flange", f"type {type_no} flange"]
    return make_part(
        rng,
        flange,
        attrs,
        name=f"{kind.capitalize()} flange DN{dn} PN16",
        tags=[material, "EN 1092-1", "PN16", f"type {type_no}", "flange", "bolt circle"]
        + (["raised face"] if raised else ["flat face"])
        + (["through-hole"] if kind != "blind" else ["blind"]),
        parameters=dict(
            nominal_diameter=dn,
            pressure_rating="PN16",
            outer_diameter=num(d_out),
            bolt_circle=num(k),
            bolt_holes=bolts,
            bolt_hole_diameter=num(hole),
            thickness=num(thick),
            pipe_outer_diameter=num(od),
            type=kind,
        ),
        names=names,
        size=f"DN{dn} PN16",
        standard="EN 1092-1",
        material=material,
        canonical=f"DN{dn} PN16 {kind} flange, {bolts} bolt holes",
        extras=[
            f"EN 1092-1 type {type_no} flange DN{dn}, {fmt(d_out)} mm OD, "
            f"{bolts} x {fmt(hole)} mm holes on {fmt(k)} mm PCD",
            f"{material_word(material)} {kind} pipe flange with {face}",
            f"{fmt(d_out)} mm {kind} flange, {fmt(thick)} mm thick, for {fmt(od)} mm pipe"
            if kind != "blind"
            else f"blanking plate / blind flange DN{dn}, {fmt(thick)} mm thick",
        ],
    )


# pipe_flange draws EN 1092-1 PN16 types 01, 05 and 11 (its tests need all three), so its kind
# is the PN16 flange series rather than one flange type
FAMILY_LIST = (
    Family("straight_pipe", "pipe", straight_pipe, "pipe"),
    Family("pipe_elbow", "pipe_elbow", pipe_elbow, "pipe_fitting"),
    Family("pipe_tee", "pipe_tee", pipe_tee, "pipe_fitting"),
    Family("pipe_flange", "pn16_flange", pipe_flange, "flange"),
)
