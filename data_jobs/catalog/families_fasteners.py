"""Threaded fasteners and their companions: bolts, screws, nuts, washers, pins, standoffs, rings."""

from __future__ import annotations

import math

import numpy as np
import shapely.geometry as sg
import trimesh

from data_jobs.catalog import families_standards as std
from data_jobs.catalog.attributes import ShapeAttributes
from data_jobs.catalog.choices import choose_row, pick, pick_weighted
from data_jobs.catalog.families_base import (
    Family,
    GeneratedPart,
    chamfered_hex,
    circle,
    cylinder,
    extrude,
    fmt,
    from_trimesh,
    make_part,
    material_word,
    num,
    revolve,
    segments_for,
    sentence_start,
    size_label,
    to_trimesh,
    union,
)
from data_jobs.catalog.geometry_kit import (
    hex_socket,
    internal_thread_cutter,
    threaded_shank,
)

THREAD_SIZES = tuple(std.METRIC_THREADS)


THREAD_WEIGHTS = (1.0, 1.5, 1.5, 2.0, 2.0, 2.0, 1.5, 0.7, 1.0, 0.7, 0.5)


def _thread_size(rng: np.random.Generator, lo: float = 3, hi: float = 24) -> float:
    sizes = [d for d in THREAD_SIZES if lo <= d <= hi]
    weights = [w for d, w in zip(THREAD_SIZES, THREAD_WEIGHTS, strict=True) if lo <= d <= hi]
    return pick_weighted(rng, sizes, weights)


