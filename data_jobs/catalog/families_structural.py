"""Structural sections cut to length along X: I/H beams, channels, angles, RHS, T-slot bars."""

from __future__ import annotations

import numpy as np
import shapely.affinity as sa
import shapely.geometry as sg

from data_jobs.catalog import families_standards as std
from data_jobs.catalog.attributes import ShapeAttributes
from data_jobs.catalog.choices import choose_row, pick
from data_jobs.catalog.families_base import (
    Family,
    GeneratedPart,
    circle,
    fillet_profile,
    fmt,
    make_part,
    material_word,
    num,
    rounded_rectangle,
)
from data_jobs.catalog.geometry_kit import drill_end_holes, round_convex, section_bar


def _cut_length(rng: np.random.Generator, depth: float, lo: float = 3.0, hi: float = 8.0) -> int:
    """Random cut length (mm) of a section of the given depth, rounded to 10 mm (min 50)."""
    return int(max(50, round(float(rng.uniform(lo, hi)) * depth / 10.0) * 10))


def i_beam(rng: np.random.Generator) -> GeneratedPart:
    """European I/H beam (IPE, HEA, HEB) with root fillets, cut to length, optional end holes."""
    name, (h, b, tw, tf, r) = choose_row(rng, std.IPE_BEAMS)
    shape = sg.box(-b / 2, 0, b / 2, tf).union(sg.box(-b / 2, h - tf, b / 2, h))
    shape = fillet_profile(shape.union(sg.box(-tw / 2, 0, tw / 2, h)), r)
    length = _cut_length(rng, h, 2.0, 5.0)
    beam = section_bar(shape, length)
    holes = 0
    if rng.random() < 0.4:
        d = 13.5 if h < 150 else 17.5
        beam, holes = drill_end_holes(rng, beam, length, (tf + r + d, h - tf - r - d), d)
    series = name.split()[0]
    kind = "I-beam" if series == "IPE" else "H-beam (wide flange)"
    material = pick(rng, ["steel", "steel", "galvanized steel"])
    grade = pick(rng, ["S235JR", "S355J2"])
    attrs = ShapeAttributes(form="profile", holes=holes, symmetry="mirror")
    names = [kind, "I-section", "steel beam", f"{series} beam", "universal beam"]
    return make_part(
        rng,
        beam,
        attrs,
        name=f"{name} beam, {length} mm",
        tags=[material, grade, "EN 10365", "beam", series, "hot rolled"]
        + (["bolt holes"] if holes else []),
        parameters=dict(
            section=name,
            height=num(h),
            flange_width=num(b),
            web_thickness=num(tw),
            flange_thickness=num(tf),
            root_radius=num(r),
            length=length,
            holes=holes,
        ),
        names=names,
        size=f"{name}, {length} mm",
        standard="EN 10365",
        material=material,
        canonical=f"{name} {kind}, {length} mm long",
        extras=[
            f"{fmt(h)} mm deep {series} beam section, {fmt(b)} mm flanges, cut to {length} mm",
            f"{material_word(material)} structural {kind} {name}"
            + (f" with {holes} bolt holes in the web" if holes else ""),
            f"hot rolled {series} profile {fmt(h)}x{fmt(b)}, length {length} mm",
        ],
    )


def c_channel(rng: np.random.Generator) -> GeneratedPart:
    """UPN channel with 8 % tapered flanges and root fillets, cut to length."""
    name, (h, b, tw, tf, r1) = choose_row(rng, std.UPN_CHANNELS)
    slope = 0.08
    mid = (b + tw) / 2
    t_web_side = tf + slope * (mid - tw)
    t_tip = max(0.5 * tf, tf - slope * (b - mid))
    pts = [
        (0, 0),
        (b, 0),
        (b, t_tip),
        (tw, t_web_side),
        (tw, h - t_web_side),
        (b, h - t_tip),
        (b, h),
        (0, h),
    ]
    shape = round_convex(fillet_profile(sg.Polygon(pts), r1), min(0.5 * r1, 0.4 * t_tip))
    shape = shape.union(sg.box(0, 0, 0.5 * r1, h)).union(sg.box(0, 0, b / 2, 0.5 * tf))
    shape = shape.union(sg.box(0, h - 0.5 * tf, b / 2, h))
    length = _cut_length(rng, h, 2.0, 5.0)
    channel = section_bar(sa.translate(shape, -b / 2, 0), length)
    holes = 0
    if rng.random() < 0.4:
        d = 11.0 if h < 100 else 13.5
        web = (t_web_side + r1 + d, h - t_web_side - r1 - d)
        channel, holes = drill_end_holes(rng, channel, length, web, d)
    material = pick(rng, ["steel", "galvanized steel"])
    attrs = ShapeAttributes(form="profile", holes=holes, symmetry="mirror")
    names = ["C-channel", "UPN channel", "U-profile", "channel section", "C section"]
    return make_part(
        rng,
        channel,
        attrs,
        name=f"{name} channel, {length} mm",
        tags=[material, "S235JR", "EN 10279", "channel", "UPN", "tapered flange"]
        + (["bolt holes"] if holes else []),
        parameters=dict(
            section=name,
            height=num(h),
            flange_width=num(b),
            web_thickness=num(tw),
            flange_thickness=num(tf),
            length=length,
            holes=holes,
        ),
        names=names,
        size=f"{name}, {length} mm",
        standard="EN 10279",
        material=material,
        canonical=f"{name} C-channel, {length} mm long",
        extras=[
            f"U-profile steel channel {fmt(h)} x {fmt(b)} mm with tapered flanges, {length} mm",
            f"{material_word(material)} {name} channel section, {fmt(tw)} mm web"
            + (f", {holes} holes in the web" if holes else ""),
            f"hot rolled C section {fmt(h)} mm, length {length} mm",
        ],
    )


