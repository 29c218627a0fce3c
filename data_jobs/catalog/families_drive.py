"""Power transmission parts: spur gears, chain sprockets, V-belt pulleys, keyed shafts, collars."""

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
    along_x,
    box,
    circle,
    cylinder,
    extrude,
    fmt,
    make_part,
    material_word,
    num,
    polar_copies,
    revolve,
    segments_for,
    subtract,
    union,
)
from data_jobs.catalog.geometry_kit import bore_with_keyway, hub_on_face, keyseat, standard_bore


def _involute(a: np.ndarray) -> np.ndarray:
    return np.tan(a) - a


def involute_gear_outline(
    module: float,
    teeth: int,
    pressure_angle_deg: float = 20.0,
    flank_points: int = 6,
    addendum: float = 1.0,
    dedendum: float = 1.25,
) -> np.ndarray:
    """(k, 2) counter-clockwise outline of a standard external spur gear (x = 1, no profile shift).

    Flanks are true involutes from the base (or root) circle to the tip circle, sampled at
    ``flank_points`` radii; below the base circle the flank runs radially to the root circle.
    addendum, dedendum : tooth height above / below the pitch circle, in modules
    """
    r = module * teeth / 2
    ra, rf = r + addendum * module, r - dedendum * module
    rb = r * math.cos(math.radians(pressure_angle_deg))
    radii = np.linspace(max(rb, rf), ra, flank_points)
    alpha_r = np.arccos(np.clip(rb / radii, -1.0, 1.0))
    half = math.pi / (2 * teeth) + _involute(np.radians(pressure_angle_deg)) - _involute(alpha_r)
    pitch = 2 * math.pi / teeth
    pts = []
    for k in range(teeth):
        c = k * pitch
        right = [(rad, c - h) for rad, h in zip(radii, half, strict=True)]
        if rf < rb:
            right.insert(0, (rf, c - half[0]))
        tip = [(ra, c + t * half[-1]) for t in (-0.35, 0.35)]
        left = [(rad, c + h) for rad, h in zip(radii[::-1], half[::-1], strict=True)]
        if rf < rb:
            left.append((rf, c + half[0]))
        gap_from, gap_to = c + half[0], c + pitch - half[0]
        root = [(rf, gap_from + t * (gap_to - gap_from)) for t in (0.33, 0.67)]
        pts += right + tip + left + root
    pts = np.array(pts)
    return np.c_[pts[:, 0] * np.cos(pts[:, 1]), pts[:, 0] * np.sin(pts[:, 1])]


