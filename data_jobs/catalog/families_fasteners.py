"""Threaded fasteners and their companions: bolts, screws, nuts, washers, pins, standoffs, rings."""

from __future__ import annotations

import math

import numpy as np
import shapely.geometry as sg
import trimesh

from data_jobs.catalog import families_standards as std
from data_jobs.catalog.attributes import ShapeAttributes, describe
from data_jobs.catalog.families_base import (
    Family,
    GeneratedPart,
    chamfered_hex,
    circle,
    cylinder,
    descriptions_from,
    extrude,
    finish,
    fmt,
    from_trimesh,
    material_word,
    num,
    pick,
    pick_weighted,
    regular_polygon,
    revolve,
    segments_for,
    sentence_start,
    size_label,
    to_trimesh,
    union,
)

THREAD_SIZES = tuple(std.METRIC_THREADS)


def _texts(
    rng: np.random.Generator,
    mesh: trimesh.Trimesh,
    attributes: ShapeAttributes,
    hand: list[str],
    **words,
) -> tuple[ShapeAttributes, list[str]]:
    """Measured attributes and descriptions: the hand-written canonical sentence first, then
    describe()'s templates (``words``: names, size, standard, material), the rest as extras."""
    attrs = attributes.measured(mesh)
    texts = describe(rng, attributes=attrs, extras=hand[1:], **words)
    return attrs, descriptions_from(hand[0], *texts)


THREAD_WEIGHTS = (1.0, 1.5, 1.5, 2.0, 2.0, 2.0, 1.5, 0.7, 1.0, 0.7, 0.5)


def _thread_size(rng: np.random.Generator, lo: float = 3, hi: float = 24) -> float:
    sizes = [d for d in THREAD_SIZES if lo <= d <= hi]
    weights = [w for d, w in zip(THREAD_SIZES, THREAD_WEIGHTS, strict=True) if lo <= d <= hi]
    return pick_weighted(rng, sizes, weights)


def external_thread_profile(
    r_major: float, pitch: float, z_start: float, z_end: float
) -> list[tuple[float, float]]:
    """Zig-zag (r, z) points of a cosmetic thread (annular V grooves) from z_start up to z_end."""
    depth = 0.54 * pitch
    teeth = max(1, int((z_end - z_start) / pitch))
    pts = []
    for i in range(teeth):
        z = z_start + i * pitch
        pts += [(r_major - depth, z + 0.1 * pitch), (r_major, z + 0.5 * pitch)]
    pts.append((r_major - depth, z_start + teeth * pitch))
    return pts


def _threaded_shank(d: float, pitch: float, length: float, thread_length: float):
    """Shank along Z from 0 (chamfered tip) to length + 0.5 (buried in the head), mm."""
    r = d / 2
    depth = 0.54 * pitch
    profile = [(0.0, 0.0), (r - depth, 0.0)]
    profile += external_thread_profile(r, pitch, 0.6 * pitch, min(thread_length, length))
    profile += [(r, profile[-1][1] + 0.3 * pitch), (r, length + 0.5), (0.0, length + 0.5)]
    return revolve(np.array(profile), segments_for(r, lo=24, hi=40))


def _bolt_length(rng: np.random.Generator, d: float) -> int:
    lengths = [L for L in std.BOLT_LENGTHS if max(2.0 * d, 6) <= L <= min(10.0 * d, 160)]
    return int(pick(rng, lengths))


