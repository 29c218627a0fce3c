"""Fastener families against their standards: sizes measured on the generated meshes, hole counts,
kinds and parents, extremes."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh

from data_jobs.catalog.families import FAMILIES, PARENTS

# Hand-copied from the standards (not from the code under test), mm.
ISO_7380_BUTTON = {3: (5.7, 1.65), 4: (7.6, 2.2), 5: (9.5, 2.75), 6: (10.5, 3.3), 8: (14, 4.4),
                   10: (17.5, 5.5), 12: (21, 6.6), 16: (28, 8.8)}  # fmt: skip
ISO_10642_DK_MAX = {3: 6.72, 4: 8.96, 5: 11.2, 6: 13.44, 8: 17.92, 10: 22.4, 12: 26.88,
                    16: 33.6, 20: 40.32}  # fmt: skip
ISO_7379_SHOULDER = {6: ("M5", 10, 4.5), 8: ("M6", 13, 5.5), 10: ("M8", 16, 7),
                     12: ("M10", 18, 8), 16: ("M12", 24, 10), 20: ("M16", 30, 14),
                     24: ("M20", 36, 16)}  # fmt: skip
DIN_508_T_NUTS = {6: (10, 8), 8: (13, 10), 10: (15, 12), 12: (18, 14), 14: (22, 16),
                  18: (28, 20), 22: (35, 28)}  # fmt: skip
DIN_1587_CAP_NUTS = {4: (7, 8), 5: (8, 10), 6: (10, 12), 8: (13, 15), 10: (17, 18),
                     12: (19, 22), 16: (24, 28), 20: (30, 34)}  # fmt: skip
EN_1661_FLANGE = {5: 11.8, 6: 14.2, 8: 17.9, 10: 21.8, 12: 26, 16: 34.5, 20: 42.8}
DIN_315_WING_SPAN = {4: 20, 5: 26, 6: 33, 8: 39, 10: 51, 12: 65, 16: 73, 20: 90}
ISO_10511_HEIGHT = {3: 4, 4: 5, 5: 5, 6: 6, 8: 8, 10: 10, 12: 12, 16: 16, 20: 20, 24: 24}
ISO_7040_HEIGHT = {3: 4.5, 4: 6, 5: 6.8, 6: 8, 8: 9.5, 10: 11.5, 12: 14, 16: 18, 20: 22, 24: 26}
DIN_6885_KEYS = {2: 2, 3: 3, 4: 4, 5: 5, 6: 6, 8: 7, 10: 8, 12: 8, 14: 9, 16: 10, 18: 11, 20: 12}
DIN_6888_WOODRUFF = {(3, 5): 13, (4, 6.5): 16, (5, 7.5): 19, (6, 9): 22, (8, 11): 28,
                     (10, 13): 32, (10, 16): 45}  # fmt: skip
ISO_2341_HEADS = {3: 5, 4: 6, 5: 8, 6: 10, 8: 14, 10: 18, 12: 20, 16: 25, 20: 30}

KINDS = {
    "countersunk_screw": ("countersunk_screw", "screw"),
    "button_head_screw": ("button_head_screw", "screw"),
    "set_screw": ("set_screw", "screw"),
    "shoulder_screw": ("shoulder_screw", "screw"),
    "slotted_cheese_head_screw": ("cheese_head_screw", "screw"),
    "threaded_stud": ("stud", "bolt"),
    "eye_bolt": ("eye_bolt", "bolt"),
    "carriage_bolt": ("carriage_bolt", "bolt"),
    "blind_rivet": ("rivet", "rivet"),
    "solid_rivet": ("rivet", "rivet"),
    "wing_nut": ("wing_nut", "nut"),
    "t_slot_nut": ("t_slot_nut", "nut"),
    "nylon_lock_nut": ("lock_nut", "nut"),
    "cap_nut": ("cap_nut", "nut"),
    "flange_nut": ("flange_nut", "nut"),
    "taper_pin": ("taper_pin", "pin"),
    "spring_pin": ("spring_pin", "pin"),
    "clevis_pin": ("clevis_pin", "pin"),
    "parallel_key": ("parallel_key", "key"),
    "woodruff_key": ("woodruff_key", "key"),
    "hex_bolt": ("hex_bolt", "bolt"),
    "socket_head_cap_screw": ("socket_head_cap_screw", "screw"),
    "hex_nut": ("hex_nut", "nut"),
    "flat_washer": ("flat_washer", "washer"),
    "spring_lock_washer": ("lock_washer", "washer"),
    "dowel_pin": ("dowel_pin", "pin"),
    "hex_standoff": ("standoff", "spacer"),
    "retaining_ring": ("retaining_ring", "retaining_ring"),
}
NEW = [f for f in KINDS if f not in ("hex_bolt", "socket_head_cap_screw", "hex_nut",
                                     "flat_washer", "spring_lock_washer", "dowel_pin",
                                     "hex_standoff", "retaining_ring")]  # fmt: skip


def genus(mesh: trimesh.Trimesh) -> int:
    return (2 - int(mesh.euler_number)) // 2


def parts_of(family: str, seeds=range(25)):
    return [FAMILIES[family].generator(np.random.default_rng(s)) for s in seeds]


def width_at(mesh: trimesh.Trimesh, z: float) -> float:
    """Diameter of the mesh's cross-section at height z: twice its farthest point from the Z axis
    (the vertices of a revolved section lie on the true circle)."""
    section = mesh.section(plane_origin=(0, 0, z), plane_normal=(0, 0, 1))
    return 2.0 * float(np.linalg.norm(section.vertices[:, :2], axis=1).max())


@pytest.mark.parametrize("family", sorted(KINDS))
def test_kind_and_parent(family):
    kind, parent = KINDS[family]
    assert FAMILIES[family].category == kind
    assert PARENTS[kind] == parent


@pytest.mark.parametrize("family", NEW)
def test_extremes_give_the_smallest_and_largest_part(family):
    lo = FAMILIES[family].generator(np.random.default_rng(0), extreme="min")
    hi = FAMILIES[family].generator(np.random.default_rng(0), extreme="max")
    assert lo.mesh.extents.max() < hi.mesh.extents.max()
    assert lo.mesh.volume < hi.mesh.volume


@pytest.mark.parametrize("family", NEW)
def test_standard_named_in_tags_and_descriptions(family):
    for part in parts_of(family, range(3)):
        standards = [t for t in part.tags if t.startswith(("ISO ", "DIN ", "EN "))]
        assert standards, part.tags
        assert standards[0] in part.descriptions[0]


def test_screw_heads_follow_iso_7380_and_10642():
    for part in parts_of("button_head_screw"):
        p = part.parameters
        dk, k = ISO_7380_BUTTON[p["diameter"]]
        assert (p["head_diameter"], p["head_height"]) == (dk, k)
        assert part.mesh.extents[2] == pytest.approx(p["length"] + k, abs=0.05)
        if not p["collar"]:
            radius = np.linalg.norm(part.mesh.vertices[:, :2], axis=1).max()
            assert 2 * radius == pytest.approx(dk, abs=0.05)
    for part in parts_of("countersunk_screw"):
        p = part.parameters
        # overall length of a countersunk screw includes the head
        assert part.mesh.extents[2] == pytest.approx(p["length"], abs=0.05)
        dk = part.mesh.extents[0]
        assert 0.9 * ISO_10642_DK_MAX[p["diameter"]] < dk <= ISO_10642_DK_MAX[p["diameter"]]


def test_set_screws_are_headless_and_shoulder_screws_have_a_true_shoulder():
    for part in parts_of("set_screw"):
        p = part.parameters
        assert part.mesh.extents[2] == pytest.approx(p["length"], abs=0.05)
        assert part.mesh.extents[0] <= p["diameter"] + 1e-6
        assert part.attributes.head is None and part.attributes.drive == "hex socket"
    points = {p.parameters["point"] for p in parts_of("set_screw")}
    assert points == {"flat", "cone", "cup"}
    for part in parts_of("shoulder_screw"):
        p = part.parameters
        thread, dk, k = ISO_7379_SHOULDER[p["shoulder_diameter"]]
        assert (p["thread"], p["head_diameter"], p["head_height"]) == (thread, dk, k)
        total = p["thread_length"] + p["shoulder_length"] + k
        assert part.mesh.extents[2] == pytest.approx(total, abs=0.05)
        mid = p["thread_length"] + p["shoulder_length"] / 2
        assert width_at(part.mesh, mid) == pytest.approx(p["shoulder_diameter"], abs=0.05)


def test_eye_bolt_has_one_hole_and_studs_none():
    for part in parts_of("eye_bolt", range(10)):
        p = part.parameters
        assert genus(part.mesh) == 1 and part.attributes.head == "eye"
        assert part.mesh.extents[0] == pytest.approx(p["eye_outer"], abs=0.1)
    for part in parts_of("threaded_stud", range(10)):
        assert genus(part.mesh) == 0
        assert part.mesh.extents[2] == pytest.approx(part.parameters["length"], abs=0.05)


def test_nuts_follow_din_and_en_tables():
    for part in parts_of("t_slot_nut"):
        p = part.parameters
        b, h = DIN_508_T_NUTS[p["slot_width"]]
        assert sorted(part.mesh.extents[:2])[1] == pytest.approx(b, abs=0.05)
        assert part.mesh.extents[2] == pytest.approx(h, abs=0.05)
        assert genus(part.mesh) == 1
    for part in parts_of("cap_nut"):
        p = part.parameters
        s, h = DIN_1587_CAP_NUTS[int(p["thread"][1:])]
        assert part.mesh.extents[2] == pytest.approx(h, abs=0.05)
        assert min(part.mesh.extents[:2]) == pytest.approx(s, abs=0.05)
        assert genus(part.mesh) == 0  # blind thread under the dome
    for part in parts_of("flange_nut"):
        p = part.parameters
        dc = EN_1661_FLANGE[int(p["thread"][1:])]
        assert max(part.mesh.extents[:2]) == pytest.approx(dc, rel=0.01)
    for part in parts_of("wing_nut"):
        p = part.parameters
        assert part.mesh.extents[0] == pytest.approx(DIN_315_WING_SPAN[int(p["thread"][1:])])
    for part in parts_of("nylon_lock_nut"):
        p = part.parameters
        table = ISO_7040_HEIGHT if p["series"] == "regular" else ISO_10511_HEIGHT
        assert part.mesh.extents[2] == pytest.approx(table[int(p["thread"][1:])], abs=0.05)
        assert genus(part.mesh) == 1


def test_pins_taper_split_and_cross_hole():
    for part in parts_of("taper_pin"):
        p = part.parameters
        length = p["length"]
        lo, hi = width_at(part.mesh, 0.3 * length), width_at(part.mesh, 0.7 * length)
        assert hi - lo == pytest.approx(0.4 * length / 50, abs=0.02)  # taper 1:50
    for part in parts_of("spring_pin"):
        assert genus(part.mesh) == 0  # slotted, so no closed ring
        assert part.mesh.extents[2] == pytest.approx(part.parameters["length"], abs=0.05)
    forms = set()
    for part in parts_of("clevis_pin"):
        p = part.parameters
        forms.add(p["cross_hole"] > 0)
        assert p["head_diameter"] == ISO_2341_HEADS[p["diameter"]]
        assert genus(part.mesh) == (1 if p["cross_hole"] else 0)
    assert forms == {True, False}


def test_keys_follow_din_6885_and_6888():
    for part in parts_of("parallel_key"):
        p = part.parameters
        assert p["height"] == DIN_6885_KEYS[p["width"]]
        assert sorted(part.mesh.extents) == pytest.approx(
            sorted([p["length"], p["width"], p["height"]]), abs=0.05
        )
    for part in parts_of("woodruff_key"):
        p = part.parameters
        b, h = p["width"], p["height"]
        if (b, h) in DIN_6888_WOODRUFF:
            assert p["diameter"] == DIN_6888_WOODRUFF[(b, h)]
        chord = 2 * np.sqrt(h * (p["diameter"] - h))
        assert sorted(part.mesh.extents) == pytest.approx(sorted([chord, b, h]), rel=0.02)
