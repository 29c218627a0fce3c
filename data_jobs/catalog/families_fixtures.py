"""Machine fixtures: handles, latches, casters, pipe, hose and toggle clamps."""

from __future__ import annotations

import math

import numpy as np
import shapely.geometry as sg
from shapely.ops import unary_union

from data_jobs.catalog import families_standards as std
from data_jobs.catalog.attributes import ShapeAttributes
from data_jobs.catalog.choices import between, choose, choose_row, flag, pick, stepped_count
from data_jobs.catalog.families_base import (
    Family,
    GeneratedPart,
    along_x,
    box,
    chamfered_hex,
    cylinder,
    extrude,
    fmt,
    make_part,
    revolve,
    rounded,
    segments_for,
    subtract,
    union,
)
from data_jobs.catalog.geometry_kit import (
    bar_between,
    fillet_path,
    stadium,
    sweep_wire,
)

# U pull handles, hole centres on the 32 mm system: centres -> (bar diameter, height, thread).
PULL_HANDLES = {
    64: (8.0, 28.0, 4), 96: (10.0, 32.0, 5), 128: (10.0, 35.0, 5), 160: (12.0, 40.0, 6),
    192: (12.0, 42.0, 6), 256: (14.0, 48.0, 8), 320: (16.0, 55.0, 8),
}  # fmt: skip
# Swivel castors EN 12532: wheel diameter -> (wheel width, plate length, plate width,
# hole spacing x, hole spacing y, hole diameter), mm.
CASTERS = {
    50: (20, 60, 50, 45, 35, 6.5), 75: (25, 60, 60, 45, 45, 7.0), 100: (32, 100, 85, 80, 60, 9.0),
    125: (32, 100, 85, 80, 60, 9.0), 160: (40, 135, 110, 105, 80, 11.0),
    200: (50, 135, 110, 105, 80, 11.0),
}  # fmt: skip
# Worm-drive hose clamps DIN 3017-1 (W1..W5): clamping range (min, max) -> band width, mm.
HOSE_CLAMPS = (
    (8, 12, 9), (10, 16, 9), (12, 22, 9), (16, 27, 9), (20, 32, 12), (25, 40, 12), (32, 50, 12),
    (40, 60, 12), (50, 70, 12), (60, 80, 12), (70, 90, 12), (80, 100, 12),
)  # fmt: skip
# Vertical toggle clamps, holding force (N) -> (base length, base width, base thickness,
# hole diameter, arm length), mm.
TOGGLE_CLAMPS = {
    600: (38, 24, 2.5, 4.5, 55), 1100: (47, 31, 3.0, 5.5, 70), 2200: (60, 40, 4.0, 6.6, 95),
    3500: (75, 50, 5.0, 8.5, 120), 5000: (90, 60, 6.0, 10.5, 150),
}  # fmt: skip
# Draw latches (toggle latches), size -> (base length, width, base thickness, screw), mm.
DRAW_LATCHES = {
    "S": (30, 20, 1.5, 3), "M": (45, 28, 2.0, 4), "L": (65, 38, 2.5, 5), "XL": (90, 50, 3.0, 6),
}  # fmt: skip