def hex_bolt(rng: np.random.Generator) -> GeneratedPart:
    """Hexagon head bolt ISO 4017 (fully threaded) or ISO 4014 (part threaded), M3..M24."""
    d = _thread_size(rng)
    t = std.METRIC_THREADS[d]
    length = _bolt_length(rng, d)
    full = length <= 3 * d or rng.random() < 0.4
    thread_length = length if full else min(length, 2 * d + 6)
    standard = "ISO 4017" if full else "ISO 4014"
    material = pick(rng, ["steel", "zinc-plated steel", "stainless", "galvanized steel"])
    head = chamfered_hex(t["s"], t["k"], both_ends=False).translate((0, 0, length))
    body = union([_threaded_shank(d, t["pitch"], length, thread_length), head])
    m, mat = size_label(d), material_word(material)
    threading = "fully threaded" if full else "partially threaded"
    mesh = finish(body)
    attrs, texts = _texts(
        rng,
        mesh,
        ShapeAttributes(
            form="shaft", head="hex", drive="external hex", threaded=True, symmetry="polar"
        ),
        [
            f"{m} hex bolt, {length} mm long",
            f"hexagon head bolt {m} x {length}, {standard}",
            f"{length} mm long hex cap screw, {m} thread, {fmt(t['s'])} mm across flats",
            f"{mat} {threading} hex head bolt {m}x{length}",
        ],
        names=["hex bolt", "hexagon head bolt", "hex cap screw", "machine bolt"],
        size=f"{m} x {length}",
        standard=standard,
        material=mat,
    )
    return GeneratedPart(
        mesh=mesh,
        name=f"Hex bolt {m}x{length}",
        tags=[material, standard, "hex head", "threaded", threading.replace(" ", "-")],
        parameters=dict(
            thread=m,
            diameter=num(d),
            pitch=num(t["pitch"]),
            length=length,
            thread_length=num(thread_length),
            head_across_flats=num(t["s"]),
            head_height=num(t["k"]),
        ),
        descriptions=texts,
        through_holes=0,
        attributes=attrs,
    )


def socket_head_cap_screw(rng: np.random.Generator) -> GeneratedPart:
    """Hexagon socket head cap screw ISO 4762 with a blind hex socket, M3..M24."""
    d = _thread_size(rng)
    t = std.METRIC_THREADS[d]
    length = _bolt_length(rng, d)
    thread_length = length if length <= 2 * d + 12 else 2 * d + 12
    material = pick(rng, ["steel", "stainless", "zinc-plated steel"])
    grade = {"steel": "12.9 black oxide", "stainless": "A2-70"}.get(material, "8.8")
    k, dk = float(d), t["dk"]
    profile = [(0, 0), (dk / 2, 0), (dk / 2, k - 0.08 * d), (dk / 2 - 0.08 * d, k), (0, k)]
    head = revolve(np.array(profile), segments_for(dk / 2, lo=32, hi=48))
    socket_depth = 0.55 * k
    key_e = t["key"] / math.cos(math.pi / 6)
    socket = extrude(regular_polygon(key_e / 2, 6), socket_depth + 1.0, z0=k - socket_depth)
    cone = revolve(
        np.array(
            [
                (0, k - socket_depth - 0.3 * t["key"]),
                (0.48 * t["key"], k - socket_depth + 0.05 * t["key"]),
                (0, k - socket_depth + 0.5 * t["key"]),
            ]
        ),
        24,
    ).rotate((0, 0, 7.5))
    head = (head - (socket + cone)).translate((0, 0, length))
    body = union([_threaded_shank(d, t["pitch"], length, thread_length), head])
    m, mat = size_label(d), material_word(material)
    mesh = finish(body)
    attrs, texts = _texts(
        rng,
        mesh,
        ShapeAttributes(
            form="shaft", head="socket", drive="hex socket", threaded=True, symmetry="polar"
        ),
        [
            f"{m} socket head cap screw, {length} mm long",
            f"hexagon socket head cap screw {m} x {length}, ISO 4762 / DIN 912",
            f"{length} mm Allen bolt with {m} thread and {fmt(t['key'])} mm hex socket",
            f"{mat} cylinder head cap screw {m}x{length}, {fmt(dk)} mm head",
        ],
        names=["socket head cap screw", "Allen bolt", "cap screw", "SHCS"],
        size=f"{m} x {length}",
        standard="ISO 4762",
        material=mat,
    )
    return GeneratedPart(
        mesh=mesh,
        name=f"Socket head cap screw {m}x{length}",
        tags=[material, "ISO 4762", "DIN 912", "hex socket", "threaded", grade],
        parameters=dict(
            thread=m,
            diameter=num(d),
            pitch=num(t["pitch"]),
            length=length,
            head_diameter=num(dk),
            head_height=num(k),
            socket_size=num(t["key"]),
        ),
        descriptions=texts,
        through_holes=0,
        attributes=attrs,
    )


