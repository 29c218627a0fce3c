"""A light copy of a part for the web page's 3D viewer: a decimated binary glTF in millimetres."""

from __future__ import annotations

import numpy as np
import trimesh

from .normalize import NormalizedMesh

GLB_MAGIC = b"glTF"
# a GLB of positions (float32) and uint32 indices takes about 18 bytes per face of a closed mesh
# (half as many vertices as faces), plus a few hundred bytes of JSON
BYTES_PER_FACE = 18.5
HEADER_BYTES = 1024
MAX_TRIES = 8  # decimations before giving up on the budget
CLUSTER_TRIES = 8  # grid sizes tried to land a clustering within the face budget
STALLED = 0.97  # a quadric pass that keeps more of the faces than this has stalled


class LightMeshError(ValueError):
    """The part could not be made into a GLB within the byte budget."""


def light_mesh_glb(part: NormalizedMesh, max_bytes: int) -> bytes:
    """The part as a binary glTF (GLB) of at most max_bytes.

    Coordinates are the part's real ones in millimetres (the unit of every size in the index and
    of a GLB upload; glTF's own unit would be the metre), at its real position. Only positions
    and triangle indices are written: no normals, materials or textures (the page computes
    creased normals). A mesh over budget is decimated by quadric error to a face count that fits
    (``fast_simplification`` through trimesh), which keeps its silhouette and bounding box;
    where that stalls (long thin triangles of an already coarse mesh it may not collapse without
    flipping faces), vertices are clustered on a grid instead.

    part : the normalized part (its ``to_mm`` maps it back to millimetres)
    max_bytes : the budget; LightMeshError when it cannot be met
    """
    if max_bytes < HEADER_BYTES:
        raise LightMeshError(f"max_bytes {max_bytes} is below a GLB's header ({HEADER_BYTES})")
    mesh = trimesh.Trimesh(
        vertices=part.to_mm(part.mesh.vertices), faces=part.mesh.faces, process=False
    )
    mesh.merge_vertices()  # a triangle soup (STL) would cost three vertices a face
    data = _export(mesh)
    budget = int((max_bytes - HEADER_BYTES) / BYTES_PER_FACE)
    for _ in range(MAX_TRIES):
        if len(data) <= max_bytes:
            return data
        budget = min(budget, int(len(mesh.faces) * 0.95 * max_bytes / len(data)))
        if budget < 4:
            break
        decimated = mesh.simplify_quadric_decimation(face_count=budget)
        if len(decimated.faces) > STALLED * len(mesh.faces):
            decimated = cluster_vertices(mesh, budget)
        mesh = decimated
        data = _export(mesh)
        budget = int(budget * 0.9)  # if still over, aim lower next time
    if len(data) <= max_bytes:
        return data
    raise LightMeshError(f"the part's GLB is {len(data)} bytes after decimation, over {max_bytes}")


def cluster_vertices(mesh: trimesh.Trimesh, face_count: int) -> trimesh.Trimesh:
    """The mesh with its vertices merged per cell of a cubic grid, coarse enough that at most
    (and, where a few tries find it, at least 0.8 times) face_count faces are left.

    The first cell : sqrt(2 area / face_count), so a closed surface meets about face_count / 2
    cells and keeps two faces per vertex; thin walls and fine detail fall in fewer, so the cell is
    then bisected (on a log scale) towards the budget.
    """
    cell = float(np.sqrt(2.0 * mesh.area / max(face_count, 1)))
    fits = too_fine = None  # the finest cell known to fit, the coarsest known not to
    best = out = None
    for _ in range(CLUSTER_TRIES):
        out = _cluster(mesh, cell)
        if len(out.faces) <= face_count:
            if best is None or len(out.faces) > len(best.faces):
                best = out
            if len(out.faces) >= 0.8 * face_count:
                break
            fits = cell
            cell = np.sqrt(too_fine * fits) if too_fine else cell / 1.5
        else:
            too_fine = cell
            cell = np.sqrt(too_fine * fits) if fits else cell * 1.5
    return best if best is not None else out


def _cluster(mesh: trimesh.Trimesh, cell: float) -> trimesh.Trimesh:
    """Vertices merged per grid cell (of size cell) into their mean; collapsed and repeated
    faces dropped."""
    vertices = np.asarray(mesh.vertices, dtype=np.float64)
    cells = np.floor((vertices - vertices.min(axis=0)) / cell).astype(np.int64)
    _, cluster, counts = np.unique(cells, axis=0, return_inverse=True, return_counts=True)
    cluster = cluster.reshape(-1)
    merged = np.zeros((len(counts), 3))
    np.add.at(merged, cluster, vertices)
    merged /= counts[:, None]
    faces = cluster[np.asarray(mesh.faces)]
    a, b, c = faces.T
    faces = faces[(a != b) & (b != c) & (a != c)]
    _, first = np.unique(np.sort(faces, axis=1), axis=0, return_index=True)
    out = trimesh.Trimesh(merged, faces[np.sort(first)], process=False)
    out.remove_unreferenced_vertices()
    return out


def _export(mesh: trimesh.Trimesh) -> bytes:
    from trimesh.exchange.gltf import export_glb

    return export_glb(trimesh.Scene(mesh), include_normals=False)
