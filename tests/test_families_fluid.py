"""Standard dimensions of the fluid and frame families, checked on generated parts.

The tables below are copied by hand from the standards, apart from the generators' own tables.
"""

from __future__ import annotations

import numpy as np
import pytest

from data_jobs.catalog import families_flanges as flanges
from data_jobs.catalog import families_fluid as fluid
from data_jobs.catalog import families_frames as frames
from data_jobs.catalog.families import CATEGORIES, FAMILIES, PARENTS

# ASME B16.5 Class 150: DN -> (outside diameter, bolt circle, bolts, hole), mm
CLASS150 = {50: (152.4, 120.7, 4, 19.1), 100: (228.6, 190.5, 8, 19.1), 150: (279.4, 241.3, 8, 22.4)}
# ASME B16.5 Class 300: DN -> (outside diameter, bolt circle, bolts)
CLASS300 = {50: (165.1, 127.0, 8), 150: (317.5, 269.7, 12)}
# EN 1092-1 PN16: DN -> (bolt circle, bolts)
PN16 = {15: (65, 4), 50: (125, 4), 80: (160, 8), 100: (180, 8), 150: (240, 8)}
# ASME B16.9 reducer end-to-end H and cap length E, mm
REDUCER_H = {50: 76, 100: 102, 150: 140}
CAP_E = {25: 38, 100: 64, 150: 89}
# EN 10055 T-bars and DIN 1027 Z sections: name -> (h, t) and (h, b)
T_BARS = {"T40": (40, 5), "T60": (60, 7), "T100": (100, 11)}
Z_SECTIONS = {"Z60": (60, 45), "Z100": (100, 55), "Z160": (160, 70)}

NEW_FAMILIES = [f.name for f in (*flanges.FAMILY_LIST, *fluid.FAMILY_LIST, *frames.FAMILY_LIST)]


def genus(mesh) -> int:
    return (2 - int(mesh.euler_number)) // 2


def parts(family: str, seeds=range(12)):
    return [FAMILIES[family].generator(np.random.default_rng(s)) for s in seeds]


def test_kinds_and_parents_of_the_fluid_and_frame_families():
    expected = {
        "weld_neck_flange": ("weld_neck_flange", "flange"),
        "blind_flange": ("blind_flange", "flange"),
        "pipe_cap": ("pipe_cap", "pipe_fitting"),
        "threaded_coupling": ("pipe_coupling", "pipe_fitting"),
        "ball_valve_body": ("valve_body", "valve"),
        "hose_barb": ("hose_barb", "hose_fitting"),
        "gusset_plate": ("gusset_plate", "plate"),
        "flat_bar": ("flat_bar", "bar"),
        "pipe_flange": ("pn16_flange", "flange"),
        "i_beam": ("i_beam", "beam"),
        "t_slot_profile": ("t_slot_extrusion", "profile"),
    }
    for name, (kind, parent) in expected.items():
        assert FAMILIES[name].category == kind and PARENTS[kind] == parent
    assert len(NEW_FAMILIES) >= 18 and set(NEW_FAMILIES) <= set(FAMILIES)
    assert len({FAMILIES[f].category for f in NEW_FAMILIES}) == len(NEW_FAMILIES)
    assert set(FAMILIES[f].category for f in NEW_FAMILIES) <= set(CATEGORIES)


@pytest.mark.parametrize("family", ["weld_neck_flange", "slip_on_flange"])
def test_class150_flanges_follow_asme_b16_5(family):
    seen = set()
    for part in parts(family, range(20)):
        p = part.parameters
        assert genus(part.mesh) == p["bolt_holes"] + 1
        assert part.mesh.extents[:2].max() == pytest.approx(p["outer_diameter"], rel=0.01)
        assert part.mesh.extents[2] == pytest.approx(p["length_through_hub"], abs=0.05)
        if p["nominal_diameter"] in CLASS150:
            o, pcd, bolts, hole = CLASS150[p["nominal_diameter"]]
            assert (p["outer_diameter"], p["bolt_circle"], p["bolt_holes"]) == (o, pcd, bolts)
            assert p["bolt_hole_diameter"] == hole
            seen.add(p["nominal_diameter"])
    assert seen


def test_weld_neck_is_longer_than_slip_on_of_the_same_size():
    wn = flanges.weld_neck_flange(np.random.default_rng(0), extreme="max")
    so = flanges.slip_on_flange(np.random.default_rng(0), extreme="max")
    assert wn.parameters["nominal_diameter"] == so.parameters["nominal_diameter"] == 150
    assert wn.mesh.extents[2] > 2 * so.mesh.extents[2]  # long tapered neck vs short hub
    assert wn.parameters["bore"] < so.parameters["bore"]  # pipe ID vs over the pipe OD


def test_blind_flanges_have_no_bore_and_true_bolt_circles():
    classes = set()
    for part in parts("blind_flange", range(20)):
        p = part.parameters
        assert genus(part.mesh) == p["bolt_holes"]  # no bore
        table = CLASS150 if p["pressure_class"] == 150 else CLASS300
        if p["nominal_diameter"] in table:
            assert table[p["nominal_diameter"]][:3] == (
                p["outer_diameter"],
                p["bolt_circle"],
                p["bolt_holes"],
            )
        classes.add(p["pressure_class"])
    assert classes == {150, 300}
    big = flanges.blind_flange(np.random.default_rng(0), extreme="max")
    assert big.parameters["bolt_holes"] == 12 and genus(big.mesh) == 12


def test_lap_joint_flanges_follow_en_1092_pn16():
    for part in parts("lap_joint_flange"):
        p = part.parameters
        if p["nominal_diameter"] in PN16:
            assert (p["bolt_circle"], p["bolt_holes"]) == PN16[p["nominal_diameter"]]
        assert genus(part.mesh) == p["bolt_holes"] + 1
        assert part.mesh.extents[2] == pytest.approx(p["thickness"], abs=0.05)  # flat faces