def spur_gear(rng: np.random.Generator) -> GeneratedPart:
    """Spur gear, 20 degree involute teeth, with bore, optional hub, keyway and lightened web."""
    for _ in range(20):
        module = float(pick(rng, std.GEAR_MODULES))
        teeth = int(rng.integers(12, 61))
        if 12 <= module * teeth <= 200:
            break
    r = module * teeth / 2
    rf = r - 1.25 * module
    width = float(round(pick(rng, (6, 8, 10)) * module, 1))
    material = pick(rng, ["steel", "steel", "brass", "POM", "nylon", "cast iron"])
    bore = standard_bore(min(float(rng.uniform(0.18, 0.35)) * 2 * rf, 50))
    keyway = bore >= 8 and rng.random() < 0.6
    body = extrude(sg.Polygon(involute_gear_outline(module, teeth)), width)
    hub_d = min(1.8 * bore + 4, 2 * rf - 2 * module)
    has_hub = rng.random() < 0.55 and hub_d > bore + 4
    hub_len = round(0.7 * width + 0.3 * bore, 1) if has_hub else 0.0
    parts, cuts, holes = [body], [], 1
    if has_hub:
        parts.append(hub_on_face(hub_d, hub_len, width))
    web_rin, web_rout = hub_d / 2 + 1.5 * module, rf - 2.5 * module
    if web_rout - web_rin > 8 and rng.random() < 0.7:
        recess = max(0.25 * width, 1.0)
        ring = revolve(
            np.array([(web_rin, -1), (web_rout, -1), (web_rout, recess), (web_rin, recess)]), 64
        )
        cuts += [ring, ring.mirror((0, 0, 1)).translate((0, 0, width))]
        n_holes = int(pick(rng, (4, 5, 6)))
        hole_d = min(
            0.8 * (web_rout - web_rin), 2 * math.pi * (web_rin + web_rout) / 2 / n_holes * 0.5
        )
        hole = cylinder(hole_d / 2, width + 2, segments_for(hole_d / 2), z0=-1)
        cuts += polar_copies(hole.translate(((web_rin + web_rout) / 2, 0, 0)), n_holes, 30.0)
        holes += n_holes
    cuts.append(bore_with_keyway(bore, width + hub_len, keyway))
    gear = subtract(union(parts), cuts)
    mat = material_word(material)
    features = ["through-hole"] + (["keyway"] if keyway else []) + (["hub"] if has_hub else [])
    lightened = holes > 1
    return make_part(
        rng,
        gear,
        ShapeAttributes(form="wheel", toothed_rim=True, teeth=teeth, holes=holes, symmetry="polar"),
        name=f"Spur gear m{fmt(module)} z{teeth}",
        tags=[material, "spur gear", "involute", "DIN 867 profile", *features]
        + (["lightening holes"] if lightened else []),
        parameters=dict(
            module=num(module),
            teeth=teeth,
            pitch_diameter=num(2 * r),
            tip_diameter=num(2 * r + 2 * module),
            face_width=num(width),
            bore=num(bore),
            pressure_angle=20,
            hub_diameter=num(hub_d) if has_hub else 0,
        ),
        names=["spur gear", "straight-cut gear", "spur wheel", "cylindrical gear"],
        size=f"m{fmt(module)} z{teeth}",
        standard="DIN 867",
        material=material,
        canonical=f"spur gear module {fmt(module)}, {teeth} teeth, {fmt(bore)} mm bore",
        extras=[
            f"{teeth}-tooth straight-cut gear, m{fmt(module)}, pitch diameter {fmt(2 * r)} mm",
            f"{mat} involute spur gear, {fmt(width)} mm face width"
            + (
                f", with {' and '.join(f for f in ('hub', 'keyway') if f in features)}"
                if has_hub or keyway
                else ""
            ),
            f"cylindrical gear wheel z={teeth} m={fmt(module)}, 20 degree pressure angle"
            + (", spoked web with lightening holes" if lightened else ""),
        ],
    )


def chain_sprocket(rng: np.random.Generator) -> GeneratedPart:
    """Roller chain sprocket for ISO 606 B-series chain, plate or with hub (type B)."""
    chain, (p, d1, b1) = choose_row(rng, std.ROLLER_CHAINS)
    teeth = int(pick(rng, (9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 23, 25, 30, 38)))
    dp = p / math.sin(math.pi / teeth)
    da = dp - d1 + p * (1.25 + 1.0 - 1.6 / teeth) / 2  # mean of ISO 606 da,min and da,max
    ri = 0.505 * d1 + 0.069 * d1 ** (1 / 3)
    width = round(0.93 * b1, 1)
    step = 2 * math.pi / teeth
    gap = sg.Point(0, 0).buffer(ri, 12)
    flank = sg.Point(0, 0.9 * p).buffer(0.75 * p, 16)
    gap = gap.union(sg.MultiPolygon([gap, flank]).convex_hull)
    outline = circle(da / 2, segments=max(96, 6 * teeth))
    cuts2d = []
    for k in range(teeth):
        a = (k + 0.5) * step
        c, s = math.cos(a), math.sin(a)
        coords = np.asarray(gap.exterior.coords)
        rot = np.c_[coords[:, 1] * c - coords[:, 0] * s, coords[:, 1] * s + coords[:, 0] * c]
        cuts2d.append(sg.Polygon(rot + [dp / 2 * c, dp / 2 * s]))
    plate2d = outline.difference(sg.MultiPolygon(cuts2d).buffer(0))
    tooth_chamfer = revolve(
        np.array(
            [
                (0, -1),
                (da / 2 + 1, -1),
                (da / 2 + 1, width + 1),
                (0, width + 1),
                (0, width),
                (da / 2 - 0.1 * p, width),
                (da / 2 + 0.2 * p, width / 2),
                (da / 2 - 0.1 * p, 0),
                (0, 0),
            ]
        ),
        97,
    )
    plate = extrude(plate2d, width) - tooth_chamfer
    df = dp - d1
    bore = standard_bore(min(float(rng.uniform(0.25, 0.45)) * df, 50))
    has_hub = rng.random() < 0.6 and df - 2 * 0.3 * p > 1.6 * bore + 8
    hub_d = min(1.6 * bore + 8, df - 0.6 * p)
    hub_len = round(max(1.0 * bore, 2 * width), 1) if has_hub else 0.0
    parts = [plate]
    if has_hub:
        parts.append(hub_on_face(hub_d, hub_len, width))
    keyway = has_hub and bore >= 8 and rng.random() < 0.7
    sprocket = subtract(union(parts), [bore_with_keyway(bore, width + hub_len, keyway)])
    material = pick(rng, ["steel", "steel", "stainless", "cast iron"])
    kind = "hub sprocket (type B)" if has_hub else "plate sprocket (type A)"
    return make_part(
        rng,
        sprocket,
        ShapeAttributes(form="wheel", toothed_rim=True, teeth=teeth, holes=1, symmetry="polar"),
        name=f"Sprocket {chain} z{teeth}",
        tags=[material, "ISO 606", "roller chain", "sprocket", "through-hole"]
        + (["hub"] if has_hub else ["plate wheel"])
        + (["keyway"] if keyway else []),
        parameters=dict(
            chain=chain,
            pitch=num(p, 3),
            roller_diameter=num(d1),
            teeth=teeth,
            pitch_diameter=num(dp),
            tip_diameter=num(da),
            tooth_width=num(width),
            bore=num(bore),
        ),
        names=["chain sprocket", "sprocket", "chain wheel", "roller chain sprocket"],
        size=f"{chain} z{teeth}",
        standard="ISO 606",
        material=material,
        canonical=f"{chain} chain sprocket, {teeth} teeth, {fmt(bore)} mm bore",
        extras=[
            f"{kind} for {fmt(p, 3)} mm pitch roller chain ({chain}), z={teeth}",
            f"{material_word(material)} chain wheel, {teeth} teeth, pitch circle {fmt(dp, 1)} mm",
            f"{teeth} tooth simplex sprocket ISO 606 {chain}"
            + (" with hub and keyway" if keyway else ""),
        ],
    )


