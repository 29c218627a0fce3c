"""More fasteners: countersunk, button, set and shoulder screws, studs, rivets, nuts, pins, keys."""

from __future__ import annotations

import numpy as np

from data_jobs.catalog import families_standards as std
from data_jobs.catalog import standards_fasteners as sf
from data_jobs.catalog.attributes import ShapeAttributes
from data_jobs.catalog.choices import choose, choose_row, density, flag
from data_jobs.catalog.families_base import (
    Family,
    GeneratedPart,
    box,
    cylinder,
    fmt,
    make_part,
    num,
    revolve,
    scaled_segments,
    size_label,
    subtract,
    union,
)
from data_jobs.catalog.families_fasteners_nuts import FAMILY_LIST as NUT_PIN_KEY_FAMILIES
from data_jobs.catalog.geometry_kit import (
    cross_recess,
    hex_socket,
    screwdriver_slot,
    threaded_rod,
)


def _length(rng, d: float, extreme: str | None, lo: float = 2.0, hi: float = 10.0, top=160):
    lengths = [L for L in std.BOLT_LENGTHS if max(lo * d, 6) <= L <= min(hi * d, top)]
    return int(choose(rng, lengths, extreme))


def _shank(d: float, length: float, thread_length: float, modelled: bool, n: int):
    """Screw shank from the tip (z=0) up to length + 0.5, buried in the head."""
    pitch = std.METRIC_THREADS[d]["pitch"]
    spans = [(0.0, thread_length)] if modelled else []
    return threaded_rod(d, pitch, length + 0.5, spans, n, chamfer_top=False)


def _screw_material(rng, extreme):
    return choose(rng, ["steel", "zinc-plated steel", "stainless"], extreme)


def countersunk_screw(rng: np.random.Generator, extreme: str | None = None) -> GeneratedPart:
    """Hexagon socket countersunk head screw ISO 10642 (90 degree head), M3..M20."""
    d, (dk, k, key) = choose_row(rng, sf.COUNTERSUNK_SCREWS, extreme)
    length = _length(rng, d, extreme, lo=2.5, hi=8.0, top=120)
    modelled, f = flag(rng, 0.6, extreme), density(rng, extreme)
    material = _screw_material(rng, extreme)
    land = choose(rng, (0.05, 0.08, 0.12), extreme) * k
    rk = d / 2 + (k - land)  # 90 degree cone: radius grows as fast as the height
    n = scaled_segments(dk / 2, f, lo=32, hi=48)
    head = revolve(np.array([(0, 0), (d / 2, 0), (rk, k - land), (rk, k), (0, k)]), n)
    head = (head - hex_socket(key, 0.6 * k, k)).translate((0, 0, length - k))
    thread_length = length - k if length <= 3 * d + k else 2 * d + 12
    body = union([_shank(d, length - k, thread_length, modelled, scaled_segments(d / 2, f)), head])
    m = size_label(d)
    attrs = ShapeAttributes(
        form="shaft", head="countersunk", drive="hex socket", threaded=True, symmetry="polar"
    )
    return make_part(
        rng, body, attrs,
        name=f"Countersunk screw {m}x{length}",
        tags=[material, "ISO 10642", "DIN 7991", "countersunk", "hex socket", "threaded"],
        parameters=dict(thread=m, diameter=num(d), length=length, head_diameter=num(2 * rk),
                        head_height=num(k), socket_size=num(key), modelled_thread=modelled),
        names=["countersunk screw", "flat head socket cap screw", "countersunk Allen bolt",
               "CSK socket screw"],
        size=f"{m} x {length}", standard="ISO 10642", material=material,
        extras=[f"{m}x{length} countersunk hex socket screw, 90 degree head {fmt(dk)} mm across",
                f"flush-mounting Allen screw {m}, {length} mm overall including the head",
                f"DIN 7991 countersunk screw with {fmt(key)} mm hex key socket"],
    )  # fmt: skip