def test_reducers_and_caps_follow_asme_b16_9():
    for family in ("concentric_reducer", "eccentric_reducer"):
        for part in parts(family):
            p = part.parameters
            assert genus(part.mesh) == 1
            if p["nominal_diameter"] in REDUCER_H:
                assert p["length"] == REDUCER_H[p["nominal_diameter"]]
            assert part.mesh.extents.max() == pytest.approx(
                max(p["length"], p["outer_diameter"]), rel=0.01
            )
    for part in parts("pipe_cap"):
        p = part.parameters
        assert genus(part.mesh) == 0
        if p["nominal_diameter"] in CAP_E:
            assert p["length"] == CAP_E[p["nominal_diameter"]]
        assert part.mesh.extents[2] == pytest.approx(p["length"], abs=0.05)


def test_eccentric_reducer_is_flat_on_one_side():
    part = fluid.eccentric_reducer(np.random.default_rng(0), extreme="max")
    v, length = part.mesh.vertices, part.parameters["length"]
    x0, x1 = v[:, 0].min(), v[:, 0].max()
    assert x1 - x0 == pytest.approx(length, abs=0.05)
    big_end = v[v[:, 0] < x0 + 1.0]
    small_end = v[v[:, 0] > x1 - 1.0]
    assert big_end[:, 1].min() == pytest.approx(small_end[:, 1].min(), abs=0.2)  # flat side
    assert big_end[:, 1].max() > small_end[:, 1].max() + 10  # the offset side


def test_cross_has_four_openings_and_the_tee_has_three():
    for part in parts("pipe_cross", range(6)):
        assert genus(part.mesh) == 3
    assert genus(parts("pipe_tee", range(1))[0].mesh) == 2


def test_threaded_fittings_use_true_thread_sizes():
    for part in parts("threaded_coupling"):
        p = part.parameters
        assert genus(part.mesh) == 1
        if p["thread"] == "G1/2":
            assert (p["thread_diameter"], p["pitch"]) == (20.955, 1.814)
    for part in parts("hose_barb"):
        p = part.parameters
        assert genus(part.mesh) == 1 and 3 <= p["barbs"] <= 5
        assert p["bore"] < p["hose_bore"]
    for part in parts("hydraulic_adapter"):
        p = part.parameters
        assert genus(part.mesh) == 1
        across = sorted(part.mesh.extents[:2])[0]
        assert across == pytest.approx(p["hex_across_flats"], abs=0.1)


def test_ball_valve_face_to_face_and_openings():
    ends = set()
    for part in parts("ball_valve_body", range(16)):
        p = part.parameters
        ends.add(p["ends"])
        if p["ends"] == "flanged":
            bolts = PN16[p["nominal_diameter"]][1] if p["nominal_diameter"] in PN16 else None
            if p["nominal_diameter"] == 50:
                assert p["length"] == 178  # EN 558 basic series 27
            if bolts:
                assert genus(part.mesh) == 2 + 2 * bolts  # flow bore, stem bore, both flanges
        else:
            assert genus(part.mesh) == 2
        assert part.mesh.extents[0] == pytest.approx(p["length"], abs=0.05)
    assert ends == {"flanged", "threaded"}


def test_sections_follow_their_standards():
    for part in parts("t_section"):
        p = part.parameters
        if p["section"] in T_BARS:
            assert (p["height"], p["thickness"]) == T_BARS[p["section"]]
        assert sorted(part.mesh.extents[1:]) == pytest.approx([p["height"]] * 2, abs=0.05)
    for part in parts("z_section"):
        p = part.parameters
        if p["section"] in Z_SECTIONS:
            assert (p["height"], p["flange_width"]) == Z_SECTIONS[p["section"]]
        assert part.mesh.extents[2] == pytest.approx(p["height"], abs=0.05)
        # flanges point opposite ways: overall width is two flanges less one web
        assert part.mesh.extents[1] == pytest.approx(
            2 * p["flange_width"] - p["web_thickness"], abs=0.05
        )
    for part in parts("flat_bar"):
        p = part.parameters
        assert genus(part.mesh) == p["holes"]
        assert part.mesh.extents == pytest.approx(
            [p["length"], p["width"], p["thickness"]], abs=0.05
        )


def test_plates_and_brackets_hole_counts():
    for part in parts("gusset_plate"):
        p = part.parameters
        assert genus(part.mesh) == p["holes"] and p["holes"] % 2 == 0  # same count per leg
        assert part.mesh.extents[2] == pytest.approx(p["thickness"], abs=0.05)
    for part in parts("base_plate"):
        p = part.parameters
        assert p["anchor_holes"] in (4, 6) and genus(part.mesh) >= p["anchor_holes"]
        assert part.mesh.extents[:2] == pytest.approx([p["length"], p["width"]], abs=0.05)
    for part in parts("corner_bracket"):
        p = part.parameters
        assert genus(part.mesh) == p["holes"] == (4 if p["series"] == "40x80" else 2)
    for part in parts("u_bracket"):
        assert genus(part.mesh) == part.parameters["holes"] >= 3


@pytest.mark.parametrize("family", NEW_FAMILIES)
def test_min_extreme_is_smaller_than_max(family):
    lo = FAMILIES[family].generator(np.random.default_rng(0), extreme="min")
    hi = FAMILIES[family].generator(np.random.default_rng(0), extreme="max")
    assert lo.mesh.extents.max() < hi.mesh.extents.max()
    assert lo.attributes.holes == genus(lo.mesh) and hi.attributes.holes == genus(hi.mesh)
