"""Timing belt pulleys and shaft couplings: GT2, T5 and HTD pulleys, jaw and rigid couplings."""

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
    box,
    circle,
    cylinder,
    extrude,
    fmt,
    make_part,
    polar_copies,
    revolve,
    rounded,
    scaled_segments,
    segments_for,
    subtract,
    union,
)
from data_jobs.catalog.geometry_kit import (
    bore_with_keyway,
)


def timing_pulley(rng: np.random.Generator, extreme: str | None = None) -> GeneratedPart:
    """Synchronous belt pulley (GT2, T5 or HTD 5M) with flanges and a set-screw hub."""
    profile, (pitch, pld, depth, belt_w) = choose_row(rng, sm.TIMING_BELTS, extreme)
    teeth = int(choose(rng, sm.TIMING_PULLEY_TEETH, extreme))
    pd = teeth * pitch / math.pi
    od = pd - 2 * pld
    n_seg = max(96, 6 * teeth)
    groove_w = 0.55 * pitch
    cutters = []
    for k in range(teeth):
        a = 2 * math.pi * k / teeth
        c = np.array([math.cos(a), math.sin(a)])
        if profile == "T5":
            w_top, w_bot = groove_w, 0.6 * groove_w
            loc = np.array([(od / 2 + 1, w_top / 2), (od / 2 - depth, w_bot / 2),
                            (od / 2 - depth, -w_bot / 2), (od / 2 + 1, -w_top / 2)])  # fmt: skip
            rot = np.c_[loc[:, 0] * c[0] - loc[:, 1] * c[1], loc[:, 0] * c[1] + loc[:, 1] * c[0]]
            cutters.append(sg.Polygon(rot))
        else:
            rg = groove_w / 2
            centre = (od / 2 - depth + rg) * c
            cut = sg.Point(*centre).buffer(rg, quad_segs=4)
            cutters.append(
                cut.union(sg.Point(*(centre + 1.0 * c)).buffer(rg, quad_segs=4)).convex_hull
            )
    teeth2d = circle(od / 2, segments=n_seg).difference(sg.MultiPolygon(cutters).buffer(0))
    width = belt_w + 1.0
    flanges = flag(rng, 0.7, extreme, draw_at_extremes=True)
    fl_t = max(1.0, 0.2 * pitch)
    fl_r = od / 2 + max(1.2, 0.5 * pitch + pld)
    bores = (4, 5, 6, 6.35, 8, 10, 12, 14, 15, 20, 25)
    fit = [b for b in bores if 0.12 * od <= b <= 0.55 * (od - 2 * depth)] or [4]
    bore = float(choose(rng, fit, extreme))
    screw = 3.0 if bore <= 8 else 4.0 if bore <= 14 else 5.0
    hub_r = max(0.7 * od / 2, bore / 2 + 1.6 * screw)
    hub_len = round(max(6.0, 2.2 * screw), 1)
    z = 0.0
    parts = []
    if flanges:
        parts.append(cylinder(fl_r, fl_t + 0.05, segments_for(fl_r, 48, 96), z0=0.0))
        z = fl_t
    parts.append(extrude(teeth2d, width, z0=z))
    z += width
    if flanges:
        parts.append(cylinder(fl_r, fl_t, segments_for(fl_r, 48, 96), z0=z - 0.05))
        z += fl_t
    parts.append(cylinder(hub_r, hub_len + 0.05, segments_for(hub_r, 32, 64), z0=z - 0.05))
    z += hub_len
    n_screws = 2 if flag(rng, 0.5, extreme, draw_at_extremes=True) else 1
    cuts = [cylinder(bore / 2, z + 2, segments_for(bore / 2, 24, 40), z0=-1)]
    tap = (
        cylinder(0.42 * screw, hub_r + 2, 16).rotate((0, 90, 0)).translate((0, 0, z - hub_len / 2))
    )
    cuts += polar_copies(tap, n_screws, 0.0) if n_screws == 1 else [tap, tap.rotate((0, 0, 90))]
    pulley = subtract(union(parts), cuts)
    material = choose(rng, ("aluminium", "aluminium", "steel", "POM"))
    return make_part(
        rng,
        pulley,
        name=f"Timing pulley {profile} {teeth}T {fmt(bore)} mm bore",
        tags=[material, "ISO 13050", "timing pulley", "synchronous", profile, "set screw", "hub"]
        + (["flanged"] if flanges else []),
        parameters=rounded(
            whole_as_int=True,
            profile=profile,
            pitch=pitch,
            teeth=teeth,
            pitch_diameter=round(pd, 2),
            outside_diameter=round(od, 2),
            belt_width=belt_w,
            bore=bore,
            set_screws=n_screws,
            flanges=int(flanges),
        ),
        attributes=ShapeAttributes(
            form="wheel",
            threaded=True,
            toothed_rim=True,
            teeth=teeth,
            holes=1 + n_screws,
            symmetry="polar",
        ),
        names=["timing pulley", "synchronous pulley", "toothed belt pulley", "timing belt gear"],
        size=f"{profile} {teeth}T",
        standard="ISO 13050",
        material=material,
        extras=[
            f"{profile} timing pulley {teeth} teeth, {fmt(bore)} mm bore, "
            f"for {fmt(belt_w)} mm belt",
            f"toothed belt pulley pitch {fmt(pitch)} mm, pitch diameter {fmt(pd, 2)} mm"
            + (", flanged both sides" if flanges else ", without flanges"),
            f"{teeth}T {profile} pulley with hub and {n_screws} set screw"
            + ("s" if n_screws > 1 else ""),
        ],
    )


