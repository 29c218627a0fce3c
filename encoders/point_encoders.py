"""Registry of geometry encoders: build one by name, describe it as JSON, encode point clouds.

Every encoder maps ``points : (B, N, 3) float`` to ``(B, output_dim)`` L2-normalized vectors in the
CLIP embedding space, and carries ``output_dim`` and a frozen hyper-parameter dataclass ``config``
(``config_class``). ``geometry_config_dict`` and ``build_geometry_encoder`` round-trip through
JSON, which is how model bundles store the architecture next to the weights::

    model = build_geometry_encoder("dgcnn", 512, k=16)
    spec = geometry_config_dict(model)  # {"arch": "dgcnn", "output_dim": 512, "k": 16, ...}
    same = build_geometry_encoder(**json.loads(json.dumps(spec)))
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import torch
from torch import nn

from encoders.dgcnn import DGCNN, DGCNNReference
from encoders.pointnet import PointNet

__all__ = ["GEOMETRY_ARCHS", "build_geometry_encoder", "encode_points", "geometry_config_dict"]

GEOMETRY_ARCHS: dict[str, type[nn.Module]] = {
    "dgcnn": DGCNN,
    "pointnet": PointNet,
    "dgcnn_reference": DGCNNReference,  # same function and weights as "dgcnn", slow; for tests
}


def build_geometry_encoder(arch: str, output_dim: int, **hparams: Any) -> nn.Module:
    """A freshly initialised encoder ``arch`` writing ``output_dim``-dim vectors.

    ``hparams`` are fields of the architecture's config dataclass (lists are accepted for tuple
    fields, as JSON gives them back). Unknown ``arch`` -> ValueError; unknown hparam -> TypeError.
    """
    if arch not in GEOMETRY_ARCHS:
        raise ValueError(f"unknown geometry arch {arch!r}; known: {', '.join(GEOMETRY_ARCHS)}")
    cls = GEOMETRY_ARCHS[arch]
    config_class = cls.config_class
    fields = [f.name for f in dataclasses.fields(config_class)]
    unknown = sorted(set(hparams) - set(fields))
    if unknown:
        raise TypeError(
            f"unknown hyper-parameter(s) {', '.join(unknown)} for geometry arch {arch!r}; "
            f"known: {', '.join(fields)}"
        )
    if isinstance(output_dim, bool) or int(output_dim) != output_dim or output_dim < 1:
        raise ValueError(f"output_dim must be a positive integer, got {output_dim!r}")
    return cls(int(output_dim), config_class(**hparams))


# settings that change memory use or speed but never the function: kept out of saved configs,
# so they do not enter a bundle's id
RUNTIME_FIELDS = frozenset({"knn_chunk"})


def geometry_config_dict(module: nn.Module) -> dict[str, Any]:
    """``{"arch", "output_dim", **hparams}`` of an encoder, JSON-serializable.

    ``build_geometry_encoder(**geometry_config_dict(m))`` rebuilds the same architecture.
    Runtime-only fields (``RUNTIME_FIELDS``) are left out.
    """
    for arch, cls in GEOMETRY_ARCHS.items():
        if type(module) is cls:
            hparams = {k: v for k, v in module.config.to_dict().items() if k not in RUNTIME_FIELDS}
            return {"arch": arch, "output_dim": module.output_dim, **hparams}
    raise TypeError(
        f"{type(module).__name__} is not a registered geometry encoder "
        f"({', '.join(c.__name__ for c in GEOMETRY_ARCHS.values())})"
    )


def encode_points(
    model: nn.Module,
    points: np.ndarray | torch.Tensor,
    batch_size: int = 32,
    device: str | torch.device = "cpu",
) -> np.ndarray:
    """Embeddings of point clouds, in eval mode under ``torch.inference_mode``.

    points : (B, N, 3) or (N, 3) float  ->  (B, D) float32, one L2-normalized row per cloud
    (B = 1 for a single (N, 3) cloud). The model is moved to ``device``; its training flag is
    restored afterwards.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    clouds = torch.as_tensor(np.asarray(points) if not torch.is_tensor(points) else points)
    if clouds.ndim == 2:
        clouds = clouds.unsqueeze(0)
    if clouds.ndim != 3 or clouds.shape[-1] != 3:
        raise ValueError(f"points must be (B, N, 3) or (N, 3), got {tuple(clouds.shape)}")
    if not (clouds.is_floating_point() or clouds.dtype in (torch.int32, torch.int64)):
        raise TypeError(f"points must be numeric coordinates, got {clouds.dtype}")
    if clouds.shape[0] == 0:
        return np.zeros((0, int(model.output_dim)), dtype=np.float32)
    dtype = next(model.parameters()).dtype
    was_training = model.training
    model.to(device).eval()
    try:
        with torch.inference_mode():
            out = [
                model(clouds[i : i + batch_size].to(device=device, dtype=dtype))
                .float()
                .cpu()
                .numpy()
                for i in range(0, clouds.shape[0], batch_size)
            ]
    finally:
        model.train(was_training)
    return np.concatenate(out, axis=0)
