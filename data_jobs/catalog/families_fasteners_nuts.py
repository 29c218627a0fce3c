"""Special nuts, pins and keys: wing, T-slot, nylon lock, cap and flange nuts; taper, spring and
clevis pins; parallel and Woodruff keys."""

from __future__ import annotations

import numpy as np
import shapely.geometry as sg

from data_jobs.catalog import families_standards as std
from data_jobs.catalog import standards_fasteners as sf
from data_jobs.catalog.attributes import ShapeAttributes
from data_jobs.catalog.choices import choose, choose_row, density, flag
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
    num,
    polar_copies,
    revolve,
    rounded_rectangle,
    scaled_segments,
    size_label,
    subtract,
    union,
)
from data_jobs.catalog.geometry_kit import internal_thread_cutter, plain_bore


def _bore(d: float, height: float, modelled: bool, f: float) -> Solid:
    """Cutter of a through bore for thread d over 0..height: cosmetic thread or plain."""
    pitch = std.METRIC_THREADS[d]["pitch"]
    if modelled:
        return internal_thread_cutter(d, pitch, height)
    return plain_bore(d, pitch, height, scaled_segments(d / 2, f))


def _in_xz(polygon, thickness: float) -> Solid:
    """Prism of a 2D profile drawn in (x, z), ``thickness`` mm deep centred on y = 0."""
    return extrude(polygon, thickness, z0=-thickness / 2).rotate((90.0, 0.0, 0.0))


def _nut_material(rng, extreme):
    return choose(rng, ["steel", "zinc-plated steel", "stainless", "brass"], extreme)


def wing_nut(rng: np.random.Generator, extreme: str | None = None) -> GeneratedPart:
    """Wing nut DIN 315 (American form): tapered hub with two rounded wings, M4..M20."""
    d, (e, h, d2, m) = choose_row(rng, sf.WING_NUTS, extreme)
    modelled, f = flag(rng, 0.6, extreme), density(rng, extreme)
    material = choose(rng, ["zinc-plated steel", "stainless", "brass", "nylon"], extreme)
    hub = revolve(np.array([(0, 0), (d2 / 2, 0), (0.42 * d2, m), (0, m)]),
                  scaled_segments(d2 / 2, f, 32, 48))  # fmt: skip
    rw = 0.2 * e
    wing = sg.MultiPoint([(0.3 * d2, 0.05 * m), (0.45 * d2, 0.9 * m)]).buffer(0.05).union(
        sg.Point(e / 2 - rw, h - rw).buffer(rw, quad_segs=8)).convex_hull  # fmt: skip
    wing = wing.union(sg.Polygon([(x * -1, z) for x, z in wing.exterior.coords]))
    thickness = choose(rng, (0.2, 0.24, 0.28), extreme) * d2
    body = union([hub, _in_xz(wing, thickness)]) - _bore(d, m, modelled, f)
    label = size_label(d)
    attrs = ShapeAttributes(form="ring", head="wing", threaded=True, holes=1, symmetry="mirror")
    return make_part(
        rng, body, attrs,
        name=f"Wing nut {label}",
        tags=[material, "DIN 315", "wing nut", "threaded", "hand-tightened"],
        parameters=dict(thread=label, wing_span=num(e), height=num(h), hub_diameter=num(d2),
                        hub_height=num(m), modelled_thread=modelled),
        names=["wing nut", "butterfly nut", "thumb nut", "wingnut"],
        size=f"{label} x {fmt(std.METRIC_THREADS[d]['pitch'])}", standard="DIN 315",
        material=material,
        extras=[f"{label} wing nut, {fmt(e)} mm across the wings, tightened by hand",
                f"butterfly nut DIN 315 {label}, {fmt(h)} mm tall"],
    )  # fmt: skip


