"""PartPreparer deployment: part files -> model inputs (points, rendered views), and index-one.

Query meshes: load, validate, normalize, sample points and render the canonical views with the
bundle's input contract (``encoders.geometry.prepare.prepare_part``); the ingress sends the points
to the GeometryEncoder and the views to the ImageEncoder. Index-one: the reindex job's own
prepare stage (``prepare_row``) and encode stage (``EncodeParts.encode_rows``), so an uploaded
part gets exactly the vectors the job would give it. The renderer is reused and not thread-safe:
one part at a time per replica, in a worker thread (the event loop stays free).
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from ray import serve

from serve.replica import set_torch_threads


@serve.deployment(name="PartPreparer", max_ongoing_requests=8)
class PartPreparer:
    def __init__(self, settings_json: str, device: str = "cpu", torch_threads: int = 1):
        from cadsearch.settings import settings_from_json
        from data_jobs.catalog.families import CATEGORIES
        from encoders.bundle import load_bundle
        from encoders.parts.encode import EncodeParts, kind_options

        set_torch_threads(torch_threads)
        settings = settings_from_json(settings_json)
        self.bundle = load_bundle(settings.model.bundle)
        self.settings = self.bundle.effective_settings(settings)
        self.encode_parts = EncodeParts(
            settings.model.bundle,
            device,
            torch_threads,
            settings.index.clip_runtime,
            **kind_options(settings.index, CATEGORIES),
        )
        self._lock = threading.Lock()

    async def prepare_mesh(self, data: bytes, file_type: str) -> dict[str, Any]:
        """A query part file -> {"points": (num_points, 3) float32, "views_png": [bytes],
        "view_names", "bbox_min", "bbox_max", "description"}; raises ApiError for a bad file."""
        return await asyncio.to_thread(self._prepare_mesh, data, file_type)

    def _prepare_mesh(self, data: bytes, file_type: str) -> dict[str, Any]:
        from encoders.geometry.errors import MeshError
        from encoders.geometry.prepare import prepare_part
        from serve.errors import from_mesh_error

        try:
            with self._lock:
                prepared = prepare_part(
                    data, "query", {}, self.settings, file_type=file_type, render=True
                )
        except MeshError as e:
            raise from_mesh_error(e, "mesh") from None
        return {
            "points": prepared.points,
            "views_png": [view.png() for view in prepared.views or []],
            "view_names": [view.name for view in prepared.views or []],
            "bbox_min": list(prepared.part.bbox.min),
            "bbox_max": list(prepared.part.bbox.max),
            "description": prepared.description,
        }

    async def index_row(self, row: dict[str, Any]) -> dict[str, Any]:
        """A discovered-part row (with ``data``) -> the encoded row the job's writer takes
        (or an error row): ``prepare_row`` then ``EncodeParts.encode_rows``."""
        return await asyncio.to_thread(self._index_row, row)

    def _index_row(self, row: dict[str, Any]) -> dict[str, Any]:
        from encoders.parts.prepare import prepare_row

        with self._lock:
            prepared = prepare_row(row, self.settings)
            return self.encode_parts.encode_rows([prepared])[0]

    def info(self) -> dict[str, Any]:
        return {"bundle_id": self.bundle.id, "dim": self.bundle.embed_dim}
