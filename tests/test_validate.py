"""Malformed files give typed errors with clear messages; repairable defects are cleaned."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh

from cadsearch.settings import Settings
from encoders.geometry.errors import (
    EmptyMeshError,
    FileTooLargeError,
    MeshError,
    NonFiniteError,
    TooManyFacesError,
    UnreadableMeshError,
    UnsupportedFormatError,
    ZeroExtentError,
)
from encoders.geometry.prepare import prepare_part, read_part
from encoders.geometry.validate import validate_mesh


def _stl(vertices: np.ndarray, faces: np.ndarray) -> bytes:
    return trimesh.exchange.stl.export_stl(trimesh.Trimesh(vertices, faces, process=False))


def test_truncated_binary_stl(tmp_path, box_mesh):
    data = trimesh.exchange.stl.export_stl(box_mesh)
    path = tmp_path / "cut.stl"
    path.write_bytes(data[: len(data) - 30])
    with pytest.raises(UnreadableMeshError, match="truncated.*12 triangles"):
        read_part(path)


def test_garbage_stl(tmp_path):
    path = tmp_path / "noise.stl"
    path.write_bytes(np.random.default_rng(0).bytes(1000))
    with pytest.raises(UnreadableMeshError) as info:
        read_part(path)
    assert info.value.code == "unreadable" and "noise.stl" in str(info.value)


@pytest.mark.parametrize(
    "fmt,content",
    [
        ("obj", b"v 1 2 3\nf 1 2 9999\n"),
        ("ply", b"ply\nformat ascii 1.0\nelement vertex 3\nend_header\n1 2\n"),
        ("glb", b"glTF\x02\x00\x00\x00garbage"),
        ("off", b"OFF\n3 1 0\n0 0 0\n"),
        ("3mf", b"PK\x03\x04 not a zip"),
    ],
)
def test_broken_files_of_every_format(tmp_path, fmt, content):
    path = tmp_path / f"broken.{fmt}"
    path.write_bytes(content)
    with pytest.raises(MeshError) as info:
        read_part(path)
    assert isinstance(info.value, UnreadableMeshError | EmptyMeshError)
    assert "broken" in str(info.value)


@pytest.mark.parametrize("fmt", ["stl", "obj", "ply", "off", "glb", "3mf"])
def test_empty_files(tmp_path, fmt):
    path = tmp_path / f"empty.{fmt}"
    path.write_bytes(b"")
    with pytest.raises(EmptyMeshError, match="empty"):
        read_part(path)


def test_point_cloud_only_ply_is_empty(tmp_path):
    path = tmp_path / "cloud.ply"
    trimesh.PointCloud(np.random.default_rng(0).random((50, 3))).export(path)
    with pytest.raises(EmptyMeshError, match="no triangles"):
        read_part(path)


def test_nan_coordinates(tmp_path, box_mesh):
    vertices = box_mesh.vertices.copy()
    vertices[3] = np.nan
    path = tmp_path / "nan.stl"
    path.write_bytes(_stl(vertices, box_mesh.faces))
    with pytest.raises(NonFiniteError, match="NaN or infinite"):
        read_part(path)


def test_infinite_coordinates_in_obj(tmp_path):
    path = tmp_path / "inf.obj"
    path.write_text("v 0 0 0\nv 1 0 0\nv inf 1 0\nf 1 2 3\n")
    with pytest.raises(NonFiniteError):
        read_part(path)


def test_zero_extent(tmp_path):
    vertices = np.zeros((3, 3)) + 5.0
    vertices[1, 0] += 1e-12
    vertices[2, 1] += 1e-12
    path = tmp_path / "dot.stl"
    path.write_bytes(_stl(vertices, np.array([[0, 1, 2]])))
    with pytest.raises((ZeroExtentError, EmptyMeshError)):
        read_part(path)
    # a genuinely tiny but real part is fine: the limit is configurable
    with pytest.raises(ZeroExtentError, match="no extent"):
        validate_mesh(trimesh.Trimesh(vertices * 0 + 1, [[0, 1, 2]], process=False), min_extent=0)


def test_all_faces_degenerate_is_empty(tmp_path):
    vertices = np.array([[0, 0, 0], [1, 0, 0], [2, 0, 0]], float)  # collinear
    path = tmp_path / "line.stl"
    path.write_bytes(_stl(vertices, np.array([[0, 1, 2], [0, 1, 2]])))
    with pytest.raises(EmptyMeshError, match="degenerate"):
        read_part(path)


def test_too_many_faces(tmp_path, washer_mesh):
    path = tmp_path / "washer.stl"
    washer_mesh.export(path)
    settings = Settings(mesh={"max_faces": 10})
    with pytest.raises(TooManyFacesError, match=f"{len(washer_mesh.faces)} faces.*limit of 10"):
        read_part(path, settings=settings)


def test_file_too_large_refused_before_reading(tmp_path):
    path = tmp_path / "huge.stl"
    with open(path, "wb") as f:  # sparse 3 MB file: refused on its size alone
        f.truncate(3 * 1024 * 1024)
    settings = Settings(mesh={"max_file_mb": 2})
    with pytest.raises(FileTooLargeError, match="3.0 MB, over the limit of 2 MB"):
        read_part(path, settings=settings)
    with pytest.raises(FileTooLargeError):
        read_part(b"\0" * (3 * 1024 * 1024), "stl", settings=settings)


def test_missing_file_and_unsupported(tmp_path):
    with pytest.raises(UnreadableMeshError, match="no such file"):
        read_part(tmp_path / "missing.stl")
    with pytest.raises(UnsupportedFormatError, match="'xyz'"):
        read_part(b"1 2 3", "xyz")


def test_degenerate_and_duplicate_faces_are_cleaned(box_mesh):
    faces = np.vstack([box_mesh.faces, box_mesh.faces[:3], [[0, 0, 1]]])
    dirty = trimesh.Trimesh(box_mesh.vertices, faces, process=False)
    cleaned, report = validate_mesh(dirty)
    assert len(cleaned.faces) == 12
    assert report.duplicate_faces == 3 and report.degenerate_faces == 1
    assert cleaned.is_watertight


def test_triangle_soup_is_merged_watertight(washer_mesh):
    soup = trimesh.Trimesh(
        washer_mesh.triangles.reshape(-1, 3),
        np.arange(len(washer_mesh.faces) * 3).reshape(-1, 3),
        process=False,
    )
    assert not soup.is_watertight
    cleaned, report = validate_mesh(soup)
    assert cleaned.is_watertight and report.merged_vertices > 0


def test_error_codes_are_stable():
    codes = {
        cls.code
        for cls in (
            UnreadableMeshError,
            UnsupportedFormatError,
            FileTooLargeError,
            EmptyMeshError,
            NonFiniteError,
            ZeroExtentError,
            TooManyFacesError,
        )
    }
    assert len(codes) == 7
    assert issubclass(NonFiniteError, ValueError)


def test_prepare_part_never_half_succeeds(tmp_path, box_mesh):
    vertices = box_mesh.vertices.copy()
    vertices[0, 0] = np.inf
    with pytest.raises(NonFiniteError):
        prepare_part(_stl(vertices, box_mesh.faces), "p1", file_type="stl", render=False)
