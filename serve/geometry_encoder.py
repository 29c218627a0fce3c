"""GeometryEncoder deployment: the bundle's point-cloud encoder, dynamically batched."""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np
from ray import serve

from serve.replica import apply_batching, set_torch_threads


@serve.deployment(name="GeometryEncoder", max_ongoing_requests=64)
class GeometryEncoder:
    """Point clouds (num_points, 3), normalized to the unit sphere -> unit vectors (n, D)."""

    def __init__(self, bundle: str, device: str = "cpu", torch_threads: int = 1):
        from encoders.bundle import load_bundle

        set_torch_threads(torch_threads)
        self.bundle = load_bundle(bundle)
        self.device = device
        self.model = self.bundle.load_geometry_encoder(device)
        self.batching: dict[str, Any] = {}

    def reconfigure(self, user_config: dict[str, Any]) -> None:
        self.batching = apply_batching(self._encode_batch, user_config)

    async def encode(self, clouds: list[np.ndarray]) -> np.ndarray:
        """(n, D) float32 unit vectors of (num_points, 3) clouds."""
        check_clouds(clouds, self.bundle.num_points)
        if not clouds:
            return np.zeros((0, self.bundle.embed_dim), dtype=np.float32)
        return np.stack(await asyncio.gather(*(self._encode_batch(c) for c in clouds)))

    @serve.batch(max_batch_size=16, batch_wait_timeout_s=0.005)
    async def _encode_batch(self, clouds: list[np.ndarray]) -> list[np.ndarray]:
        return list(await asyncio.to_thread(encode_clouds, self.model, clouds, self.device))

    def info(self) -> dict[str, Any]:
        return {"bundle_id": self.bundle.id, "dim": self.bundle.embed_dim, **self.batching}


def check_clouds(clouds: list[np.ndarray], num_points: int) -> None:
    """Raise ValueError naming the first cloud that is not (num_points, 3)."""
    shape = (num_points, 3)
    for index, cloud in enumerate(clouds):
        if np.shape(cloud) != shape:
            raise ValueError(f"cloud {index} has shape {np.shape(cloud)}, expected {shape}")


def encode_clouds(model, clouds: list[np.ndarray], device: str) -> np.ndarray:
    """(n, D) unit vectors of n checked clouds in one batch (the GeometryEncoder's, and the
    PartPreparer's while it stands in)."""
    from encoders.point_encoders import encode_points

    stacked = np.stack([np.asarray(c, dtype=np.float32) for c in clouds])
    return encode_points(model, stacked, len(clouds), device)