def t_slot_nut(rng: np.random.Generator, extreme: str | None = None) -> GeneratedPart:
    """T-slot nut DIN 508 for machine table slots 6..22 mm, threaded through."""
    a, (d, b, h, k, length) = choose_row(rng, sf.T_SLOT_NUTS, extreme)
    modelled, f = flag(rng, 0.6, extreme), density(rng, extreme)
    material = choose(rng, ["steel", "carbon steel", "zinc-plated steel"], extreme)
    c = choose(rng, (0.0, 0.1, 0.15), extreme) * k
    prof = [(-b / 2, 0), (b / 2, 0), (b / 2, k - c), (b / 2 - c, k), (a / 2, k), (a / 2, h),
            (-a / 2, h), (-a / 2, k), (-b / 2 + c, k), (-b / 2, k - c)]  # fmt: skip
    body = _in_xz(sg.Polygon(prof).buffer(0).simplify(0), length)
    body = body - _bore(d, h, modelled, f)
    label = size_label(d)
    attrs = ShapeAttributes(form="block", head="t-head", threaded=True, holes=1, symmetry="mirror")
    return make_part(
        rng, body, attrs,
        name=f"T-slot nut {fmt(a)} {label}",
        tags=[material, "DIN 508", "T-slot nut", "machine table", "threaded"],
        parameters=dict(slot_width=num(a), thread=label, foot_width=num(b), height=num(h),
                        foot_height=num(k), length=num(length)),
        names=["T-slot nut", "T-nut for machine tables", "tee slot nut", "clamping T-nut"],
        size=f"{fmt(a)} x {label}", standard="DIN 508", material=material,
        extras=[f"T-nut for {fmt(a)} mm table slot with {label} thread, {fmt(b)} mm wide foot",
                f"DIN 508 slot nut {fmt(a)}-{label} for clamping work on a mill table"],
    )  # fmt: skip


def nylon_lock_nut(rng: np.random.Generator, extreme: str | None = None) -> GeneratedPart:
    """Prevailing torque nut with nylon insert: thin ISO 10511 or regular ISO 7040, M3..M24."""
    d = choose(rng, sorted(sf.NYLON_NUT_HEIGHTS_REGULAR), extreme)
    t = std.METRIC_THREADS[d]
    regular = flag(rng, 0.4, extreme)
    h = sf.NYLON_NUT_HEIGHTS_REGULAR[d] if regular else std.NYLON_INSERT_NUT_HEIGHTS[d]
    standard = "ISO 7040" if regular else "ISO 10511"
    modelled, f = flag(rng, 0.6, extreme), density(rng, extreme)
    material = _nut_material(rng, extreme)
    s = t["s"]
    hex_h = 0.7 * h
    rc = 0.46 * s
    collar = [(0, hex_h - 0.5), (rc, hex_h - 0.5), (rc, h - 0.1 * d), (rc - 0.1 * d, h), (0, h)]
    collar = revolve(np.array(collar), scaled_segments(rc, f, 32, 48))
    body = union([chamfered_hex(s, hex_h, both_ends=True), collar])
    r_minor = d / 2 - 0.54 * t["pitch"]
    r_insert = 0.9 * r_minor
    recess = cylinder(rc - 0.14 * d, 0.06 * h + 1, scaled_segments(rc, f, 32, 48), z0=h - 0.06 * h)
    insert_bore = cylinder(r_insert, h + 2, scaled_segments(r_insert, f), z0=-1)
    body = subtract(body, [_bore(d, hex_h - 0.3, modelled, f), insert_bore, recess])
    label = size_label(d)
    attrs = ShapeAttributes(form="ring", drive="external hex", threaded=True, holes=1,
                            symmetry="polar")  # fmt: skip
    return make_part(
        rng, body, attrs,
        name=f"Nylon lock nut {label} {standard}",
        tags=[material, standard, "DIN 985" if not regular else "DIN 982", "nylon insert",
              "self-locking", "threaded"],
        parameters=dict(thread=label, across_flats=num(s), height=num(h), hex_height=num(hex_h),
                        insert_bore=num(2 * r_insert), series="regular" if regular else "thin"),
        names=["nylon lock nut", "nyloc nut", "nylon insert lock nut", "prevailing torque nut"],
        size=f"{label} x {fmt(t['pitch'])}", standard=standard, material=material,
        extras=[f"{label} nyloc nut with a white nylon ring, {fmt(h)} mm high",
                f"self-locking hex nut {label}, {fmt(s)} mm across flats, nylon insert collar"],
    )  # fmt: skip


