"""TextEncoder deployment: the bundle's CLIP text tower only, dynamically batched."""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np
from ray import serve

from serve.replica import apply_batching, set_torch_threads


@serve.deployment(name="TextEncoder", max_ongoing_requests=64)
class TextEncoder:
    """Texts -> unit vectors (n, D). Concurrent requests share forward passes (``@serve.batch``);
    ``max_batch_size`` and ``batch_wait_timeout_s`` come from the user_config."""

    def __init__(self, bundle: str, device: str = "cpu", torch_threads: int = 1):
        from encoders.bundle import load_bundle

        set_torch_threads(torch_threads)
        self.bundle = load_bundle(bundle)
        self.clip = self.bundle.load_clip(device, text_only=True, torch_threads=torch_threads)
        self.batching: dict[str, Any] = {}

    def reconfigure(self, user_config: dict[str, Any]) -> None:
        self.batching = apply_batching(self._encode_batch, user_config)

    async def encode(self, texts: list[str]) -> np.ndarray:
        """(n, D) float32 unit vectors; each text joins whatever batch is forming."""
        if not texts:
            return np.zeros((0, self.bundle.embed_dim), dtype=np.float32)
        return np.stack(await asyncio.gather(*(self._encode_batch(t) for t in texts)))

    @serve.batch(max_batch_size=32, batch_wait_timeout_s=0.005)
    async def _encode_batch(self, texts: list[str]) -> list[np.ndarray]:
        return list(await asyncio.to_thread(self.clip.encode_text, texts))

    def info(self) -> dict[str, Any]:
        return {"bundle_id": self.bundle.id, "dim": self.bundle.embed_dim, **self.batching}
