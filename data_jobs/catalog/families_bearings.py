"""Bearings and their neighbours: ball bearings, flanged bushings, O-rings, compression springs."""

from __future__ import annotations

import math

import numpy as np
import shapely.geometry as sg

from data_jobs.catalog import families_standards as std
from data_jobs.catalog.attributes import ShapeAttributes
from data_jobs.catalog.choices import choose_row, pick, pick_weighted
from data_jobs.catalog.families_base import (
    Family,
    GeneratedPart,
    Solid,
    box,
    cylinder,
    fmt,
    from_trimesh,
    make_part,
    material_word,
    num,
    polar_copies,
    revolve,
    segments_for,
    union,
)
from data_jobs.catalog.geometry_kit import ring_section


def ball_bearing(rng: np.random.Generator) -> GeneratedPart:
    """Deep groove ball bearing (60/62/63/6xx series), shielded 2Z, sealed 2RS or open.

    Closed bearings are two bodies (outer ring with shields, inner ring); open ones add the
    balls joined by their cage into a third ring-shaped body. Every body has genus 1.
    """
    designation, row = choose_row(rng, std.BALL_BEARINGS)
    d, D, B = map(float, row)
    closure = pick_weighted(rng, ["2Z", "2RS", "open"], [0.45, 0.3, 0.25])
    h = (D - d) / 2
    dm = (D + d) / 2
    ball = 0.32 * (D - d)
    c = max(0.15, min(1.1, 0.06 * h + 0.1))
    ro_in = dm / 2 + 0.24 * ball
    ri_out = dm / 2 - 0.24 * ball
    n = segments_for(D / 2, lo=48, hi=72)
    outer = revolve(np.array(ring_section(ro_in, D / 2, 0, B, c)), n)
    inner = revolve(np.array(ring_section(d / 2, ri_out, 0, B, c)), n)
    groove = revolve(
        np.array(
            [
                (dm / 2 + 0.52 * ball * math.cos(a), B / 2 + 0.52 * ball * math.sin(a))
                for a in np.linspace(0, 2 * math.pi, 25)[:-1]
            ]
        ),
        n,
    )
    outer, inner = outer - groove, inner - groove
    bodies: list[Solid] = []
    if closure == "open":
        count = max(6, int(math.pi * dm / (1.45 * ball)))
        sphere = Solid.sphere(ball / 2, 16).translate((dm / 2, 0, B / 2))
        cage = revolve(
            np.array(ring_section(dm / 2 - 0.12 * ball, dm / 2 + 0.12 * ball, 0, 0.3 * ball, 0.0))
            + [0, B / 2 - 0.15 * ball],
            n,
        )
        bodies.append(union([cage, *polar_copies(sphere, count)]))
    else:
        recess = max(0.2, 0.04 * B)
        shield_t = max(0.25, 0.05 * B)
        r_to = ri_out + 0.12 * h
        shield = revolve(
            np.array(
                [
                    (r_to, recess),
                    (ro_in + 0.05 * h, recess),
                    (ro_in + 0.05 * h, recess + shield_t),
                    (r_to, recess + shield_t),
                ]
            ),
            n,
        )
        shield2 = shield.mirror((0, 0, 1)).translate((0, 0, B))
        outer = union([outer, shield, shield2])
    mesh_solid = union([outer, inner, *bodies])
    material = "stainless" if rng.random() < 0.2 else "bearing steel"
    seal_words = {
        "2Z": "metal shields both sides",
        "2RS": "rubber seals both sides",
        "open": "open, balls and cage visible",
    }
    full = designation + ("" if closure == "open" else f"-{closure}")
    symmetry = "polar" if closure == "open" else "axisymmetric"
    return make_part(
        rng,
        mesh_solid,
        ShapeAttributes(form="ring", holes=1, symmetry=symmetry),
        name=f"Ball bearing {full}",
        tags=[material, "deep groove ball bearing", "ISO 15", closure, "through-hole"],
        parameters=dict(
            designation=designation,
            bore=num(d),
            outside_diameter=num(D),
            width=num(B),
            ball_diameter=num(ball),
            closure=closure,
        ),
        names=[
            "deep groove ball bearing",
            "ball bearing",
            "radial ball bearing",
            "single row ball bearing",
        ],
        size=full,
        standard="ISO 15",
        material=material,
        canonical=f"{full} deep groove ball bearing, {fmt(d)}x{fmt(D)}x{fmt(B)} mm",
        extras=[
            f"radial ball bearing {designation}, bore {fmt(d)} mm, OD {fmt(D)} mm, "
            f"width {fmt(B)} mm",
            f"{material_word(material)} single row ball bearing, {seal_words[closure]}",
            f"{designation} bearing {fmt(d)} mm ID x {fmt(D)} mm OD",
        ],
    )


