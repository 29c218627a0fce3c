"""Errors of loading and running the CLIP towers (``encoders.clip`` re-exports them)."""

from __future__ import annotations


class ClipLoadError(RuntimeError):
    """A CLIP model could not be built or its weights could not be loaded."""


class ModelNotAvailableError(ClipLoadError):
    """Pretrained weights are not in the local cache and the hub cannot be reached."""


class TextTowerMismatchError(ClipLoadError):
    """A pinned text tower folder does not hold the files (sha256) the bundle expects."""


class UnsafeCheckpointError(ClipLoadError):
    """A checkpoint is not safetensors, so loading it would unpickle."""


class ImageDecodeError(ValueError):
    """An image item could not be decoded; ``index`` is its position in the input."""

    def __init__(self, message: str, index: int):
        super().__init__(message)
        self.index = index
