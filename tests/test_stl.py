"""The vectorized binary-STL reader agrees with a per-triangle reference and with trimesh."""

from __future__ import annotations

import struct

import numpy as np
import pytest
import trimesh

from encoders.geometry.errors import UnreadableMeshError
from encoders.geometry.stl import is_binary_stl, read_binary_stl, triangles_to_indexed


def read_binary_stl_loop(data: bytes) -> np.ndarray:
    """The original sketch's per-triangle struct loop (the reference)."""
    count = struct.unpack("<I", data[80:84])[0]
    offset, out = 84, []
    for _ in range(count):
        offset += 12
        out.append(
            [struct.unpack("<fff", data[offset + 12 * i : offset + 12 * i + 12]) for i in range(3)]
        )
        offset += 38
    return np.array(out, dtype=np.float32)


def test_matches_loop_and_trimesh(washer_mesh):
    data = trimesh.exchange.stl.export_stl(washer_mesh)
    assert is_binary_stl(data)
    fast = read_binary_stl(data)
    assert fast.shape == (len(washer_mesh.faces), 3, 3) and fast.dtype == np.float32
    np.testing.assert_array_equal(fast, read_binary_stl_loop(data))
    np.testing.assert_allclose(fast, washer_mesh.triangles, atol=1e-5)


def test_indexed_merge_restores_topology(washer_mesh):
    vertices, faces = triangles_to_indexed(
        read_binary_stl(trimesh.exchange.stl.export_stl(washer_mesh))
    )
    assert len(vertices) == len(washer_mesh.vertices)
    mesh = trimesh.Trimesh(vertices, faces, process=False)
    assert mesh.is_watertight and mesh.euler_number == 0


def test_zero_triangles_and_short_files():
    empty = b"\0" * 80 + (0).to_bytes(4, "little")
    assert read_binary_stl(empty).shape == (0, 3, 3)
    with pytest.raises(UnreadableMeshError, match="84-byte header"):
        read_binary_stl(b"tiny")
    with pytest.raises(UnreadableMeshError, match="truncated"):
        read_binary_stl(b"\0" * 80 + (5).to_bytes(4, "little") + b"\0" * 100)


def test_ascii_file_is_not_binary(washer_mesh):
    assert not is_binary_stl(trimesh.exchange.stl.export_stl_ascii(washer_mesh).encode())