def button_head_screw(rng: np.random.Generator, extreme: str | None = None) -> GeneratedPart:
    """Hexagon socket button head screw ISO 7380-1, or with collar (ISO 7380-2), M3..M16."""
    d, (dk, k, key) = choose_row(rng, sf.BUTTON_HEAD_SCREWS, extreme)
    length = _length(rng, d, extreme, lo=2.0, hi=6.0, top=80)
    modelled, f = flag(rng, 0.6, extreme), density(rng, extreme)
    collar = flag(rng, 0.3, extreme)
    material = _screw_material(rng, extreme)
    t = np.linspace(0.0, np.pi / 2, 9)
    z0 = 0.15 * k
    rt = 0.62 * key  # flat top just wider than the socket's corners
    arc = [(rt + (dk / 2 - rt) * np.cos(a), z0 + (k - z0) * np.sin(a)) for a in t]
    n = scaled_segments(dk / 2, f, lo=32, hi=48)
    # half a segment turn keeps the dome's vertices off the socket's corners
    head = revolve(np.array([(0, 0), (dk / 2, 0), *arc, (0, k)]), n).rotate((0, 0, 180.0 / n))
    parts = [head]
    if collar:  # ISO 7380-2 flange about 1.25 x dk
        dc = 1.25 * dk
        parts.append(cylinder(dc / 2, 0.12 * k + 0.2, scaled_segments(dc / 2, f, lo=32, hi=48)))
    head = (union(parts) - hex_socket(key, 0.55 * k, k)).translate((0, 0, length))
    body = union([_shank(d, length, length, modelled, scaled_segments(d / 2, f)), head])
    m, standard = size_label(d), "ISO 7380-2" if collar else "ISO 7380-1"
    attrs = ShapeAttributes(
        form="shaft", head="button", drive="hex socket", threaded=True, symmetry="polar"
    )
    return make_part(
        rng, body, attrs,
        name=f"Button head screw {m}x{length}" + (" with collar" if collar else ""),
        tags=[material, standard, "button head", "hex socket", "threaded"]
        + (["flanged"] if collar else []),
        parameters=dict(thread=m, diameter=num(d), length=length, head_diameter=num(dk),
                        head_height=num(k), socket_size=num(key), collar=collar),
        names=["button head screw", "button head socket cap screw", "dome head Allen screw",
               "BHCS"],
        size=f"{m} x {length}", standard=standard, material=material,
        extras=[f"low profile domed head screw {m}x{length}, {fmt(dk)} mm head, {fmt(k)} mm tall",
                f"{m} button head Allen bolt for covers, {fmt(key)} mm hex key"]
        + ([f"flanged button head screw {m} with integrated washer collar"] if collar else []),
    )  # fmt: skip


def set_screw(rng: np.random.Generator, extreme: str | None = None) -> GeneratedPart:
    """Hexagon socket set screw (grub screw): flat ISO 4026, cone ISO 4027 or cup ISO 4029."""
    d, (key, dp, dz, lengths) = choose_row(rng, sf.SET_SCREWS, extreme)
    length = int(choose(rng, lengths, extreme))
    point = choose(rng, ("flat", "cone", "cup"), extreme)
    modelled, f = flag(rng, 0.6, extreme), density(rng, extreme)
    material = choose(rng, ["steel", "stainless", "zinc-plated steel"], extreme)
    pitch = std.METRIC_THREADS[d]["pitch"]
    n = scaled_segments(d / 2, f)
    r = d / 2
    body = threaded_rod(d, pitch, length, [(0.0, length)] if modelled else [], n)
    # the point: a cone from the tip radius out to the thread (90 degrees for "cone")
    if point == "cone":
        tip = 0.1 * d
        rise = r - tip
    else:
        tip = (dp if point == "flat" else dz) / 2
        rise = (r - tip) * 0.9
    shape = [(0, 0), (tip, 0), (r + 0.5, rise + 0.5), (r + 0.5, length + 1), (0, length + 1)]
    hollow = [(0, -1), (0.4 * dz, -1), (0.4 * dz, 0), (0, 0.3 * dz)]  # the cup point's recess
    cup = revolve(np.array(hollow), 24) if point == "cup" else None
    body = body ^ revolve(np.array(shape), n)
    if cup is not None:
        body = body - cup
    socket_depth = min(0.5 * length, 0.8 * key + 0.4 * d)
    body = body - hex_socket(key, socket_depth, length)
    standard = {"flat": "ISO 4026", "cone": "ISO 4027", "cup": "ISO 4029"}[point]
    m = size_label(d)
    attrs = ShapeAttributes(form="cylinder", drive="hex socket", threaded=True, symmetry="polar")
    return make_part(
        rng, body, attrs,
        name=f"Set screw {m}x{length} {point} point",
        tags=[material, standard, "set screw", "hex socket", f"{point} point", "headless"],
        parameters=dict(thread=m, diameter=num(d), length=length, socket_size=num(key),
                        point=point, modelled_thread=modelled),
        names=["set screw", "grub screw", "headless socket set screw", "blind screw"],
        size=f"{m} x {length}", standard=standard, material=material,
        extras=[f"{m}x{length} grub screw with {point} point and {fmt(key)} mm hex socket",
                f"headless {point} point set screw {m} for locking a pulley on a shaft"],
    )  # fmt: skip


