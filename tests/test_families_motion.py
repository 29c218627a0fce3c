"""Tests of the transmission and motion families: sizes hand-copied from the standards, tooth and
hole counts measured on the generated meshes."""

from __future__ import annotations

import math

import numpy as np
import pytest
import trimesh

from data_jobs.catalog import (
    families_bearings,
    families_drive,
    families_motion,
    families_pulleys_couplings,
    families_rolling_bearings,
)
from data_jobs.catalog import families_transmission as transmission
from data_jobs.catalog.families_base import to_trimesh
from data_jobs.catalog.geometry_kit import helical_rod

NEW = {
    f.name: f
    for module in (
        transmission,
        families_pulleys_couplings,
        families_rolling_bearings,
        families_motion,
    )
    for f in module.FAMILY_LIST
}

# Hand-copied from the standards and maker catalogues (not from the tables under test).
ISO_355_TAPERED = {"30204": (20, 47, 15.25), "30206": (30, 62, 17.25), "32208": (40, 80, 24.75)}
ISO_104_THRUST = {"51104": (20, 35, 10), "51108": (40, 60, 13), "51110": (50, 70, 14)}
HK_DRAWN_CUP = {"HK0808": (8, 12, 8), "HK1412": (14, 20, 12), "HK2012": (20, 26, 12)}
LM_BUSHINGS = {8: (15, 24), 12: (21, 30), 20: (32, 42)}
DIN_103_MINOR = {"Tr8x1.5": 6.2, "Tr12x3": 8.5, "Tr16x4": 11.5, "Tr20x4": 15.5, "Tr24x5": 18.5}
UCP_HEIGHT_LENGTH = {"UCP204": (33.3, 127), "UCP205": (36.5, 140), "UCP208": (49.2, 184)}
RAILS = {"HGR15": (15, 15, 60), "HGR20": (20, 17.5, 60), "MGN12": (12, 8, 25)}
BELT_PLD = {"GT2": (2.0, 0.254), "HTD 5M": (5.0, 0.5715)}


def genus(mesh: trimesh.Trimesh) -> int:
    return (2 - int(mesh.euler_number)) // 2


def parts(family: str, seeds=range(12)):
    return [NEW[family].generator(np.random.default_rng(s)) for s in seeds]


def radial(mesh: trimesh.Trimesh) -> np.ndarray:
    """Distance of every vertex from the Z axis through the mesh's XY centre."""
    xy = mesh.vertices[:, :2] - (mesh.bounds[0, :2] + mesh.bounds[1, :2]) / 2
    return np.hypot(xy[:, 0], xy[:, 1])


def test_kinds_and_parents_are_the_catalog_ones():
    kinds = {f.name: (f.category, f.parent) for f in NEW.values()}
    assert kinds["internal_gear"] == ("ring_gear", "gear")
    assert kinds["needle_roller_bearing"] == ("needle_bearing", "bearing")
    assert kinds["flanged_bearing_unit"] == ("flange_bearing_unit", "bearing_unit")
    assert kinds["lead_screw_nut"] == ("lead_screw_nut", "screw_drive")
    assert len(NEW) == 19 and len({k for k, _ in kinds.values()}) == 19
    old = {f.name: (f.category, f.parent) for f in families_drive.FAMILY_LIST}
    old |= {f.name: (f.category, f.parent) for f in families_bearings.FAMILY_LIST}
    assert old["vbelt_pulley"] == ("v_belt_pulley", "pulley")
    assert old["o_ring"] == ("o_ring", "seal")


@pytest.mark.parametrize("family", sorted(NEW))
def test_more_seeds_build_closed_solids_with_their_genus(family):
    for part in parts(family, range(3, 8)):
        mesh = part.mesh
        assert mesh.is_watertight and mesh.is_winding_consistent and mesh.volume > 0
        assert 12 <= len(mesh.faces) <= 20_000 and mesh.area_faces.min() > 1e-9
        assert genus(mesh) == part.through_holes == part.attributes.holes
        assert part.attributes.proportions is not None


@pytest.mark.parametrize("family", sorted(NEW))
def test_min_is_smaller_than_max(family):
    lo = NEW[family].generator(np.random.default_rng(5), extreme="min")
    hi = NEW[family].generator(np.random.default_rng(5), extreme="max")
    assert lo.mesh.extents.max() < hi.mesh.extents.max()


def test_bearings_follow_iso_dimensions():
    for part in parts("tapered_roller_bearing", range(30)):
        p = part.parameters
        if p["designation"] in ISO_355_TAPERED:
            d, D, T = ISO_355_TAPERED[p["designation"]]
            assert (p["bore"], p["outside_diameter"], p["width"]) == (d, D, T)
            assert part.mesh.extents == pytest.approx([D, D, T], abs=0.05 * D)
            assert part.mesh.extents[2] == pytest.approx(T, abs=0.01)
    for part in parts("thrust_ball_bearing", range(30)):
        p = part.parameters
        if p["designation"] in ISO_104_THRUST:
            d, D, T = ISO_104_THRUST[p["designation"]]
            assert part.mesh.extents[2] == pytest.approx(T, abs=0.01)
            assert part.mesh.extents[0] == pytest.approx(D, rel=0.01)
            assert radial(part.mesh).min() == pytest.approx(d / 2, rel=0.01)
    for part in parts("needle_roller_bearing", range(30)):
        p = part.parameters
        if p["designation"] in HK_DRAWN_CUP:
            fw, D, C = HK_DRAWN_CUP[p["designation"]]
            assert part.mesh.extents[2] == pytest.approx(C, abs=0.01)
            assert part.mesh.extents[0] == pytest.approx(D, rel=0.01)
            # the needles leave exactly the shaft circle Fw free
            assert radial(part.mesh).min() == pytest.approx(fw / 2, abs=0.05)