def cap_nut(rng: np.random.Generator, extreme: str | None = None) -> GeneratedPart:
    """Domed (acorn) cap nut DIN 1587: hex with a closed dome and a blind thread, M4..M20."""
    d, (s, h, m, dk, depth) = choose_row(rng, sf.CAP_NUTS, extreme)
    pitch = std.METRIC_THREADS[d]["pitch"]
    modelled, f = flag(rng, 0.6, extreme), density(rng, extreme)
    material = choose(rng, ["stainless", "zinc-plated steel", "brass", "steel"], extreme)
    rd = dk / 2
    t = np.linspace(0.0, np.pi / 2, 9)
    dome = [(rd * np.cos(a), h - rd + rd * np.sin(a)) for a in t[:-1]]
    dome_solid = revolve(np.array([(0, m - 0.5), (rd, m - 0.5), *dome, (0, h)]),
                         scaled_segments(rd, f, 32, 48))  # fmt: skip
    body = union([chamfered_hex(s, m, both_ends=True), dome_solid])
    if modelled:
        cutter = internal_thread_cutter(d, pitch, depth - 1.0)
    else:
        cutter = cylinder(d / 2 - 0.4 * pitch, depth + 1, scaled_segments(d / 2, f), z0=-1)
    body = body - cutter
    label = size_label(d)
    attrs = ShapeAttributes(form="block", drive="external hex", threaded=True, symmetry="polar")
    return make_part(
        rng, body, attrs,
        name=f"Cap nut {label}",
        tags=[material, "DIN 1587", "cap nut", "acorn nut", "domed", "blind thread"],
        parameters=dict(thread=label, across_flats=num(s), height=num(h), hex_height=num(m),
                        dome_diameter=num(dk), thread_depth=num(depth)),
        names=["cap nut", "acorn nut", "domed cap nut", "crown nut"],
        size=f"{label} x {fmt(pitch)}", standard="DIN 1587", material=material,
        extras=[f"{label} acorn nut, {fmt(s)} mm hex, {fmt(h)} mm tall with a closed dome",
                f"domed cap nut DIN 1587 {label} covering the bolt end"],
    )  # fmt: skip


def flange_nut(rng: np.random.Generator, extreme: str | None = None) -> GeneratedPart:
    """Hexagon nut with flange EN 1661, plain or serrated bearing face, M5..M20."""
    d, (s, dc, m, c) = choose_row(rng, sf.FLANGE_NUTS, extreme)
    serrated = flag(rng, 0.4, extreme)
    modelled, f = flag(rng, 0.6, extreme), density(rng, extreme)
    material = _nut_material(rng, extreme)
    rf = 0.45 * s
    n = scaled_segments(dc / 2, f, 32, 56)
    # turned by a fraction of a segment that no hexagon corner angle is a multiple of
    rise = c + 0.25 * (dc / 2 - rf)
    flange = revolve(np.array([(0, 0), (dc / 2, 0), (dc / 2, c), (rf, rise), (0, rise)]), n)
    flange = flange.rotate((0, 0, 0.37 * 360.0 / n))
    hexa = chamfered_hex(s, m - 0.5 * c, both_ends=False).translate((0, 0, 0.5 * c))
    body = union([flange, hexa])
    teeth = 0
    if serrated:  # radial ribs on the bearing face: grooves cut from below
        teeth = int(choose(rng, (24, 30, 36), extreme))
        groove = box(0.5 * (dc - d), 0.6 * np.pi * dc / teeth / 2, 0.6 * c,
                     center=(0.5 * dc / 2 + 0.25 * d + 0.25 * (dc - d) / 2, 0, 0.0)).rotate(
                         (45.0, 0.0, 0.0))  # fmt: skip
        body = subtract(body, polar_copies(groove, teeth))
    body = body - _bore(d, m, modelled, f)
    label = size_label(d)
    attrs = ShapeAttributes(form="ring", head="flanged hex", drive="external hex", threaded=True,
                            holes=1, symmetry="polar")  # fmt: skip
    return make_part(
        rng, body, attrs,
        name=f"Flange nut {label}" + (" serrated" if serrated else ""),
        tags=[material, "EN 1661", "DIN 6923", "flange nut", "threaded"]
        + (["serrated"] if serrated else []),
        parameters=dict(thread=label, across_flats=num(s), flange_diameter=num(dc),
                        height=num(m), serrations=teeth),
        names=["flange nut", "hex flange nut", "collar nut", "serrated flange nut" if serrated
               else "washer face nut"],
        size=f"{label} x {fmt(std.METRIC_THREADS[d]['pitch'])}", standard="EN 1661",
        material=material,
        extras=[f"{label} hex flange nut, {fmt(dc)} mm flange, {fmt(s)} mm across flats",
                f"DIN 6923 flange nut {label}" + (" with locking serrations" if serrated else
                                                  " with plain bearing face")],
    )  # fmt: skip