def _internal_thread_cutter(d: float, pitch: float, height: float):
    """Solid that cuts a cosmetically threaded bore of major diameter d through 0..height."""
    r_minor = d / 2 - 0.54 * pitch
    teeth = max(2, int(height / pitch))
    z0 = (height - teeth * pitch) / 2
    profile = [(0.0, -1.0), (r_minor + 0.15 * pitch, -1.0), (r_minor + 0.15 * pitch, 0.0)]
    for i in range(teeth):
        z = z0 + i * pitch
        profile += [(r_minor, z + 0.1 * pitch), (d / 2, z + 0.5 * pitch)]
    profile += [
        (r_minor, z0 + teeth * pitch),
        (r_minor + 0.15 * pitch, height),
        (r_minor + 0.15 * pitch, height + 1.0),
        (0.0, height + 1.0),
    ]
    return revolve(np.array(profile), segments_for(d / 2, lo=24, hi=40))


def hex_nut(rng: np.random.Generator) -> GeneratedPart:
    """Hexagon nut: regular ISO 4032, thin ISO 4035 or nylon-insert DIN 985, M3..M24."""
    d = _thread_size(rng)
    t = std.METRIC_THREADS[d]
    kind = pick_weighted(rng, ["regular", "thin", "nylon insert"], [0.6, 0.2, 0.2])
    material = pick(rng, ["steel", "zinc-plated steel", "stainless", "brass"])
    s, m_label, mat = t["s"], size_label(d), material_word(material)
    if kind == "regular":
        height, standard, label = t["m"], "ISO 4032", "hex nut"
        body = chamfered_hex(s, height, both_ends=True)
    elif kind == "thin":
        height, standard, label = std.THIN_NUT_HEIGHTS[d], "ISO 4035", "thin hex jam nut"
        body = chamfered_hex(s, height, both_ends=True)
    else:
        height, standard, label = std.NYLON_INSERT_NUT_HEIGHTS[d], "DIN 985", "nylon lock nut"
        hex_h = 0.72 * height
        dome_r = 0.46 * s
        dome = revolve(
            np.array(
                [
                    (0, hex_h - 0.5),
                    (dome_r, hex_h - 0.5),
                    (dome_r, height - 0.12 * d),
                    (dome_r - 0.12 * d, height),
                    (0, height),
                ]
            ),
            segments_for(dome_r, lo=32, hi=48),
        )
        body = union([chamfered_hex(s, hex_h, both_ends=True), dome])
    body = body - _internal_thread_cutter(d, t["pitch"], height)
    mesh = finish(body)
    attrs, texts = _texts(
        rng,
        mesh,
        ShapeAttributes(
            form="ring", drive="external hex", threaded=True, holes=1, symmetry="polar"
        ),
        [
            f"{m_label} {label}, {standard}",
            f"{label} {m_label}, {fmt(s)} mm across flats, {fmt(height)} mm high",
            f"{mat} {label} for {m_label} bolts ({fmt(t['pitch'])} mm pitch)",
            f"hexagon nut {m_label} ({kind}), {fmt(s)} mm wrench size",
        ],
        names=[label, "hexagon nut", "hex nut"],
        size=f"{m_label} x {fmt(t['pitch'])}",
        standard=standard,
        material=mat,
    )
    return GeneratedPart(
        mesh=mesh,
        name=f"{sentence_start(label)} {m_label}",
        tags=[material, standard, "hex", "threaded", "through-hole"]
        + (["nylon insert", "self-locking"] if kind == "nylon insert" else []),
        parameters=dict(
            thread=m_label,
            diameter=num(d),
            pitch=num(t["pitch"]),
            across_flats=num(s),
            height=num(height),
            type=kind,
        ),
        descriptions=texts,
        through_holes=1,
        attributes=attrs,
    )


