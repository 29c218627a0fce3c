"""Vectorized binary-STL reading straight from bytes."""

from __future__ import annotations

import numpy as np

from .errors import UnreadableMeshError

# one binary STL record: normal, three vertices, attribute byte count (50 bytes, little endian)
STL_RECORD = np.dtype([("normal", "<f4", (3,)), ("vertices", "<f4", (3, 3)), ("attributes", "<u2")])
HEADER_BYTES = 84


def is_binary_stl(data: bytes) -> bool:
    """True when the byte length matches the triangle count in the header exactly."""
    if len(data) < HEADER_BYTES:
        return False
    count = int.from_bytes(data[80:84], "little")
    return len(data) == HEADER_BYTES + count * STL_RECORD.itemsize


def read_binary_stl(data: bytes) -> np.ndarray:
    """Triangles of a binary STL file.

    data : the whole file
    Returns triangles : (count, 3, 3) float32, a view into ``data`` where possible.
    Raises UnreadableMeshError when the file is shorter than its header says.
    """
    if len(data) < HEADER_BYTES:
        raise UnreadableMeshError(f"binary STL shorter than its 84-byte header ({len(data)} bytes)")
    count = int.from_bytes(data[80:84], "little")
    needed = HEADER_BYTES + count * STL_RECORD.itemsize
    if len(data) < needed:
        raise UnreadableMeshError(
            f"binary STL truncated: header says {count} triangles ({needed} bytes), "
            f"file has {len(data)} bytes"
        )
    records = np.frombuffer(data, dtype=STL_RECORD, count=count, offset=HEADER_BYTES)
    return records["vertices"]


def triangles_to_indexed(triangles: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Merge bitwise-identical corners of a triangle soup into an indexed mesh.

    triangles : (count, 3, 3) float
    Returns vertices : (v, 3) float64, faces : (count, 3) int64
    """
    corners = np.ascontiguousarray(triangles, dtype=np.float32).reshape(-1, 3)
    # view each xyz row as one opaque 12-byte key: exact-duplicate merge without float compares
    keys = corners.view(np.dtype((np.void, corners.dtype.itemsize * 3))).ravel()
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    vertices = corners[first].astype(np.float64)
    faces = inverse.reshape(-1, 3).astype(np.int64)
    return vertices, faces
