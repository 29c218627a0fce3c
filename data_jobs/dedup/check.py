"""Geometric check of one candidate pair: align two meshes, measure them, label their relation."""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass

import numpy as np
import trimesh
from scipy.spatial import cKDTree

from store.vectors import unit_rows

RELATIONS = ("identical", "identical_within_tolerance", "mirrored", "scaled", "different")
SPIN_RATIO = 0.9  # two principal variances this close: the part turns freely between them
SPIN_STEPS = 72  # turns tried about such an axis (5 degrees)
REFINED = 12  # best starts refined by ICP, of each handedness
OUTLIER = 0.01  # a surface point this far (share of the size) off the other surface is an outlier
SAME_START = 1.0 + 2.0 * np.cos(np.radians(3.0))  # trace of two starts within 3 degrees


@dataclass(frozen=True)
class Tolerances:
    """When two parts count as the same part.

    same_size  : |scale ratio - 1| at most this is the same size (0.001: a micrometre a mm)
    size       : |scale ratio - 1| at most this is the same size within tolerance
    exact      : mean surface distance after alignment, as a share of the size, for "identical"
    shape      : the same share for "the same shape" (re-tessellated, within tolerance)
    outliers   : share of surface points farther than 1% of the size that "the same shape" allows
    extents    : sorted oriented extents, scaled to a's size, agree within this share (checked
                 first: most candidate pairs that are not duplicates stop here, before alignment)
    """

    same_size: float = 0.001
    size: float = 0.02
    exact: float = 0.001
    shape: float = 0.005
    outliers: float = 0.01
    extents: float = 0.03


@dataclass(frozen=True)
class Comparison:
    """What the check found for parts a and b.

    relation     : one of RELATIONS
    scale        : b's size over a's (cube root of the volume ratio; area for open meshes)
    distance     : symmetric mean point-to-surface distance after the best alignment, as a
                   share of a's middle oriented extent (None when the extents already differ)
    outliers     : share of those points farther than 1% of that extent (None likewise)
    mirrored_fit : the best alignment needs a reflection (and a rotation alone does not fit)
    extents_a/b  : sorted oriented extents in mm, largest first
    area_a/b, volume_a/b : mm^2 and mm^3
    """

    relation: str
    scale: float
    distance: float | None
    outliers: float | None
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