def jaw_coupling(rng: np.random.Generator, extreme: str | None = None) -> GeneratedPart:
    """Jaw coupling hub, L type: cylindrical hub with three curved jaws for the spider."""
    size, (od, length, jaw_len, max_bore) = choose_row(rng, sm.JAW_COUPLINGS, extreme)
    bores = [b for b in (5, 6, 8, 10, 12, 14, 15, 16, 19, 20, 22, 24, 25, 28, 30, 32, 35, 38, 42)
             if 0.25 * od <= b <= max_bore]  # fmt: skip
    bore = float(choose(rng, bores, extreme))
    r = od / 2
    r_in = max(bore / 2 + 0.5, 0.42 * r)
    n_seg = scaled_segments(r, nominal_density(rng, extreme), 48, 72)
    hub = cylinder(r, length - jaw_len + 0.05, n_seg)
    jaws = []
    span = math.radians(60.0 - 8.0)
    for k in range(3):
        a0 = 2 * math.pi * k / 3 - span / 2
        arc = np.linspace(a0, a0 + span, 12)
        ring = np.r_[np.c_[r * np.cos(arc), r * np.sin(arc)],
                     np.c_[r_in * np.cos(arc[::-1]), r_in * np.sin(arc[::-1])]]  # fmt: skip
        # crowned flanks: rounded jaw edges seen from the end
        jaw2d = sg.Polygon(ring).buffer(-0.08 * r, quad_segs=4).buffer(0.06 * r, quad_segs=4)
        jaw2d = jaw2d.intersection(circle(r, segments=n_seg))
        jaws.append(extrude(jaw2d, jaw_len, z0=length - jaw_len))
    body = union([hub, *jaws])
    keyway = bore >= 10 and flag(rng, 0.5, extreme, draw_at_extremes=True)
    set_screw = flag(rng, 0.6, extreme, draw_at_extremes=True)
    cuts = [bore_with_keyway(bore, length, keyway)]
    if set_screw:
        screw = 4.0 if od < 40 else 6.0
        z = (length - jaw_len) / 2
        cuts.append(cylinder(0.42 * screw, r + 2, 16).rotate((0, 90, 0)).rotate((0, 0, 90))
                    .translate((0, 0, z)))  # fmt: skip
    coupling = subtract(body, cuts)
    material = choose(rng, ("cast iron", "steel", "aluminium", "aluminium"))
    return make_part(
        rng,
        coupling,
        name=f"Jaw coupling hub {size} bore {fmt(bore)}",
        tags=[material, "jaw coupling", "spider coupling", "L type", "flexible coupling", "hub"]
        + (["keyway"] if keyway else [])
        + (["set screw"] if set_screw else []),
        parameters=rounded(
            whole_as_int=True,
            size=size,
            outer_diameter=od,
            hub_length=length,
            jaw_length=jaw_len,
            bore=bore,
            jaws=3,
        ),
        attributes=ShapeAttributes(
            form="cylinder",
            threaded=set_screw,
            holes=1 + int(set_screw),
            symmetry="none" if set_screw else "polar",
        ),
        names=[
            "jaw coupling hub",
            "spider coupling hub",
            "Lovejoy coupling half",
            "curved jaw hub",
        ],
        size=f"{size} {fmt(bore)} mm",
        standard=None,
        material=material,
        extras=[
            f"{size} jaw coupling hub, {fmt(od)} mm OD, {fmt(bore)} mm bore"
            + (" with keyway" if keyway else ""),
            f"flexible coupling half with 3 curved jaws, {fmt(length)} mm long",
            "L-type jaw hub for an elastomer spider insert"
            + (", set screw over the bore" if set_screw else ""),
        ],
    )


