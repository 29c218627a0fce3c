"""Center a part and scale it into the unit sphere, keeping its real bounding box in millimetres."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import trimesh


@dataclass(frozen=True)
class BoundingBox:
    """Axis-aligned bounding box in millimetres.

    min, max : (3,) float
    """

    min: tuple[float, float, float]
    max: tuple[float, float, float]

    @classmethod
    def of(cls, vertices: np.ndarray) -> BoundingBox:
        """The box of vertices : (n, 3) float."""
        lo, hi = np.min(vertices, axis=0), np.max(vertices, axis=0)
        return cls(tuple(float(v) for v in lo), tuple(float(v) for v in hi))

    @property
    def extents(self) -> tuple[float, float, float]:
        """Size along x, y, z."""
        return tuple(float(b - a) for a, b in zip(self.min, self.max, strict=True))

    @property
    def sorted_extents(self) -> tuple[float, float, float]:
        """Sizes from largest to smallest: orientation-free, for size filters."""
        return tuple(sorted(self.extents, reverse=True))

    @property
    def diagonal(self) -> float:
        return float(np.linalg.norm(self.extents))

    def to_payload(self) -> dict:
        """The fields a stored part carries (rounded to a micrometre)."""
        return {
            "bbox_min": [round(v, 3) for v in self.min],
            "bbox_max": [round(v, 3) for v in self.max],
            "extents": [round(v, 3) for v in self.sorted_extents],
        }


@dataclass(frozen=True)
class NormalizedMesh:
    """A part centered at the origin and scaled into the unit sphere.

    mesh : the normalized mesh (max vertex norm 1)
    center : (3,) float, the bounding-box center in millimetres
    scale : millimetres per normalized unit (the radius of the part's bounding sphere about center)
    bbox : the part's real bounding box in millimetres
    """

    mesh: trimesh.Trimesh
    center: np.ndarray
    scale: float
    bbox: BoundingBox

    def to_mm(self, points: np.ndarray) -> np.ndarray:
        """Map normalized points : (n, 3) back to millimetres."""
        return np.asarray(points) * self.scale + self.center


def unit_sphere_frame(points: np.ndarray) -> tuple[np.ndarray, float]:
    """The frame that maps points into the unit sphere: ``(center, radius)``.

    points : (n, 3) float; center : (3,) float64, the bounding-box center; radius : the farthest
    point's distance from it (0 when all points coincide)
    """
    points = np.asarray(points, dtype=np.float64)
    center = (points.min(axis=0) + points.max(axis=0)) / 2.0
    return center, float(np.sqrt(((points - center) ** 2).sum(axis=1).max()))


def to_unit_sphere(points: np.ndarray) -> np.ndarray:
    """Points centered on their bounding-box center, the farthest at radius 1: the one frame of
    index and query geometry (meshes, rendered views, query clouds).

    points : (n, 3) float; returns (n, 3) float64 (coinciding points stay at the origin)
    """
    center, radius = unit_sphere_frame(points)
    centered = np.asarray(points, dtype=np.float64) - center
    return centered / radius if radius > 0 else centered


def normalize_mesh(mesh: trimesh.Trimesh, mm_per_unit: float = 1.0) -> NormalizedMesh:
    """Normalize a validated mesh.

    mm_per_unit : scale of the file's units (1 for millimetres, 25.4 for inches, ...)
    """
    vertices_mm = np.asarray(mesh.vertices, dtype=np.float64) * float(mm_per_unit)
    center, scale = unit_sphere_frame(vertices_mm)
    normalized = trimesh.Trimesh(
        (vertices_mm - center) / scale, np.asarray(mesh.faces), process=False
    )
    return NormalizedMesh(normalized, center, scale, BoundingBox.of(vertices_mm))
