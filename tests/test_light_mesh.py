"""The light GLB of the page's 3D viewer: a byte budget, real size in mm, decimation fallbacks."""

from __future__ import annotations

import io

import numpy as np
import pytest
import trimesh
from shapely.geometry import Point

from encoders.geometry.light_mesh import LightMeshError, cluster_vertices, light_mesh_glb
from encoders.geometry.normalize import normalize_mesh
from encoders.geometry.prepare import prepare_part
from encoders.parts.prepare import light_mesh


def load_glb(data: bytes) -> trimesh.Trimesh:
    return trimesh.load(io.BytesIO(data), file_type="glb", force="mesh")


def test_small_part_is_kept_whole_in_mm_at_its_position():
    box = trimesh.creation.box(extents=(40.0, 12.0, 3.0))
    box.apply_translation((100.0, -5.0, 7.0))
    part = normalize_mesh(box, 1.0)
    data = light_mesh_glb(part, 200_000)
    back = load_glb(data)
    assert data[:4] == b"glTF" and len(back.faces) == 12
    np.testing.assert_allclose(back.bounds, box.bounds, atol=1e-4)  # mm, not the unit sphere


def test_large_part_is_decimated_into_the_budget():
    torus = trimesh.creation.torus(50.0, 10.0, major_sections=300, minor_sections=150)  # 90k
    part = normalize_mesh(torus, 1.0)
    data = light_mesh_glb(part, 100_000)
    back = load_glb(data)
    assert len(data) <= 100_000 and 2_000 < len(back.faces) < len(torus.faces)
    np.testing.assert_allclose(back.extents, torus.extents, rtol=0.01)


def test_coarse_mesh_the_quadric_pass_cannot_reduce_is_clustered():
    # a thin disc whose caps are fans of long slivers: the quadric decimator keeps every face
    disc = trimesh.creation.extrude_polygon(Point(0, 0).buffer(30.0, resolution=1000), 5.0)
    assert len(disc.simplify_quadric_decimation(face_count=4_000).faces) == len(disc.faces)
    part = normalize_mesh(disc, 1.0)
    data = light_mesh_glb(part, 100_000)
    back = load_glb(data)
    assert len(data) <= 100_000 and len(back.faces) > 2_000
    np.testing.assert_allclose(back.extents, disc.extents, rtol=0.06)


def test_cluster_vertices_drops_collapsed_faces():
    sphere = trimesh.creation.icosphere(subdivisions=5, radius=10.0)  # 20480 faces
    coarse = cluster_vertices(sphere, 2_000)
    assert 1_000 < len(coarse.faces) < 4_000
    a, b, c = coarse.faces.T
    assert ((a != b) & (b != c) & (a != c)).all()
    assert len(np.unique(np.sort(coarse.faces, axis=1), axis=0)) == len(coarse.faces)


def test_an_impossible_budget_raises_and_the_prepare_stage_keeps_the_part(tmp_path):
    part = normalize_mesh(trimesh.creation.icosphere(subdivisions=4), 1.0)
    with pytest.raises(LightMeshError, match="below a GLB's header"):
        light_mesh_glb(part, 100)

    from cadsearch.settings import load_settings

    path = tmp_path / "ball.stl"
    trimesh.creation.icosphere(subdivisions=4, radius=5.0).export(path)
    prepared = prepare_part(path, "ball", render=False)
    tiny = load_settings("local", render={"glb_max_kb": 0.5})
    assert light_mesh(prepared, tiny, "ball") == b""  # logged; the part is indexed without one
    assert light_mesh(prepared, load_settings("local", render={"glb_max_kb": 0}), "ball") == b""
    assert load_glb(light_mesh(prepared, load_settings("local"), "ball")).faces.shape[0] > 0