def _frame(points: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Centroid (3,), principal axes (3, 3) as rows by decreasing variance, and the variances."""
    center = points.mean(axis=0)
    _, s, vt = np.linalg.svd(points - center, full_matrices=False)
    if np.linalg.det(vt) < 0:  # a right-handed frame: else a "rotation" between frames reflects
        vt[2] *= -1
    return center, vt, s**2 / max(len(points), 1)


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


def _near(variances: np.ndarray, i: int, j: int) -> bool:
    v = np.maximum(variances, 1e-12)
    return min(v[i], v[j]) / max(v[i], v[j]) > SPIN_RATIO


def _spin_axis(variances: np.ndarray) -> int | None:
    """The principal axis the part turns freely about (the other two moments equal), if one."""
    if _near(variances, 0, 1) and _near(variances, 1, 2):
        return None  # all three equal: random rotations instead
    return 2 if _near(variances, 0, 1) else 0 if _near(variances, 1, 2) else None


def _spins(variances: np.ndarray, steps: int, seed: int) -> list[np.ndarray]:
    """Rotations about the principal axes that leave the variances alone: a turn about the odd
    axis when the other two are equal (a bolt, a gear, a spring: their in-plane axes are any
    two), random rotations when all three are, none otherwise."""
    if _near(variances, 0, 1) and _near(variances, 1, 2):
        from scipy.spatial.transform import Rotation

        return list(Rotation.random(8 * steps, random_state=seed).as_matrix())
    axis = _spin_axis(variances)
    if axis is None:
        return [np.eye(3)]
    out = []
    i, j = [k for k in range(3) if k != axis]
    for angle in np.linspace(0.0, 2 * np.pi, steps, endpoint=False):
        m = np.eye(3)
        m[i, i] = m[j, j] = np.cos(angle)
        m[i, j], m[j, i] = -np.sin(angle), np.sin(angle)
        out.append(m)
    return out


def _starts(pa, pb, tree_a, proper: bool, seed: int = 0) -> list[np.ndarray]:
    """Rotations (proper or improper) that put b's points (already centred and scaled) roughly
    onto a's: the symmetries of the principal axes, with turns about an axis of equal moments,
    ranked by a few hundred of b's points; the best few that are not one pose twice."""
    _, axes_a, var_a = _frame(pa)
    _, axes_b, _ = _frame(pb)
    probe = pb[:: max(1, len(pb) // 300)]
    # b's frame onto a's, up to a symmetry: (k, 3, 3), all scored in one tree query
    spins = _spins(var_a, SPIN_STEPS, seed)
    axis = _spin_axis(var_a)
    # a turn about an axis of equal moments covers the symmetries that keep that axis
    flips = [f for f in _cube_rotations(proper) if axis is None or f[axis, axis] != 0]
    rotations = np.stack([axes_a.T @ spin @ flip @ axes_b for flip in flips for spin in spins])
    moved = np.einsum("kij,nj->kni", rotations, probe).reshape(-1, 3)
    scores = tree_a.query(moved, k=1)[0].reshape(len(rotations), -1).mean(axis=1)
    ranked = rotations[np.argsort(scores, kind="stable")]
    starts = [ranked[0]]
    for rotation in ranked[1:]:
        # trace(R K^T) of every kept K at once: 1 + 2 cos(angle between them)
        if (np.einsum("kij,ij->k", np.asarray(starts), rotation) < SAME_START).all():
            starts.append(rotation)
            if len(starts) == REFINED:
                break
    return starts


def _refine(src, target, tree, normals, fit, iterations: int = 15):
    """Point-to-plane ICP from a fit: src (n, 3) slides along the target's surface (dense
    samples (m, 3) with their face normals), which settles where point-to-point ICP stops at
    the sampling's grain. Small rotations applied on the left keep the handedness.
    returns : (mean point-to-plane distance, rotation, translation)"""
    _, rotation, translation = fit
    for _ in range(iterations):
        moved = src @ rotation.T + translation
        _, idx = tree.query(moved, k=1)
        q, n = target[idx], normals[idx]
        residual = np.einsum("ij,ij->i", moved - q, n)
        jacobian = np.hstack([np.cross(moved, n), n])  # d(residual) / (small rotation, shift)
        step = np.linalg.lstsq(jacobian, -residual, rcond=None)[0]
        w = step[:3]
        angle = float(np.linalg.norm(w))
        turn = np.eye(3)
        if angle > 0:
            k = np.array([[0, -w[2], w[1]], [w[2], 0, -w[0]], [-w[1], w[0], 0]]) / angle
            turn = np.eye(3) + np.sin(angle) * k + (1 - np.cos(angle)) * k @ k
        rotation = turn @ rotation
        translation = turn @ translation + step[3:]
        if angle < 1e-6 and np.linalg.norm(step[3:]) < 1e-6 * (1.0 + np.abs(target).max()):
            break
    moved = src @ rotation.T + translation
    _, idx = tree.query(moved, k=1)
    residual = np.abs(np.einsum("ij,ij->i", moved - target[idx], normals[idx]))
    return float(residual.mean()), rotation, translation


def _surface_fit(a, b, pa, pb, ca, cb, scale, fit, size) -> tuple[float, float]:
    """(mean, share of points past 1% of size) of the point-to-surface distances, both ways,
    of b fitted onto a, as shares of ``size``: b's samples against a's surface and a's samples
    against b's moved surface."""
    _, rotation, translation = fit
    surface_a = trimesh.Trimesh(a.vertices - ca, a.faces, process=False)
    moved_b = ((b.vertices - cb) / scale) @ rotation.T + translation
    surface_b = trimesh.Trimesh(moved_b, b.faces, process=False)
    _, d_ba, _ = trimesh.proximity.closest_point(surface_a, pb @ rotation.T + translation)
    _, d_ab, _ = trimesh.proximity.closest_point(surface_b, pa)
    both = np.concatenate([d_ba, d_ab]) / size
    return float(both.mean()), float((both > OUTLIER).mean())


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
    The fit is ICP on surface samples; the distance is then from each mesh's samples to the
    other's surface, both ways, as a share of a's middle oriented extent (a long profile is
    judged by its section, not its length). A local difference (a slot, a notch, a hole)
    barely moves the mean but shows as outliers: points farther than 1% of that size.
    "mirrored" needs a chiral part: the mirror image of a part with a plane of symmetry is
    the part itself, so a reflection that fits it only finds the same part again.
    """
    return _compare(a, b, tolerances, samples, seed, check_chirality=True)


def _mirror_image(mesh: trimesh.Trimesh) -> trimesh.Trimesh:
    out = mesh.copy()
    out.apply_transform(np.diag([-1.0, 1.0, 1.0, 1.0]))  # trimesh re-winds the faces
    return out


def _compare(a, b, tolerances: Tolerances, samples: int, seed: int, check_chirality: bool):
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
        return Comparison(
            relation="different", distance=None, outliers=None, mirrored_fit=False, **facts
        )

    pa = np.asarray(trimesh.sample.sample_surface_even(a, samples, seed=seed)[0])
    pb = np.asarray(trimesh.sample.sample_surface_even(b, samples, seed=seed + 1)[0])
    # a's size: compare shapes with b brought to a's scale about its own centroid
    ca, cb = pa.mean(axis=0), pb.mean(axis=0)
    pa, pb = pa - ca, (pb - cb) / scale
    tree_a = cKDTree(pa)
    dense, faces = trimesh.sample.sample_surface_even(a, 4 * samples, seed=seed + 2)
    dense, normals = np.asarray(dense) - ca, a.face_normals[faces]
    tree_dense = cKDTree(dense)

    def fit(proper: bool) -> tuple:
        src = pb[:: max(1, len(pb) // 500)]  # enough points to settle a pose
        fits = (
            _refine(src, dense, tree_dense, normals, (0.0, start, np.zeros(3)))
            for start in _starts(pa, pb, tree_a, proper=proper)
        )
        return min(fits, key=lambda f: f[0])

    proper_fit, mirror_fit = fit(True), fit(False)
    proper = _surface_fit(a, b, pa, pb, ca, cb, scale, proper_fit, size)

    def same_shape(fit: tuple[float, float]) -> bool:
        return fit[0] <= tolerances.shape and fit[1] <= tolerances.outliers

    # the reflection is measured on the surface only where it may win: the rotation does not
    # fit, or the sampled points fit the reflection at least as well
    mirror = None
    if not same_shape(proper) or mirror_fit[0] <= proper_fit[0]:
        mirror = _surface_fit(a, b, pa, pb, ca, cb, scale, mirror_fit, size)
    # a mirror image: only a reflection fits, or it fits clearly better (a part with a plane
    # of symmetry fits both ways, and is then identical to its mirror image)
    mirrored = (
        mirror is not None
        and same_shape(mirror)
        and (
            not same_shape(proper)
            or (proper[0] > 2 * tolerances.exact and mirror[0] < 0.5 * proper[0])
        )
    )
    if mirrored and check_chirality:
        itself = _compare(a, _mirror_image(a), tolerances, samples, seed, check_chirality=False)
        if itself.relation != "mirrored":  # a is its own mirror image: b is a, however fitted
            mirrored = False
            proper = min(proper, mirror)
    distance, outliers = mirror if mirrored else proper
    off = abs(scale - 1.0)
    if not same_shape((distance, outliers)):
        relation = "different"
    elif mirrored:
        relation = "mirrored"
    elif off > tolerances.size:
        relation = "scaled"
    elif off <= tolerances.same_size and distance <= tolerances.exact and outliers == 0:
        relation = "identical"
    else:
        relation = "identical_within_tolerance"
    return Comparison(
        relation=relation,
        distance=round(distance, 6),
        outliers=round(outliers, 4),
        mirrored_fit=mirrored,
        **facts,
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
    return unit_rows(vec)