def _threaded_shank(d: float, pitch: float, length: float, thread_length: float):
    """Shank along Z from 0 (chamfered tip) to length + 0.5 (buried in the head), mm."""
    n = segments_for(d / 2, lo=24, hi=40)
    return threaded_shank(d / 2, pitch, length, min(thread_length, length), n)


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
    return make_part(
        rng,
        body,
        ShapeAttributes(
            form="shaft", head="hex", drive="external hex", threaded=True, symmetry="polar"
        ),
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
        names=["hex bolt", "hexagon head bolt", "hex cap screw", "machine bolt"],
        size=f"{m} x {length}",
        standard=standard,
        material=material,
        canonical=f"{m} hex bolt, {length} mm long",
        extras=[
            f"hexagon head bolt {m} x {length}, {standard}",
            f"{length} mm long hex cap screw, {m} thread, {fmt(t['s'])} mm across flats",
            f"{mat} {threading} hex head bolt {m}x{length}",
        ],
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
    head = (head - hex_socket(t["key"], 0.55 * k, k)).translate((0, 0, length))
    body = union([_threaded_shank(d, t["pitch"], length, thread_length), head])
    m, mat = size_label(d), material_word(material)
    return make_part(
        rng,
        body,
        ShapeAttributes(
            form="shaft", head="socket", drive="hex socket", threaded=True, symmetry="polar"
        ),
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
        names=["socket head cap screw", "Allen bolt", "cap screw", "SHCS"],
        size=f"{m} x {length}",
        standard="ISO 4762",
        material=material,
        canonical=f"{m} socket head cap screw, {length} mm long",
        extras=[
            f"hexagon socket head cap screw {m} x {length}, ISO 4762 / DIN 912",
            f"{length} mm Allen bolt with {m} thread and {fmt(t['key'])} mm hex socket",
            f"{mat} cylinder head cap screw {m}x{length}, {fmt(dk)} mm head",
        ],
    )


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
    body = body - internal_thread_cutter(d, t["pitch"], height)
    return make_part(
        rng,
        body,
        ShapeAttributes(
            form="ring", drive="external hex", threaded=True, holes=1, symmetry="polar"
        ),
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
        names=[label, "hexagon nut", "hex nut"],
        size=f"{m_label} x {fmt(t['pitch'])}",
        standard=standard,
        material=material,
        canonical=f"{m_label} {label}, {standard}",
        extras=[
            f"{label} {m_label}, {fmt(s)} mm across flats, {fmt(height)} mm high",
            f"{mat} {label} for {m_label} bolts ({fmt(t['pitch'])} mm pitch)",
            f"hexagon nut {m_label} ({kind}), {fmt(s)} mm wrench size",
        ],
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
    return make_part(
        rng,
        ring,
        ShapeAttributes(form="ring", holes=1, symmetry="axisymmetric"),
        name=f"{sentence_start(series)} {m}",
        tags=[material, standard, "washer", "through-hole"],
        parameters=dict(
            bolt_size=m, inner_diameter=num(d1), outer_diameter=num(d2), thickness=num(h)
        ),
        names=[series, "plain washer", "flat washer", "round washer"],
        size=m,
        standard=standard,
        material=material,
        canonical=f"{m} {series}, {standard}",
        extras=[
            f"plain washer for {m} bolts, {fmt(d1)} mm ID x {fmt(d2)} mm OD x {fmt(h)} mm",
            f"{mat} {series} {fmt(d1)}x{fmt(d2)}x{fmt(h)}",
            f"round flat washer, {fmt(d2)} mm outside diameter, fits {m}",
        ],
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
    return make_part(
        rng,
        twisted,
        ShapeAttributes(form="ring", symmetry="none"),
        name=f"Spring lock washer {m}",
        tags=[material, "DIN 127 B", "lock washer", "split"],
        parameters=dict(
            bolt_size=m, inner_diameter=num(d1), outer_diameter=num(d2), thickness=num(s)
        ),
        names=["spring lock washer", "split lock washer", "helical spring washer", "Grower washer"],
        size=m,
        standard="DIN 127 B",
        material=material,
        canonical=f"{m} spring lock washer, DIN 127 B",
        extras=[
            f"split lock washer for {m} screws, {fmt(d1)} x {fmt(d2)} mm, {fmt(s)} mm thick",
            f"{mat} helical spring washer {m}",
            f"Grower washer {m}, split ring with twisted ends",
        ],
    )


def dowel_pin(rng: np.random.Generator) -> GeneratedPart:
    """Parallel dowel pin: ISO 8734 (hardened, chamfer + radius ends) or ISO 2338 (chamfers)."""
    d, lengths = choose_row(rng, std.DOWEL_PINS)
    length = int(pick(rng, lengths))
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
    return make_part(
        rng,
        pin,
        ShapeAttributes(form="pin", symmetry="axisymmetric"),
        name=f"Dowel pin {fmt(d)}x{length}",
        tags=[material, standard, "pin", "chamfered"] + (["hardened"] if hardened else []),
        parameters=dict(diameter=num(d), length=length, chamfer=num(c)),
        names=["dowel pin", "parallel pin", "locating pin", "cylindrical pin"],
        size=f"{fmt(d)} x {length}",
        standard=standard,
        material=material,
        canonical=f"{fmt(d)} mm {kind}, {length} mm long",
        extras=[
            f"dowel pin {fmt(d)} x {length}, {standard}",
            f"{mat} cylindrical locating pin, diameter {fmt(d)} mm, length {length} mm",
            f"{length} mm long {fmt(d)} mm diameter {kind} with chamfered end",
        ],
    )


def hex_standoff(rng: np.random.Generator) -> GeneratedPart:
    """Hexagon spacer / PCB standoff, female-female (through thread) or male-female."""
    d, af = choose_row(rng, std.STANDOFF_AF)
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
        body = body - internal_thread_cutter(d, pitch, length)
        kind, holes = "female-female", 1
    return make_part(
        rng,
        body,
        ShapeAttributes(
            form="rod", drive="external hex", threaded=True, holes=holes, symmetry="polar"
        ),
        name=f"Hex standoff {m}x{length} {kind}",
        tags=[material, "standoff", "hex", "threaded", kind]
        + (["through-hole"] if not male else []),
        parameters=dict(thread=m, across_flats=num(af), length=length, type=kind),
        names=["hex standoff", "hexagonal spacer", "PCB standoff", "threaded spacer"],
        size=f"{m} x {length}",
        standard=None,
        material=material,
        canonical=f"{m} hex standoff, {length} mm long, {kind}",
        extras=[
            f"{kind} hexagonal spacer {m} x {length}, {fmt(af)} mm across flats",
            f"{mat} PCB standoff {m}, {length} mm",
            f"{length} mm threaded hex spacer for {m} screws",
        ],
    )


def retaining_ring(rng: np.random.Generator) -> GeneratedPart:
    """External retaining ring (circlip) DIN 471: open eccentric ring with two lug holes."""
    shaft, (s, d3, a, d5) = choose_row(rng, std.RETAINING_RINGS)
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
    return make_part(
        rng,
        body,
        ShapeAttributes(form="ring", holes=2, symmetry="mirror"),
        name=f"Retaining ring DIN 471 - {fmt(shaft)}",
        tags=[material, "DIN 471", "circlip", "external", "retaining ring"],
        parameters=dict(
            shaft_diameter=num(shaft),
            thickness=num(s),
            free_inner_diameter=num(d3),
            lug_hole=num(d5),
        ),
        names=["retaining ring", "circlip", "snap ring", "Seeger ring"],
        size=f"{fmt(shaft)} x {fmt(s)}",
        standard="DIN 471",
        material=material,
        canonical=f"external retaining ring for {fmt(shaft)} mm shaft, DIN 471",
        extras=[
            f"circlip {fmt(shaft)} x {fmt(s)} mm for shafts, with plier lug holes",
            f"{mat} snap ring DIN 471 size {fmt(shaft)}",
            f"shaft retaining clip, {fmt(shaft)} mm, {fmt(s)} mm thick",
        ],
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
