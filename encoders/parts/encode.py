"""Encode prepared parts with one bundle: CLIP image + text, the geometry encoder, and a predicted
kind for a part without a category. A Ray Data callable class in the reindex job (actor pool;
GPU when present) and the service's index-one alike."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from store.rows import (
    ENCODED_COLUMNS,
    batch_to_rows,
    error_row,
    node_id,
    points_of,
    rows_to_batch,
    vector_bytes,
)
from store.vectors import mean_direction


def kind_options(index, library_kinds: Sequence[str]) -> dict[str, Any]:
    """EncodeParts keyword arguments of the predicted kind, from the settings' ``index`` section:
    the parts library's kinds plus the user's ``extra_kinds`` (none when prediction is off)."""
    from encoders.zero_shot import kind_vocabulary

    kinds = kind_vocabulary(library_kinds, index.extra_kinds) if index.predict_kinds else ()
    return {
        "kinds": list(kinds),
        "kind_weights": dict(index.kind_weights),
        "kind_temperature": index.kind_temperature,
    }


class EncodeParts:
    """Ray Data callable class: the bundle loads once per actor, batches encode together.

    Per part: K view images -> K vectors (``views``) and their normalized mean (``image``); the
    description -> ``text``; the points -> ``geometry``. Rows that arrive as errors pass through.
    ``runtime`` of the CLIP towers: "auto" (ONNX Runtime on a CPU in fp32), "torch" or "onnx".
    A part whose payload has no category gets ``predicted_category`` and ``predicted_score``
    from its image, geometry and view vectors against one prompt per kind of ``kinds`` (prompt
    vectors encoded once per actor), and its description (so its text vector) says so.
    """

    def __init__(
        self,
        bundle: str,
        device: str = "cpu",
        torch_threads: int | None = 1,
        runtime: str = "auto",
        kinds: Sequence[str] = (),
        kind_weights: Mapping[str, float] | None = None,
        kind_temperature: float | None = None,
    ):
        from encoders.bundle import load_bundle
        from encoders.onnx_towers import apply_runtime
        from encoders.zero_shot import DEFAULT_TEMPERATURE, kind_prompt

        self.bundle = load_bundle(bundle)
        self.clip = self.bundle.load_clip(device=device, torch_threads=torch_threads)
        for tower in ("image", "text"):  # ONNX Runtime on CPUs in fp32 (encoders/onnx_towers.py)
            apply_runtime(self.clip, tower, runtime, device, torch_threads or 1)
        self.geometry = self.bundle.load_geometry_encoder(device=device)
        self.device = device
        self.dim = self.bundle.embed_dim
        self.kinds = list(kinds)
        self.kind_weights = dict(kind_weights) if kind_weights else None
        self.kind_temperature = kind_temperature or DEFAULT_TEMPERATURE
        self.kind_vectors = (
            self.clip.encode_text([kind_prompt(kind) for kind in self.kinds]) if kinds else None
        )

    def encode_rows(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        from encoders.point_encoders import encode_points

        ready = [row for row in rows if not row["error"]]
        out = {row["part_id"]: row for row in rows}
        if ready:
            try:
                images = [png for row in ready for png in row["views_png"]]
                image_vectors = self.clip.encode_images(images, batch_size=32)
                clouds = np.stack([points_of(row) for row in ready])
                geometry_vectors = encode_points(self.geometry, clouds, device=self.device)
                views_of = np.split(image_vectors, np.cumsum([len(r["views_png"]) for r in ready]))
                for i, row in enumerate(ready):
                    self._predict_kind(row, geometry_vectors[i], views_of[i])
                text_vectors = self.clip.encode_text([row["description"] for row in ready])
            except Exception as e:
                # a batch that cannot encode is reported part by part, not lost
                for row in ready:
                    failed = error_row(row, "encode", type(e).__name__, "internal", str(e))
                    failed["prepared_on"] = row.get("prepared_on", "")
                    out[row["part_id"]] = failed
                return [_with_vectors(out[row["part_id"]]) for row in rows]
            for i, row in enumerate(ready):
                views = views_of[i]
                row["text"] = vector_bytes(text_vectors[i])
                row["image"] = vector_bytes(mean_direction(views))
                row["geometry"] = vector_bytes(geometry_vectors[i])
                row["views"] = vector_bytes(views)
                row["bundle_id"] = self.bundle.id
        return [_with_vectors(out[row["part_id"]]) for row in rows]

    def _predict_kind(self, row: dict[str, Any], geometry: np.ndarray, views: np.ndarray) -> None:
        """Add the predicted kind to an uncategorized row's payload and description."""
        from encoders.zero_shot import predict_kinds, with_predicted_kind

        payload = json.loads(row["payload_json"])
        if self.kind_vectors is None or payload.get("category"):
            return
        image = mean_direction(views) if len(views) else None
        vectors = {"geometry": geometry, "image": image, "views": views if len(views) else None}
        kinds, scores = predict_kinds(
            vectors,
            self.kind_vectors,
            self.kinds,
            weights=self.kind_weights,
            temperature=self.kind_temperature,
            top_k=1,
        )
        description = with_predicted_kind(row["description"], kinds[0])
        payload.update(
            predicted_category=kinds[0], predicted_score=scores[0], description=description
        )
        row["payload_json"] = json.dumps(payload, default=str)
        row["description"] = description

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        return rows_to_batch(self.encode_rows(batch_to_rows(batch)), ENCODED_COLUMNS)


def _with_vectors(row: dict[str, Any]) -> dict[str, Any]:
    for name in ("text", "image", "geometry", "views"):
        row.setdefault(name, b"")
    row.setdefault("bundle_id", "")
    row["encoded_on"] = node_id()
    return row