def vbelt_pulley(rng: np.random.Generator) -> GeneratedPart:
    """V-belt pulley (sheave) with 1-4 ISO 4183 grooves, hub, solid or lightened web."""
    section, (wd, t, above, e, f, dmin) = choose_row(rng, std.VBELT_GROOVES)
    dd = float(pick(rng, [d for d in std.PULLEY_DATUM_DIAMETERS if d >= dmin]))
    grooves = int(pick(rng, (1, 1, 2, 2, 3, 4)))
    angle = math.radians(34.0 if dd <= std.VBELT_34_DEG_UP_TO[section] else 38.0)
    rd, r_out = dd / 2, dd / 2 + above
    r_bot = rd - t
    rim_w = (grooves - 1) * e + 2 * f
    half_top = wd / 2 + above * math.tan(angle / 2)
    half_bot = max(wd / 2 - t * math.tan(angle / 2), 0.8)
    bore = standard_bore(min(float(rng.uniform(0.15, 0.28)) * dd, 50))
    hub_r = min(0.9 * bore + 8, r_bot - 6)
    hub_len = max(rim_w, round(1.2 * bore))
    rim_in = r_bot - max(5.0, 0.06 * dd)
    web = rim_in - hub_r > 6
    web_t = max(0.35 * rim_w, 8.0) if web else rim_w
    z_web0 = (rim_w - web_t) / 2
    prof = [(bore / 2, 0.0), (hub_r, 0.0)]
    if web:
        prof += [(hub_r, z_web0), (rim_in, z_web0), (rim_in, 0.0)]
    prof += [(r_out - 1.0, 0.0), (r_out, 1.0)]
    for i in range(grooves):
        zc = f + i * e
        prof += [
            (r_out, zc - half_top),
            (r_bot, zc - half_bot),
            (r_bot, zc + half_bot),
            (r_out, zc + half_top),
        ]
    prof += [(r_out, rim_w - 1.0), (r_out - 1.0, rim_w)]
    if web:
        prof += [(rim_in, rim_w), (rim_in, z_web0 + web_t), (hub_r, z_web0 + web_t)]
    prof += [(hub_r, hub_len), (bore / 2, hub_len)]
    pulley = revolve(np.array(prof), segments_for(r_out, lo=48, hi=72))
    holes = 1
    cuts = []
    if web and rim_in - hub_r > 25 and rng.random() < 0.6:
        n_h = int(pick(rng, (4, 5, 6)))
        hd = min(0.6 * (rim_in - hub_r), math.pi * (rim_in + hub_r) / n_h * 0.45)
        rc = (rim_in + hub_r) / 2
        cuts += polar_copies(cylinder(hd / 2, rim_w + 2, 32, z0=-1).translate((rc, 0, 0)), n_h)
        holes += n_h
    keyway = bore >= 10 and rng.random() < 0.7
    cuts.append(bore_with_keyway(bore, hub_len, keyway))
    pulley = subtract(pulley, cuts)
    material = pick(rng, ["cast iron", "cast iron", "aluminium", "steel"])
    plural = "s" if grooves > 1 else ""
    symmetry = "polar" if holes > 1 else "mirror" if keyway else "axisymmetric"
    return make_part(
        rng,
        pulley,
        ShapeAttributes(form="wheel", holes=holes, symmetry=symmetry),
        name=f"V-belt pulley {section} {fmt(dd)}x{grooves}",
        tags=[material, "ISO 4183", "DIN 2211", "V-belt", section, "through-hole"]
        + (["keyway"] if keyway else [])
        + (["lightening holes"] if holes > 1 else []),
        parameters=dict(
            belt_section=section,
            datum_diameter=num(dd),
            outside_diameter=num(2 * r_out),
            grooves=grooves,
            groove_angle=num(math.degrees(angle)),
            bore=num(bore),
            rim_width=num(rim_w),
            hub_length=num(hub_len),
        ),
        names=["V-belt pulley", "sheave", "vee pulley", "wedge belt pulley"],
        size=f"{section} {fmt(dd)}x{grooves}",
        standard="ISO 4183",
        material=material,
        canonical=f"{section} V-belt pulley, {fmt(dd)} mm datum diameter, {grooves} groove{plural}",
        extras=[
            f"{grooves}-groove sheave for {section} wedge belts, {fmt(bore)} mm bore",
            f"{material_word(material)} belt pulley {fmt(2 * r_out)} mm OD with hub"
            + (" and keyway" if keyway else ""),
            f"vee pulley {section} {fmt(dd)} x {grooves}, DIN 2211",
        ],
    )