def pull_handle(rng: np.random.Generator, extreme: str | None = None) -> GeneratedPart:
    """U (bow) pull handle of round bar with bent corners; tapped feet or flanged through feet."""
    centres, (d, height, thread) = choose_row(rng, PULL_HANDLES, extreme)
    bend = round(between(rng, 1.2 * d, 2.2 * d, extreme), 1)
    flanged = flag(rng, 0.35, extreme)
    r = d / 2
    zc = height - r
    foot_h = round(0.25 * height, 1)
    half = centres / 2
    bend = min(bend, zc - foot_h - 1.0)  # the bend must fit on the leg above the foot
    # one swept bar: foot, bend, grip, bend, foot; the ends stand inside the feet
    path = fillet_path(
        [(-half, 0, foot_h - 0.5), (-half, 0, zc), (half, 0, zc), (half, 0, foot_h - 0.5)],
        bend,
        segs=8,
    )
    parts = [sweep_wire(path, d, stepped_count(rng, 20, extreme))]
    parts += [cylinder(0.8 * d, foot_h, 32).translate((s * half, 0, 0)) for s in (-1, 1)]
    holes = 0
    cuts = []
    if flanged:
        hole = std.CLEARANCE_HOLES[thread]
        tab = sg.LineString([(0, 0), (1.8 * d, 0)]).buffer(0.7 * d, quad_segs=8)
        for s in (-1, 1):
            flange = extrude(tab, 0.3 * foot_h + 1.0)
            flange = flange.rotate((0, 0, 0 if s > 0 else 180)).translate((s * half, 0, 0))
            parts.append(flange)
            cuts.append(
                cylinder(hole / 2, foot_h, 20, z0=-1).translate((s * (half + 1.8 * d), 0, 0))
            )
        holes = 2
    else:
        tap = thread - 0.9
        cuts = [
            cylinder(tap / 2, 1.5 * thread, 20, z0=-1).translate((s * half, 0, 0)) for s in (-1, 1)
        ]
    body = subtract(union(parts), cuts)
    material = pick(rng, ["stainless", "aluminium", "steel", "brass"])
    size = f"{centres} mm centres"
    return make_part(
        rng,
        body,
        name=f"Pull handle {centres} mm, {fmt(d)} mm bar",
        tags=[material, "handle", "U handle", "bow handle", "round bar"]
        + (["flanged feet", "through-hole"] if flanged else ["threaded", f"M{thread} tapped feet"]),
        parameters=rounded(
            hole_centres=centres,
            bar_diameter=d,
            height=height,
            bend_radius=bend,
            thread=f"M{thread}",
            flanged=int(flanged),
        ),
        names=[
            "pull handle",
            "U handle",
            "bow handle",
            "D handle",
            "cabinet handle",
            "grab handle",
        ],
        size=size,
        material=material,
        attributes=ShapeAttributes(
            form="rod", threaded=not flanged, holes=holes, symmetry="mirror"
        ),
        extras=[
            f"{fmt(d)} mm round bar U handle, {centres} mm hole centres, {fmt(height)} mm high",
            (
                "bow handle with flanged feet, two through holes for screws from the front"
                if flanged
                else f"pull handle fixed from behind with M{thread} screws into tapped feet"
            ),
        ],
    )


def draw_latch(rng: np.random.Generator, extreme: str | None = None) -> GeneratedPart:
    """Over-centre draw latch, closed: base plate with screw holes, hinge knuckle, lever with
    finger tab, and the wire bail that forms the hook loop (one solid)."""
    code, (length, width, t, screw) = choose_row(rng, DRAW_LATCHES, extreme)
    per_side = 2 if flag(rng, 0.5, extreme) else 1
    r_k = round(1.6 * t + 1.0, 2)
    t_l = round(1.2 * t, 2)
    rw = round(max(0.8, 0.06 * width), 2)
    reach = round(between(rng, 0.35 * length, 0.7 * length, extreme), 1)
    x_k = 0.8 * length
    z_k = t + r_k - 0.3
    z_l = z_k + r_k - 0.5
    base = box(length, width, t, (length / 2, 0, t / 2))
    knuckle = along_x(cylinder(r_k, 0.6 * width, 24, z0=-0.3 * width)).rotate((0, 0, 90))
    knuckle = knuckle.translate((x_k, 0, z_k))
    lever_len = x_k + 0.1 * length
    lever = box(lever_len, width, t_l, (x_k - lever_len / 2 + r_k, 0, z_l + t_l / 2))
    x_rear = x_k - lever_len + r_k
    tab = box(0.12 * length, width, t_l, (0, 0, 0)).rotate((0, 35, 0))
    tab = tab.translate((x_rear - 0.045 * length, 0, z_l + t_l / 2 + 0.034 * length))
    zb = z_l + t_l / 2
    yb = width / 2 + 0.5 * rw
    x0, x1 = 0.3 * length, length + reach
    bail = [bar_between((x0, s * yb, zb), (x1, s * yb, zb), rw, 12) for s in (-1, 1)]
    hook = bar_between((x1, -yb - 1.4 * rw, zb), (x1, yb + 1.4 * rw, zb), 1.2 * rw, 12)
    body = union([base, knuckle, lever, tab, *bail, hook])
    d = std.CLEARANCE_HOLES[screw]
    xs = [0.15 * length, 0.55 * length][:per_side]
    spots = [(x, s * 0.3 * width) for x in xs for s in (-1, 1)]
    cuts = [cylinder(d / 2, t + 1.0, 16, z0=-0.5).translate((x, y, 0)) for x, y in spots]
    body = subtract(body, cuts)
    holes = len(cuts) + 1
    material = pick(rng, ["stainless", "zinc-plated steel", "steel"])
    size = f"size {code}, {fmt(length)} x {fmt(width)} mm base"
    return make_part(
        rng,
        body,
        name=f"Draw latch {code} {fmt(length)}x{fmt(width)}",
        tags=[material, "latch", "draw latch", "toggle latch", "over-centre", "wire bail"],
        parameters=rounded(
            base_length=length,
            width=width,
            base_thickness=t,
            screw=f"M{screw}",
            screw_holes=len(cuts),
            bail_reach=reach,
            bail_wire=round(2 * rw, 2),
        ),
        names=["draw latch", "toggle latch", "over-centre latch", "lever latch", "case clasp"],
        size=size,
        material=material,
        attributes=ShapeAttributes(form="plate", holes=holes, symmetry="mirror"),
        extras=[
            f"over-centre draw latch with {len(cuts)} holes for M{screw} screws, "
            f"wire bail reaching {fmt(reach)} mm past the base",
            f"toggle latch {fmt(length)} x {fmt(width)} mm: base plate, hinged lever and hook loop",
        ],
    )