def shoulder_screw(rng: np.random.Generator, extreme: str | None = None) -> GeneratedPart:
    """Hexagon socket head shoulder screw ISO 7379: ground shoulder, undercut, short thread."""
    ds, (d, dk, k, key, e) = choose_row(rng, sf.SHOULDER_SCREWS, extreme)
    lengths = [L for L in sf.SHOULDER_LENGTHS if 1.0 * ds <= L <= 6 * ds]
    shoulder = int(choose(rng, lengths, extreme))
    modelled, f = flag(rng, 0.6, extreme), density(rng, extreme)
    knurled = flag(rng, 0.3, extreme)
    material = choose(rng, ["steel", "stainless"], extreme)
    pitch = std.METRIC_THREADS[d]["pitch"]
    neck = 0.8 * d / 2
    undercut = max(1.0, 1.5 * pitch)
    spans = [(0.0, e - undercut)] if modelled else []
    thread = threaded_rod(d, pitch, e + 0.5, spans, scaled_segments(d / 2, f), chamfer_top=False)
    n = scaled_segments(ds / 2, f, lo=32, hi=48)
    c = 0.05 * ds
    shank = revolve(np.array([(0, e), (neck, e), (neck, e + undercut), (ds / 2 - c, e + undercut),
                              (ds / 2, e + undercut + c), (ds / 2, e + shoulder + 0.5),
                              (0, e + shoulder + 0.5)]), n)  # fmt: skip
    nh = scaled_segments(dk / 2, f, lo=32, hi=48)
    head = revolve(np.array([(0, 0), (dk / 2, 0), (dk / 2, k - 0.08 * dk), (dk / 2 - 0.08 * dk, k),
                             (0, k)]), nh)  # fmt: skip
    if knurled:  # straight knurl: shallow grooves around the head
        grooves = [box(0.08 * dk, 0.05 * dk, 0.6 * k, center=(dk / 2, 0, 0.45 * k)).rotate(
            (0, 0, 360.0 * i / 30)) for i in range(30)]  # fmt: skip
        head = subtract(head, grooves)
    head = (head - hex_socket(key, 0.6 * k, k)).translate((0, 0, e + shoulder))
    body = union([thread, shank, head])
    m = size_label(d)
    attrs = ShapeAttributes(
        form="shaft", head="socket", drive="hex socket", threaded=True, symmetry="polar"
    )
    return make_part(
        rng, body, attrs,
        name=f"Shoulder screw {fmt(ds)}x{shoulder} {m}",
        tags=[material, "ISO 7379", "shoulder screw", "hex socket", "ground shoulder"]
        + (["knurled head"] if knurled else []),
        parameters=dict(shoulder_diameter=num(ds), shoulder_length=shoulder, thread=m,
                        thread_length=num(e), head_diameter=num(dk), head_height=num(k),
                        socket_size=num(key), knurled=knurled),
        names=["shoulder screw", "shoulder bolt", "stripper bolt", "precision shoulder screw"],
        size=f"{fmt(ds)} x {shoulder}", standard="ISO 7379", material=material,
        extras=[f"shoulder bolt with {fmt(ds)} mm ground shoulder, {shoulder} mm long, {m} thread",
                f"stripper bolt {fmt(ds)}x{shoulder} {m} for pivoting levers and die springs"],
    )  # fmt: skip


