"""Area-weighted uniform sampling of points on a part's surface."""

from __future__ import annotations

import zlib

import numpy as np
import trimesh


def part_seed(base_seed: int, key: str) -> int:
    """A per-part seed from a base seed and the part's stable key (same inputs, same seed)."""
    return (int(base_seed) * 1_000_003 + zlib.crc32(key.encode("utf-8"))) % (2**32)


def sample_points(
    mesh: trimesh.Trimesh, count: int, seed: int = 0, normals: bool = False
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Sample points uniformly by area on the surface of a mesh.

    count : number of points
    seed : the same mesh and seed give the same points
    Returns samples : (count, 3) float32, and with ``normals`` also (count, 3) float32 unit face
    normals of the faces the samples lie on.
    """
    if count <= 0:
        raise ValueError(f"count must be positive, got {count}")
    points, face_index = trimesh.sample.sample_surface(mesh, count, seed=seed)
    points = np.asarray(points, dtype=np.float32)
    if not normals:
        return points
    return points, np.asarray(mesh.face_normals[face_index], dtype=np.float32)