def flat_washer(rng: np.random.Generator) -> GeneratedPart:
    """Plain washer ISO 7089 (normal) or ISO 7093-1 (large series), M3..M24."""
    d = _thread_size(rng)
    t = std.METRIC_THREADS[d]
    large = rng.random() < 0.3
    d1 = t["w_d1"]
    d2, h = std.LARGE_WASHERS[d] if large else (t["w_d2"], t["w_h"])
    standard = "ISO 7093-1" if large else "ISO 7089"
    material = pick(rng, ["steel", "zinc-plated steel", "stainless", "brass", "nylon"])
    n = segments_for(d2 / 2, lo=40, hi=64)
    ring = cylinder(d2 / 2, h, n) - cylinder(d1 / 2, h + 2, n, z0=-1)
    m, mat = size_label(d), material_word(material)
    series = "large flat washer" if large else "flat washer"
    mesh = finish(ring)
    attrs, texts = _texts(
        rng,
        mesh,
        ShapeAttributes(form="ring", holes=1, symmetry="axisymmetric"),
        [
            f"{m} {series}, {standard}",
            f"plain washer for {m} bolts, {fmt(d1)} mm ID x {fmt(d2)} mm OD x {fmt(h)} mm",
            f"{mat} {series} {fmt(d1)}x{fmt(d2)}x{fmt(h)}",
            f"round flat washer, {fmt(d2)} mm outside diameter, fits {m}",
        ],
        names=[series, "plain washer", "flat washer", "round washer"],
        size=m,
        standard=standard,
        material=mat,
    )
    return GeneratedPart(
        mesh=mesh,
        name=f"{sentence_start(series)} {m}",
        tags=[material, standard, "washer", "through-hole"],
        parameters=dict(
            bolt_size=m, inner_diameter=num(d1), outer_diameter=num(d2), thickness=num(h)
        ),
        descriptions=texts,
        through_holes=1,
        attributes=attrs,
    )


def spring_lock_washer(rng: np.random.Generator) -> GeneratedPart:
    """Split spring lock washer DIN 127 B: a rectangular-section ring cut and twisted open."""
    d = _thread_size(rng)
    t = std.METRIC_THREADS[d]
    d1, d2, s = t["lw_d1"], t["lw_d2"], t["lw_s"]
    material = pick(rng, ["spring steel", "stainless", "zinc-plated steel"])
    gap_deg = 8.0
    n = 72
    a = np.deg2rad(np.linspace(gap_deg / 2, 360 - gap_deg / 2, n))
    outer = np.c_[d2 / 2 * np.cos(a), d2 / 2 * np.sin(a)]
    inner = np.c_[d1 / 2 * np.cos(a), d1 / 2 * np.sin(a)][::-1]
    ring = to_trimesh(extrude(sg.Polygon(np.vstack([outer, inner])), s))
    v = ring.vertices.copy()
    ang = np.mod(np.arctan2(v[:, 1], v[:, 0]), 2 * np.pi)
    v[:, 2] += 0.9 * s * (ang / (2 * np.pi))
    twisted = from_trimesh(trimesh.Trimesh(v, ring.faces, process=False))
    m, mat = size_label(d), material_word(material)
    mesh = finish(twisted)
    attrs, texts = _texts(
        rng,
        mesh,
        ShapeAttributes(form="ring", symmetry="none"),
        [
            f"{m} spring lock washer, DIN 127 B",
            f"split lock washer for {m} screws, {fmt(d1)} x {fmt(d2)} mm, {fmt(s)} mm thick",
            f"{mat} helical spring washer {m}",
            f"Grower washer {m}, split ring with twisted ends",
        ],
        names=["spring lock washer", "split lock washer", "helical spring washer", "Grower washer"],
        size=m,
        standard="DIN 127 B",
        material=mat,
    )
    return GeneratedPart(
        mesh=mesh,
        name=f"Spring lock washer {m}",
        tags=[material, "DIN 127 B", "lock washer", "split"],
        parameters=dict(
            bolt_size=m, inner_diameter=num(d1), outer_diameter=num(d2), thickness=num(s)
        ),
        descriptions=texts,
        through_holes=0,
        attributes=attrs,
    )