def caster_wheel(rng: np.random.Generator, extreme: str | None = None) -> GeneratedPart:
    """Swivel castor EN 12532: top plate with four holes, swivel head, fork with axle and nuts,
    wheel with rounded tread; optional brake pedal."""
    dia, (bw, pl, pw, ha, hb, hd) = choose_row(rng, CASTERS, extreme)
    r = dia / 2
    tp = round(between(rng, 3.0, 3.0 + 0.02 * dia, extreme), 1)
    lt = round(between(rng, 2.5, 2.5 + 0.02 * dia, extreme), 1)
    trail = round(between(rng, 0.15 * r, 0.35 * r, extreme), 1)
    brake = flag(rng, 0.3, extreme)
    gap = 1.5
    hub = 0.35 * r
    tread = min(0.2 * bw, 0.12 * dia)
    w2 = bw / 2
    wheel_prof = [
        (hub, -w2 - 1), (0.7 * r, -w2 - 1), (0.72 * r, -w2), (r - tread, -w2), (r, -w2 + tread),
        (r, w2 - tread), (r - tread, w2), (0.72 * r, w2), (0.7 * r, w2 + 1), (hub, w2 + 1),
    ]  # fmt: skip
    n = stepped_count(rng, segments_for(r, lo=40, hi=64), extreme)
    wheel = revolve(np.array(wheel_prof), n)
    hub_r = hub + 0.5
    hub_body = cylinder(hub_r, bw + 2, 32, z0=-bw / 2 - 1)
    wheel = union([wheel, hub_body]).rotate((90, 0, 0)).translate((trail, 0, r))
    y_leg = bw / 2 + 1 + gap + lt / 2
    z_top = dia + 0.12 * dia
    leg_w = 0.4 * r + 8
    leg_h = z_top + lt / 2 - 0.85 * r
    legs = [box(leg_w, lt, leg_h, (trail, s * y_leg, 0.85 * r + leg_h / 2)) for s in (-1, 1)]
    yoke_w = 2 * y_leg + lt
    yoke = box(max(leg_w, pw * 0.7), yoke_w, lt, (trail / 2, 0, z_top + lt / 2))
    ax_r = round(0.06 * r + 2.5, 1)
    axle = bar_between(
        (trail, -(y_leg + lt / 2 + 0.2 * r), r), (trail, y_leg + lt / 2 + 0.2 * r, r), ax_r, 20
    )
    nuts = [
        chamfered_hex(2.6 * ax_r, 0.9 * ax_r, True).rotate((90, 0, 0))
        .translate((trail, s * (y_leg + lt / 2 - 0.1) + (0.9 * ax_r if s > 0 else 0), r))
        for s in (-1, 1)
    ]  # fmt: skip
    head_r = 0.3 * min(pl, pw)
    head = cylinder(head_r, 0.06 * dia + 4, 48, z0=z_top + lt - 0.2)
    race = cylinder(head_r * 1.15, 0.03 * dia + 1.5, 48, z0=z_top + lt + 0.04 * dia)
    z_plate = float(head.bounding_box()[5]) - 0.2
    plate = box(pl, pw, tp, (0, 0, z_plate + tp / 2))
    parts = [wheel, *legs, yoke, axle, *nuts, head, race, plate]
    if brake:
        pedal = box(0.35 * dia, 0.5 * pw, lt, (-0.3 * dia, 0, z_top - 0.05 * dia))
        arm = box(0.35 * dia, lt, 0.1 * dia, (-0.15 * dia + trail / 2, 0, z_top - 0.02 * dia))
        parts += [pedal, arm]
    body = union(parts)
    cuts = [cylinder(hd / 2, tp + 2, 20, z0=z_plate - 1).translate((sx * ha / 2, sy * hb / 2, 0))
            for sx in (-1, 1) for sy in (-1, 1)]  # fmt: skip
    body = subtract(body, cuts)
    material = pick(rng, ["zinc-plated steel", "stainless", "steel"])
    tyre = pick(rng, ["polyurethane", "rubber", "nylon"])
    height = float(body.bounding_box()[5] - body.bounding_box()[2])
    size = f"{dia} mm"
    return make_part(
        rng,
        body,
        name=f"Swivel castor {dia} mm" + (" with brake" if brake else ""),
        tags=[material, tyre, "castor", "EN 12532", "swivel", "top plate"]
        + (["brake"] if brake else []),
        parameters=rounded(
            wheel_diameter=dia,
            wheel_width=bw,
            plate_length=pl,
            plate_width=pw,
            hole_spacing_x=ha,
            hole_spacing_y=hb,
            height=round(height, 1),
            offset=trail,
            brake=int(brake),
        ),
        names=["swivel castor", "caster wheel", "castor wheel", "swivel caster", "trolley wheel"],
        size=size,
        standard="EN 12532",
        material=material,
        attributes=ShapeAttributes(form="wheel", holes=5, symmetry="none" if brake else "mirror"),
        extras=[
            f"{dia} mm swivel castor with {tyre} tyre, {pl} x {pw} mm top plate, "
            f"holes {ha} x {hb} mm for M{int(hd - 1)} bolts",
            f"plate-mounted caster {fmt(height, 0)} mm high, {bw} mm wheel width"
            + (", total brake" if brake else ""),
        ],
    )


