"""TextEncoder deployment: the bundle's CLIP text tower only, dynamically batched; on CPUs in bf16
where they compute bf16 natively, else on ONNX Runtime when it is installed."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import numpy as np
from ray import serve

from encoders.onnx_towers import apply_runtime
from serve.replica import RUNTIME_KEY, apply_batching, set_torch_threads

log = logging.getLogger(__name__)
PRECISION_KEY = "precision"  # user_config key: "auto" (default), "fp32" or "bf16"
PRECISIONS = ("auto", "fp32", "bf16")


def native_bf16() -> bool:
    """Whether this CPU has bf16 arithmetic (AVX512-BF16 or AMX), so bf16 runs faster than fp32;
    without it bf16 is emulated and slower."""
    import torch

    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(bool(getattr(torch.cpu, name, lambda: False)()) for name in checks)


def text_precision(requested: str, device: str) -> str:
    """The text tower's precision for queries: ``auto`` is bf16 on a CPU with native bf16 (faster
    than fp32 there, with vectors that agree: docs/tuning.md#text-precision), else ClipEncoder's
    ``auto`` (fp32 on CPU, bf16/fp16 on CUDA). Dynamic int8 is not offered: its vectors drift
    too far from fp32's."""
    if requested not in PRECISIONS:
        raise ValueError(f"{PRECISION_KEY} must be one of {PRECISIONS}, got {requested!r}")
    if requested != "auto":
        return requested
    return "bf16" if device.startswith("cpu") and native_bf16() else "auto"


@serve.deployment(name="TextEncoder", max_ongoing_requests=64)
class TextEncoder:
    """Texts -> unit vectors (n, D). Concurrent requests share forward passes (``@serve.batch``);
    ``max_batch_size``, ``batch_wait_timeout_s``, ``precision`` and ``runtime`` come from the
    user_config."""

    def __init__(self, bundle: str, device: str = "cpu", torch_threads: int = 1):
        from encoders.bundle import load_bundle

        set_torch_threads(torch_threads)
        self.device = device
        self.bundle = load_bundle(bundle)
        self.clip = self.bundle.load_clip(device, text_only=True, torch_threads=torch_threads)
        self.torch_threads = torch_threads
        self.batching: dict[str, Any] = {}
        self._configure("auto", "auto", warm_up=True)

    def _configure(self, requested: str, runtime: str, warm_up: bool) -> None:
        """The precision, then the runtime it resolves with (bf16 runs on torch), then, when
        either changed, one pass on what queries will run: the first bf16 pass builds its
        kernels here, not in a user's query. bf16 chosen by ``auto`` that fails falls back to
        ClipEncoder's own ``auto`` (fp32 on a CPU) and its runtime."""
        precision = text_precision(requested, self.device)
        changed = warm_up or precision != self.clip.precision
        self.clip.precision = precision
        before = self.clip.runtime["text"]
        if apply_runtime(self.clip, "text", runtime, self.device, self.torch_threads) != before:
            changed = True
        if not changed:
            return
        try:
            self.clip.encode_text(["warm up"])
        except RuntimeError as e:
            if requested != "auto" or precision == "auto":
                raise
            log.warning("bf16 text encoding failed (%s); using fp32", e)
            self.clip.precision = "auto"
            apply_runtime(self.clip, "text", runtime, self.device, self.torch_threads)
            self.clip.encode_text(["warm up"])

    def reconfigure(self, user_config: dict[str, Any]) -> None:
        config = dict(user_config or {})
        requested = config.pop(PRECISION_KEY, "auto")
        runtime = config.pop(RUNTIME_KEY, "auto")
        self.batching = apply_batching(self._encode_batch, config)
        self._configure(requested, runtime, warm_up=False)

    async def encode(self, texts: list[str]) -> np.ndarray:
        """(n, D) float32 unit vectors; each text joins whatever batch is forming."""
        if not texts:
            return np.zeros((0, self.bundle.embed_dim), dtype=np.float32)
        return np.stack(await asyncio.gather(*(self._encode_batch(t) for t in texts)))

    @serve.batch(max_batch_size=32, batch_wait_timeout_s=0.005)
    async def _encode_batch(self, texts: list[str]) -> list[np.ndarray]:
        return list(await asyncio.to_thread(self.clip.encode_text, texts))

    def info(self) -> dict[str, Any]:
        return {
            "bundle_id": self.bundle.id,
            "dim": self.bundle.embed_dim,
            "replica": serve.get_replica_context().replica_id.unique_id,
            PRECISION_KEY: self.clip.precision,
            RUNTIME_KEY: self.clip.runtime["text"],
            **self.batching,
        }