def angle_section(rng: np.random.Generator) -> GeneratedPart:
    """Hot rolled equal or unequal angle (L section) with root and toe radii, cut to length."""
    a, b, t, r1 = pick(rng, std.ANGLES)
    shape = fillet_profile(sg.box(0, 0, t, a).union(sg.box(0, 0, b, t)), r1)
    toe = min(0.5 * r1, 0.4 * t)
    shape = round_convex(shape, toe).union(sg.box(0, 0, t / 2, t / 2))
    length = _cut_length(rng, max(a, b), 3.0, 10.0)
    bar = section_bar(shape, length)
    holes = 0
    if rng.random() < 0.5 and a >= 40:
        d = 9.0 if t < 6 else 11.0
        bar, holes = drill_end_holes(rng, bar, length, (t + r1 + d, a - d), d, max_per_end=1)
    equal = a == b
    size = f"L{fmt(a)}x{fmt(b)}x{fmt(t)}"
    material = pick(rng, ["steel", "galvanized steel", "stainless", "aluminium"])
    kind = "equal angle" if equal else "unequal angle"
    attrs = ShapeAttributes(form="profile", holes=holes, symmetry="mirror" if equal else "none")
    names = [kind, "angle section", "L-profile", "angle iron", "angle bar"]
    return make_part(
        rng,
        bar,
        attrs,
        name=f"Angle {size}, {length} mm",
        tags=[material, "EN 10056-1", "angle", kind.replace(" ", "-"), "L-profile"]
        + (["bolt holes"] if holes else []),
        parameters=dict(
            leg_a=num(a),
            leg_b=num(b),
            thickness=num(t),
            root_radius=num(r1),
            length=length,
            holes=holes,
        ),
        names=names,
        size=f"{size}, {length} mm",
        standard="EN 10056-1",
        material=material,
        canonical=f"{size} {kind}, {length} mm long",
        extras=[
            f"L-profile angle iron {fmt(a)} x {fmt(b)} x {fmt(t)} mm, cut to {length} mm",
            f"{material_word(material)} {kind} section with rounded root"
            + (f", {holes} bolt holes" if holes else ""),
            f"{length} mm piece of {fmt(a)}x{fmt(b)} angle bar, {fmt(t)} mm thick",
        ],
    )


def rectangular_hollow_section(rng: np.random.Generator) -> GeneratedPart:
    """Cold formed rectangular or square hollow section EN 10219 (RHS/SHS), cut to length."""
    hgt, wid, t = pick(rng, std.HOLLOW_SECTIONS)
    outer = rounded_rectangle(wid, hgt, 2.0 * t, 6)
    inner = rounded_rectangle(wid - 2 * t, hgt - 2 * t, 1.0 * t, 6)
    shape = outer.difference(inner)
    length = _cut_length(rng, max(hgt, wid), 3.0, 10.0)
    bar = section_bar(sa.translate(shape, 0, hgt / 2), length)
    square = hgt == wid
    kind = "square hollow section" if square else "rectangular hollow section"
    abbr = "SHS" if square else "RHS"
    material = pick(rng, ["steel", "galvanized steel", "stainless", "aluminium"])
    size = f"{fmt(hgt)}x{fmt(wid)}x{fmt(t)}"
    attrs = ShapeAttributes(form="tube", holes=1, symmetry="mirror")
    names = [kind, abbr, "box section", "structural tube", "hollow profile"]
    return make_part(
        rng,
        bar,
        attrs,
        name=f"{abbr} {size}, {length} mm",
        tags=[material, "EN 10219", "hollow section", abbr, "tube", "through-hole"],
        parameters=dict(height=num(hgt), width=num(wid), wall=num(t), length=length),
        names=names,
        size=f"{size}, {length} mm",
        standard="EN 10219",
        material=material,
        canonical=f"{abbr} {size} {kind}, {length} mm long",
        extras=[
            f"{'square' if square else 'rectangular'} steel tube {fmt(hgt)} x {fmt(wid)} mm, "
            f"{fmt(t)} mm wall",
            f"{material_word(material)} box section {size}, cut to {length} mm",
            f"{length} mm length of {fmt(hgt)}x{fmt(wid)} hollow profile with rounded corners",
        ],
    )