def dowel_pin(rng: np.random.Generator) -> GeneratedPart:
    """Parallel dowel pin: ISO 8734 (hardened, chamfer + radius ends) or ISO 2338 (chamfers)."""
    d = pick(rng, list(std.DOWEL_PINS))
    length = int(pick(rng, std.DOWEL_PINS[d]))
    hardened = rng.random() < 0.6
    material = "stainless" if rng.random() < 0.3 else "steel"
    r, c = d / 2, max(0.2, 0.12 * d)
    bottom = [(0, 0), (r - c, 0), (r, c)]
    if hardened:
        k = np.linspace(0, np.pi / 2, 6)
        rr = 0.25 * d
        top = [(r - rr + rr * math.cos(q), length - rr + rr * math.sin(q)) for q in k]
        top += [(0, length)]
        standard = "ISO 8734"
    else:
        top = [(r, length - c), (r - c, length), (0, length)]
        standard = "ISO 2338"
    pin = revolve(np.array(bottom + top), segments_for(r, lo=24, hi=40))
    mat = material_word(material)
    kind = "hardened dowel pin" if hardened else "parallel pin"
    mesh = finish(pin)
    attrs, texts = _texts(
        rng,
        mesh,
        ShapeAttributes(form="pin", symmetry="axisymmetric"),
        [
            f"{fmt(d)} mm {kind}, {length} mm long",
            f"dowel pin {fmt(d)} x {length}, {standard}",
            f"{mat} cylindrical locating pin, diameter {fmt(d)} mm, length {length} mm",
            f"{length} mm long {fmt(d)} mm diameter {kind} with chamfered end",
        ],
        names=["dowel pin", "parallel pin", "locating pin", "cylindrical pin"],
        size=f"{fmt(d)} x {length}",
        standard=standard,
        material=mat,
    )
    return GeneratedPart(
        mesh=mesh,
        name=f"Dowel pin {fmt(d)}x{length}",
        tags=[material, standard, "pin", "chamfered"] + (["hardened"] if hardened else []),
        parameters=dict(diameter=num(d), length=length, chamfer=num(c)),
        descriptions=texts,
        through_holes=0,
        attributes=attrs,
    )


def hex_standoff(rng: np.random.Generator) -> GeneratedPart:
    """Hexagon spacer / PCB standoff, female-female (through thread) or male-female."""
    d = pick(rng, list(std.STANDOFF_AF))
    af = std.STANDOFF_AF[d]
    length = int(pick(rng, [L for L in std.STANDOFF_LENGTHS if L >= 1.5 * d]))
    male = rng.random() < 0.35
    material = pick(rng, ["brass", "nickel-plated brass", "stainless", "aluminium", "nylon"])
    pitch = std.METRIC_THREADS.get(d, {"pitch": 0.45})["pitch"]
    body = chamfered_hex(af, length, both_ends=True)
    m, mat = size_label(d), material_word(material)
    if male:
        stud_len = max(4.0, round(1.2 * d))
        stud = revolve(
            np.array(
                [
                    (0, -stud_len),
                    (d / 2 - 0.15 * d, -stud_len),
                    (d / 2, -stud_len + 0.15 * d),
                    (d / 2, 0.5),
                    (0, 0.5),
                ]
            ),
            segments_for(d / 2, lo=24, hi=32),
        )
        hole = cylinder(0.42 * d, 0.8 * length + 1, segments_for(d / 2), z0=0.2 * length)
        body = union([body, stud]) - hole
        kind, holes = "male-female", 0
    else:
        body = body - _internal_thread_cutter(d, pitch, length)
        kind, holes = "female-female", 1
    mesh = finish(body)
    attrs, texts = _texts(
        rng,
        mesh,
        ShapeAttributes(
            form="rod", drive="external hex", threaded=True, holes=holes, symmetry="polar"
        ),
        [
            f"{m} hex standoff, {length} mm long, {kind}",
            f"{kind} hexagonal spacer {m} x {length}, {fmt(af)} mm across flats",
            f"{mat} PCB standoff {m}, {length} mm",
            f"{length} mm threaded hex spacer for {m} screws",
        ],
        names=["hex standoff", "hexagonal spacer", "PCB standoff", "threaded spacer"],
        size=f"{m} x {length}",
        standard=None,
        material=mat,
    )
    return GeneratedPart(
        mesh=mesh,
        name=f"Hex standoff {m}x{length} {kind}",
        tags=[material, "standoff", "hex", "threaded", kind]
        + (["through-hole"] if not male else []),
        parameters=dict(thread=m, across_flats=num(af), length=length, type=kind),
        descriptions=texts,
        through_holes=holes,
        attributes=attrs,
    )


