"""Every supported format loads to the same geometry; scenes flatten with their transforms."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh

from encoders.geometry.errors import UnsupportedFormatError
from encoders.geometry.loaders import SUPPORTED_EXTENSIONS, load_mesh, unit_scale
from encoders.geometry.prepare import read_part
from tests.conftest import make_step_file

MESH_FORMATS = ["stl", "obj", "ply", "off", "glb", "3mf"]


def _bounds(mesh: trimesh.Trimesh) -> np.ndarray:
    return np.vstack([mesh.vertices.min(axis=0), mesh.vertices.max(axis=0)])


@pytest.mark.parametrize("fmt", MESH_FORMATS)
def test_each_format_loads_same_geometry(tmp_path, box_mesh, fmt):
    path = tmp_path / f"part.{fmt}"
    box_mesh.export(path)
    loaded = load_mesh(path)
    part, _ = read_part(path)
    assert len(part.mesh.faces) == len(box_mesh.faces)
    np.testing.assert_allclose(_bounds(loaded), box_mesh.bounds, atol=1e-4)
    np.testing.assert_allclose(part.bbox.sorted_extents, (40, 20, 10), atol=1e-4)


@pytest.mark.parametrize("fmt", MESH_FORMATS)
def test_each_format_loads_from_bytes(box_mesh, fmt):
    data = box_mesh.export(file_type=fmt)
    data = data.encode() if isinstance(data, str) else data
    mesh = load_mesh(data, fmt)
    np.testing.assert_allclose(_bounds(mesh), box_mesh.bounds, atol=1e-4)


def test_ascii_and_binary_stl_agree(tmp_path, washer_mesh):
    (tmp_path / "a.stl").write_bytes(trimesh.exchange.stl.export_stl_ascii(washer_mesh).encode())
    (tmp_path / "b.stl").write_bytes(trimesh.exchange.stl.export_stl(washer_mesh))
    ascii_part, _ = read_part(tmp_path / "a.stl")
    binary_part, _ = read_part(tmp_path / "b.stl")
    assert len(ascii_part.mesh.faces) == len(binary_part.mesh.faces) == len(washer_mesh.faces)
    assert ascii_part.mesh.is_watertight and binary_part.mesh.is_watertight
    np.testing.assert_allclose(ascii_part.bbox.min, binary_part.bbox.min, atol=1e-5)


def test_gltf_with_external_buffer(tmp_path, box_mesh):
    files = trimesh.Scene(box_mesh).export(file_type="gltf")
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    assert any(name.endswith(".bin") for name in files)  # the buffer really lives beside it
    mesh = load_mesh(tmp_path / "model.gltf")
    np.testing.assert_allclose(_bounds(mesh), box_mesh.bounds, atol=1e-4)


def test_scene_is_flattened_with_transforms(tmp_path):
    scene = trimesh.Scene()
    cube = trimesh.creation.box(extents=(1, 1, 1))
    scene.add_geometry(
        cube, node_name="a", transform=trimesh.transformations.translation_matrix((10, 0, 0))
    )
    scene.add_geometry(
        cube, node_name="b", transform=trimesh.transformations.translation_matrix((-10, 0, 0))
    )
    path = tmp_path / "assembly.glb"
    scene.export(path)
    mesh = load_mesh(path)
    assert len(mesh.faces) == 24
    np.testing.assert_allclose(mesh.bounds, [[-10.5, -0.5, -0.5], [10.5, 0.5, 0.5]], atol=1e-5)


@pytest.mark.step
@pytest.mark.parametrize("kind,suffix", [("step", "step"), ("step", "stp"), ("iges", "igs")])
def test_brep_formats_tessellate_watertight(tmp_path, kind, suffix):
    pytest.importorskip("OCP")
    path = tmp_path / f"plate.{suffix}"
    make_step_file(path, kind)
    part, _ = read_part(path)
    np.testing.assert_allclose(part.bbox.sorted_extents, (40, 30, 10), atol=1e-3)
    assert part.mesh.is_watertight
    # one through hole: Euler characteristic 0 for a single genus-1 body
    assert part.mesh.euler_number == 0


@pytest.mark.step
def test_step_from_bytes_and_tolerance(tmp_path):
    pytest.importorskip("OCP")
    path = tmp_path / "plate.step"
    make_step_file(path)
    coarse = load_mesh(path.read_bytes(), "step", linear_tolerance=0.05)
    fine = load_mesh(path.read_bytes(), "step", linear_tolerance=0.001, angular_tolerance=0.1)
    assert len(fine.faces) > len(coarse.faces)


def test_unsupported_extension_names_the_type(tmp_path):
    path = tmp_path / "part.dwg"
    path.write_bytes(b"AC1032 not really")
    with pytest.raises(UnsupportedFormatError, match="'dwg'"):
        load_mesh(path)
    with pytest.raises(UnsupportedFormatError, match="no file extension"):
        load_mesh("part")
    assert "step" in SUPPORTED_EXTENSIONS and "3mf" in SUPPORTED_EXTENSIONS


@pytest.mark.parametrize(
    "metadata,scale",
    [(None, 1.0), ({"units": "in"}, 25.4), ({"units": "cm"}, 10.0), ({"scale": 2.54}, 2.54)],
)
def test_units_from_metadata(tmp_path, box_mesh, metadata, scale):
    path = tmp_path / "part.stl"
    box_mesh.export(path)
    part, _ = read_part(path, metadata=metadata)
    np.testing.assert_allclose(part.bbox.sorted_extents, np.array([40, 20, 10]) * scale, rtol=1e-6)
    assert unit_scale(metadata) == scale