def slotted_cheese_head_screw(
    rng: np.random.Generator, extreme: str | None = None
) -> GeneratedPart:
    """Slotted cheese head screw ISO 1207, or the cross recessed cheese head ISO 7048, M3..M10."""
    d, (dk, k, slot_n, slot_t) = choose_row(rng, sf.CHEESE_HEAD_SCREWS, extreme)
    cross = d in sf.CHEESE_HEAD_CROSS and extreme is None and rng.random() < 0.3
    if cross:
        k, recess = sf.CHEESE_HEAD_CROSS[d]
    length = _length(rng, d, extreme, lo=1.5, hi=8.0, top=80)
    modelled, f = flag(rng, 0.6, extreme), density(rng, extreme)
    material = choose(rng, ["steel", "zinc-plated steel", "stainless", "brass"], extreme)
    c = choose(rng, (0.04, 0.08, 0.12), extreme) * dk
    n = scaled_segments(dk / 2, f, lo=32, hi=48)
    head = revolve(np.array([(0, 0), (dk / 2, 0), (dk / 2, k - c), (dk / 2 - c, k), (0, k)]), n)
    cutter = cross_recess(recess, k) if cross else screwdriver_slot(slot_n, slot_t, dk, k)
    head = (head - cutter).translate((0, 0, length))
    thread_length = length if length <= 40 else 38
    body = union([_shank(d, length, thread_length, modelled, scaled_segments(d / 2, f)), head])
    m, standard = size_label(d), "ISO 7048" if cross else "ISO 1207"
    drive = "cross" if cross else "slot"
    attrs = ShapeAttributes(form="shaft", head="cheese", drive=drive, threaded=True,
                            symmetry="polar" if cross else "mirror")  # fmt: skip
    return make_part(
        rng, body, attrs,
        name=f"Cheese head screw {m}x{length} {drive}",
        tags=[material, standard, "DIN 84" if not cross else "DIN 7985", "cheese head", drive,
              "machine screw"],
        parameters=dict(thread=m, diameter=num(d), length=length, head_diameter=num(dk),
                        head_height=num(k), drive=drive, modelled_thread=modelled),
        names=["cheese head screw", "fillister head machine screw", "cheese head machine screw",
               "slotted screw" if not cross else "Phillips cheese head screw"],
        size=f"{m} x {length}", standard=standard, material=material,
        extras=[f"{m}x{length} cheese head screw with {drive} drive, {fmt(dk)} mm cylindrical head",
                f"DIN 84 style machine screw {m}, tall {fmt(k)} mm head"],
    )  # fmt: skip


