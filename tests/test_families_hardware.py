"""Standard dimensions and counts of the hardware, enclosure, fixture and sheet-metal families."""

from __future__ import annotations

import math

import numpy as np
import pytest
import trimesh

from data_jobs.catalog.families import FAMILIES

# Hand-copied from the standards and catalogues (not from the code under test).
EN_60715_TOP_HAT = {"TS35x7.5": (35.0, 7.5, 1.0), "TS35x15": (35.0, 15.0, 1.5)}
EN_60947_7_1_PITCH = {2.5: 5.2, 4: 6.2, 6: 8.2, 10: 10.2, 16: 12.2, 35: 15.2}  # catalogue widths
EN_10220_PIPE_OD = {15: 21.3, 20: 26.7, 25: 33.4, 32: 42.2, 40: 48.3, 50: 60.3, 65: 73.0,
                    80: 88.9, 100: 114.3}  # fmt: skip
DIN_3017_BAND = {9: 0.6, 12: 0.8}  # band width -> thickness
EN_10270_WIRES = {0.5, 0.6, 0.8, 1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0}
DIN_6336_KNOBS = {25: 16, 32: 20, 40: 25, 50: 32, 63: 40}  # d1 -> height

KINDS = {
    "electronics_enclosure": ("enclosure", "enclosure"),
    "junction_box": ("junction_box", "enclosure"),
    "din_rail": ("din_rail", "rail"),
    "cable_gland": ("cable_gland", "electrical_fitting"),
    "heat_sink": ("heat_sink", "thermal"),
    "pin_fin_heat_sink": ("pin_heat_sink", "thermal"),
    "terminal_block": ("terminal_block", "electrical_fitting"),
    "pull_handle": ("pull_handle", "handle"),
    "draw_latch": ("draw_latch", "latch"),
    "caster_wheel": ("caster", "wheel"),
    "pipe_clamp": ("pipe_clamp", "clamp"),
    "hose_clamp": ("hose_clamp", "clamp"),
    "torsion_spring": ("torsion_spring", "spring"),
    "extension_spring": ("extension_spring", "spring"),
    "toggle_clamp": ("toggle_clamp", "clamp"),
    "z_bracket": ("z_bracket", "bracket"),
    "mounting_clip": ("spring_clip", "clip"),
    "perforated_sheet": ("perforated_sheet", "sheet"),
    "cable_tray": ("cable_tray", "tray"),
    "hat_channel": ("hat_channel", "profile"),
    "l_bracket": ("angle_bracket", "bracket"),
    "mounting_plate": ("mounting_plate", "plate"),
    "butt_hinge": ("hinge", "hinge"),
    "star_knob": ("star_knob", "knob"),
}
NEW = [f for f in KINDS if f not in ("l_bracket", "mounting_plate", "butt_hinge", "star_knob")]


def genus(mesh: trimesh.Trimesh) -> int:
    return (2 - int(mesh.euler_number)) // 2


def parts_of(family: str, seeds=range(6)):
    return [FAMILIES[family].generator(np.random.default_rng(s)) for s in seeds]


def test_kinds_and_parents():
    for name, (kind, parent) in KINDS.items():
        assert (FAMILIES[name].category, FAMILIES[name].parent) == (kind, parent), name


@pytest.mark.parametrize("family", NEW)
def test_min_is_smaller_than_max_and_both_are_solids(family):
    lo = FAMILIES[family].generator(np.random.default_rng(5), extreme="min")
    hi = FAMILIES[family].generator(np.random.default_rng(5), extreme="max")
    assert lo.mesh.extents.max() < hi.mesh.extents.max()
    for part in (lo, hi):
        assert part.mesh.is_watertight and genus(part.mesh) == part.through_holes
        assert len(part.mesh.faces) <= 20_000