def taper_pin(rng: np.random.Generator, extreme: str | None = None) -> GeneratedPart:
    """Taper pin ISO 2339 (taper 1:50), domed (type A) or chamfered (type B) ends."""
    d, lengths = choose_row(rng, sf.TAPER_PINS, extreme)
    length = int(choose(rng, lengths, extreme))
    domed = flag(rng, 0.5, extreme)
    material = choose(rng, ["steel", "stainless", "carbon steel"], extreme)
    f = density(rng, extreme)
    big = d + length / 50.0
    if domed:  # ends rounded with a sphere radius about d
        cap = 0.12 * d
        a = np.linspace(0, np.pi / 2, 6)
        slope = (big - d) / (2 * length)  # the cone runs from d at z=0 to big at z=length
        r_lo, r_hi = d / 2 + slope * cap, big / 2 - slope * cap
        low = [(r_lo * np.sin(x), cap * (1 - np.cos(x))) for x in a]
        high = [(r_hi * np.cos(x), length - cap + cap * np.sin(x)) for x in a]
        pts = low + high
    else:
        ch = 0.1 * d
        pts = [
            (0, 0),
            (d / 2 - ch, 0),
            (d / 2 + 0.02 * ch, ch),
            (big / 2, length - ch),
            (big / 2 - ch, length),
            (0, length),
        ]
    body = revolve(np.array(pts), scaled_segments(big / 2, f, 24, 40))
    attrs = ShapeAttributes(form="pin", symmetry="axisymmetric")
    return make_part(
        rng, body, attrs,
        name=f"Taper pin {fmt(d)}x{length}",
        tags=[material, "ISO 2339", "DIN 1", "taper pin", "1:50 taper"],
        parameters=dict(small_diameter=num(d), large_diameter=num(big, 3), length=length,
                        type="A" if domed else "B"),
        names=["taper pin", "tapered dowel pin", "conical pin", "DIN 1 taper pin"],
        size=f"{fmt(d)} x {length}", standard="ISO 2339", material=material,
        extras=[f"{fmt(d)} mm taper pin {length} mm long, 1:50 taper to {fmt(big)} mm",
                f"conical locating pin {fmt(d)}x{length} for a reamed taper hole"],
    )  # fmt: skip


def spring_pin(rng: np.random.Generator, extreme: str | None = None) -> GeneratedPart:
    """Slotted spring pin (roll pin): heavy duty ISO 8752 or light duty ISO 13337."""
    d, (wall, lengths) = choose_row(rng, sf.SPRING_PINS, extreme)
    length = int(choose(rng, lengths, extreme))
    light = extreme is None and rng.random() < 0.3
    if light:
        wall = sf.SPRING_PINS_LIGHT[d]
    material = choose(rng, ["spring steel", "stainless"], extreme)
    f = density(rng, extreme)
    n = scaled_segments(d / 2, f, 32, 48)
    gap = max(0.2 * d, 2.5 * wall)
    ring = circle(d / 2, segments=n).difference(circle(d / 2 - wall, segments=n))
    c_shape = ring.difference(sg.box(d / 2 - 2 * wall - 0.5, -gap / 2, d, gap / 2))
    tube = extrude(c_shape, length)
    ch = min(0.25 * wall + 0.1 * d, 0.6 * wall)  # the chamfer must not cut through the wall
    r = d / 2 + 0.01
    chamfers = revolve(
        np.array(
            [
                (0, 0),
                (r - ch, 0),
                (r + 1, ch + 1),
                (r + 1, length - ch - 1),
                (r - ch, length),
                (0, length),
            ]
        ),
        n,
    ).rotate((0, 0, 90.0 / n))
    body = tube ^ chamfers
    standard = "ISO 13337" if light else "ISO 8752"
    attrs = ShapeAttributes(form="pin", symmetry="mirror")
    return make_part(
        rng, body, attrs,
        name=f"Spring pin {fmt(d)}x{length}" + (" light" if light else ""),
        tags=[material, standard, "spring pin", "slotted", "roll pin"],
        parameters=dict(diameter=num(d), length=length, wall=num(wall), slot=num(gap),
                        duty="light" if light else "heavy"),
        names=["spring pin", "roll pin", "slotted spring pin", "split tension pin"],
        size=f"{fmt(d)} x {length}", standard=standard, material=material,
        extras=[f"{fmt(d)} mm roll pin {length} mm long, slotted tube with {fmt(wall)} mm wall",
                f"split spring pin {fmt(d)}x{length} pressed into a drilled hole"],
    )  # fmt: skip


