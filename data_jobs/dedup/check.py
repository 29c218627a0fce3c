"""Geometric check of one candidate pair: align two meshes, measure them, label their relation."""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass

import numpy as np
import trimesh
from scipy.spatial import cKDTree

RELATIONS = ("identical", "identical_within_tolerance", "mirrored", "scaled", "different")


@dataclass(frozen=True)
class Tolerances:
    """When two parts count as the same part.

    same_size  : |scale ratio - 1| at most this is the same size (0.001: a micrometre a mm)
    size       : |scale ratio - 1| at most this is the same size within tolerance
    exact      : mean surface distance after alignment, as a share of the size, for "identical"
    shape      : the same share for "the same shape" (re-tessellated, within tolerance)
    extents    : sorted oriented extents, scaled to a's size, agree within this share (checked
                 first: most candidate pairs that are not duplicates stop here, before alignment)
    """

    same_size: float = 0.001
    size: float = 0.02
    exact: float = 0.001
    shape: float = 0.005
    extents: float = 0.03


@dataclass(frozen=True)
class Comparison:
    """What the check found for parts a and b.

    relation     : one of RELATIONS
    scale        : b's size over a's (cube root of the volume ratio; area for open meshes)
    distance     : symmetric mean surface distance after the best alignment, as a share of a's
                   middle oriented extent (None when the extents already differ)
    mirrored_fit : the best alignment needs a reflection (and a rotation alone does not fit)
    extents_a/b  : sorted oriented extents in mm, largest first
    area_a/b, volume_a/b : mm^2 and mm^3
    """

    relation: str
    scale: float
    distance: float | None
    mirrored_fit: bool
    extents_a: tuple[float, float, float]
    extents_b: tuple[float, float, float]
    area_a: float
    area_b: float
    volume_a: float
    volume_b: float

    def as_dict(self) -> dict:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(self).items()}


def oriented_extents(mesh: trimesh.Trimesh) -> tuple[float, float, float]:
    """Sizes of the minimum-volume oriented box, largest first (orientation-free), mm."""
    _, extents = trimesh.bounds.oriented_bounds(mesh)
    return tuple(round(float(e), 4) for e in sorted(extents, reverse=True))