def test_din_rail_is_the_en_60715_top_hat():
    seen = set()
    for part in parts_of("din_rail", range(10)):
        code = next(t for t in part.tags if t in EN_60715_TOP_HAT)
        width, depth, t = EN_60715_TOP_HAT[code]
        length, y, z = part.mesh.extents
        assert (round(y, 3), round(z, 3)) == (width, depth)
        assert part.parameters["thickness"] == t
        # slots 5.2 x 15 at 25 mm pitch, one per full pitch
        assert genus(part.mesh) == part.parameters["slots"] in (0, int(length // 25))
        seen.add(code)
    assert seen == set(EN_60715_TOP_HAT)


def test_terminal_block_width_is_the_en_60947_pitch():
    for part in parts_of("terminal_block", range(8)):
        cs = part.parameters["cross_section"]
        assert math.isclose(part.mesh.extents[1], EN_60947_7_1_PITCH[cs], abs_tol=1e-3)
        assert genus(part.mesh) == part.parameters["connections"]  # each wire opening meets a screw


def test_cable_gland_thread_has_the_metric_major_diameter():
    for part in parts_of("cable_gland", range(6)):
        size = float(part.parameters["thread"][1:].split("x")[0])
        v = part.mesh.vertices
        low = v[v[:, 2] < part.parameters["thread_length"] - 0.5]
        centre = (part.mesh.bounds[0, :2] + part.mesh.bounds[1, :2]) / 2
        major = 2 * np.linalg.norm(low[:, :2] - centre, axis=1).max()
        assert math.isclose(major, size, rel_tol=0.01), (major, size)
        assert genus(part.mesh) == 1


def test_perforated_sheet_volume_is_plate_minus_holes():
    for part in parts_of("perforated_sheet", range(8)):
        p = part.parameters
        if not p["pattern"].startswith("R"):
            continue
        d, t, holes = p["hole_size"], p["thickness"], p["holes"]
        assert genus(part.mesh) == holes
        plate = p["length"] * p["width"] * t  # rounded corners take at most 6 mm2 each
        expected = plate - holes * math.pi * d**2 / 4 * t
        assert abs(part.mesh.volume - expected) < 0.05 * holes * math.pi * d**2 / 4 * t + 25 * t


def test_pipe_clamp_is_sized_for_the_en_10220_pipe():
    kinds = set()
    for part in parts_of("pipe_clamp", range(8)):
        p = part.parameters
        assert p["pipe_od"] == EN_10220_PIPE_OD[p["dn"]]
        assert part.mesh.extents[1] == pytest.approx(p["width"], abs=1e-3)
        # the ring is closed by its bolt (one hole: the bore); the saddle has two foot holes
        assert genus(part.mesh) == (1 if p["type"] == "ring clamp" else 2)
        assert part.mesh.extents[0] > p["pipe_od"] + 2 * p["thickness"] - 0.01
        kinds.add(p["type"])
    assert kinds == {"ring clamp", "two-bolt saddle"}


def test_hose_clamp_band_and_slots():
    for part in parts_of("hose_clamp", range(6)):
        p = part.parameters
        assert p["band_thickness"] == DIN_3017_BAND[p["band_width"]]
        assert p["range_min"] <= p["diameter"] <= p["range_max"]
        assert genus(part.mesh) == 1 + p["slots"]


def test_springs_are_wire_of_en_10270_sizes_swept_along_their_path():
    for family in ("torsion_spring", "extension_spring"):
        for part in parts_of(family, range(4)):
            wire = part.parameters["wire_diameter"]
            assert wire in EN_10270_WIRES
            assert genus(part.mesh) == 0
    for part in parts_of("extension_spring", range(4)):
        p = part.parameters
        wire, rm = p["wire_diameter"], p["mean_diameter"] / 2
        # close-wound body, then at each end a riser and a loop about the spring axis
        loop_top = (rm + 1.5 * wire + 0.5) + rm
        expected = p["coils"] * 1.06 * wire + 2 * loop_top + wire
        assert abs(part.mesh.extents[2] - expected) < 0.1 * wire + 1e-3
        assert part.mesh.extents[:2].max() == pytest.approx(2 * rm + wire, rel=0.02)


def test_caster_has_plate_holes_and_the_fork_loop():
    for part in parts_of("caster_wheel", range(4)):
        p = part.parameters
        assert genus(part.mesh) == 5  # four plate holes and the fork closed by the axle
        assert part.mesh.extents[2] > p["wheel_diameter"]
        assert part.mesh.extents[1] == pytest.approx(p["plate_width"], abs=1e-3)


def test_star_knob_follows_din_6336_and_counts_lobes_as_spokes():
    for part in parts_of("star_knob", range(6)):
        p = part.parameters
        assert DIN_6336_KNOBS[p["diameter"]] == p["height"]
        assert part.attributes.spokes == p["lobes"] and part.attributes.threaded
        assert part.mesh.extents[2] == pytest.approx(p["height"], abs=0.01)


def test_z_bracket_flanges_are_offset_by_the_web():
    for part in parts_of("z_bracket", range(6)):
        p = part.parameters
        assert part.mesh.extents[2] == pytest.approx(p["offset"], abs=1e-3)
        assert part.mesh.extents[0] == pytest.approx(p["flange_a"] + p["flange_b"], abs=1e-3)
        assert genus(part.mesh) == p["holes"]
