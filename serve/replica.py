"""What every model replica shares: torch threads from its CPU share, batching from user_config."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

BATCH_KEYS = ("max_batch_size", "batch_wait_timeout_s")
RUNTIME_KEY = "runtime"  # user_config key of the CLIP encoders: "auto" (default), "torch", "onnx"


def cpu_share_threads(num_cpus: float, explicit: int | None = None) -> int:
    """Compute threads of a replica (torch's; the search ingress's Qdrant Edge search pool):
    ``explicit``, else its CPU share (floor, at least 1).

    More threads than the replica's share oversubscribe the cores its neighbours were given, and
    the ingress's Edge queries run one at a time, so a bigger search pool only adds hand-offs
    (docs/tuning.md#replica-threads, docs/tuning.md#search-threads).
    """
    if explicit is not None:
        return max(1, int(explicit))
    return max(1, math.floor(num_cpus))


def set_torch_threads(threads: int) -> None:
    """Set this process's torch intra-op threads (before any model runs)."""
    import torch

    torch.set_num_threads(int(threads))


def apply_batching(
    batch_method: Any, config: dict[str, Any] | None, gain: float | None = None
) -> dict[str, Any]:
    """Apply ``max_batch_size`` / ``batch_wait_timeout_s`` of a user_config to a ``@serve.batch``
    method (``reconfigure``); unknown keys are refused. ``gain``: the replica's measured
    ``batch_gain`` (None: not measured), which may cap batches at 1 (``batch_size_for``).
    Returns the settings now in force."""
    config = dict(config or {})
    unknown = sorted(set(config) - set(BATCH_KEYS))
    if unknown:
        raise ValueError(f"unknown user_config keys {unknown}; known: {list(BATCH_KEYS)}")
    size = config.get("max_batch_size", batch_method._get_max_batch_size())
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise ValueError(f"max_batch_size must be an int >= 1, got {size!r}")
    batch_method.set_max_batch_size(batch_size_for(size, gain))
    if "batch_wait_timeout_s" in config:
        wait = config["batch_wait_timeout_s"]
        if isinstance(wait, bool) or not isinstance(wait, int | float) or wait < 0:
            raise ValueError(f"batch_wait_timeout_s must be a number >= 0, got {wait!r}")
        batch_method.set_batch_wait_timeout_s(float(wait))
    return {
        "max_batch_size": batch_method._get_max_batch_size(),
        "batch_wait_timeout_s": batch_method._get_batch_wait_timeout_s(),
    }


def least_time(
    call: Callable[[], Any], repeats: int = 3, clock: Callable[[], float] = time.process_time
) -> float:
    """The least time of ``call()`` over ``repeats`` runs: the run least disturbed by other work
    on the machine. ``clock``: CPU time of this process (every thread) for work on a CPU; wall
    time where the work runs elsewhere (a GPU)."""
    best = math.inf
    for _ in range(max(1, int(repeats))):
        started = clock()
        call()
        best = min(best, clock() - started)
    return best


def batch_gain(
    encode: Callable[[list], Any],
    items: list,
    repeats: int = 3,
    clock: Callable[[], float] = time.process_time,
) -> float:
    """The time of ``encode`` called on each item alone over its time on all of them at once
    (> 1: batching pays on this device), by ``least_time`` after one warm-up call of each kind."""
    encode(items[:1])
    encode(items)
    alone = least_time(lambda: [encode([item]) for item in items], repeats, clock)
    together = least_time(lambda: encode(items), repeats, clock)
    return alone / together if together > 0 else math.inf


def batch_size_for(requested: int, gain: float | None, margin: float = 0.05) -> int:
    """The batch a replica forms: ``requested``, or 1 where batching measured more than
    ``margin`` slower per item than single items on this device (docs/tuning.md#image-batching).
    Within the margin it batches: a batch also saves the per-pass overhead of the path."""
    if gain is not None and gain < 1.0 - margin:
        return 1
    return requested