def flanged_bushing(rng: np.random.Generator) -> GeneratedPart:
    """Flanged plain bearing bush ISO 4379 form F, optional lube hole and inner oil groove."""
    d1, (d2, d3, b2) = choose_row(rng, std.FLANGED_BUSHINGS)
    length = float(pick(rng, [L for L in std.BUSHING_LENGTHS if d1 * 0.6 <= L <= 2 * d1 + 10]))
    material = pick(rng, ["bronze", "bronze", "brass", "POM", "nylon", "sintered bronze"])
    c = 0.3 if d1 < 15 else 0.5
    prof = [
        (d1 / 2 + c, 0),
        (d3 / 2 - c, 0),
        (d3 / 2, c),
        (d3 / 2, b2),
        (d2 / 2 + 0.4, b2),
        (d2 / 2, b2 + 0.4),
        (d2 / 2, length - c),
        (d2 / 2 - c, length),
        (d1 / 2 + c, length),
        (d1 / 2, length - c),
        (d1 / 2, c),
    ]
    bush = revolve(np.array(prof), segments_for(d3 / 2, lo=48, hi=64))
    lube = rng.random() < 0.35 and length - b2 >= 6
    holes = 1
    if lube:
        hole = cylinder(max(1.0, 0.12 * d1), d2, 20).rotate((0, 90, 0))
        bush = bush - hole.translate((0, 0, b2 + (length - b2) / 2))
        holes = 2
    mat = material_word(material)
    symmetry = "mirror" if lube else "axisymmetric"
    return make_part(
        rng,
        bush,
        ShapeAttributes(form="tube", holes=holes, symmetry=symmetry),
        name=f"Flanged bushing {fmt(d1)}x{fmt(d2)}x{fmt(length)}",
        tags=[material, "ISO 4379", "plain bearing", "sleeve", "flanged", "through-hole"]
        + (["lubrication hole"] if lube else []),
        parameters=dict(
            inner_diameter=num(d1),
            outer_diameter=num(d2),
            flange_diameter=num(d3),
            flange_thickness=num(b2),
            length=num(length),
        ),
        names=[
            "flanged bushing",
            "flanged sleeve bearing",
            "collar bush",
            "flanged plain bearing",
        ],
        size=f"{fmt(d1)}x{fmt(d2)}x{fmt(length)}",
        standard="ISO 4379",
        material=material,
        canonical=f"{mat} flanged bushing {fmt(d1)} x {fmt(d2)} x {fmt(length)} mm",
        extras=[
            f"flanged sleeve bearing, {fmt(d1)} mm bore, {fmt(d3)} mm flange, ISO 4379 form F",
            f"plain bearing bush with collar, ID {fmt(d1)}, OD {fmt(d2)}, length {fmt(length)}"
            + (", with lubrication hole" if lube else ""),
            f"{fmt(d1)} mm flange bushing, {fmt(length)} mm long",
        ],
    )