def threaded_stud(rng: np.random.Generator, extreme: str | None = None) -> GeneratedPart:
    """Double-end stud DIN 938 / 939 / 940 (metal end 1d / 1.25d / 2.5d) or threaded rod DIN 976."""
    d = choose(rng, [x for x in std.METRIC_THREADS if 4 <= x <= 24], extreme)
    pitch = std.METRIC_THREADS[d]["pitch"]
    length = _length(rng, d, extreme, lo=3.0, hi=10.0, top=200)
    kinds = ["DIN 938", *[k for k in sf.STUD_METAL_ENDS if k != "DIN 938"], "DIN 976-1"]
    kind = choose(rng, kinds, extreme)
    f = density(rng, extreme)
    material = choose(rng, ["steel", "zinc-plated steel", "stainless", "brass"], extreme)
    n = scaled_segments(d / 2, f)
    if kind == "DIN 976-1":
        spans, label = [(0.0, length)], "threaded rod"
        metal_end = nut_end = length
    else:
        metal_end = sf.STUD_METAL_ENDS[kind] * d
        nut_end = min(2 * d + 6, length - metal_end - 0.5 * d)
        spans, label = [(0.0, metal_end), (length - nut_end, length)], "stud bolt"
    body = threaded_rod(d, pitch, length, spans, n)
    m = size_label(d)
    attrs = ShapeAttributes(form="rod", threaded=True, symmetry="axisymmetric")
    names = (["threaded rod", "all-thread rod", "studding", "threaded bar"] if kind == "DIN 976-1"
             else ["stud bolt", "double-end stud", "threaded stud", "tap end stud"])  # fmt: skip
    return make_part(
        rng, body, attrs,
        name=f"{label.capitalize()} {m}x{length}",
        tags=[material, kind, "stud", "threaded", "headless"],
        parameters=dict(thread=m, diameter=num(d), pitch=num(pitch), length=length,
                        metal_end=num(metal_end), nut_end=num(nut_end), type=kind),
        names=names, size=f"{m} x {length}", standard=kind, material=material,
        extras=[f"{m} {label} {length} mm long, {kind}",
                f"headless threaded fastener {m}x{length}" + (
                    ", fully threaded" if kind == "DIN 976-1" else
                    f", {fmt(metal_end)} mm screw-in end and {fmt(nut_end)} mm nut end")],
    )  # fmt: skip


def _torus_xz(major: float, minor: float, n_major: int, n_minor: int):
    """Torus of radii (major, minor) mm lying in the XZ plane, centred at the origin."""
    a = 2 * np.pi * np.arange(n_minor) / n_minor
    ring = np.c_[major + minor * np.cos(a), minor * np.sin(a)]
    return revolve(ring, n_major).rotate((90.0, 0.0, 0.0))


def eye_bolt(rng: np.random.Generator, extreme: str | None = None) -> GeneratedPart:
    """Lifting eye bolt DIN 580: forged ring eye on a collar, short threaded shank, M8..M24."""
    d, (d1, d2, d4, h, thread_len, k) = choose_row(rng, sf.EYE_BOLTS, extreme)
    pitch = std.METRIC_THREADS[d]["pitch"]
    modelled, f = flag(rng, 0.6, extreme), density(rng, extreme)
    material = choose(rng, ["carbon steel", "galvanized steel", "stainless"], extreme)
    major, minor = (d1 + d2) / 4, (d1 - d2) / 4
    zc = max(h - d1 / 2, d1 / 2 + 0.2)
    eye = _torus_xz(
        major, minor, scaled_segments(major, f, 32, 56), scaled_segments(minor, f, 16, 24)
    )
    eye = eye.translate((0, 0, zc))
    c = 0.1 * k
    collar = revolve(
        np.array(
            [(0, 0), (d4 / 2 - c, 0), (d4 / 2, c), (d4 / 2, k - c), (d4 / 2 - 2 * c, k), (0, k)]
        ),
        scaled_segments(d4 / 2, f, 32, 48),
    )
    shank = threaded_rod(
        d,
        pitch,
        thread_len + 0.5,
        [(0.0, thread_len)] if modelled else [],
        scaled_segments(d / 2, f),
        chamfer_top=False,
    ).translate((0, 0, -thread_len))
    body = union([shank, collar, eye])  # fmt: skip
    m = size_label(d)
    attrs = ShapeAttributes(form="shaft", head="eye", threaded=True, holes=1, symmetry="mirror")
    return make_part(
        rng, body, attrs,
        name=f"Eye bolt {m}",
        tags=[material, "DIN 580", "eye bolt", "lifting", "threaded", "forged"],
        parameters=dict(thread=m, eye_outer=num(d1), eye_inner=num(d2), collar_diameter=num(d4),
                        height=num(h), thread_length=num(thread_len)),
        names=["eye bolt", "lifting eye bolt", "ring bolt", "collar eyebolt"],
        size=m, standard="DIN 580", material=material,
        extras=[f"{m} lifting eye bolt, {fmt(d2)} mm eye opening, {fmt(thread_len)} mm thread",
                f"DIN 580 ring bolt {m} with collar for hoisting machines"],
    )  # fmt: skip