def retaining_ring(rng: np.random.Generator) -> GeneratedPart:
    """External retaining ring (circlip) DIN 471: open eccentric ring with two lug holes."""
    shaft = pick(rng, list(std.RETAINING_RINGS))
    s, d3, a, d5 = std.RETAINING_RINGS[shaft]
    material = pick(rng, ["spring steel", "stainless"])
    ri = d3 / 2
    w_back, w_end = 0.55 * a, 0.35 * a
    gap = np.deg2rad(34.0)
    th = np.linspace(-np.pi + gap / 2, np.pi - gap / 2, 96)
    frac = np.abs(th) / np.pi
    w = w_back - (w_back - w_end) * frac**2
    outer = np.c_[(ri + w) * np.sin(th), -(ri + w) * np.cos(th)]
    inner = np.c_[ri * np.sin(th), -ri * np.cos(th)][::-1]
    ring = sg.Polygon(np.vstack([outer, inner])).buffer(0)
    lugs, holes = [], []
    for sign in (-1, 1):
        ang = sign * (np.pi - gap / 2 - np.deg2rad(9))
        rc = ri + 0.55 * a
        cx, cy = rc * math.sin(ang), -rc * math.cos(ang)
        lug_r = 0.5 * d5 + 0.25 * a
        end_ang = sign * (np.pi - gap / 2)
        end_pts = sg.MultiPoint(
            [
                (ri * math.sin(end_ang), -ri * math.cos(end_ang)),
                ((ri + w_end) * math.sin(end_ang), -(ri + w_end) * math.cos(end_ang)),
            ]
        )
        lugs.append(sg.MultiPoint([(cx, cy)]).buffer(lug_r, 12).union(end_pts.buffer(0.01)))
        lugs[-1] = lugs[-1].convex_hull
        holes.append(circle(d5 / 2, (cx, cy), 20))
    shape = ring.union(lugs[0]).union(lugs[1])
    for h in holes:
        shape = shape.difference(h)
    body = extrude(shape, s)
    mat = material_word(material)
    mesh = finish(body)
    attrs, texts = _texts(
        rng,
        mesh,
        ShapeAttributes(form="ring", holes=2, symmetry="mirror"),
        [
            f"external retaining ring for {fmt(shaft)} mm shaft, DIN 471",
            f"circlip {fmt(shaft)} x {fmt(s)} mm for shafts, with plier lug holes",
            f"{mat} snap ring DIN 471 size {fmt(shaft)}",
            f"shaft retaining clip, {fmt(shaft)} mm, {fmt(s)} mm thick",
        ],
        names=["retaining ring", "circlip", "snap ring", "Seeger ring"],
        size=f"{fmt(shaft)} x {fmt(s)}",
        standard="DIN 471",
        material=mat,
    )
    return GeneratedPart(
        mesh=mesh,
        name=f"Retaining ring DIN 471 - {fmt(shaft)}",
        tags=[material, "DIN 471", "circlip", "external", "retaining ring"],
        parameters=dict(
            shaft_diameter=num(shaft),
            thickness=num(s),
            free_inner_diameter=num(d3),
            lug_hole=num(d5),
        ),
        descriptions=texts,
        through_holes=2,
        attributes=attrs,
    )


FAMILY_LIST = (
    Family("hex_bolt", "hex_bolt", hex_bolt, "bolt"),
    Family("socket_head_cap_screw", "socket_head_cap_screw", socket_head_cap_screw, "screw"),
    Family("hex_nut", "hex_nut", hex_nut, "nut"),
    Family("flat_washer", "flat_washer", flat_washer, "washer"),
    Family("spring_lock_washer", "lock_washer", spring_lock_washer, "washer"),
    Family("dowel_pin", "dowel_pin", dowel_pin, "pin"),
    Family("hex_standoff", "standoff", hex_standoff, "spacer"),
    Family("retaining_ring", "retaining_ring", retaining_ring, "retaining_ring"),
)
