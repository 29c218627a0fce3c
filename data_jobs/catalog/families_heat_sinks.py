"""Extruded and pin fin heat sinks of aluminium or copper."""

from __future__ import annotations

import numpy as np
import shapely.geometry as sg
from shapely import affinity
from shapely.ops import unary_union

from data_jobs.catalog.attributes import ShapeAttributes
from data_jobs.catalog.choices import between, choose, flag, pick
from data_jobs.catalog.families_base import (
    Family,
    GeneratedPart,
    circle,
    cylinder,
    extrude,
    fillet_profile,
    fmt,
    make_part,
    rounded,
    subtract,
    union,
)
from data_jobs.catalog.geometry_kit import prism_along_y


def heat_sink(rng: np.random.Generator, extreme: str | None = None) -> GeneratedPart:
    """Extruded aluminium heat sink: base plate with parallel straight fins, optional centre
    channel with two mounting holes."""
    width = float(choose(rng, (20, 25, 30, 40, 50, 60, 75, 84, 100, 120, 150), extreme))
    fin_h = round(between(rng, 0.3 * width + 4, min(0.6 * width + 8, 60), extreme), 1)
    base_t = round(between(rng, 2.0, 2.0 + 0.05 * width, extreme), 1)
    fin_t = round(between(rng, 1.0, 1.0 + 0.02 * width, extreme), 1)
    pitch = round(between(rng, 2.2 * fin_t + 1.5, 2.5 * fin_t + 5, extreme), 1)
    length = float(choose(rng, (20, 30, 40, 50, 75, 100, 150), extreme))
    channel = flag(rng, 0.4, extreme) and width >= 40
    fins = max(3, int((width - fin_t) // pitch) + 1)
    if channel and fins % 2:
        fins -= 1
    xs = (np.arange(fins) - (fins - 1) / 2) * (width - fin_t) / (fins - 1)
    if channel:
        xs = np.r_[xs[: fins // 2 - 1], xs[fins // 2 + 1 :]]
    taper = between(rng, 0.6, 1.0, extreme)
    shapes = [sg.box(-width / 2, 0, width / 2, base_t)]
    for x in xs:
        tip = fin_t * taper / 2
        root, top = base_t - 0.1, base_t + fin_h
        shapes.append(
            sg.Polygon(
                [(x - fin_t / 2, root), (x + fin_t / 2, root), (x + tip, top), (x - tip, top)]
            )
        )
    section = fillet_profile(unary_union(shapes), round(min(0.4 * fin_t, 0.8), 2), 3)
    body = prism_along_y(section, length)
    holes = 0
    if channel:
        body = subtract(
            body,
            [
                cylinder(1.7, base_t + 2, 16, z0=-1).translate((0, s * length / 4, 0))
                for s in (-1, 1)
            ],
        )
        holes = 2
    material = pick(rng, ["aluminium", "aluminium", "copper"])
    size = f"{fmt(width)} x {fmt(length)} x {fmt(base_t + fin_h)} mm"
    return make_part(
        rng,
        body,
        name=f"Heat sink {fmt(width)}x{fmt(length)}x{fmt(base_t + fin_h)}, {len(xs)} fins",
        tags=[material, "heat sink", "extruded", "EN AW-6063", "straight fins", "thermal"]
        + (["mounting holes"] if channel else []),
        parameters=rounded(
            width=width,
            length=length,
            height=round(base_t + fin_h, 2),
            base_thickness=base_t,
            fin_thickness=fin_t,
            fins=len(xs),
            fin_pitch=pitch,
            fin_taper=round(taper, 2),
        ),
        names=[
            "heat sink",
            "heatsink",
            "extruded cooler",
            "finned heat spreader",
            "cooling profile",
        ],
        size=size,
        material=material,
        attributes=ShapeAttributes(form="block", holes=holes, symmetry="mirror"),
        extras=[
            f"extruded aluminium heat sink with {len(xs)} parallel fins, {fmt(fin_h)} mm high",
            f"finned cooler {fmt(width)} mm wide and {fmt(length)} mm long, {fmt(base_t)} mm base"
            + (", two M3 holes in a centre channel" if channel else ""),
        ],
    )


def pin_fin_heat_sink(rng: np.random.Generator, extreme: str | None = None) -> GeneratedPart:
    """Pin fin heat sink: square base with a grid of round or square pins, optional push-pin
    holes in two opposite corners."""
    side = float(choose(rng, (14, 19, 23, 27, 35, 40, 45, 50, 60), extreme))
    base_t = round(between(rng, 1.5, 2.0 + 0.06 * side, extreme), 1)
    pin_d = round(between(rng, 1.2, min(4.0, 0.08 * side + 1.2), extreme), 1)
    pitch = round(between(rng, 1.8 * pin_d + 0.6, 2.6 * pin_d + 1.5, extreme), 1)
    pin_h = round(between(rng, 0.3 * side + 3, 0.6 * side + 8, extreme), 1)
    square = flag(rng, 0.35, extreme, at_min=True, at_max=False)
    count = max(3, min(13, int((side - pin_d) // pitch) + 1))
    span = (count - 1) * pitch
    holes_on = flag(rng, 0.35, extreme) and side >= 35
    pin = (
        sg.box(-pin_d / 2, -pin_d / 2, pin_d / 2, pin_d / 2)
        if square
        else circle(pin_d / 2, segments=10)
    )
    skip = {(0, 0), (count - 1, count - 1)} if holes_on else set()
    pins = [
        affinity.translate(pin, -span / 2 + i * pitch, -span / 2 + j * pitch)
        for i in range(count) for j in range(count) if (i, j) not in skip
    ]  # fmt: skip
    body = union([extrude(sg.box(-side / 2, -side / 2, side / 2, side / 2), base_t),
                  extrude(unary_union(pins), pin_h + 0.5, base_t - 0.5)])  # fmt: skip
    holes = 0
    if holes_on:
        hole_d = round(min(3.5, pitch + pin_d - 1.0), 1)
        body = subtract(
            body,
            [
                cylinder(hole_d / 2, base_t + 2, 16, z0=-1).translate(
                    (s * span / 2, s * span / 2, 0)
                )
                for s in (-1, 1)
            ],
        )
        holes = 2
    material = pick(rng, ["aluminium", "copper", "aluminium"])
    size = f"{fmt(side)} x {fmt(side)} x {fmt(base_t + pin_h)} mm"
    shape = "square" if square else "round"
    return make_part(
        rng,
        body,
        name=f"Pin fin heat sink {fmt(side)}x{fmt(side)}x{fmt(base_t + pin_h)}",
        tags=[material, "heat sink", "pin fin", f"{shape} pins", "thermal", "cold forged"]
        + (["push-pin holes"] if holes_on else []),
        parameters=rounded(
            side=side,
            base_thickness=base_t,
            pin_diameter=pin_d,
            pin_pitch=pitch,
            pin_height=pin_h,
            pins=len(pins),
            square_pins=int(square),
        ),
        names=[
            "pin fin heat sink",
            "pin heatsink",
            "needle heat sink",
            "BGA cooler",
            "pin grid cooler",
        ],
        size=size,
        material=material,
        attributes=ShapeAttributes(form="block", holes=holes, symmetry="mirror"),
        extras=[
            f"{fmt(side)} mm square heat sink with {len(pins)} {shape} pins {fmt(pin_d)} mm "
            f"on a {fmt(pitch)} mm grid",
            f"pin grid cooler for a chip, pins {fmt(pin_h)} mm tall on a {fmt(base_t)} mm base"
            + (", two push-pin holes in opposite corners" if holes_on else ""),
        ],
    )


FAMILY_LIST = (
    Family("heat_sink", "heat_sink", heat_sink, "thermal"),
    Family("pin_fin_heat_sink", "pin_heat_sink", pin_fin_heat_sink, "thermal"),
)
