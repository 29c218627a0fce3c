"""L2 normalization of embedding vectors: the one helper the store, the jobs and the service use."""

from __future__ import annotations

from typing import Any

import numpy as np


def unit_rows(array: Any, dtype: Any = np.float32) -> np.ndarray:
    """Rows (the last axis) scaled to length 1; a zero row stays zero.

    array : (..., D) float; returns (..., D) of ``dtype``
    """
    array = np.asarray(array, dtype=dtype)
    norms = np.linalg.norm(array, axis=-1, keepdims=True)
    return np.divide(array, norms, out=np.zeros_like(array), where=norms > 0)


def mean_direction(vectors: Any) -> np.ndarray:
    """The L2-normalized mean of vectors : (K, D) -> (D,) float32 (a view set's "image" vector)."""
    return unit_rows(np.asarray(vectors, dtype=np.float32).mean(axis=0))