def keyed_shaft(rng: np.random.Generator) -> GeneratedPart:
    """Stepped drive shaft (along X) with chamfers and a milled DIN 6885 keyseat."""
    d_main = float(pick(rng, (12, 15, 16, 20, 25, 30, 35, 40, 45, 50)))
    steps = int(pick(rng, (1, 2, 3)))
    d_seat = standard_bore(d_main - 2)
    length_main = round(float(rng.uniform(3.0, 7.0)) * d_main / 5) * 5
    seat_len = round(float(rng.uniform(0.8, 1.5)) * d_seat / 5) * 5 + 5
    end_d = standard_bore(d_seat - 2) if steps >= 2 else d_seat
    end_len = round(float(rng.uniform(1.5, 2.5)) * end_d / 5) * 5 + 5
    sections = [(end_d, end_len), (d_seat, seat_len), (d_main, length_main)]
    if steps == 1:
        sections = [(d_main, length_main + seat_len + end_len)]
    elif steps == 2:
        sections = [(d_seat, seat_len + end_len), (d_main, length_main)]
    if steps >= 2 and rng.random() < 0.6:
        sections.append((d_seat, seat_len))
    c = max(0.5, round(0.04 * d_main * 2) / 2)
    prof = [(0.0, 0.0)]
    z = 0.0
    prev = 0.0
    for i, (d, seg) in enumerate(sections):
        r = d / 2
        nxt = sections[i + 1][0] / 2 if i + 1 < len(sections) else 0.0
        prof += [(r - c, z) if r > prev else (r, z)]
        if r > prev:
            prof += [(r, z + c)]
        z += seg
        prof += [(r, z - c), (r - c, z)] if r > nxt else [(r, z)]
        prev = r
    prof += [(0.0, z)]
    total = z
    shaft = revolve(np.array(prof), segments_for(d_main / 2, lo=32, hi=56))
    kd, kl = sections[0]
    key = std.parallel_key(kd)
    slot_len = max(key["b"] * 2.0, kl - 2 * c - 0.3 * kd)
    shaft = along_x(shaft - keyseat(kd, slot_len).translate((0, 0, kl / 2)))
    material = pick(rng, ["steel", "steel", "stainless", "carbon steel"])
    kw = f"{fmt(key['b'])}x{fmt(key['h'])}"
    return make_part(
        rng,
        shaft,
        ShapeAttributes(form="shaft", holes=0, symmetry="none"),
        name=f"Keyed shaft {fmt(d_main)}x{fmt(total)}",
        tags=[material, "shaft", "keyseat", "DIN 6885", "stepped" if steps > 1 else "plain"],
        parameters=dict(
            diameter=num(d_main),
            length=num(total),
            steps=len(sections),
            key_width=num(key["b"]),
            key_height=num(key["h"]),
            keyseat_depth=num(key["t1"]),
            end_diameter=num(kd),
            chamfer=num(c),
        ),
        names=["keyed shaft", "drive shaft", "transmission shaft", "shaft with keyway"],
        size=f"{fmt(d_main)} x {fmt(total)}",
        standard="DIN 6885",
        material=material,
        canonical=f"{fmt(d_main)} mm drive shaft, {fmt(total)} mm long, with {kw} keyway",
        extras=[
            f"{'stepped' if len(sections) > 1 else 'plain'} shaft with DIN 6885 keyseat "
            f"{kw} on the {fmt(kd)} mm end",
            f"{material_word(material)} keyed shaft, "
            + (f"{len(sections)} diameter steps" if len(sections) > 1 else "one diameter")
            + ", chamfered ends",
            f"machined transmission shaft {fmt(d_main)} x {fmt(total)} mm with key slot",
        ],
    )


