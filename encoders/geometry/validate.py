"""Validate and clean a loaded mesh: typed errors for what is fatal, repair for what is not."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import trimesh

from .errors import (
    CoordinateRangeError,
    EmptyMeshError,
    NonFiniteError,
    TooManyFacesError,
    UnreadableMeshError,
    ZeroExtentError,
)

# larger coordinates (file units) are refused: merging vertices hashes them at 1e-8 as int64,
# which overflows near 9e10, and float sums overflow long before 1e308
MAX_COORDINATE = 1e9
# a bounding box diagonal at or below this is degenerate (mesh.min_extent's default); a query
# cloud's extent too: below ~1e-154 its squares underflow and normalizing gives no cloud
MIN_EXTENT = 1e-9


@dataclass(frozen=True)
class CleanReport:
    """What cleaning changed."""

    degenerate_faces: int  # zero-area faces (repeated or collinear corners) dropped
    duplicate_faces: int  # faces with the same three vertices as an earlier one dropped
    merged_vertices: int  # coincident vertices merged


def validate_mesh(
    mesh: trimesh.Trimesh,
    *,
    max_faces: int | None = None,
    min_extent: float = MIN_EXTENT,
    max_coordinate: float = MAX_COORDINATE,
    source: str | None = None,
) -> tuple[trimesh.Trimesh, CleanReport]:
    """Check a mesh and return a cleaned copy.

    Fatal (raised): no faces, vertices or faces not (n, 3), non-finite coordinates or any beyond
    ``max_coordinate``, more than ``max_faces`` faces, a bounding box diagonal at or below
    ``min_extent``. Cleaned: coincident vertices merged, degenerate and duplicate faces dropped,
    unreferenced vertices removed.
    """
    vertices = np.asarray(mesh.vertices, dtype=np.float64)
    faces = np.asarray(mesh.faces, dtype=np.int64)
    if len(faces) == 0 or len(vertices) == 0:
        raise EmptyMeshError("the mesh has no triangles", source=source)
    if vertices.ndim != 2 or vertices.shape[1] != 3 or faces.ndim != 2 or faces.shape[1] != 3:
        # a parser that read a malformed line (OBJ's "v 1 2") leaves the wrong number of columns
        raise UnreadableMeshError(
            f"vertices and faces must be (n, 3) arrays, got {vertices.shape} and {faces.shape}",
            source=source,
        )
    if max_faces is not None and len(faces) > max_faces:
        raise TooManyFacesError(
            f"the mesh has {len(faces):,} faces, over the limit of {max_faces:,}", source=source
        )
    if faces.min() < 0 or faces.max() >= len(vertices):
        raise EmptyMeshError("faces index vertices that do not exist", source=source)
    used = np.unique(faces)
    finite = np.isfinite(vertices[used]).all(axis=1)
    if not finite.all():
        bad = int((~finite).sum())
        raise NonFiniteError(
            f"{bad} of {len(used)} vertices have NaN or infinite coordinates", source=source
        )
    largest = float(np.abs(vertices[used]).max())
    if largest > max_coordinate:
        raise CoordinateRangeError(
            f"a vertex coordinate of magnitude {largest:.3g} is beyond {max_coordinate:g} "
            "(file units)",
            source=source,
        )

    diagonal = float(np.linalg.norm(np.ptp(vertices[used], axis=0)))
    if diagonal <= min_extent:
        raise ZeroExtentError(
            f"the mesh has no extent (bounding box diagonal {diagonal:.3g})", source=source
        )

    cleaned = trimesh.Trimesh(vertices, faces, process=False)
    before_vertices = len(np.unique(faces))
    cleaned.merge_vertices(merge_tex=True, merge_norm=True)
    merged = before_vertices - len(cleaned.vertices)
    keep = cleaned.nondegenerate_faces()
    degenerate = int((~keep).sum())
    cleaned.update_faces(keep)
    unique = cleaned.unique_faces()
    duplicate = int(len(cleaned.faces) - unique.sum())
    cleaned.update_faces(unique)
    cleaned.remove_unreferenced_vertices()
    if len(cleaned.faces) == 0:
        raise EmptyMeshError("no triangles left after dropping degenerate faces", source=source)

    return cleaned, CleanReport(degenerate, duplicate, max(merged, 0))