def _t_slot_cut(width: float, opening: float) -> sg.Polygon:
    """One T-slot (opening + undercut cavity) of a profile of side ``width``; surface at y=0."""
    lip = 0.11 * width
    depth = 0.3 * width
    cavity = min(0.55 * width, opening * 2.1)
    neck = opening / 2
    pts = [
        (-neck, 1.0),
        (neck, 1.0),
        (neck, -lip),
        (cavity / 2, -lip),
        (cavity / 2, -lip - 0.25 * depth),
        (neck * 0.9, -depth),
        (-neck * 0.9, -depth),
        (-cavity / 2, -lip - 0.25 * depth),
        (-cavity / 2, -lip),
        (-neck, -lip),
    ]
    return sg.Polygon(pts)


def t_slot_profile(rng: np.random.Generator) -> GeneratedPart:
    """Aluminium T-slot extrusion (20/30/40/45 series, 1 or 2 cores), cut to length."""
    name, (w, hgt, opening, core) = choose_row(rng, std.T_SLOT_PROFILES)
    cells = int(round(hgt / w))
    shape = rounded_rectangle(w, hgt, 0.04 * w, 3)
    slot = _t_slot_cut(w, opening)
    cuts = []
    for k in range(cells):
        yc = -hgt / 2 + w / 2 + k * w
        cuts.append(sa.translate(sa.rotate(slot, 90, origin=(0, 0)), -w / 2, yc))
        cuts.append(sa.translate(sa.rotate(slot, -90, origin=(0, 0)), w / 2, yc))
        cuts.append(circle(core / 2, (0, yc), 24))
    cuts.append(sa.translate(slot, 0, hgt / 2))
    cuts.append(sa.translate(sa.rotate(slot, 180, origin=(0, 0)), 0, -hgt / 2))
    if cells == 2:
        cuts.append(rounded_rectangle(0.3 * w, 0.3 * w, 0.05 * w, 3))
    for c in cuts:
        shape = shape.difference(c)
    length = _cut_length(rng, max(w, hgt), 3.0, 12.0)
    bar = section_bar(sa.translate(shape, 0, hgt / 2), length)
    size = name.split()[0]
    holes = cells + (1 if cells == 2 else 0)
    attrs = ShapeAttributes(form="profile", holes=holes, symmetry="mirror")
    names = ["T-slot profile", "aluminium extrusion", "framing profile", "slotted profile"]
    return make_part(
        rng,
        bar,
        attrs,
        name=f"T-slot profile {size}, {length} mm",
        tags=["aluminium", "6063-T5", "T-slot", "extrusion", "anodized", "through-hole"],
        parameters=dict(
            width=num(w),
            height=num(hgt),
            slot_width=num(opening),
            core_bore=num(core),
            length=length,
            profile=name,
        ),
        names=names,
        size=f"{name}, {length} mm",
        standard=None,
        material="aluminium",
        canonical=f"{size} aluminium T-slot profile, {length} mm long",
        extras=[
            f"{name} aluminium extrusion cut to {length} mm",
            f"anodized aluminium framing profile {size} with {fmt(opening)} mm T-slots "
            f"and central core bore",
            f"{length} mm {size} modular profile for machine frames",
        ],
    )


FAMILY_LIST = (
    Family("i_beam", "i_beam", i_beam, "beam"),
    Family("c_channel", "c_channel", c_channel, "profile"),
    Family("angle_section", "angle_section", angle_section, "profile"),
    Family("rectangular_hollow_section", "hollow_section", rectangular_hollow_section, "profile"),
    Family("t_slot_profile", "t_slot_extrusion", t_slot_profile, "profile"),
)