def pipe_clamp(rng: np.random.Generator, extreme: str | None = None) -> GeneratedPart:
    """Steel pipe clamp: one-piece ring with a bolted lug pair and a threaded connection boss,
    or a two-bolt saddle strap with flat feet."""
    dn = int(choose(rng, [k for k in std.PIPE_SIZES if k <= 100], extreme))
    nps, od, _ = std.PIPE_SIZES[dn]
    ring = flag(rng, 0.55, extreme)
    t = round(between(rng, 2.0, 2.0 + 0.03 * od, extreme), 1)
    width = round(between(rng, 20.0, 20.0 + 0.15 * od, extreme), 0)
    bolt = 8 if od < 45 else 10 if od < 80 else 12
    d = std.CLEARANCE_HOLES[bolt]
    ri, ro = od / 2, od / 2 + t
    n = stepped_count(rng, segments_for(ro, lo=48, hi=72), extreme)
    if ring:
        # split ring closed by its clamping bolt (modelled), connection boss at the bottom
        gap = round(0.6 * d, 1)
        lug = 2.6 * d
        band = subtract(cylinder(ro, width, n), [cylinder(ri, width + 2, n, z0=-1)])
        band = subtract(band, [box(gap, ro + 2, width + 2, (0, ro / 2 + 1, width / 2))])
        lugs = [
            box(t, lug, width, (s * (gap / 2 + t / 2), ri + lug / 2, width / 2)) for s in (-1, 1)
        ]
        y_bolt = ri + 0.6 * lug
        span = gap + 2 * t
        shank = bar_between(
            (-span / 2 - 0.8 * bolt, y_bolt, width / 2),
            (span / 2 + 1.6 * bolt, y_bolt, width / 2),
            bolt / 2,
            20,
        )
        af = std.METRIC_THREADS[bolt]["s"]
        hexes = [
            along_x(chamfered_hex(af, h, True)).translate((x, y_bolt, width / 2))
            for x, h in ((-span / 2 - 0.7 * bolt + 0.1, 0.7 * bolt), (span / 2 - 0.1, 0.8 * bolt))
        ]
        outward = (90, 0, 0)  # a cylinder along +Z turned to point along -Y
        boss = cylinder(min(0.9 * bolt, width / 2 - 1), 1.2 * bolt, 24).rotate(outward)
        boss = boss.translate((0, -(ro - 0.5), width / 2))
        tap = cylinder(0.42 * bolt, bolt, 20).rotate(outward)
        tap = tap.translate((0, -(ro + 1.2 * bolt - 0.5) + bolt - 1, width / 2))
        body = subtract(union([band, *lugs, shank, *hexes, boss]), [tap])
        holes = 1
        kind = "ring clamp"
    else:
        foot = 2.8 * d
        q = np.linspace(0, math.pi, n // 2)
        strap = sg.Polygon(
            np.r_[
                np.c_[ro * np.cos(q), ro * np.sin(q)],
                np.c_[ri * np.cos(q[::-1]), ri * np.sin(q[::-1])],
            ]
        )
        feet = [
            sg.box(s * ri, 0, s * (ri + foot), t) if s > 0 else sg.box(-(ri + foot), 0, -ri, t)
            for s in (-1, 1)
        ]
        body = extrude(unary_union([strap, *feet]), width)
        punch = cylinder(d / 2, t + 2, 20, z0=-1).rotate((-90, 0, 0))
        cuts = [punch.translate((s * (ri + 0.55 * foot), 0, width / 2)) for s in (-1, 1)]
        body = subtract(body, cuts)
        holes = 2
        kind = "two-bolt saddle"
    body = body.rotate((90, 0, 0))
    material = pick(rng, ["zinc-plated steel", "galvanized steel", "stainless"])
    size = f"DN{dn} ({nps}), {fmt(od)} mm pipe"
    return make_part(
        rng,
        body,
        name=f"Pipe clamp DN{dn} {fmt(od)} mm, {kind}",
        tags=[material, "pipe clamp", kind, "EN 10220", f"M{bolt}"]
        + (["threaded"] if ring else []),
        parameters=rounded(pipe_od=od, dn=dn, thickness=t, width=width, bolt=f"M{bolt}", type=kind),
        names=["pipe clamp", "pipe clip", "pipe bracket", "pipe saddle", "tube clamp"],
        size=size,
        standard="EN 10220",
        material=material,
        attributes=ShapeAttributes(
            form="ring" if ring else "bracket", threaded=ring, holes=holes, symmetry="mirror"
        ),
        extras=[
            f"{kind} for {fmt(od)} mm OD pipe (DN{dn}), {fmt(width)} x {fmt(t)} mm steel band",
            (
                f"split pipe ring closed by an M{bolt} bolt through its lugs, M{bolt} threaded "
                "boss for a hanger rod"
                if ring
                else f"half-round pipe strap with two feet drilled {fmt(d)} mm for M{bolt} bolts"
            ),
        ],
    )


def hose_clamp(rng: np.random.Generator, extreme: str | None = None) -> GeneratedPart:
    """Worm-drive hose clamp DIN 3017-1: closed band with a row of worm slots, housing and a
    hex head screw with slot."""
    lo, hi, b = choose(rng, HOSE_CLAMPS, extreme)
    t = 0.6 if b == 9 else 0.8
    dia = round(between(rng, lo + 0.2 * (hi - lo), hi, extreme), 1)
    r = dia / 2
    n = stepped_count(rng, segments_for(r, lo=48, hi=72), extreme)
    band = subtract(cylinder(r + t, b, n), [cylinder(r, b + 2, n, z0=-1)])
    hl, hh = min(2.2 * b, 0.8 * dia + 8), 0.7 * b  # small clamps have short housings
    # worm slots start clear of the housing and keep 2.4 mm of band between them
    start = math.degrees(math.atan2(hl / 2 + 1.5, r)) + 4.0
    pitch_deg = math.degrees(2.4 / (r + t))
    room = int((360.0 - 2 * start) / pitch_deg)
    slots = min(int(choose(rng, range(6, 15), extreme)), room)
    cuts = []
    for k in range(slots):
        slot = box(1.2, 4 * t, 0.45 * b, (0, r + t / 2, b / 2))
        cuts.append(slot.rotate((0, 0, -start - k * pitch_deg)))
    band = subtract(band, cuts)
    housing = box(hl, hh, b + 1.2, (0, r + t + hh / 2 - 0.3, b / 2))
    af = 7.0 if b == 9 else 8.0
    screw_r = 0.32 * af
    zc = b / 2
    yc = r + t + hh + screw_r - 0.6 * screw_r
    screw = bar_between((-hl / 2 - 0.5, yc, zc), (hl / 2 + 1.5, yc, zc), screw_r, 16)
    head = along_x(chamfered_hex(af, 0.5 * af, True)).translate((-hl / 2 - 0.5 * af - 0.2, yc, zc))
    slot_cut = box(1.0, 1.2 * af, 0.8, (0, 0, 0)).rotate((0, 90, 0))
    slot_cut = slot_cut.translate((-hl / 2 - 0.5 * af - 0.2, yc, zc))
    collar = along_x(cylinder(0.45 * af, 0.6, 24)).translate((-hl / 2 - 0.5, yc, zc))
    body = subtract(union([band, housing, screw, head, collar]), [slot_cut])
    holes = 1 + slots
    material = pick(rng, ["stainless", "zinc-plated steel", "stainless"])
    w = "W4" if material == "stainless" else "W1"
    size = f"{lo}-{hi} mm, {b} mm band"
    return make_part(
        rng,
        body,
        name=f"Hose clamp {lo}-{hi} mm {w}",
        tags=[material, "DIN 3017", "hose clamp", "worm drive", w, "threaded"],
        parameters=rounded(
            range_min=lo,
            range_max=hi,
            band_width=b,
            band_thickness=t,
            diameter=dia,
            screw_across_flats=af,
            slots=slots,
        ),
        names=["hose clamp", "worm drive clip", "Jubilee clip", "screw band clamp", "hose clip"],
        size=size,
        standard="DIN 3017",
        material=material,
        attributes=ShapeAttributes(
            form="ring", head="hex", drive="slot", threaded=True, holes=holes, symmetry="none"
        ),
        extras=[
            f"worm gear hose clamp {lo} to {hi} mm, {b} mm {material} band, {fmt(af)} mm hex screw",
            f"hose clip closed to {fmt(dia)} mm with slotted hex head worm screw",
        ],
    )


def toggle_clamp(rng: np.random.Generator, extreme: str | None = None) -> GeneratedPart:
    """Vertical hold-down toggle clamp: flanged base with holes, upright, clamping arm (slotted,
    or with a spindle and pressure pad) and an inclined handle with grip, as one solid."""
    force, (bl, bw, bt, hd, arm_l) = choose_row(rng, TOGGLE_CLAMPS, extreme)
    spindle = flag(rng, 0.5, extreme)
    up_h = round(0.55 * bl, 1)
    up_w = 0.4 * bw
    x_piv = -bl / 2 + 0.25 * bl
    base = box(bl, bw, bt, (0, 0, bt / 2))
    upright = box(0.4 * bl, up_w, up_h, (x_piv, 0, up_h / 2))
    # pivot boss joins upright, arm and handle; the pivot pin runs through it
    boss_ends = ((x_piv, -0.23 * bw, up_h), (x_piv, 0.23 * bw, up_h))
    boss = bar_between(*boss_ends, 0.15 * bw + 2, 24, twist_deg=7.1)
    pin = bar_between((x_piv, -0.35 * bw, up_h), (x_piv, 0.35 * bw, up_h), 0.08 * bw, 20)
    at = round(0.08 * bw + 1.5, 1)
    arm_w = 0.35 * bw
    arm = box(arm_l, arm_w, at, (x_piv + arm_l / 2, 0, up_h + at / 2 - 0.3))
    grip_ang = math.radians(between(rng, 50.0, 75.0, extreme))
    hl = 0.8 * arm_l
    p0 = np.array([x_piv, 0.0, up_h])
    p1 = p0 + hl * np.array([-math.cos(grip_ang), 0.0, math.sin(grip_ang)])
    handle = bar_between(p0, p1, 0.07 * bw + 1.0, 16)
    grip = bar_between(
        p0 + 0.55 * (p1 - p0), p1 + 0.03 * (p1 - p0), 0.12 * bw + 2.0, 24, twist_deg=5.3
    )
    parts = [base, upright, boss, pin, arm, handle, grip]
    drill = cylinder(hd / 2, bt + 2, 20, z0=-1)
    cuts = [
        drill.translate((sx * (bl / 2 - hd), sy * (bw / 2 - 0.7 * hd), 0))
        for sx in (-1, 1) for sy in (-1, 1)
    ]  # fmt: skip
    x_end = x_piv + 0.8 * arm_l
    z_arm = up_h - 0.3
    if spindle:
        thread = {600: 4, 1100: 5, 2200: 6, 3500: 8, 5000: 10}[force]
        sl = z_arm - 0.2 * thread
        shaft = bar_between(
            (x_end, 0, z_arm + at + 0.4 * thread), (x_end, 0, z_arm - sl), thread / 2, 16
        )
        nut = chamfered_hex(1.7 * thread, 0.8 * thread, True)
        nuts = [
            nut.translate((x_end, 0, z)) for z in (z_arm + at - 0.1, z_arm - 0.8 * thread + 0.1)
        ]
        k = thread
        pad_rz = [(0, 0), (1.2 * k, 0), (1.3 * k, 0.4 * k), (1.0 * k, 1.2 * k), (0, 1.2 * k)]
        pad = revolve(np.array(pad_rz), 32)
        pad = pad.translate((x_end, 0, z_arm - sl - 1.1 * thread))
        parts += [shaft, *nuts, pad]
    else:
        slot = stadium(0.07 * arm_l, 0.12 * arm_w + 1.5, 6)
        cuts.append(extrude(slot, at + 2, z_arm - 1).translate((x_end, 0, 0)))
    body = subtract(union(parts), cuts)
    holes = 4 + (0 if spindle else 1)
    material = pick(rng, ["zinc-plated steel", "stainless", "steel"])
    size = f"{force} N"
    return make_part(
        rng,
        body,
        name=f"Toggle clamp vertical {force} N" + (" with spindle" if spindle else ""),
        tags=[material, "toggle clamp", "hold-down clamp", "vertical", "flanged base"]
        + (["spindle", "threaded"] if spindle else ["slotted arm"]),
        parameters=rounded(
            holding_force=force,
            base_length=bl,
            base_width=bw,
            arm_length=arm_l,
            hole_diameter=hd,
            spindle=int(spindle),
        ),
        names=["toggle clamp", "hold-down clamp", "vertical toggle clamp", "quick-release clamp"],
        size=size,
        material=material,
        attributes=ShapeAttributes(form="block", threaded=spindle, holes=holes, symmetry="mirror"),
        extras=[
            f"vertical hold-down toggle clamp, {force} N holding capacity, {fmt(arm_l)} mm arm",
            f"toggle clamp with flanged base {fmt(bl)} x {fmt(bw)} mm, four {fmt(hd)} mm holes"
            + (", spindle with pressure pad" if spindle else ", slotted arm for a spindle"),
        ],
    )


FAMILY_LIST = (
    Family("pull_handle", "pull_handle", pull_handle, "handle"),
    Family("draw_latch", "draw_latch", draw_latch, "latch"),
    Family("caster_wheel", "caster", caster_wheel, "wheel"),
    Family("pipe_clamp", "pipe_clamp", pipe_clamp, "clamp"),
    Family("hose_clamp", "hose_clamp", hose_clamp, "clamp"),
    Family("toggle_clamp", "toggle_clamp", toggle_clamp, "clamp"),
)