def shaft_collar(rng: np.random.Generator) -> GeneratedPart:
    """Shaft collar: DIN 705 set-screw collar or one-piece clamp collar."""
    clamp = rng.random() < 0.45
    table = std.CLAMP_COLLARS if clamp else std.SHAFT_COLLARS
    bore, (od, width, screw) = choose_row(rng, table)
    material = pick(rng, ["steel", "zinc-plated steel", "stainless", "aluminium"])
    n = segments_for(od / 2, lo=48, hi=64)
    c = 0.5 if od < 30 else 1.0
    ring = revolve(
        np.array(
            [
                (bore / 2, 0),
                (od / 2 - c, 0),
                (od / 2, c),
                (od / 2, width - c),
                (od / 2 - c, width),
                (bore / 2, width),
            ]
        ),
        n,
    )
    m = f"M{fmt(screw)}"
    if not clamp:
        tap = cylinder(0.42 * screw, od / 2 + 2, 20).rotate((0, 90, 0))
        body = ring - tap.translate((0, 0, width / 2))
        holes, kind, standard = 2, "set screw collar", "DIN 705 A"
    else:
        gap = max(1.0, 0.06 * bore)
        slot = box(od / 2 + 2, gap, width + 2, ((od / 2 + 2) / 2, 0, width / 2))
        y_screw = 0.0
        x_screw = (bore / 2 + od / 2) / 2
        screw_hole = cylinder(0.55 * screw, od + 4, 20, z0=-od / 2 - 2).rotate((90, 0, 0))
        body = ring - slot - screw_hole.translate((x_screw, y_screw, width / 2))
        holes, kind, standard = 2, "clamp collar", "one-piece clamp"
    return make_part(
        rng,
        body,
        ShapeAttributes(form="ring", threaded=not clamp, holes=holes, symmetry="mirror"),
        name=f"Shaft collar {fmt(bore)} mm ({'clamp' if clamp else 'set screw'})",
        tags=[material, standard, "collar", "through-hole"]
        + (["split", "clamping"] if clamp else ["set screw", "threaded"]),
        parameters=dict(bore=num(bore), outer_diameter=num(od), width=num(width), screw=m),
        names=[
            "shaft collar",
            "clamp collar" if clamp else "set collar",
            "stop collar",
            "split collar" if clamp else "adjusting ring",
        ],
        size=f"{fmt(bore)} mm",
        standard=None if clamp else "DIN 705",
        material=material,
        canonical=f"{fmt(bore)} mm {kind}, {fmt(od)} mm OD x {fmt(width)} mm wide",
        extras=[
            f"{'one-piece clamp-style' if clamp else 'set screw'} shaft collar for "
            f"{fmt(bore)} mm shafts, {m} screw",
            f"{material_word(material)} adjusting ring {fmt(bore)}x{fmt(od)}x{fmt(width)}",
            f"shaft stop collar, bore {fmt(bore)} mm" + (", DIN 705" if not clamp else ""),
        ],
    )


FAMILY_LIST = (
    Family("spur_gear", "spur_gear", spur_gear, "gear"),
    Family("chain_sprocket", "sprocket", chain_sprocket, "sprocket"),
    Family("vbelt_pulley", "v_belt_pulley", vbelt_pulley, "pulley"),
    Family("keyed_shaft", "shaft", keyed_shaft, "shaft"),
    Family("shaft_collar", "shaft_collar", shaft_collar, "collar"),
)