def carriage_bolt(rng: np.random.Generator, extreme: str | None = None) -> GeneratedPart:
    """Cup (mushroom) head square neck bolt DIN 603, M5..M20."""
    d, (dk, k, v, fneck) = choose_row(rng, sf.CARRIAGE_BOLTS, extreme)
    length = _length(rng, d, extreme, lo=3.0, hi=12.0, top=200)
    modelled, f = flag(rng, 0.6, extreme), density(rng, extreme)
    material = choose(rng, ["zinc-plated steel", "galvanized steel", "stainless"], extreme)
    t = np.linspace(0.0, np.pi / 2, 10)
    arc = [(dk / 2 * np.cos(a), 0.08 * k + 0.92 * k * np.sin(a)) for a in t[:-1]]
    head = revolve(
        np.array([(0, 0), (dk / 2, 0), *arc, (0, k)]), scaled_segments(dk / 2, f, 32, 56)
    )
    neck = box(v, v, fneck + 0.5, center=(0, 0, length - fneck / 2))
    thread_length = length if length <= 2 * d + 6 + fneck else 2 * d + 6
    body = union([_shank(d, length, thread_length, modelled, scaled_segments(d / 2, f)), neck,
                  head.translate((0, 0, length))])  # fmt: skip
    m = size_label(d)
    attrs = ShapeAttributes(form="shaft", head="round", threaded=True, symmetry="polar")
    return make_part(
        rng, body, attrs,
        name=f"Carriage bolt {m}x{length}",
        tags=[material, "DIN 603", "ISO 8677", "carriage bolt", "square neck", "threaded"],
        parameters=dict(thread=m, diameter=num(d), length=length, head_diameter=num(dk),
                        head_height=num(k), square_neck=num(v), neck_depth=num(fneck)),
        names=["carriage bolt", "coach bolt", "cup square neck bolt", "mushroom head bolt"],
        size=f"{m} x {length}", standard="DIN 603", material=material,
        extras=[f"{m}x{length} coach bolt with {fmt(v)} mm square neck under a domed head",
                f"carriage bolt for timber, {fmt(dk)} mm mushroom head, {m} thread"],
    )  # fmt: skip


def blind_rivet(rng: np.random.Generator, extreme: str | None = None) -> GeneratedPart:
    """Open end blind (pop) rivet ISO 15977 dome head or ISO 15978 countersunk, with mandrel."""
    d, (dk, k, dm) = choose_row(rng, sf.BLIND_RIVETS, extreme)
    length = int(choose(rng, [L for L in sf.BLIND_RIVET_LENGTHS if L >= 1.5 * d], extreme))
    countersunk = extreme is None and rng.random() < 0.3
    material = choose(rng, ["aluminium", "steel", "stainless"], extreme)
    f = density(rng, extreme)
    stem = float(choose(rng, (20, 25, 27), extreme))
    hm, rh = 0.6 * dm, 0.45 * d
    r = d / 2
    pts = [(0, -hm), (0.6 * rh, -hm), (rh, -0.4 * hm), (rh, 0.0), (r - 0.05 * d, 0.0),
           (r, 0.05 * d), (r, length)]  # fmt: skip
    if countersunk:  # ISO 15978: 120 degree countersunk head
        kc = (dk / 2 - r) / np.tan(np.radians(60))
        pts += [(dk / 2, length + kc), (dm / 2, length + kc)]
        top = length + kc
    else:
        t = np.linspace(0.0, np.pi / 2, 8)
        pts += [(dk / 2, length), *[(dm / 2 + (dk / 2 - dm / 2) * np.cos(a),
                                     length + k * np.sin(a)) for a in t[1:]]]  # fmt: skip
        top = length + k
    pts += [(dm / 2, top + stem), (0, top + stem)]
    body = revolve(np.array(pts), scaled_segments(dk / 2, f, 24, 40))
    label = size_label(d).replace("M", "")
    head = "countersunk" if countersunk else "round"
    standard = "ISO 15978" if countersunk else "ISO 15977"
    attrs = ShapeAttributes(form="tube", head=head, symmetry="axisymmetric")
    return make_part(
        rng, body, attrs,
        name=f"Blind rivet {label}x{length}" + (" countersunk" if countersunk else ""),
        tags=[material, standard, "blind rivet", "pop rivet", "mandrel", f"{head} head"],
        parameters=dict(diameter=num(d), length=length, head_diameter=num(dk), head_height=num(k),
                        mandrel_diameter=num(dm), head=head),
        names=["blind rivet", "pop rivet", "breakstem rivet", "POP rivet"],
        size=f"{label} x {length}", standard=standard, material=material,
        extras=[f"{label} mm pop rivet, {length} mm body, {fmt(dm)} mm mandrel still in place",
                f"open end blind rivet {label}x{length} for thin sheet, {head} head"],
    )  # fmt: skip