def clevis_pin(rng: np.random.Generator, extreme: str | None = None) -> GeneratedPart:
    """Clevis pin with head ISO 2341: form B with a split pin hole, or form A without."""
    d, (dk, k, d1, le, lengths) = choose_row(rng, sf.CLEVIS_PINS, extreme)
    length = int(choose(rng, lengths, extreme))
    with_hole = flag(rng, 0.75, extreme, at_min=True)
    material = choose(rng, ["steel", "stainless", "zinc-plated steel"], extreme)
    f = density(rng, extreme)
    c, ck = 0.1 * d, 0.15 * k
    pts = [(0, 0), (d / 2 - c, 0), (d / 2, c), (d / 2, length), (dk / 2, length),
           (dk / 2, length + k - ck), (dk / 2 - ck, length + k), (0, length + k)]  # fmt: skip
    body = revolve(np.array(pts), scaled_segments(dk / 2, f, 24, 48))
    if with_hole:
        hole = cylinder(d1 / 2, d + 2, scaled_segments(d1 / 2, f, 16, 24), z0=-(d / 2 + 1))
        body = body - hole.rotate((90.0, 0.0, 0.0)).translate((0, 0, le))
    standard = "ISO 2341"
    attrs = ShapeAttributes(form="pin", head="flat", holes=int(with_hole),
                            symmetry="mirror" if with_hole else "axisymmetric")  # fmt: skip
    return make_part(
        rng, body, attrs,
        name=f"Clevis pin {fmt(d)}x{length}" + (" form B" if with_hole else " form A"),
        tags=[material, standard, "DIN 1444", "clevis pin", "headed pin"]
        + (["split pin hole"] if with_hole else []),
        parameters=dict(diameter=num(d), length=length, head_diameter=num(dk), head_height=num(k),
                        cross_hole=num(d1) if with_hole else 0, hole_from_end=num(le)),
        names=["clevis pin", "headed pin", "yoke pin", "clevis pin with head"],
        size=f"{fmt(d)} x {length}", standard=standard, material=material,
        extras=[f"{fmt(d)} mm clevis pin {length} mm long with a {fmt(dk)} mm flat head",
                f"yoke pin {fmt(d)}x{length}" + (f", {fmt(d1)} mm cross hole for a cotter pin"
                                                  if with_hole else ", plain end")],
    )  # fmt: skip


def _chamfered_prism(polygon, height: float, c: float) -> Solid:
    """Prism of a convex profile with its top and bottom edges chamfered by ``c`` mm."""
    if c <= 0:
        return extrude(polygon, height)
    inner = polygon.buffer(-c, join_style="mitre")
    return union([extrude(inner, height), extrude(polygon, height - 2 * c, z0=c)]).hull()


