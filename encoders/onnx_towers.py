"""CLIP towers on ONNX Runtime: the same functions (token ids -> text features, pixels -> image
features) exported from the loaded torch towers, for CPUs where PyTorch's eager fp32 is a query's
bottleneck. The export runs when a replica loads (a few seconds), in memory, and is checked
against the torch tower before it is used.

Both towers run faster than eager torch on a CPU with the same vectors; the measurements are in
docs/tuning.md#onnx-towers.
"""

from __future__ import annotations

import io
import logging
import warnings
from collections.abc import Callable

import numpy as np
import torch

log = logging.getLogger(__name__)
TOWERS = ("text", "image")
RUNTIMES = ("auto", "torch", "onnx")  # a tower's runtime as asked for (settings, user_config)
CHECK_TEXTS = (
    "hex nut M8",
    "socket head cap screw M4 x 20, stainless steel A2",
    "deep groove ball bearing 6204 with rubber seals on both sides, 20 mm bore",
)
MIN_COSINE = 0.9999  # to the torch tower's vectors on the check inputs, or the export is refused


class OnnxTowerError(RuntimeError):
    """A tower could not be run on ONNX Runtime (not installed, export or check failed)."""


def available() -> bool:
    """Whether onnxruntime is installed."""
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


class _Tower(torch.nn.Module):
    def __init__(self, model: torch.nn.Module, tower: str):
        super().__init__()
        self.model = model
        self.tower = tower

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        if self.tower == "text":
            return self.model.encode_text(inputs)
        return self.model.encode_image(inputs)


def _check_inputs(clip, tower: str) -> torch.Tensor:
    if tower == "text":
        return clip.tokenizer(list(CHECK_TEXTS))
    size = clip.preprocess_cfg.get("size", 224)
    size = tuple(size) if isinstance(size, list | tuple) else (size, size)
    generator = torch.Generator().manual_seed(0)
    return torch.randn((3, 3, *size), generator=generator)  # about normalized pixels


def onnx_forward(clip, tower: str, threads: int = 1) -> Callable[[torch.Tensor], torch.Tensor]:
    """``inputs -> features (B, D) float32`` of ``clip``'s ``tower`` ("text": token ids (B, L);
    "image": preprocessed pixels (B, 3, H, W)) on ONNX Runtime's CPU provider with ``threads``
    threads, checked against the torch tower first.

    Raises OnnxTowerError when onnxruntime is missing or the exported graph disagrees.
    """
    if tower not in TOWERS:
        raise ValueError(f"unknown tower {tower!r}; known: {TOWERS}")
    try:
        import onnxruntime as ort
    except ImportError as e:
        raise OnnxTowerError("onnxruntime is not installed") from e
    if not (clip.has_text if tower == "text" else clip.has_image):
        raise OnnxTowerError(f"this encoder has no {tower} tower")
    sample = _check_inputs(clip, tower)
    module = _Tower(clip.model, tower).eval()
    axes = {"inputs": {0: "batch", 1: "length"} if tower == "text" else {0: "batch"}}
    buffer = io.BytesIO()
    try:
        with torch.inference_mode(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer notes on shape checks: the check below rules
            torch.onnx.export(
                module,
                (sample,),
                buffer,
                input_names=["inputs"],
                output_names=["features"],
                dynamic_axes={**axes, "features": {0: "batch"}},
                opset_version=17,
                dynamo=False,
            )
    except Exception as e:  # the exporter's errors have no common base
        raise OnnxTowerError(f"exporting the {tower} tower to ONNX failed: {e}") from e
    options = ort.SessionOptions()
    options.intra_op_num_threads = max(1, int(threads))
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(buffer.getvalue(), options, providers=["CPUExecutionProvider"])
    dtype = np.int64 if tower == "text" else np.float32

    def forward(inputs: torch.Tensor) -> torch.Tensor:
        (features,) = session.run(None, {"inputs": inputs.cpu().numpy().astype(dtype)})
        return torch.from_numpy(features)

    with torch.inference_mode():
        expected = torch.nn.functional.normalize(module(sample).float(), dim=-1)
    got = torch.nn.functional.normalize(forward(sample).float(), dim=-1)
    cosine = float((expected * got).sum(dim=-1).min())
    if not cosine >= MIN_COSINE:
        raise OnnxTowerError(f"the ONNX {tower} tower disagrees with torch: cosine {cosine:.6f}")
    return forward


def tower_runtime(requested: str, device: str, precision: str = "auto") -> str:
    """A CLIP tower's runtime: ``auto`` is ONNX Runtime on a CPU in fp32 (no native bf16) when
    onnxruntime is installed (faster there: docs/tuning.md#onnx-towers), else torch (GPUs, and
    bf16 on CPUs that compute it natively)."""
    if requested not in RUNTIMES:
        raise ValueError(f"runtime must be one of {RUNTIMES}, got {requested!r}")
    if requested != "auto":
        return requested
    on_cpu_fp32 = device.startswith("cpu") and precision in ("auto", "fp32")
    return "onnx" if on_cpu_fp32 and available() else "torch"


def apply_runtime(clip, tower: str, requested: str, device: str, threads: int) -> str:
    """Put ``clip``'s ``tower`` on the runtime ``requested`` resolves to; an ``auto`` choice of
    ONNX Runtime that fails its export or check falls back to torch (logged). Returns it."""
    runtime = tower_runtime(requested, device, clip.precision)
    if runtime != clip.runtime[tower]:
        try:
            clip.use_runtime(tower, runtime, threads)
        except OnnxTowerError as e:
            if requested != "auto":
                raise
            log.warning("ONNX Runtime %s tower refused (%s); using torch", tower, e)
    return clip.runtime[tower]