def solid_rivet(rng: np.random.Generator, extreme: str | None = None) -> GeneratedPart:
    """Round head solid rivet DIN 660 (cup head, spherical cap), d 2..8."""
    d, (dk, k) = choose_row(rng, sf.SOLID_RIVETS, extreme)
    lengths = [L for L in std.BOLT_LENGTHS if 2 * d <= L <= 8 * d and L <= 50]
    length = int(choose(rng, lengths, extreme))
    material = choose(rng, ["aluminium", "steel", "brass", "copper"], extreme)
    f = density(rng, extreme)
    c = choose(rng, (0.05, 0.1, 0.15), extreme) * d
    rs = (dk**2 / 4 + k**2) / (2 * k)  # sphere radius of a cap of base dk and height k
    angles = np.linspace(np.arcsin(dk / 2 / rs), 0.0, 9)[1:-1]
    cap = [(rs * np.sin(a), length + k - rs + rs * np.cos(a)) for a in angles]
    r = d / 2
    pts = [(0, 0), (r - c, 0), (r, c), (r, length), (dk / 2, length), *cap, (0, length + k)]
    body = revolve(np.array(pts), scaled_segments(dk / 2, f, 24, 40))
    attrs = ShapeAttributes(form="pin", head="round", symmetry="axisymmetric")
    return make_part(
        rng, body, attrs,
        name=f"Solid rivet {fmt(d)}x{length}",
        tags=[material, "DIN 660", "solid rivet", "round head"],
        parameters=dict(diameter=num(d), length=length, head_diameter=num(dk), head_height=num(k)),
        names=["solid rivet", "round head rivet", "snap head rivet", "button head rivet"],
        size=f"{fmt(d)} x {length}", standard="DIN 660", material=material,
        extras=[f"{fmt(d)} mm round head rivet {length} mm long, {fmt(dk)} mm head",
                f"DIN 660 snap head solid rivet {fmt(d)}x{length} to be peened over"],
    )  # fmt: skip


FAMILY_LIST: tuple[Family, ...] = (
    Family("countersunk_screw", "countersunk_screw", countersunk_screw, "screw"),
    Family("button_head_screw", "button_head_screw", button_head_screw, "screw"),
    Family("set_screw", "set_screw", set_screw, "screw"),
    Family("shoulder_screw", "shoulder_screw", shoulder_screw, "screw"),
    Family("slotted_cheese_head_screw", "cheese_head_screw", slotted_cheese_head_screw, "screw"),
    Family("threaded_stud", "stud", threaded_stud, "bolt"),
    Family("eye_bolt", "eye_bolt", eye_bolt, "bolt"),
    Family("carriage_bolt", "carriage_bolt", carriage_bolt, "bolt"),
    Family("blind_rivet", "rivet", blind_rivet, "rivet"),
    Family("solid_rivet", "rivet", solid_rivet, "rivet"),
    *NUT_PIN_KEY_FAMILIES,
)