def parallel_key(rng: np.random.Generator, extreme: str | None = None) -> GeneratedPart:
    """Parallel key DIN 6885-1: form A (round ends), B (square ends) or C (one round end)."""
    row = choose(rng, [r for r in std.PARALLEL_KEYS if r[2] in sf.PARALLEL_KEY_LENGTH_RANGE],
                 extreme)  # fmt: skip
    b, h = row[2], row[3]
    lo, hi = sf.PARALLEL_KEY_LENGTH_RANGE[b]
    length = int(choose(rng, [L for L in sf.KEY_LENGTHS if lo <= L <= hi], extreme))
    form = choose(rng, ("B", "A", "C"), extreme)
    material = choose(rng, ["steel", "carbon steel", "stainless"], extreme)
    c = choose(rng, (0.0, 0.06, 0.1), extreme) * h
    quad = 4 if density(rng, extreme) < 1 else 8
    if form == "A":
        outline = rounded_rectangle(length, b, b / 2 - 0.01, quad)
    elif form == "B":
        outline = sg.box(-length / 2, -b / 2, length / 2, b / 2)
    else:
        outline = sg.box(0, -b / 2, length / 2, b / 2).union(
            rounded_rectangle(length, b, b / 2 - 0.01, quad)
        )
    body = _chamfered_prism(outline.convex_hull, h, c)
    attrs = ShapeAttributes(form="block", symmetry="mirror")
    return make_part(
        rng, body, attrs,
        name=f"Parallel key {fmt(b)}x{fmt(h)}x{length} form {form}",
        tags=[material, "DIN 6885", "ISO 773", "parallel key", f"form {form}", "feather key"],
        parameters=dict(width=num(b), height=num(h), length=length, form=form,
                        shaft_from=num(row[0]), shaft_to=num(row[1])),
        names=["parallel key", "feather key", "machine key", "keyway key"],
        size=f"{fmt(b)} x {fmt(h)} x {length}", standard="DIN 6885", material=material,
        extras=[f"key {fmt(b)}x{fmt(h)}x{length} form {form} for {fmt(row[0])}-{fmt(row[1])} mm"
                " shafts",
                f"{length} mm long feather key, {fmt(b)} mm wide, "
                + ("rounded ends" if form == "A" else "square ends" if form == "B"
                   else "one rounded end")],
    )  # fmt: skip


def woodruff_key(rng: np.random.Generator, extreme: str | None = None) -> GeneratedPart:
    """Woodruff (half-moon) key DIN 6888: a circular segment of diameter d1, height h, width b."""
    b, h, d1 = choose(rng, sf.WOODRUFF_KEYS, extreme)
    material = choose(rng, ["steel", "carbon steel", "stainless"], extreme)
    f = density(rng, extreme)
    n = scaled_segments(d1 / 2, f, 32, 64)
    disc = circle(d1 / 2, center=(0.0, h - d1 / 2), segments=n)
    outline = disc.intersection(sg.box(-d1, 0.0, d1, d1))
    c = choose(rng, (0.0, 0.04, 0.08), extreme) * b
    body = _chamfered_prism(outline, b, c).rotate((90.0, 0.0, 0.0))
    attrs = ShapeAttributes(form="disc", symmetry="mirror")
    return make_part(
        rng, body, attrs,
        name=f"Woodruff key {fmt(b)}x{fmt(h)}",
        tags=[material, "DIN 6888", "ISO 3912", "woodruff key", "half-moon key"],
        parameters=dict(width=num(b), height=num(h), diameter=num(d1)),
        names=["woodruff key", "half-moon key", "segment key", "disc key"],
        size=f"{fmt(b)} x {fmt(h)}", standard="DIN 6888", material=material,
        extras=[f"half-moon key {fmt(b)}x{fmt(h)} cut from a {fmt(d1)} mm disc",
                f"woodruff key {fmt(b)} mm thick for a tapered shaft end"],
    )  # fmt: skip


FAMILY_LIST: tuple[Family, ...] = (
    Family("wing_nut", "wing_nut", wing_nut, "nut"),
    Family("t_slot_nut", "t_slot_nut", t_slot_nut, "nut"),
    Family("nylon_lock_nut", "lock_nut", nylon_lock_nut, "nut"),
    Family("cap_nut", "cap_nut", cap_nut, "nut"),
    Family("flange_nut", "flange_nut", flange_nut, "nut"),
    Family("taper_pin", "taper_pin", taper_pin, "pin"),
    Family("spring_pin", "spring_pin", spring_pin, "pin"),
    Family("clevis_pin", "clevis_pin", clevis_pin, "pin"),
    Family("parallel_key", "parallel_key", parallel_key, "key"),
    Family("woodruff_key", "woodruff_key", woodruff_key, "key"),
)