def rigid_coupling(rng: np.random.Generator, extreme: str | None = None) -> GeneratedPart:
    """Rigid shaft coupling: plain sleeve with set screws or one-piece clamp with slit ends."""
    bore = float(choose(rng, tuple(sm.RIGID_COUPLINGS), extreme))
    od, length = sm.RIGID_COUPLINGS[bore]
    clamp = flag(rng, 0.5, extreme, draw_at_extremes=True)
    n = scaled_segments(od / 2, nominal_density(rng, extreme), 40, 64)
    c = 0.5 if od < 30 else 1.0
    body = revolve(
        np.array(
            [
                (bore / 2, 0),
                (od / 2 - c, 0),
                (od / 2, c),
                (od / 2, length - c),
                (od / 2 - c, length),
                (bore / 2, length),
            ]
        ),
        n,
    )
    screw = 3.0 if od <= 20 else 4.0 if od <= 32 else 5.0 if od <= 45 else 6.0
    cuts = []
    if clamp:
        gap = max(0.8, 0.05 * od)
        slit_len = 0.42 * length
        for z0 in (-1.0, length - slit_len):
            cuts.append(
                box(od / 2 + 1, gap, slit_len + 1, ((od / 2 + 1) / 2, 0, z0 + (slit_len + 1) / 2))
            )
            x = (bore / 2 + od / 2) / 2
            zc = z0 + 1 + slit_len / 2 if z0 < 0 else z0 + slit_len / 2
            cuts.append(cylinder(0.55 * screw, od + 2, 16, z0=-od / 2 - 1).rotate((90, 0, 0))
                        .translate((x, 0, zc)))  # fmt: skip
        holes = 1 + 4
        kind = "clamp"
    else:
        per_end = int(choose(rng, (1, 2), extreme))
        tap = cylinder(0.42 * screw, od / 2 + 1, 16).rotate((0, 90, 0))
        for zc in (0.25 * length, 0.75 * length):
            cuts += (
                polar_copies(tap.translate((0, 0, zc)), per_end, 0.0)
                if per_end == 1
                else [tap.translate((0, 0, zc)), tap.translate((0, 0, zc)).rotate((0, 0, 90))]
            )
        holes = 1 + 2 * per_end
        kind = "set screw"
    coupling = subtract(body, cuts)
    material = choose(rng, ("steel", "stainless", "aluminium", "aluminium"))
    return make_part(
        rng,
        coupling,
        name=f"Rigid coupling {fmt(bore)} mm ({kind})",
        tags=[material, "rigid coupling", "sleeve coupling", "shaft coupling", kind],
        parameters=rounded(
            whole_as_int=True,
            bore=bore,
            outer_diameter=od,
            length=length,
            screw=f"M{fmt(screw)}",
            style=kind,
        ),
        attributes=ShapeAttributes(
            form="cylinder", threaded=not clamp, holes=holes, symmetry="mirror"
        ),
        names=["rigid coupling", "sleeve coupling", "shaft coupler", "muff coupling"],
        size=f"{fmt(bore)}x{fmt(od)}x{fmt(length)}",
        standard=None,
        material=material,
        extras=[
            f"rigid {kind} coupling for two {fmt(bore)} mm shafts, {fmt(od)} mm OD, "
            f"{fmt(length)} mm long",
            "one-piece clamp shaft coupling with slit ends and clamp screws"
            if clamp
            else f"solid sleeve coupler fixed by M{fmt(screw)} set screws",
            f"shaft connector {fmt(bore)} to {fmt(bore)} mm, M{fmt(screw)} screws",
        ],
    )


FAMILY_LIST = (
    Family("timing_pulley", "timing_pulley", timing_pulley, "pulley"),
    Family("jaw_coupling", "jaw_coupling", jaw_coupling, "coupling"),
    Family("rigid_coupling", "rigid_coupling", rigid_coupling, "coupling"),
)