def _frame(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Centroid (3,) and principal axes (3, 3), rows sorted by decreasing variance."""
    center = points.mean(axis=0)
    _, _, vt = np.linalg.svd(points - center, full_matrices=False)
    return center, vt


def _cube_rotations(proper: bool) -> list[np.ndarray]:
    """The 24 rotations of the cube (proper) or their 24 reflections (improper)."""
    out = []
    for perm in itertools.permutations(range(3)):
        for signs in itertools.product((1.0, -1.0), repeat=3):
            m = np.zeros((3, 3))
            m[range(3), perm] = signs
            if (np.linalg.det(m) > 0) == proper:
                out.append(m)
    return out


def _mean_distance(src: np.ndarray, tree: cKDTree) -> float:
    return float(tree.query(src, k=1)[0].mean())


def _best_fit(pa, pb, tree_a, tree_b, proper: bool) -> tuple[float, np.ndarray]:
    """Smallest symmetric mean distance of b's points (already centred and scaled) moved onto
    a's frame by a cube symmetry of the principal axes (proper or improper), refined by ICP."""
    _, axes_a = _frame(pa)
    _, axes_b = _frame(pb)
    scored = []
    for flip in _cube_rotations(proper):
        rotation = axes_a.T @ flip @ axes_b  # b's principal frame onto a's, up to the symmetry
        moved = pb @ rotation.T
        scored.append((_mean_distance(moved, tree_a), rotation))
    scored.sort(key=lambda s: s[0])
    best = (np.inf, np.eye(3))
    for _, rotation in scored[:3]:
        init = np.eye(4)
        init[:3, :3] = rotation
        matrix, moved, _ = trimesh.registration.icp(
            pb, pa, initial=init, max_iterations=30, reflection=not proper, scale=False
        )
        back = (pa - matrix[:3, 3]) @ np.linalg.inv(matrix[:3, :3]).T
        d = 0.5 * (_mean_distance(moved, tree_a) + _mean_distance(back, tree_b))
        if d < best[0]:
            best = (d, matrix)
    return best


def compare_meshes(
    a: trimesh.Trimesh,
    b: trimesh.Trimesh,
    tolerances: Tolerances = Tolerances(),  # noqa: B008 - frozen, shared safely
    samples: int = 1500,
    seed: int = 0,
) -> Comparison:
    """Align b onto a (scale, rotation, optional reflection) and label their relation.

    a, b    : meshes in mm, any pose (orientation and position are ignored)
    samples : surface points per mesh for alignment and distance
    The distance is point-to-nearest-point on dense surface samples, both ways, as a share of
    a's middle oriented extent (a long profile is judged by its section, not its length).
    """
    area_a, area_b = float(a.area), float(b.area)
    vol_a, vol_b = abs(float(a.volume)), abs(float(b.volume))
    closed = a.is_watertight and b.is_watertight and vol_a > 0 and vol_b > 0
    scale = (vol_b / vol_a) ** (1 / 3) if closed else (area_b / max(area_a, 1e-12)) ** 0.5
    ext_a, ext_b = oriented_extents(a), oriented_extents(b)
    size = ext_a[1] or ext_a[0] or 1.0  # the middle extent: a profile's section, not its length
    facts = dict(
        scale=round(scale, 5), extents_a=ext_a, extents_b=ext_b, area_a=round(area_a, 3),
        area_b=round(area_b, 3), volume_a=round(vol_a, 3), volume_b=round(vol_b, 3),
    )  # fmt: skip
    gap = np.abs(np.asarray(ext_b) / scale - np.asarray(ext_a)) / max(ext_a[0], 1e-9)
    if gap.max() > tolerances.extents:
        return Comparison(relation="different", distance=None, mirrored_fit=False, **facts)

    pa = np.asarray(trimesh.sample.sample_surface_even(a, samples, seed=seed)[0])
    pb = np.asarray(trimesh.sample.sample_surface_even(b, samples, seed=seed + 1)[0])
    # a's size: compare shapes with b brought to a's scale about its own centroid
    pa = pa - pa.mean(axis=0)
    pb = (pb - pb.mean(axis=0)) / scale
    tree_a, tree_b = cKDTree(pa), cKDTree(pb)
    d_proper, _ = _best_fit(pa, pb, tree_a, tree_b, proper=True)
    d_mirror, _ = _best_fit(pa, pb, tree_a, tree_b, proper=False)
    # nearest-point distance on samples has a floor from the sampling itself: subtract a's
    # own floor (a against a second sample of a) so identical parts read ~0
    pa2 = np.asarray(trimesh.sample.sample_surface_even(a, samples, seed=seed + 2)[0])
    floor = _mean_distance(pa2 - pa2.mean(axis=0), tree_a)
    d_proper = max(0.0, d_proper - floor) / size
    d_mirror = max(0.0, d_mirror - floor) / size
    # a mirror image: a reflection fits clearly better than any rotation (a part with a plane
    # of symmetry fits both ways, and is then identical to its mirror image)
    mirrored = d_proper > 2 * tolerances.exact and d_mirror < 0.5 * d_proper
    distance = d_mirror if mirrored else d_proper
    off = abs(scale - 1.0)
    if distance > tolerances.shape:
        relation = "different"
    elif mirrored:
        relation = "mirrored"
    elif off > tolerances.size:
        relation = "scaled"
    elif off <= tolerances.same_size and distance <= tolerances.exact:
        relation = "identical"
    else:
        relation = "identical_within_tolerance"
    return Comparison(
        relation=relation, distance=round(distance, 6), mirrored_fit=mirrored, **facts
    )


def shape_signature(mesh: trimesh.Trimesh, bins: int = 32, samples: int = 2048, seed: int = 0):
    """A pose-, scale- and mirror-free unit vector of a shape, for finding candidate pairs.

    The distribution of distances between random surface point pairs (D2, over the mean
    distance), the oriented extents' two ratios and the compactness area / volume^(2/3).
    returns : (bins + 3,) float32, L2-normalized
    """
    points = np.asarray(trimesh.sample.sample_surface_even(mesh, samples, seed=seed)[0])
    rng = np.random.default_rng(seed)
    i, j = rng.integers(len(points), size=(2, 4 * samples))
    d = np.linalg.norm(points[i] - points[j], axis=1)
    hist, _ = np.histogram(d / max(float(d.mean()), 1e-12), bins=bins, range=(0.0, 3.0))
    hist = hist / max(hist.sum(), 1)
    ext = np.asarray(oriented_extents(mesh), dtype=float)
    ratios = ext[1:] / max(ext[0], 1e-12)
    volume = abs(float(mesh.volume)) if mesh.is_watertight else 0.0
    compact = float(mesh.area) / volume ** (2 / 3) / 50.0 if volume > 0 else 0.0
    vec = np.concatenate([np.sqrt(hist), ratios, [min(compact, 1.0)]]).astype(np.float32)
    return vec / max(float(np.linalg.norm(vec)), 1e-12)
