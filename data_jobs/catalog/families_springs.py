"""Wire springs with legs and loops: DIN 2088 torsion springs and DIN 2097 extension springs."""

from __future__ import annotations

import numpy as np

from data_jobs.catalog import families_standards as std
from data_jobs.catalog.attributes import ShapeAttributes
from data_jobs.catalog.choices import between, choose, flag, pick, stepped_count
from data_jobs.catalog.families_base import (
    Family,
    GeneratedPart,
    fmt,
    make_part,
    rounded,
)
from data_jobs.catalog.geometry_kit import (
    fillet_path,
    helix_points,
    sweep_wire,
)


def torsion_spring(rng: np.random.Generator, extreme: str | None = None) -> GeneratedPart:
    """Torsion spring DIN 2088 (EN 13906-3): close-wound body with two straight tangential legs
    at a set leg angle, optionally bent leg ends."""
    wire = float(choose(rng, std.SPRING_WIRES, extreme))
    index = between(rng, 5.0, 10.0, extreme)
    mean = round(wire * index * 2) / 2
    body_turns = int(choose(rng, range(3, 11), extreme))
    leg_angle = float(choose(rng, (0, 90, 180, 270), extreme))
    turns = body_turns + leg_angle / 360.0
    pitch = 1.12 * wire
    leg = round(between(rng, 1.2 * mean, 2.5 * mean, extreme), 1)
    bent = flag(rng, 0.35, extreme)
    helix = helix_points(mean / 2, pitch, turns, stepped_count(rng, 20, extreme))
    t0 = helix[1] - helix[0]
    t1 = helix[-1] - helix[-2]
    t0, t1 = t0 / np.linalg.norm(t0), t1 / np.linalg.norm(t1)
    a0, a1 = helix[0] - t0 * leg, helix[-1] + t1 * leg
    path = [a0, *helix, a1]
    if bent:
        hook = 0.3 * leg
        path = [a0 + np.array([0, 0, -hook]), *path, a1 + np.array([0, 0, hook])]
    body = sweep_wire(fillet_path(path, 1.5 * wire), wire, 12)
    od = mean + wire
    material = pick(rng, ["spring steel", "stainless", "music wire"])
    size = f"{fmt(wire)} x {fmt(od)} mm, {body_turns} turns"
    return make_part(
        rng,
        body,
        name=f"Torsion spring {fmt(wire)}x{fmt(od)}, {fmt(leg_angle)} deg legs",
        tags=[material, "torsion spring", "DIN 2088", "EN 13906-3", "helical", "straight legs"]
        + (["bent leg ends"] if bent else []),
        parameters=rounded(
            wire_diameter=wire,
            outer_diameter=od,
            mean_diameter=mean,
            body_turns=body_turns,
            leg_angle=leg_angle,
            leg_length=leg,
            bent_ends=int(bent),
        ),
        names=["torsion spring", "leg spring", "helical torsion spring", "rat-trap spring"],
        size=size,
        standard="DIN 2088",
        material=material,
        attributes=ShapeAttributes(form="coil", holes=0, symmetry="none"),
        extras=[
            f"torsion spring {fmt(wire)} mm wire, {fmt(od)} mm OD, {body_turns} coils, "
            f"legs {fmt(leg)} mm long at {fmt(leg_angle)} degrees",
            "close-wound leg spring with two tangential straight legs"
            + (" bent at the ends" if bent else ""),
        ],
    )


def extension_spring(rng: np.random.Generator, extreme: str | None = None) -> GeneratedPart:
    """Extension spring DIN 2097 (EN 13906-2): close-wound body with an open loop at each end
    turned up in the plane of the axis (German loop, gap at the tip)."""
    wire = float(choose(rng, std.SPRING_WIRES, extreme))
    index = between(rng, 5.0, 10.0, extreme)
    mean = round(wire * index * 2) / 2
    turns = int(choose(rng, range(6, 21), extreme))
    hook_deg = 270.0 if flag(rng, 0.7, extreme) else 200.0
    pitch = 1.06 * wire
    helix = helix_points(mean / 2, pitch, float(turns), stepped_count(rng, 20, extreme))
    rm, top = mean / 2, float(helix[-1, 2])
    bend = 1.2 * wire
    riser = rm + 1.5 * wire + 0.5  # the loop's tip stays clear of the last coil

    def loop(z0: float) -> list[np.ndarray]:
        # German loop above a coil end at (rm, 0, z0): a bend up, a riser, then an arc about
        # the spring axis in the plane y = bend
        q = np.radians(np.linspace(0.0, hook_deg, int(hook_deg / 10) + 1))
        y = 1.5 * bend
        arc = np.c_[rm * np.cos(q), np.full_like(q, y), z0 + riser + rm * np.sin(q)]
        return [np.array([rm, y, z0]), *arc]

    flip = np.array([1.0, -1.0, -1.0])  # the bottom loop is the top one turned about X
    bottom = [p * flip for p in loop(0.0)][::-1]
    path = fillet_path([*bottom, *helix, *loop(top)], bend, min_turn_deg=45.0)
    body = sweep_wire(path, wire, 12)
    od = mean + wire
    body_len = top + wire
    material = pick(rng, ["spring steel", "stainless", "music wire"])
    size = f"{fmt(wire)} x {fmt(od)} mm, {turns} coils"
    length = float(body.bounding_box()[5] - body.bounding_box()[2])
    return make_part(
        rng,
        body,
        name=f"Extension spring {fmt(wire)}x{fmt(od)}x{fmt(length, 0)}",
        tags=[material, "extension spring", "DIN 2097", "EN 13906-2", "helical", "German loops"],
        parameters=rounded(
            wire_diameter=wire,
            outer_diameter=od,
            mean_diameter=mean,
            coils=turns,
            body_length=round(body_len, 2),
            length_inside_loops=round(length - 2 * wire, 1),
        ),
        names=["extension spring", "tension spring", "helical extension spring", "pull spring"],
        size=size,
        standard="DIN 2097",
        material=material,
        attributes=ShapeAttributes(form="coil", holes=0, symmetry="none"),
        extras=[
            f"tension spring {fmt(wire)} mm wire, {fmt(od)} mm OD, {turns} close-wound coils",
            f"extension spring with a full German loop at each end, "
            f"{fmt(length, 0)} mm over the loops",
        ],
    )


FAMILY_LIST = (
    Family("torsion_spring", "torsion_spring", torsion_spring, "spring"),
    Family("extension_spring", "extension_spring", extension_spring, "spring"),
)
