"""The service's searches in one process: the same ``SearchService`` over the same shard, with the
bundle's towers called directly instead of through deployment handles (bench/serving.py's
reference for the CPU a search costs).

The towers run as the replicas run them: the replica classes load them here and make their own
choices (the text tower's precision and runtime, the image tower's runtime), one thread each. A
query mesh is prepared here (no worker process) and its views go to the image tower as arrays
(no PNG round trip).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import numpy as np


class DirectEncoders:
    """``serve.service.Encoders`` in this process: each call runs the model at once, alone."""

    def __init__(self, settings, threads: int = 1):
        from encoders.bundle import load_bundle
        from serve.image_encoder import ImageEncoder
        from serve.part_preparer import query_settings
        from serve.text_encoder import TextEncoder

        bundle = load_bundle(settings.model.bundle)
        self.bundle_id = bundle.id
        # the replicas' own classes (outside Serve) make their choices: precision, runtimes
        self.text_clip = TextEncoder.func_or_class(settings.model.bundle, "cpu", threads).clip
        self.image_clip = ImageEncoder.func_or_class(settings.model.bundle, "cpu", threads).clip
        self.geometry_model = bundle.load_geometry_encoder("cpu")
        self.query_settings = query_settings(
            bundle.effective_settings(settings), settings.serve.limits
        )

    async def text(self, texts: list[str]) -> np.ndarray:
        return self.text_clip.encode_text(texts)

    async def image(self, images: list) -> np.ndarray:
        from serve.image_encoder import _decode

        decoded = [_decode(image) for image in images]
        return self.image_clip.encode_images(decoded, batch_size=len(decoded))

    async def geometry(self, clouds: list[np.ndarray]) -> np.ndarray:
        from encoders.point_encoders import encode_points

        stacked = np.stack([np.asarray(c, dtype=np.float32) for c in clouds])
        return encode_points(self.geometry_model, stacked, len(clouds), "cpu")

    async def prepare_mesh(self, data: bytes, file_type: str) -> dict[str, Any]:
        """``serve.part_preparer.prepare_query`` without the PNG round trip of its views."""
        from encoders.geometry.prepare import prepare_part

        prepared = prepare_part(data, "query", {}, self.query_settings, file_type, render=True)
        return {
            "points": prepared.points,
            "views_png": [view.rgb for view in prepared.views or []],
            "bbox_min": list(prepared.part.bbox.min),
            "bbox_max": list(prepared.part.bbox.max),
        }

    async def index_row(self, row: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError("the reference only searches")

    async def info(self) -> dict[str, str]:
        return {"text": self.bundle_id, "image": self.bundle_id, "geometry": self.bundle_id}


def open_reference(settings):
    """A ``SearchService`` over ``settings``'s store with ``DirectEncoders`` (the Edge search
    pool at 1 thread, as the ingress's CPU share gives it)."""
    from serve.service import SearchService

    return SearchService(settings, DirectEncoders(settings))


async def _time_queries(service, queries: list[dict], warm_up: int) -> dict[str, Any]:
    import orjson

    from serve.inputs import make_search_input

    limits = service.limits
    for fields in queries[:warm_up]:
        orjson.dumps(await service.search(make_search_input(limits, **fields)))
    walls = []
    cpu_started = time.process_time()
    for fields in queries[warm_up:]:
        t0 = time.perf_counter()
        # the answer serialized as the ingress sends it (serve.http_util.FastJSONResponse)
        orjson.dumps(await service.search(make_search_input(limits, **fields)))
        walls.append(time.perf_counter() - t0)
    cpu = time.process_time() - cpu_started
    return {
        "queries": len(walls),
        "cpu_ms_per_query": round(cpu * 1000 / len(walls), 3),
        "p50_ms": round(float(np.percentile(walls, 50)) * 1000, 3),
        "p99_ms": round(float(np.percentile(walls, 99)) * 1000, 3),
    }


def run_reference(service, plans: dict[str, list[dict]], warm_up: int = 3) -> dict[str, dict]:
    """By name, queries given as ``make_search_input`` fields, run one at a time after
    ``warm_up`` of them: CPU of this process a query (every thread), p50 / p99 wall ms."""
    return {
        name: asyncio.run(_time_queries(service, queries, warm_up))
        for name, queries in plans.items()
    }
