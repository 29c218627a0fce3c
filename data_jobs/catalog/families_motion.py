"""Linear motion: profiled rails and carriages, trapezoidal lead screws and nuts, linear bushings
(rolling bearings: ``families_rolling_bearings``)."""

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
    along_x,
    box,
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
    helical_faces,
    helical_rod,
    standard_bore,
)


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
            whole_as_int=True,
            size=size,
            width=W,
            height=H,
            length=length,
            hole_pitch=P,
            end_distance=E,
            holes=holes,
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
            whole_as_int=True,
            size=size,
            width=W,
            length=L,
            height=H,
            hole_spacing_across=Bs,
            hole_spacing_along=Cs,
            thread=f"M{fmt(M)}",
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
            whole_as_int=True,
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
            whole_as_int=True,
            thread=label,
            body_diameter=body_d,
            length=length,
            flange_diameter=fl_d,
            flange_thickness=fl_t,
            bolt_holes=bolts,
            hole_circle=pcd,
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
            whole_as_int=True,
            designation=name,
            shaft_diameter=d,
            outer_diameter=D,
            length=L,
            ball_tracks=tracks,
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
    Family("linear_rail", "linear_rail", linear_rail, "linear_guide"),
    Family("linear_carriage", "linear_carriage", linear_carriage, "linear_guide"),
    Family("lead_screw", "lead_screw", lead_screw, "screw_drive"),
    Family("lead_screw_nut", "lead_screw_nut", lead_screw_nut, "screw_drive"),
    Family("linear_bushing", "linear_bushing", linear_bushing, "bushing"),
)
