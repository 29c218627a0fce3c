"""TextEncoder deployment: the bundle's CLIP text tower only, dynamically batched; on CPUs in bf16
where they compute bf16 natively, else on ONNX Runtime when it is installed."""

from __future__ import annotations

import asyncio
import logging
import math
from typing import Any

import numpy as np
from ray import serve

from encoders.onnx_towers import apply_runtime
from serve.replica import RUNTIME_KEY, apply_batching, least_time, set_torch_threads

log = logging.getLogger(__name__)
PRECISION_KEY = "precision"  # user_config key: "auto" (default), "fp32" or "bf16"
PRECISIONS = ("auto", "fp32", "bf16")
# query-like texts of the precision measurement (TextEncoder.resolve_precision): each alone, then
# together, as queries reach the tower at low and high load
PROBE_TEXTS = (
    "hex bolt M8 x 40",
    "socket head cap screw M4 x 20, stainless steel A2",
    "deep groove ball bearing 6204 with rubber seals on both sides, 20 mm bore",
    "flat washer 8.4 mm",
    "spur gear module 1.5, 32 teeth",
    "aluminium angle bracket 40 x 40 x 4 with two slotted holes",
    "pipe elbow 90 degrees, 1/2 inch BSP",
    "NEMA 17 stepper motor mounting plate",
)


def native_bf16() -> bool:
    """Whether this CPU has bf16 arithmetic (AVX512-BF16 or AMX), so bf16 runs faster than fp32;
    without it bf16 is emulated and slower."""
    import torch

    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(bool(getattr(torch.cpu, name, lambda: False)()) for name in checks)


def text_precision(requested: str, device: str) -> str:
    """The text tower's precision for queries, before measuring: ``auto`` is bf16 on a CPU with
    native bf16 (a candidate the replica measures against fp32: ``TextEncoder.resolve_precision``;
    vectors that agree: docs/tuning.md#text-precision), else ClipEncoder's ``auto`` (fp32 on
    CPU, bf16/fp16 on CUDA). Dynamic int8 is not offered: its vectors drift too far from
    fp32's."""
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
        self.measured: dict[str, dict[str, float]] = {}  # runtime -> CPU ms by precision
        self._configure("auto", "auto", warm_up=True)

    def resolve_precision(self, requested: str, runtime: str) -> str:
        """The precision queries run in: ``text_precision``, except where ``auto`` offers bf16
        (a CPU with native bf16): there bf16 and ClipEncoder's ``auto`` (fp32, on ``runtime``'s
        choice for it: ONNX Runtime where installed) are timed on PROBE_TEXTS, and the one that
        took less CPU is kept (fp32 on a tie). Native bf16 is not always the faster: measured on
        AVX512-BF16 without AMX, fp32 on ONNX Runtime took half the CPU of a single text
        (docs/tuning.md#text-precision). Measured once per runtime asked for."""
        precision = text_precision(requested, self.device)
        if requested != "auto" or precision != "bf16" or not self.device.startswith("cpu"):
            return precision
        if runtime not in self.measured:
            costs = {}
            for candidate in ("bf16", "auto"):
                self.clip.precision = candidate
                apply_runtime(self.clip, "text", runtime, self.device, self.torch_threads)
                try:
                    costs[candidate] = round(least_time(self._probe) * 1000, 2)
                except RuntimeError as e:  # bf16 kernels missing: fp32 then
                    log.warning("measuring %s text encoding failed (%s)", candidate, e)
                    costs[candidate] = math.inf
            self.measured[runtime] = costs
        costs = self.measured[runtime]
        return "bf16" if costs["bf16"] < costs["auto"] else "auto"

    def _probe(self) -> None:
        for text in PROBE_TEXTS:
            self.clip.encode_text([text])
        self.clip.encode_text(list(PROBE_TEXTS))

    def _configure(self, requested: str, runtime: str, warm_up: bool) -> None:
        """The precision (``resolve_precision``), then the runtime it resolves with (bf16 runs
        on torch), then, when either changed, one pass on what queries will run: the first bf16
        pass builds its kernels here, not in a user's query. bf16 chosen by ``auto`` that fails
        falls back to ClipEncoder's own ``auto`` (fp32 on a CPU) and its runtime."""
        before = (self.clip.precision, self.clip.runtime["text"])
        precision = self.resolve_precision(requested, runtime)
        changed = warm_up or precision != before[0]
        self.clip.precision = precision
        if apply_runtime(self.clip, "text", runtime, self.device, self.torch_threads) != before[1]:
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
            "measured_cpu_ms": self.measured,
            **self.batching,
        }
