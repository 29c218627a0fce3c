"""Tests of the sample catalog: part families, standard dimensions, generation, contact sheet."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import trimesh

from data_jobs.catalog.families import CATEGORIES, FAMILIES
from data_jobs.catalog.generate import (
    MANIFEST_KEYS,
    MESH_FORMATS,
    family_schedule,
    generate_catalog,
    load_manifest,
)

SEEDS = (0, 1, 2)
N_PARTS = 100
PART_ID = re.compile(r"^[a-z0-9_-]+$")

# Hand-copied from the standards (not from the code under test).
ISO_4032_NUTS = {
    3: (5.5, 2.4),
    4: (7, 3.2),
    5: (8, 4.7),
    6: (10, 5.2),
    8: (13, 6.8),
    10: (16, 8.4),
    12: (18, 10.8),
    14: (21, 12.8),
    16: (24, 14.8),
    20: (30, 18),
    24: (36, 21.5),
}
ISO_7089_WASHERS = {
    3: (3.2, 7, 0.5),
    4: (4.3, 9, 0.8),
    5: (5.3, 10, 1),
    6: (6.4, 12, 1.6),
    8: (8.4, 16, 1.6),
    10: (10.5, 20, 2),
    12: (13, 24, 2.5),
    14: (15, 28, 2.5),
    16: (17, 30, 3),
    20: (21, 37, 3),
    24: (25, 44, 4),
}
BEARINGS = {
    "608": (8, 22, 7),
    "6000": (10, 26, 8),
    "6201": (12, 32, 10),
    "6204": (20, 47, 14),
    "6205": (25, 52, 15),
    "6302": (15, 42, 13),
}
PN16_BOLT_CIRCLES = {
    15: (65, 4),
    25: (85, 4),
    50: (125, 4),
    80: (160, 8),
    100: (180, 8),
    150: (240, 8),
    200: (295, 12),
}


def genus(mesh: trimesh.Trimesh) -> int:
    """Number of through holes of a closed mesh, from its Euler characteristic."""
    return (2 - int(mesh.euler_number)) // 2


def parts_of(family: str, seeds=range(40)):
    """Generated parts of one family for a range of seeds."""
    return [FAMILIES[family].generator(np.random.default_rng(s)) for s in seeds]


# --------------------------------------------------------------------------- families


def test_registry_has_at_least_20_families_in_20_categories():
    assert len(FAMILIES) >= 20
    assert len(CATEGORIES) >= 20
    for name, family in FAMILIES.items():
        assert family.name == name
        assert re.fullmatch(r"[a-z0-9_]+", name)
        assert re.fullmatch(r"[a-z0-9_]+", family.category)
        assert callable(family.generator)


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_every_family_builds_valid_parts(family):
    for seed in SEEDS:
        part = FAMILIES[family].generator(np.random.default_rng(seed))
        mesh = part.mesh
        assert isinstance(mesh, trimesh.Trimesh)
        assert len(mesh.faces) >= 12 and len(mesh.faces) <= 20_000
        assert np.isfinite(mesh.vertices).all()
        assert 1.0 <= mesh.extents.max() <= 2000.0, mesh.extents  # plausible mm sizes
        assert mesh.area_faces.min() > 1e-9, "degenerate (zero-area) triangles"
        assert mesh.is_watertight and mesh.is_winding_consistent
        assert mesh.volume > 0
        assert part.through_holes is not None and genus(mesh) == part.through_holes
        assert part.name and part.tags and all(isinstance(t, str) and t for t in part.tags)
        descriptions = part.descriptions
        assert len(descriptions) >= 3 and len(set(descriptions)) == len(descriptions)
        assert all(isinstance(d, str) and len(d) > 10 for d in part.descriptions)
        json.dumps(part.parameters)  # plain JSON values
        for value in part.parameters.values():
            if isinstance(value, float):
                assert value == round(value, 3)


def test_family_is_deterministic_for_a_seed():
    for family in ("spur_gear", "hex_bolt", "butt_hinge"):
        a = FAMILIES[family].generator(np.random.default_rng(7))
        b = FAMILIES[family].generator(np.random.default_rng(7))
        assert a.parameters == b.parameters and a.descriptions == b.descriptions
        assert np.array_equal(a.mesh.vertices, b.mesh.vertices)
        assert np.array_equal(a.mesh.faces, b.mesh.faces)


def test_through_hole_counts_of_simple_parts():
    for part in parts_of("flat_washer", range(5)):
        assert genus(part.mesh) == 1
    for part in parts_of("hex_nut", range(5)):
        assert genus(part.mesh) == 1
    for part in parts_of("mounting_plate", range(10)):
        assert genus(part.mesh) == part.parameters["holes"]
    kinds = set()
    for part in parts_of("pipe_flange", range(20)):
        p = part.parameters
        bore = 0 if p["type"] == "blind" else 1
        assert genus(part.mesh) == p["bolt_holes"] + bore
        kinds.add(p["type"])
    assert {"weld neck", "blind"} <= kinds
    for part in parts_of("pipe_tee", range(3)):
        assert genus(part.mesh) == 2


def test_hex_nuts_follow_iso_4032():
    for part in parts_of("hex_nut"):
        p = part.parameters
        s, m = ISO_4032_NUTS[p["diameter"]]
        assert p["across_flats"] == s
        assert p["thread"] == f"M{p['diameter']}"
        across = sorted(part.mesh.extents[:2])[0]
        assert across == pytest.approx(s, abs=0.05)
        if p["type"] == "regular":
            assert p["height"] == m
            assert part.mesh.extents[2] == pytest.approx(m, abs=0.05)


def test_washers_and_bolts_follow_iso():
    for part in parts_of("flat_washer"):
        p = part.parameters
        d1, d2, h = ISO_7089_WASHERS[int(p["bolt_size"][1:])]
        assert p["inner_diameter"] == d1
        if p["outer_diameter"] == d2:
            assert p["thickness"] == h
        assert part.mesh.extents.max() == pytest.approx(p["outer_diameter"], rel=0.01)
    for part in parts_of("hex_bolt"):
        p = part.parameters
        assert p["head_across_flats"] == ISO_4032_NUTS[p["diameter"]][0]
        assert p["length"] in (
            6,
            8,
            10,
            12,
            16,
            20,
            25,
            30,
            35,
            40,
            45,
            50,
            55,
            60,
            65,
            70,
            80,
            90,
            100,
            110,
            120,
            130,
            140,
            150,
            160,
        )
        assert part.mesh.extents[2] == pytest.approx(p["length"] + p["head_height"], abs=0.05)


def test_bearings_gears_flanges_pipes_use_real_series():
    for part in parts_of("ball_bearing"):
        p = part.parameters
        if p["designation"] in BEARINGS:
            assert (p["bore"], p["outside_diameter"], p["width"]) == BEARINGS[p["designation"]]
        assert part.mesh.extents[0] == pytest.approx(p["outside_diameter"], rel=0.01)
    for part in parts_of("spur_gear"):
        p = part.parameters
        assert p["module"] in (0.5, 0.8, 1, 1.25, 1.5, 2, 2.5, 3, 4)
        assert p["tip_diameter"] == pytest.approx(p["module"] * (p["teeth"] + 2))
        assert part.mesh.extents[:2].max() == pytest.approx(p["tip_diameter"], rel=0.02)
    for part in parts_of("pipe_flange"):
        p = part.parameters
        if p["nominal_diameter"] in PN16_BOLT_CIRCLES:
            pcd, bolts = PN16_BOLT_CIRCLES[p["nominal_diameter"]]
            assert (p["bolt_circle"], p["bolt_holes"]) == (pcd, bolts)
    for part in parts_of("straight_pipe"):
        p = part.parameters
        if p["nominal_diameter"] == 50:
            assert p["outer_diameter"] == 60.3
        assert sorted(part.mesh.extents)[0] == pytest.approx(p["outer_diameter"], rel=0.01)


# --------------------------------------------------------------------------- generation


@pytest.fixture(scope="module")
def catalog_dir(tmp_path_factory) -> Path:
    """A generated catalog of N_PARTS parts, seed 1."""
    out = tmp_path_factory.mktemp("catalog")
    generate_catalog(out, n=N_PARTS, seed=1)
    return out


def test_catalog_manifest_and_files(catalog_dir):
    records = load_manifest(catalog_dir)
    assert len(records) == N_PARTS
    assert load_manifest(catalog_dir / "manifest.jsonl") == records
    assert len({r["category"] for r in records}) >= 20
    assert len({r["part_id"] for r in records}) == N_PARTS
    for r in records:
        assert tuple(r) == MANIFEST_KEYS
        assert PART_ID.match(r["part_id"])
        assert r["file"] == f"parts/{r['part_id']}.stl"
        assert r["units"] == "mm"
        assert r["description"] == r["descriptions"][0] and len(r["descriptions"]) >= 3
        assert r["family"] in FAMILIES and FAMILIES[r["family"]].category == r["category"]
    for r in records[:: max(1, N_PARTS // 25)]:
        mesh = trimesh.load(catalog_dir / r["file"], force="mesh")
        assert len(mesh.faces) > 0 and mesh.is_watertight


def test_catalog_is_byte_identical_for_the_same_seed(catalog_dir, tmp_path):
    again = tmp_path / "again"
    generate_catalog(again, n=N_PARTS, seed=1)
    assert (again / "manifest.jsonl").read_bytes() == (catalog_dir / "manifest.jsonl").read_bytes()
    files = sorted(p.relative_to(catalog_dir) for p in (catalog_dir / "parts").iterdir())
    assert files == sorted(p.relative_to(again) for p in (again / "parts").iterdir())
    for rel in files:
        assert (again / rel).read_bytes() == (catalog_dir / rel).read_bytes(), rel


def test_other_seed_gives_another_catalog(catalog_dir, tmp_path):
    other = generate_catalog(tmp_path, n=30, seed=2)
    first = load_manifest(catalog_dir)[:30]
    assert [r["name"] for r in other] != [r["name"] for r in first]
    other_bytes = (tmp_path / "manifest.jsonl").read_bytes()
    assert other_bytes != (catalog_dir / "manifest.jsonl").read_bytes()


@pytest.mark.parametrize("seed", [0, 1, 5, 123])
@pytest.mark.parametrize("n", [20, 21, 25, 40])
def test_any_n_from_20_covers_20_categories(n, seed):
    assert len({f.category for f in family_schedule(n, seed)}) >= 20


def test_family_subset_and_formats(tmp_path):
    records = generate_catalog(tmp_path / "sub", n=6, seed=3, families=["hex_nut", "o_ring"])
    assert {r["family"] for r in records} == {"hex_nut", "o_ring"}
    for fmt in MESH_FORMATS:
        out = tmp_path / fmt
        [record] = generate_catalog(out, n=1, seed=0, mesh_format=fmt, families=["flat_washer"])
        assert record["file"].endswith(f".{fmt}")
        mesh = trimesh.load(out / record["file"], force="mesh")
        assert mesh.is_watertight and genus(mesh) == 1
    with pytest.raises(KeyError):
        generate_catalog(tmp_path / "bad", n=1, seed=0, families=["no_such_part"])
    with pytest.raises(ValueError):
        generate_catalog(tmp_path / "bad", n=1, seed=0, mesh_format="dxf")


# --------------------------------------------------------------------------- contact sheet


def test_contact_sheet_writes_a_labelled_png(tmp_path):
    pytest.importorskip("pyvista")
    from PIL import Image

    from data_jobs.catalog.preview import LABEL_LINES, LINE_HEIGHT, PAD, contact_sheet

    catalog = tmp_path / "catalog"
    generate_catalog(catalog, n=10, seed=4)
    out = contact_sheet(catalog, tmp_path / "sheet.png", columns=4, thumb=96)
    assert out == tmp_path / "sheet.png" and out.exists()
    image = np.asarray(Image.open(out).convert("RGB"))
    band = LABEL_LINES * LINE_HEIGHT + PAD
    assert image.shape == (3 * (96 + band), 4 * 96, 3)
    first = image[:96, :96].astype(int)
    assert (np.abs(first - 255).sum(axis=2) > 30).mean() > 0.03  # a part was drawn
    label = image[96 : 96 + band, :96]
    assert (label < 128).any()  # text under the thumbnail