def test_housed_units_and_linear_parts_follow_catalogue_sizes():
    for part in parts("pillow_block", range(30)):
        p = part.parameters
        if p["designation"] in UCP_HEIGHT_LENGTH:
            assert (p["centre_height"], p["length"]) == UCP_HEIGHT_LENGTH[p["designation"]]
            assert part.mesh.extents[0] == pytest.approx(p["length"], abs=0.01)
    for part in parts("flanged_bearing_unit", range(30)):
        if part.parameters["designation"] == "UCF204":
            assert part.mesh.extents[:2] == pytest.approx([86, 86], abs=0.01)
            assert part.through_holes in (5, 7)  # bore, 4 bolt holes, set screws
    for part in parts("linear_rail", range(30)):
        p = part.parameters
        if p["size"] in RAILS:
            w, h, pitch = RAILS[p["size"]]
            assert sorted(part.mesh.extents)[:2] == pytest.approx(sorted([w, h]), abs=0.01)
            assert p["hole_pitch"] == pitch and genus(part.mesh) == p["holes"]
    for part in parts("linear_carriage", range(6)):
        assert genus(part.mesh) == 4
    for part in parts("linear_bushing", range(30)):
        p = part.parameters
        if p["shaft_diameter"] in LM_BUSHINGS:
            D, L = LM_BUSHINGS[p["shaft_diameter"]]
            assert part.mesh.extents[2] == pytest.approx(L, abs=0.01)
            if part.through_holes == 1:
                assert radial(part.mesh).min() == pytest.approx(p["shaft_diameter"] / 2, rel=0.01)


def test_trapezoidal_screws_follow_din_103():
    for part in parts("lead_screw", range(20)):
        p = part.parameters
        if p["thread"] in DIN_103_MINOR:
            assert p["minor_diameter"] == pytest.approx(DIN_103_MINOR[p["thread"]])
        assert sorted(part.mesh.extents)[1] == pytest.approx(p["nominal_diameter"], rel=0.01)
        assert part.mesh.extents.max() == pytest.approx(p["length"], abs=0.01)
    for part in parts("lead_screw_nut", range(8)):
        p = part.parameters
        assert genus(part.mesh) == 1 + p["bolt_holes"]
        assert part.mesh.extents[0] == pytest.approx(p["flange_diameter"], rel=0.01)


def test_gears_have_standard_diameters():
    for part in parts("helical_gear"):
        p = part.parameters
        beta = math.radians(p["helix_angle"])
        assert 15 <= p["helix_angle"] <= 30
        tip = p["normal_module"] * (p["teeth"] / math.cos(beta) + 2)
        assert part.mesh.extents[:2].max() == pytest.approx(tip, rel=0.02)
    for part in parts("internal_gear"):
        p = part.parameters
        inner_tip = p["module"] * (p["teeth"] - 2)
        assert 2 * radial(part.mesh).min() == pytest.approx(inner_tip, rel=0.02)
        assert part.attributes.teeth == p["teeth"]
    for part in parts("gear_rack"):
        p = part.parameters
        assert p["teeth"] == int(p["length"] // (math.pi * p["module"]))
        assert part.mesh.extents == pytest.approx([p["length"], p["face_width"], p["height"]])
        assert genus(part.mesh) == p["mounting_holes"]
    for part in parts("worm"):
        p = part.parameters
        assert p["lead"] == pytest.approx(p["starts"] * math.pi * p["module"], abs=1e-3)
        assert sorted(part.mesh.extents)[1] == pytest.approx(p["tip_diameter"], rel=0.01)
    for part in parts("worm_wheel"):
        p = part.parameters
        d1 = {1: 16, 1.5: 20, 2: 22.4, 2.5: 25, 3: 31.5, 4: 40}[p["module"]]  # DIN 3976
        assert p["center_distance"] == pytest.approx((d1 + p["pitch_diameter"]) / 2)
        assert part.mesh.extents[:2].max() <= p["pitch_diameter"] + 3.01 * p["module"]


def test_timing_pulleys_have_the_belt_pitch_line():
    for part in parts("timing_pulley"):
        p = part.parameters
        if p["profile"] in BELT_PLD:
            pitch, pld = BELT_PLD[p["profile"]]
            od = p["teeth"] * pitch / math.pi - 2 * pld
            assert p["outside_diameter"] == pytest.approx(od, abs=0.01)
        assert genus(part.mesh) == 1 + p["set_screws"]


@pytest.mark.parametrize("left_hand", [False, True])
def test_helical_thread_turns_the_right_way(left_hand):
    """A right-hand thread's crest turns counter-clockwise (seen from +Z) as Z grows."""
    rod = to_trimesh(helical_rod(5.0, 1.0, 2.0, 1, 2.0, 15.0, left_hand))
    v = rod.vertices
    crest = v[np.hypot(v[:, 0], v[:, 1]) > 4.999]
    levels = np.unique(np.round(crest[:, 2], 4))
    angles = []
    for z in levels[:4]:
        at = crest[np.isclose(crest[:, 2], z, atol=1e-4)]
        angles.append(np.angle(np.exp(1j * np.arctan2(at[:, 1], at[:, 0])).mean()))
    steps = np.diff(np.unwrap(angles))
    assert (steps < 0).all() if left_hand else (steps > 0).all(), steps
