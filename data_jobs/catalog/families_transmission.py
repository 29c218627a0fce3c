"""Gears: helical, bevel, worm and internal gears, worms and racks (spur: ``families_drive``)."""

from __future__ import annotations

import math

import numpy as np
import shapely.geometry as sg

from data_jobs.catalog import standards_motion as sm
from data_jobs.catalog.attributes import ShapeAttributes
from data_jobs.catalog.choices import choose, flag
from data_jobs.catalog.families_base import (
    Family,
    GeneratedPart,
    Solid,
    along_x,
    circle,
    cross_section,
    cylinder,
    extrude,
    fmt,
    make_part,
    material_word,
    polar_copies,
    revolve,
    rounded,
    segments_for,
    subtract,
    union,
)
from data_jobs.catalog.families_drive import involute_gear_outline
from data_jobs.catalog.geometry_kit import (
    bore_with_keyway,
    helical_rod,
    hub_on_face,
    keyseat,
    standard_bore,
)


def helical_gear(rng: np.random.Generator, extreme: str | None = None) -> GeneratedPart:
    """Helical gear, 20 deg normal pressure angle, helix 15-30 deg: twisted involute extrusion."""
    module = float(choose(rng, (1.0, 1.25, 1.5, 2.0, 2.5, 3.0), extreme))
    teeth = int(choose(rng, tuple(range(14, 41)), extreme))
    beta = float(choose(rng, sm.HELIX_ANGLES, extreme))
    left = bool(rng.random() < 0.5)
    mt = module / math.cos(math.radians(beta))
    r = mt * teeth / 2
    rf = r - 1.25 * module
    width = float(round(choose(rng, (6, 8, 10), extreme) * module, 1))
    outline = involute_gear_outline(mt, teeth, 20.0, 4, 1.0 * module / mt, 1.25 * module / mt)
    twist = math.degrees(width * math.tan(math.radians(beta)) / r)
    divisions = int(np.clip(math.ceil(twist / 3), 2, max(2, 14000 // (2 * len(outline)))))
    body = Solid.extrude(
        cross_section(sg.Polygon(outline)), width, divisions, twist * (-1 if left else 1)
    )
    bore = standard_bore(min(float(rng.uniform(0.25, 0.4)) * 2 * rf, 40))
    if flag(rng, 0.5, extreme, draw_at_extremes=True):  # chamfered tooth ends
        ra, c = r + module, 0.5 * module
        ring = revolve(np.array([(ra - c, -0.01), (ra + 1, -0.01), (ra + 1, c)]), 72)
        body = subtract(body, [ring, ring.mirror((0, 0, 1)).translate((0, 0, width))])
    hub = flag(rng, 0.5, extreme, draw_at_extremes=True) and rf - module > 0.9 * bore + 4
    hub_len = round(0.6 * width + 0.2 * bore, 1) if hub else 0.0
    parts = [body]
    if hub:
        hub_d = min(1.8 * bore + 4, 2 * rf - 2 * module)
        parts.append(hub_on_face(hub_d, hub_len, width))
    keyway = bore >= 10 and flag(rng, 0.5, extreme, draw_at_extremes=True)
    gear = subtract(union(parts), [bore_with_keyway(bore, width + hub_len, keyway)])
    material = choose(rng, ("steel", "steel", "brass", "POM", "cast iron"))
    hand = "left" if left else "right"
    return make_part(
        rng,
        gear,
        name=f"Helical gear m{fmt(module)} z{teeth} {fmt(beta)}deg {hand[0].upper()}H",
        tags=[material, "DIN 3960", "helical gear", "involute", f"{hand}-hand helix"]
        + (["hub"] if hub else [])
        + (["keyway"] if keyway else []),
        parameters=rounded(
            whole_as_int=True,
            normal_module=module,
            teeth=teeth,
            helix_angle=beta,
            pitch_diameter=2 * r,
            tip_diameter=2 * r + 2 * module,
            face_width=width,
            bore=bore,
            hand=hand,
        ),
        attributes=ShapeAttributes(
            form="wheel", toothed_rim=True, teeth=teeth, holes=1, symmetry="polar"
        ),
        names=["helical gear", "helical spur gear", "skew-tooth gear", "helical cylindrical gear"],
        size=f"mn{fmt(module)} z{teeth}",
        standard="DIN 3960",
        material=material,
        extras=[
            f"helical gear normal module {fmt(module)}, {teeth} teeth, {fmt(beta)} degree "
            f"{hand}-hand helix, {fmt(bore)} mm bore",
            f"{teeth}T helical gear pitch diameter {fmt(2 * r, 1)} mm, face width {fmt(width)} mm"
            + (", with hub" if hub else ""),
            f"angled-teeth gear m{fmt(module)} for parallel shafts, quieter than a spur gear",
        ],
    )


def bevel_gear(rng: np.random.Generator, extreme: str | None = None) -> GeneratedPart:
    """Straight bevel gear (ISO 23509 geometry): toothed frustum narrowing to the cone apex."""
    module = float(choose(rng, (1.0, 1.5, 2.0, 2.5, 3.0), extreme))
    teeth = int(choose(rng, (15, 16, 18, 20, 24, 25, 30, 32, 36, 40), extreme))
    ratio = float(choose(rng, (1.0, 1.5, 2.0, 3.0), None))
    pinion = bool(rng.random() < 0.5) if ratio > 1 else True
    delta = math.atan(1 / ratio) if pinion else math.atan(ratio)
    r = module * teeth / 2
    cone = r / math.sin(delta)
    b = min(cone / 3, 10 * module)
    h = b * math.cos(delta)
    scale = 1 - b / cone
    outline = involute_gear_outline(module, teeth, 20.0, 4)
    teeth_body = Solid.extrude(cross_section(sg.Polygon(outline)), h, 1, 0.0, (scale, scale))
    rf = r - 1.25 * module
    back = max(2.0, 0.6 * module + 0.15 * b)
    bore = standard_bore(min(float(rng.uniform(0.3, 0.45)) * 2 * rf * scale, 40))
    parts = [teeth_body, cylinder(0.97 * rf, back + 0.1, segments_for(rf, 48, 72), z0=-back)]
    hub = flag(rng, 0.6, extreme, draw_at_extremes=True)
    hub_len = round(0.8 * bore + 4, 1) if hub else 0.0
    hub_d = min(1.7 * bore + 6, 1.8 * rf * scale)
    if hub:  # hub behind the mounting face, as on catalogue bevel gears
        parts.append(
            cylinder(hub_d / 2, hub_len + 0.1, segments_for(hub_d / 2), z0=-back - hub_len)
        )
    keyway = bore >= 10 and flag(rng, 0.5, extreme, draw_at_extremes=True)
    total = h + back + hub_len
    gear = subtract(union(parts), [bore_with_keyway(bore, total, keyway, z0=-back - hub_len - 1)])
    material = choose(rng, ("steel", "steel", "brass", "POM", "cast iron"))
    role = "pinion" if pinion and ratio > 1 else "gear"
    return make_part(
        rng,
        gear,
        name=f"Bevel {role} m{fmt(module)} z{teeth} 1:{fmt(ratio)}",
        tags=[
            material,
            "ISO 23509",
            "bevel gear",
            "straight teeth",
            "conical",
            "90 degree shaft angle",
        ]
        + (["hub"] if hub else [])
        + (["keyway"] if keyway else []),
        parameters=rounded(
            whole_as_int=True,
            module=module,
            teeth=teeth,
            ratio=ratio,
            pitch_cone_angle=round(math.degrees(delta), 2),
            pitch_diameter=2 * r,
            face_width=round(b, 2),
            bore=bore,
        ),
        attributes=ShapeAttributes(
            form="wheel", toothed_rim=True, teeth=teeth, holes=1, symmetry="polar"
        ),
        names=["bevel gear", "straight bevel gear", "conical gear", "mitre gear"]
        if ratio == 1
        else ["bevel gear", "straight bevel gear", "conical gear", f"bevel {role}"],
        size=f"m{fmt(module)} z{teeth}",
        standard="ISO 23509",
        material=material,
        extras=[
            f"straight bevel {role} module {fmt(module)}, {teeth} teeth, ratio 1:{fmt(ratio)}, "
            f"pitch cone {fmt(math.degrees(delta), 1)} degrees",
            f"conical gear for 90 degree shafts, pitch diameter {fmt(2 * r)} mm, "
            f"{fmt(bore)} mm bore" + (" with hub" if hub else ""),
            f"{teeth} tooth right-angle bevel gear m{fmt(module)}",
        ],
    )


def _worm_set(rng, extreme):
    module = float(choose(rng, tuple(sm.WORM_PITCH_DIAMETERS), extreme))
    d1 = sm.WORM_PITCH_DIAMETERS[module]
    starts = int(choose(rng, (1, 1, 2, 4), extreme and "min"))
    return module, d1, starts


def worm_wheel(rng: np.random.Generator, extreme: str | None = None) -> GeneratedPart:
    """Worm wheel DIN 3975: helical teeth in a throated (concave) rim matching the worm."""
    module, d1, starts = _worm_set(rng, extreme)
    teeth = int(choose(rng, (20, 25, 30, 40, 50), extreme))
    d2 = module * teeth
    a = (d1 + d2) / 2
    rk = d1 / 2 - module  # throat radius = worm tip radius
    b = round(min(2 * module * math.sqrt(d1 / module + 1), 1.6 * rk), 1)
    r_out = d2 / 2 + 1.5 * module  # turned outer diameter de2 = da2 + m
    outline = involute_gear_outline(module, teeth, 20.0, 4, 1.6, 1.25)
    gamma = math.atan(starts * module / d1)
    twist = math.degrees(b * math.tan(gamma) / (d2 / 2))
    # longer than the blank so that only the blank's faces bound the wheel's sides
    prism = Solid.extrude(cross_section(sg.Polygon(outline)), b + 1, 6, twist * (b + 1) / b)
    prism = prism.translate((0, 0, -0.5))
    dz = min(b / 2, math.sqrt(rk**2 - (a - r_out) ** 2))
    arc = [(a - math.sqrt(rk**2 - (z - b / 2) ** 2), z) for z in np.linspace(-dz, dz, 11) + b / 2]
    if dz < b / 2:
        arc = [(r_out, 0.0), *arc, (r_out, b)]
    rf = d2 / 2 - 1.25 * module
    blank = revolve(np.array([(0.0, 0.0), *arc, (0.0, b)]), 96)
    wheel = prism ^ blank
    bore = standard_bore(min(float(rng.uniform(0.3, 0.45)) * 2 * rf, 45))
    hub = flag(rng, 0.6, extreme, draw_at_extremes=True) and rf - module > 0.9 * bore + 4
    hub_len = round(0.5 * b + 0.3 * bore, 1) if hub else 0.0
    parts = [wheel]
    if hub:
        hub_d = min(1.7 * bore + 6, 2 * rf - 2 * module)
        parts.append(hub_on_face(hub_d, hub_len, b))
    keyway = bore >= 10 and flag(rng, 0.5, extreme, draw_at_extremes=True)
    wheel = subtract(union(parts), [bore_with_keyway(bore, b + hub_len, keyway)])
    material = choose(rng, ("bronze", "bronze", "cast iron", "POM"))
    ratio = teeth / starts
    return make_part(
        rng,
        wheel,
        name=f"Worm wheel m{fmt(module)} z{teeth} i={fmt(ratio)}",
        tags=[material, "DIN 3975", "worm wheel", "throated rim", "worm gear set"]
        + (["hub"] if hub else [])
        + (["keyway"] if keyway else []),
        parameters=rounded(
            whole_as_int=True,
            module=module,
            teeth=teeth,
            worm_starts=starts,
            pitch_diameter=d2,
            throat_diameter=d2 + 2 * module,
            center_distance=a,
            face_width=b,
            bore=bore,
        ),
        attributes=ShapeAttributes(
            form="wheel", toothed_rim=True, teeth=teeth, holes=1, symmetry="polar"
        ),
        names=["worm wheel", "worm gear", "wormwheel", "throated worm gear"],
        size=f"m{fmt(module)} z{teeth}",
        standard="DIN 3975",
        material=material,
        extras=[
            f"{material_word(material)} worm wheel module {fmt(module)} with {teeth} teeth for a "
            f"{starts}-start worm, ratio {fmt(ratio)}:1",
            f"worm gear with concave throated rim, {fmt(d2)} mm pitch diameter, "
            f"centre distance {fmt(a)} mm",
            f"globoid-rim gear wheel m{fmt(module)} z{teeth}, {fmt(bore)} mm bore",
        ],
    )


def worm(rng: np.random.Generator, extreme: str | None = None) -> GeneratedPart:
    """Cylindrical worm DIN 3975 (ZA, 20 deg): helical thread of lead z1*pi*m between journals."""
    module, d1, starts = _worm_set(rng, extreme)
    pitch = math.pi * module
    ra = d1 / 2 + module
    depth = 2.2 * module
    thread_len = round(float(choose(rng, (5.0, 6.0, 7.0, 8.0), extreme)) * pitch, 1)
    journal_d = standard_bore(d1 - 2.4 * module - 2)
    journal_len = round(float(rng.uniform(1.0, 2.0)) * journal_d + 5)
    left = bool(rng.random() < 0.15)
    thread = helical_rod(ra, depth, pitch, starts, thread_len, 20.0, left)
    c = 0.5 if journal_d < 15 else 1.0
    rj = journal_d / 2
    shaft = revolve(
        np.array(
            [
                (0, -journal_len),
                (rj - c, -journal_len),
                (rj, -journal_len + c),
                (rj, 0.5),
                (0, 0.5),
            ]
        ),
        segments_for(rj, 24, 40),
    )
    other_len = (
        journal_len if flag(rng, 0.5, extreme, draw_at_extremes=True) else round(0.6 * journal_len)
    )
    shaft2 = shaft.mirror((0, 0, 1)).translate((0, 0, thread_len))
    if other_len != journal_len:
        shaft2 = shaft2.scale((1, 1, other_len / journal_len)).translate(
            (0, 0, thread_len * (1 - other_len / journal_len))
        )
    body = union([thread, shaft, shaft2])
    keyway = journal_d >= 10 and flag(rng, 0.5, extreme, draw_at_extremes=True)
    if keyway:
        pocket = keyseat(journal_d, 0.6 * journal_len, quad_segs=6)
        body = body - pocket.translate((0, 0, -journal_len / 2))
    body = along_x(body)
    material = choose(rng, ("steel", "steel", "stainless", "carbon steel"))
    total = thread_len + journal_len + other_len
    hand = "left" if left else "right"
    return make_part(
        rng,
        body,
        name=f"Worm m{fmt(module)} {starts}-start {fmt(d1)}x{fmt(total)}",
        tags=[
            material,
            "DIN 3975",
            "worm",
            "worm shaft",
            f"{starts}-start",
            f"{hand}-hand",
            "ZA profile",
        ]
        + (["keyway"] if keyway else []),
        parameters=rounded(
            whole_as_int=True,
            module=module,
            starts=starts,
            pitch_diameter=d1,
            tip_diameter=2 * ra,
            axial_pitch=round(pitch, 3),
            lead=round(pitch * starts, 3),
            thread_length=thread_len,
            journal_diameter=journal_d,
            length=round(total, 2),
        ),
        attributes=ShapeAttributes(form="shaft", threaded=True, holes=0, symmetry="none"),
        names=["worm", "worm shaft", "worm screw", "endless screw"],
        size=f"m{fmt(module)} z1={starts}",
        standard="DIN 3975",
        material=material,
        extras=[
            f"{starts}-start {hand}-hand worm module {fmt(module)}, {fmt(d1)} mm pitch diameter, "
            f"lead {fmt(pitch * starts, 2)} mm",
            f"worm screw with {fmt(journal_d)} mm journals, {fmt(total)} mm overall length",
            f"threaded worm shaft m{fmt(module)} for a worm wheel drive",
        ],
    )


def gear_rack(rng: np.random.Generator, extreme: str | None = None) -> GeneratedPart:
    """Straight-tooth gear rack DIN 3962 quality bar, 20 deg teeth, counterbored mounting holes."""
    module = float(choose(rng, tuple(sm.GEAR_RACKS), extreme))
    width, height = sm.GEAR_RACKS[module]
    length = float(choose(rng, sm.RACK_LENGTHS, extreme))
    p = math.pi * module
    t = math.tan(math.radians(20.0))
    pitch_y = height - module
    n = int(length // p)
    x0 = (length - n * p) / 2
    pts = [(0.0, 0.0), (length, 0.0), (length, pitch_y - 1.25 * module)]
    for k in range(n - 1, -1, -1):
        xc = x0 + (k + 0.5) * p
        pts += [
            (xc + p / 4 + 1.25 * module * t, pitch_y - 1.25 * module),
            (xc + p / 4 - module * t, height),
            (xc - p / 4 + module * t, height),
            (xc - p / 4 - 1.25 * module * t, pitch_y - 1.25 * module),
        ]
    pts.append((0.0, pitch_y - 1.25 * module))
    bar = extrude(sg.Polygon(pts).buffer(0), width)
    body_h = pitch_y - 1.25 * module
    screw = float(max(s for s in (3, 4, 5, 6, 8, 10) if 1.8 * s + 1.5 <= 0.6 * body_h))
    n_holes = int(choose(rng, (2, 3, 4), extreme))
    hole_d, cb_d, cb_h = 1.1 * screw, 1.8 * screw, min(1.0 * screw, 0.45 * width)
    cuts = []
    for i in range(n_holes):
        x = length * (i + 0.5) / n_holes
        y = body_h * 0.45
        cuts.append(cylinder(hole_d / 2, width + 2, 24, z0=-1).translate((x, y, 0)))
        cuts.append(cylinder(cb_d / 2, cb_h + 1, 28, z0=width - cb_h).translate((x, y, 0)))
    rack = subtract(bar, cuts).rotate((90, 0, 0))
    material = choose(rng, ("steel", "steel", "stainless", "POM", "brass"))
    return make_part(
        rng,
        rack,
        name=f"Gear rack m{fmt(module)} {fmt(width)}x{fmt(height)}x{fmt(length)}",
        tags=[
            material,
            "DIN 3962",
            "gear rack",
            "straight teeth",
            "rack and pinion",
            "counterbored holes",
        ],
        parameters=rounded(
            whole_as_int=True,
            module=module,
            face_width=width,
            height=height,
            length=length,
            teeth=n,
            mounting_holes=n_holes,
            screw=f"M{fmt(screw)}",
        ),
        attributes=ShapeAttributes(
            form="profile", toothed_rim=True, teeth=n, holes=n_holes, symmetry="mirror"
        ),
        names=["gear rack", "toothed rack", "rack bar", "linear gear rack"],
        size=f"m{fmt(module)} {fmt(width)}x{fmt(height)}x{fmt(length)}",
        standard="DIN 3962",
        material=material,
        extras=[
            f"module {fmt(module)} rack {fmt(length)} mm long, {fmt(width)} x {fmt(height)} mm "
            f"section, {n} teeth",
            f"straight toothed rack with {n_holes} counterbored M{fmt(screw)} mounting holes",
            f"rack for a rack and pinion drive m{fmt(module)}, pitch {fmt(p, 3)} mm",
        ],
    )


def internal_gear(rng: np.random.Generator, extreme: str | None = None) -> GeneratedPart:
    """Internal (ring) gear: involute tooth spaces cut into a ring, optional bolt circle."""
    module = float(choose(rng, (0.5, 0.8, 1.0, 1.25, 1.5, 2.0, 2.5, 3.0), extreme))
    teeth = int(choose(rng, (36, 40, 45, 48, 50, 56, 60, 72, 80), extreme))
    r = module * teeth / 2
    rim = max(4.0, 5.0 * module)
    root = r + 1.25 * module
    od = 2 * (root + rim)
    # an internal gear's tooth space is the tooth of an external gear with swapped heights
    space = sg.Polygon(involute_gear_outline(module, teeth, 20.0, 4, 1.25, 1.0))
    width = float(round(choose(rng, (6, 8, 10), extreme) * module + 2, 1))
    ring2d = circle(od / 2, segments=segments_for(od / 2, 64, 128)).difference(space)
    gear = extrude(ring2d, width)
    bolts = 0
    if flag(rng, 0.5, extreme, draw_at_extremes=True) and rim >= 6:
        bolts = int(choose(rng, (6, 8, 12), None))
        hole_d = min(0.45 * rim, 9.0)
        pcd = root + rim / 2
        hole = cylinder(hole_d / 2, width + 2, 20, z0=-1).translate((pcd, 0, 0))
        gear = subtract(gear, polar_copies(hole, bolts, 180.0 / teeth))
    material = choose(rng, ("steel", "steel", "brass", "POM", "nylon"))
    return make_part(
        rng,
        gear,
        name=f"Internal gear m{fmt(module)} z{teeth}",
        tags=[
            material,
            "DIN 3960",
            "internal gear",
            "ring gear",
            "annulus",
            "planetary",
            "involute",
        ]
        + (["bolt circle"] if bolts else []),
        parameters=rounded(
            whole_as_int=True,
            module=module,
            teeth=teeth,
            pitch_diameter=2 * r,
            tip_diameter=2 * r - 2 * module,
            outer_diameter=round(od, 2),
            face_width=width,
            bolt_holes=bolts,
        ),
        attributes=ShapeAttributes(
            form="ring", toothed_rim=True, teeth=teeth, holes=1 + bolts, symmetry="polar"
        ),
        names=["internal gear", "ring gear", "annulus gear", "internal spur gear"],
        size=f"m{fmt(module)} z{teeth}",
        standard="DIN 3960",
        material=material,
        extras=[
            f"internal ring gear module {fmt(module)}, {teeth} teeth inside, {fmt(od, 1)} mm OD",
            f"planetary gearbox annulus m{fmt(module)} z{teeth}, face width {fmt(width)} mm"
            + (f", {bolts} mounting holes" if bolts else ""),
            f"gear ring with teeth on the inside, tip diameter {fmt(2 * r - 2 * module)} mm",
        ],
    )


FAMILY_LIST = (
    Family("helical_gear", "helical_gear", helical_gear, "gear"),
    Family("bevel_gear", "bevel_gear", bevel_gear, "gear"),
    Family("worm_wheel", "worm_wheel", worm_wheel, "gear"),
    Family("worm", "worm", worm, "gear"),
    Family("gear_rack", "gear_rack", gear_rack, "gear"),
    Family("internal_gear", "ring_gear", internal_gear, "gear"),
)
