"""Normalization, point sampling and description text: geometric facts, reproducibility."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh

from encoders.geometry.describe import count_through_holes, describe_part, measure_geometry
from encoders.geometry.normalize import normalize_mesh
from encoders.geometry.prepare import prepare_part
from encoders.geometry.sample import part_seed, sample_points


def test_normalize_into_unit_sphere_keeps_real_bbox(box_mesh):
    part = normalize_mesh(box_mesh)
    norms = np.linalg.norm(part.mesh.vertices, axis=1)
    assert norms.max() == pytest.approx(1.0)
    np.testing.assert_allclose(part.mesh.bounds.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(part.bbox.min, (80, -60, 2))
    np.testing.assert_allclose(part.bbox.max, (120, -40, 12))
    assert part.bbox.sorted_extents == (40.0, 20.0, 10.0)
    np.testing.assert_allclose(part.to_mm(part.mesh.vertices), box_mesh.vertices, atol=1e-9)
    payload = part.bbox.to_payload()
    assert payload["extents"] == [40.0, 20.0, 10.0] and payload["bbox_min"] == [80.0, -60.0, 2.0]


def test_normalize_with_units(box_mesh):
    part = normalize_mesh(box_mesh, mm_per_unit=25.4)
    np.testing.assert_allclose(part.bbox.sorted_extents, (1016.0, 508.0, 254.0))
    np.testing.assert_allclose(np.linalg.norm(part.mesh.vertices, axis=1).max(), 1.0)


def test_samples_lie_on_surface(washer_mesh):
    points = sample_points(washer_mesh, 2000, seed=3)
    assert points.shape == (2000, 3) and points.dtype == np.float32
    _, distance, _ = trimesh.proximity.closest_point(washer_mesh, points)
    assert distance.max() < 1e-4 * 16  # float32 rounding of mm coordinates


def test_sampling_is_area_weighted():
    # two unit squares far apart, one subdivided 64x finer: equal area, equal share of samples
    coarse = trimesh.creation.box(extents=(1, 1, 1e-3))
    fine = coarse.copy()
    for _ in range(3):
        fine = fine.subdivide()
    fine.apply_translation((10, 0, 0))
    both = trimesh.util.concatenate([coarse, fine])
    points = sample_points(both, 20000, seed=0)
    share = (points[:, 0] > 5).mean()
    assert share == pytest.approx(0.5, abs=0.02)


def test_sampling_is_reproducible_and_seeded(washer_mesh):
    a = sample_points(washer_mesh, 512, seed=7)
    b = sample_points(washer_mesh, 512, seed=7)
    c = sample_points(washer_mesh, 512, seed=8)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)
    assert part_seed(0, "bolt-1") == part_seed(0, "bolt-1") != part_seed(0, "bolt-2")


def test_sampling_normals(box_mesh):
    points, normals = sample_points(box_mesh, 300, seed=0, normals=True)
    np.testing.assert_allclose(np.linalg.norm(normals, axis=1), 1, atol=1e-6)
    # box face normals are axis aligned and point away from the center
    outward = ((points - box_mesh.bounds.mean(axis=0)) * normals).sum(axis=1)
    assert (outward > 0).all()
    with pytest.raises(ValueError, match="positive"):
        sample_points(box_mesh, 0)


@pytest.mark.parametrize(
    "fixture,holes", [("box_mesh", 0), ("washer_mesh", 1), ("plate_with_holes", 4)]
)
def test_through_holes_from_genus(request, fixture, holes):
    mesh = request.getfixturevalue(fixture)
    assert count_through_holes(mesh) == holes


def test_two_washers_count_two_holes(washer_mesh):
    other = washer_mesh.copy().apply_translation((50, 0, 0))
    assert count_through_holes(trimesh.util.concatenate([washer_mesh, other])) == 2


def test_open_mesh_has_no_hole_count():
    sheet = trimesh.Trimesh([[0, 0, 0], [1, 0, 0], [0, 1, 0]], [[0, 1, 2]])
    assert count_through_holes(sheet) is None


def test_description_from_metadata_and_facts(plate_with_holes):
    facts = measure_geometry(normalize_mesh(plate_with_holes))
    assert facts.extents_mm == pytest.approx((60, 40, 5))
    assert facts.volume_mm3 == pytest.approx(60 * 40 * 5 - 4 * np.pi * 9 * 5, rel=0.02)
    text = describe_part(
        {
            "name": "Mounting plate",
            "description": "Steel mounting plate with four holes",
            "category": "plate",
            "tags": ["steel", "laser cut"],
            "parameters": {"length": 60.0, "width": 40.0, "hole_d": 6.0},
        },
        facts,
    )
    # the name is already in the description, so it is not repeated
    assert text.startswith("Steel mounting plate with four holes. Category: plate.")
    assert "Tags: steel, laser cut." in text
    assert "Parameters: length 60, width 40, hole d 6." in text
    assert "Size 60 x 40 x 5 mm. 4 through holes." in text


def test_description_adds_a_name_it_does_not_contain():
    text = describe_part({"name": "DIN 125 A 8.4", "description": "flat washer for M8"})
    assert text == "flat washer for M8. DIN 125 A 8.4."


def test_description_without_metadata(washer_mesh):
    text = describe_part({}, measure_geometry(normalize_mesh(washer_mesh)))
    assert text == "CAD part. Size 16 x 16 x 1.6 mm. 1 through hole."


def test_prepare_part_end_to_end(tmp_path, plate_with_holes):
    path = tmp_path / "plate.stl"
    plate_with_holes.export(path)
    prepared = prepare_part(path, "plate-1", {"name": "plate", "category": "plate"}, render=False)
    again = prepare_part(path, "plate-1", {"name": "plate", "category": "plate"}, render=False)
    assert prepared.points.shape == (2048, 3)
    assert np.array_equal(prepared.points, again.points)
    assert np.linalg.norm(prepared.points, axis=1).max() <= 1.0 + 1e-6
    assert prepared.facts.through_holes == 4 and prepared.views is None
    assert "4 through holes" in prepared.description
