"""Encode stage (actor pool; GPU when present): CLIP image + text, geometry encoder, one bundle."""

from __future__ import annotations

from typing import Any

import numpy as np

from .rows import (
    ENCODED_COLUMNS,
    batch_to_rows,
    error_row,
    node_id,
    points_of,
    rows_to_batch,
    vector_bytes,
)


def mean_direction(vectors: np.ndarray) -> np.ndarray:
    """The L2-normalized mean of unit vectors : (K, D) -> (D,)."""
    mean = vectors.mean(axis=0)
    norm = float(np.linalg.norm(mean))
    return mean / norm if norm > 0 else mean


class EncodeParts:
    """Ray Data callable class: the bundle loads once per actor, batches encode together.

    Per part: K view images -> K vectors (``views``) and their normalized mean (``image``); the
    description -> ``text``; the points -> ``geometry``. Rows that arrive as errors pass through.
    ``runtime`` of the CLIP towers: "auto" (ONNX Runtime on a CPU in fp32), "torch" or "onnx".
    """

    def __init__(
        self,
        bundle: str,
        device: str = "cpu",
        torch_threads: int | None = 1,
        runtime: str = "auto",
    ):
        from encoders.bundle import load_bundle
        from encoders.onnx_towers import apply_runtime

        self.bundle = load_bundle(bundle)
        self.clip = self.bundle.load_clip(device=device, torch_threads=torch_threads)
        for tower in ("image", "text"):  # ONNX Runtime on CPUs in fp32 (encoders/onnx_towers.py)
            apply_runtime(self.clip, tower, runtime, device, torch_threads or 1)
        self.geometry = self.bundle.load_geometry_encoder(device=device)
        self.device = device
        self.dim = self.bundle.embed_dim

    def encode_rows(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        from encoders.point_encoders import encode_points

        ready = [row for row in rows if not row["error"]]
        out = {row["part_id"]: row for row in rows}
        if ready:
            try:
                images = [png for row in ready for png in row["views_png"]]
                image_vectors = self.clip.encode_images(images, batch_size=32)
                text_vectors = self.clip.encode_text([row["description"] for row in ready])
                clouds = np.stack([points_of(row) for row in ready])
                geometry_vectors = encode_points(self.geometry, clouds, device=self.device)
            except Exception as e:
                # a batch that cannot encode is reported part by part, not lost
                for row in ready:
                    failed = error_row(row, "encode", type(e).__name__, "internal", str(e))
                    failed["prepared_on"] = row.get("prepared_on", "")
                    out[row["part_id"]] = failed
                return [_with_vectors(out[row["part_id"]]) for row in rows]
            start = 0
            for i, row in enumerate(ready):
                count = len(row["views_png"])
                views = image_vectors[start : start + count]
                start += count
                row["text"] = vector_bytes(text_vectors[i])
                row["image"] = vector_bytes(mean_direction(views))
                row["geometry"] = vector_bytes(geometry_vectors[i])
                row["views"] = vector_bytes(views)
                row["bundle_id"] = self.bundle.id
        return [_with_vectors(out[row["part_id"]]) for row in rows]

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        return rows_to_batch(self.encode_rows(batch_to_rows(batch)), ENCODED_COLUMNS)


def _with_vectors(row: dict[str, Any]) -> dict[str, Any]:
    for name in ("text", "image", "geometry", "views"):
        row.setdefault(name, b"")
    row.setdefault("bundle_id", "")
    row["encoded_on"] = node_id()
    return row
