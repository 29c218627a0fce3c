"""Training augmentations: point clouds (rotation, scale, jitter, point dropout) and views."""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image


@dataclass(frozen=True)
class PointAugment:
    """Random rigid and small non-rigid changes of a normalized point cloud.

    rotate_z : full turns about +Z (parts have no canonical azimuth)
    tilt_deg : a tilt of up to this many degrees about a random horizontal axis
    scale : anisotropic scale in [1 - scale, 1 + scale] per axis
    jitter : gaussian noise sigma (clipped at 3 sigma), in the unit-sphere frame
    dropout : up to this fraction of the points replaced by duplicates of the kept ones
    """

    rotate_z: bool = True
    tilt_deg: float = 15.0
    scale: float = 0.1
    jitter: float = 0.005
    dropout: float = 0.2

    def __call__(self, points: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
        """(M, 3) stored points -> (n, 3) float32 augmented sample."""
        chosen = points[rng.choice(len(points), size=n, replace=len(points) < n)]
        if self.dropout > 0:
            drop = int(rng.uniform(0, self.dropout) * n)
            if drop:
                keep = rng.permutation(n)
                chosen[keep[:drop]] = chosen[rng.choice(keep[drop:], size=drop)]
        rotation = np.eye(3)
        if self.rotate_z:
            a = rng.uniform(0, 2 * np.pi)
            rotation = np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]])
        if self.tilt_deg > 0:
            axis_angle = rng.uniform(0, 2 * np.pi)
            axis = np.array([np.cos(axis_angle), np.sin(axis_angle), 0.0])
            rotation = (
                _axis_rotation(axis, np.radians(rng.uniform(-1, 1) * self.tilt_deg)) @ rotation
            )
        out = chosen @ rotation.T
        if self.scale > 0:
            out = out * rng.uniform(1 - self.scale, 1 + self.scale, size=3)
        if self.jitter > 0:
            noise = np.clip(
                rng.normal(0, self.jitter, size=out.shape), -3 * self.jitter, 3 * self.jitter
            )
            out = out + noise
        return out.astype(np.float32)


def _axis_rotation(axis: np.ndarray, angle: float) -> np.ndarray:
    """Rodrigues' rotation matrix about a unit axis."""
    k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    return np.eye(3) + np.sin(angle) * k + (1 - np.cos(angle)) * (k @ k)


class ViewAugment:
    """A rendered view -> a tensor for the image tower: random resized crop, flip, colour jitter,
    grayscale, and the bundle's own normalization (so training sees what inference sees)."""

    def __init__(self, preprocess_cfg: dict, strength: float = 1.0):
        from torchvision.transforms import v2 as T

        size = preprocess_cfg["size"]
        size = size if isinstance(size, int) else int(size[0])
        self.eval_transform = T.Compose(
            [
                T.ToImage(),
                T.Resize(size, antialias=True),
                T.CenterCrop(size),
                T.ToDtype(torch.float32, scale=True),
                T.Normalize(preprocess_cfg["mean"], preprocess_cfg["std"]),
            ]
        )
        self.train_transform = T.Compose(
            [
                T.ToImage(),
                T.RandomResizedCrop(size, scale=(0.6, 1.0), ratio=(0.85, 1.18), antialias=True),
                T.RandomHorizontalFlip(),
                T.RandomApply(
                    [T.ColorJitter(0.4 * strength, 0.4 * strength, 0.4 * strength, 0.1)], p=0.8
                ),
                T.RandomGrayscale(p=0.2),
                T.ToDtype(torch.float32, scale=True),
                T.Normalize(preprocess_cfg["mean"], preprocess_cfg["std"]),
            ]
        )

    def __call__(self, png: bytes, train: bool = True) -> torch.Tensor:
        image = Image.open(io.BytesIO(png)).convert("RGB")
        return (self.train_transform if train else self.eval_transform)(image)