def o_ring(rng: np.random.Generator) -> GeneratedPart:
    """O-ring seal ISO 3601-1: a torus of circular cross-section d2 and inside diameter d1."""
    d2, inner_diameters = choose_row(rng, std.O_RINGS)
    d1 = pick(rng, inner_diameters)
    material = pick_weighted(rng, ["NBR", "FKM", "EPDM", "silicone"], [0.5, 0.25, 0.15, 0.1])
    rc = d1 / 2 + d2 / 2
    k = np.linspace(0, 2 * math.pi, 21)[:-1]
    section = np.c_[rc + d2 / 2 * np.cos(k), d2 / 2 * np.sin(k)]
    ring = revolve(section, segments_for(rc, lo=48, hi=72))
    shore = pick(rng, (70, 70, 90))
    mat = material_word(material)
    return make_part(
        rng,
        ring,
        ShapeAttributes(form="ring", holes=1, symmetry="axisymmetric"),
        name=f"O-ring {fmt(d1)}x{fmt(d2)}",
        tags=[material, "ISO 3601", "seal", "o-ring", f"{shore} shore A"],
        parameters=dict(inner_diameter=num(d1), cross_section=num(d2), hardness_shore_a=shore),
        names=["O-ring", "O-ring seal", "toric joint", "sealing ring"],
        size=f"{fmt(d1)} x {fmt(d2)}",
        standard="ISO 3601",
        material=material,
        canonical=f"O-ring {fmt(d1)} x {fmt(d2)} mm, {mat}",
        extras=[
            f"{fmt(d2)} mm cross-section O-ring seal with {fmt(d1)} mm inside diameter",
            f"round rubber sealing ring ISO 3601, ID {fmt(d1)} mm, {shore} Shore A",
            f"toroidal gasket {fmt(d1)}x{fmt(d2)}",
        ],
    )


def compression_spring(rng: np.random.Generator) -> GeneratedPart:
    """Helical compression spring, closed and ground ends (wire swept along a helix)."""
    for _ in range(20):
        wire = float(pick(rng, std.SPRING_WIRES))
        index = float(rng.uniform(5.0, 12.0))
        mean_d = round(wire * index * 2) / 2
        if mean_d - wire >= 2.0:
            break
    active = int(rng.integers(4, 13))
    pitch = round(wire * float(rng.uniform(1.6, 3.0)), 2)
    dead_pitch = 1.04 * wire
    per_turn = 24
    turns = np.concatenate(
        [
            np.full(per_turn, dead_pitch / per_turn),
            np.full(active * per_turn, pitch / per_turn),
            np.full(per_turn, dead_pitch / per_turn),
        ]
    )
    z = np.concatenate([[0.0], np.cumsum(turns)])
    t = 2 * math.pi * np.arange(len(z)) / per_turn
    path = np.c_[mean_d / 2 * np.cos(t), mean_d / 2 * np.sin(t), z + wire / 2]
    import trimesh  # local: only this family sweeps

    section = sg.Point(0, 0).buffer(wire / 2, quad_segs=4)
    swept = trimesh.creation.sweep_polygon(section, path)
    grind = 0.45 * wire
    total = float(path[-1, 2] + wire / 2)
    spring = from_trimesh(swept) ^ box(
        mean_d + 3 * wire, mean_d + 3 * wire, total - 2 * grind, (0, 0, total / 2)
    )
    free_length = total - 2 * grind
    material = pick(rng, ["spring steel", "stainless", "music wire"])
    mat = material_word(material)
    od = mean_d + wire
    return make_part(
        rng,
        spring,
        ShapeAttributes(form="coil", holes=0, symmetry="none"),
        name=f"Compression spring {fmt(wire)}x{fmt(od)}x{fmt(free_length, 1)}",
        tags=[material, "compression spring", "helical", "closed and ground ends", "DIN 2095"],
        parameters=dict(
            wire_diameter=num(wire),
            outer_diameter=num(od),
            mean_diameter=num(mean_d),
            free_length=num(free_length, 1),
            active_coils=active,
            total_coils=active + 2,
            pitch=num(pitch),
        ),
        names=["compression spring", "coil spring", "helical spring", "pressure spring"],
        size=f"{fmt(wire)}x{fmt(od)}x{fmt(free_length, 1)}",
        standard="DIN 2095",
        material=material,
        canonical=f"compression spring, {fmt(wire)} mm wire, {fmt(od)} mm OD, "
        f"{fmt(free_length, 0)} mm free length",
        extras=[
            f"helical coil spring {fmt(od)} x {fmt(free_length, 1)} mm, {active} active coils",
            f"{mat} pressure spring with closed and ground ends, wire {fmt(wire)} mm",
            f"{active + 2}-coil compression spring, mean diameter {fmt(mean_d)} mm",
        ],
    )


FAMILY_LIST = (
    Family("ball_bearing", "ball_bearing", ball_bearing, "bearing"),
    Family("flanged_bushing", "flanged_bushing", flanged_bushing, "bushing"),
    Family("o_ring", "o_ring", o_ring, "seal"),
    Family("compression_spring", "compression_spring", compression_spring, "spring"),
)
