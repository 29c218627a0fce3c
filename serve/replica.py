"""What every model replica shares: torch threads from its CPU share, batching from user_config."""

from __future__ import annotations

import logging
import math
from typing import Any

log = logging.getLogger(__name__)

BATCH_KEYS = ("max_batch_size", "batch_wait_timeout_s")


def torch_threads_for(num_cpus: float, explicit: int | None = None) -> int:
    """Torch threads of a replica: ``explicit``, else its CPU share (floor, at least 1).

    More threads than the replica's share oversubscribes the cores its neighbours were given:
    measured here, 2 threads per process under contention ran ~60x slower than 1.
    """
    if explicit is not None:
        return max(1, int(explicit))
    return max(1, math.floor(num_cpus))


def set_torch_threads(threads: int) -> None:
    """Set this process's torch intra-op threads (before any model runs)."""
    import torch

    torch.set_num_threads(int(threads))


def apply_batching(batch_method: Any, config: dict[str, Any] | None) -> dict[str, Any]:
    """Apply ``max_batch_size`` / ``batch_wait_timeout_s`` of a user_config to a ``@serve.batch``
    method (``reconfigure``); unknown keys are refused. Returns the settings now in force."""
    config = dict(config or {})
    unknown = sorted(set(config) - set(BATCH_KEYS))
    if unknown:
        raise ValueError(f"unknown user_config keys {unknown}; known: {list(BATCH_KEYS)}")
    if "max_batch_size" in config:
        size = config["max_batch_size"]
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ValueError(f"max_batch_size must be an int >= 1, got {size!r}")
        batch_method.set_max_batch_size(size)
    if "batch_wait_timeout_s" in config:
        wait = config["batch_wait_timeout_s"]
        if isinstance(wait, bool) or not isinstance(wait, int | float) or wait < 0:
            raise ValueError(f"batch_wait_timeout_s must be a number >= 0, got {wait!r}")
        batch_method.set_batch_wait_timeout_s(float(wait))
    return {
        "max_batch_size": batch_method._get_max_batch_size(),
        "batch_wait_timeout_s": batch_method._get_batch_wait_timeout_s(),
    }


RUNTIME_KEY = "runtime"  # user_config key of the CLIP encoders: "auto" (default), "torch", "onnx"
RUNTIMES = ("auto", "torch", "onnx")


def tower_runtime(requested: str, device: str, precision: str = "auto") -> str:
    """A CLIP tower's runtime: ``auto`` is ONNX Runtime on a CPU in fp32 (no native bf16) when
    onnxruntime is installed (measured here: text 1.25-2x, image 2.2-2.8x torch's throughput,
    encoders/onnx_towers.py), else torch (GPUs, and bf16 on CPUs that compute it natively)."""
    from encoders.onnx_towers import available

    if requested not in RUNTIMES:
        raise ValueError(f"{RUNTIME_KEY} must be one of {RUNTIMES}, got {requested!r}")
    if requested != "auto":
        return requested
    on_cpu_fp32 = device.startswith("cpu") and precision in ("auto", "fp32")
    return "onnx" if on_cpu_fp32 and available() else "torch"


def apply_runtime(clip, tower: str, requested: str, device: str, threads: int) -> str:
    """Put ``clip``'s ``tower`` on the runtime ``requested`` resolves to; an ``auto`` choice of
    ONNX Runtime that fails its export or check falls back to torch (logged). Returns it."""
    from encoders.onnx_towers import OnnxTowerError

    runtime = tower_runtime(requested, device, clip.precision)
    if runtime != clip.runtime[tower]:
        try:
            clip.use_runtime(tower, runtime, threads)
        except OnnxTowerError as e:
            if requested != "auto":
                raise
            log.warning("ONNX Runtime %s tower refused (%s); using torch", tower, e)
    return clip.runtime[tower]
