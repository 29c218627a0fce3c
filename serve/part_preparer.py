"""PartPreparer deployment: part files -> model inputs (points, rendered views), and index-one.

Query meshes: load, validate, normalize, sample points and render the canonical views with the
bundle's input contract (``encoders.geometry.prepare.prepare_part``); the ingress sends the points
to the GeometryEncoder and the views to the ImageEncoder. Query meshes are prepared in a pool
of ``serve.preparer.workers`` child processes (``serve.worker_pool``), each within
``serve.limits.mesh_budget_s``: a costly upload holds one worker until the budget kills it, and
the others keep answering (docs/security.md#mesh-preparation-budget).

Index-one: the reindex job's own prepare stage (``prepare_row``) and encode stage
(``EncodeParts.encode_rows``), so an uploaded part gets exactly the vectors the job would give
it; it runs in the replica, one part at a time (the renderer is not thread-safe), in a worker
thread (the event loop stays free). Its encoders load in a thread once the replica has started,
so that a replica started in place of a dead one prepares query meshes while they load
(docs/operations.md#a-replica-that-dies); ``info`` (the ingress's readiness) waits for them.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from ray import serve

from serve.errors import too_large, unavailable, undecodable
from serve.replica import set_torch_threads
from serve.worker_pool import BudgetExceeded, WorkerCrashed, WorkerPool

if TYPE_CHECKING:
    from cadsearch.settings import ServeLimits, Settings
    from encoders.geometry.options import RenderSettings

log = logging.getLogger(__name__)


def query_settings(settings: Settings, limits: ServeLimits) -> Settings:
    """The settings a query mesh is read with: the query face limit (checked from the file's
    header where its format declares a count) in place of the index's ``mesh.max_faces``."""
    max_faces = min(settings.mesh.max_faces, limits.max_query_faces)
    mesh = settings.mesh.model_copy(update={"max_faces": max_faces})
    return settings.model_copy(update={"mesh": mesh})


def prepare_query(settings: Settings, data: bytes, file_type: str) -> dict[str, Any]:
    """A query part file -> {"points": (num_points, 3) float32, "views_png": [bytes],
    "view_names", "bbox_min", "bbox_max", "description"}; raises ApiError (field ``mesh``) for a
    bad file. Runs in a worker process."""
    from encoders.geometry.errors import MeshError
    from encoders.geometry.prepare import prepare_part
    from serve.errors import from_mesh_error

    try:
        prepared = prepare_part(data, "query", {}, settings, file_type=file_type, render=True)
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


def warm_renderer(render: RenderSettings) -> None:
    """Create this process's renderer and render once (a new worker's first query then pays no
    set-up), with the loaders imported."""
    import trimesh

    import encoders.geometry.prepare  # noqa: F401
    from encoders.geometry.render import get_renderer

    get_renderer(render).render(trimesh.creation.box())


@serve.deployment(name="PartPreparer", max_ongoing_requests=8)
class PartPreparer:
    def __init__(self, settings_json: str, device: str = "cpu", torch_threads: int = 1):
        from cadsearch.settings import settings_from_json
        from data_jobs.catalog.families import CATEGORIES
        from encoders.bundle import load_bundle
        from encoders.parts.encode import EncodeParts, kind_options

        settings = settings_from_json(settings_json)
        self.bundle = load_bundle(settings.model.bundle)
        self.settings = self.bundle.effective_settings(settings)
        self.limits = settings.serve.limits
        self._lock = threading.Lock()
        # index-one renders in this one thread: its renderer's GL context is current there
        self._index_thread = ThreadPoolExecutor(1, thread_name_prefix="index-one")
        query = query_settings(self.settings, self.limits)
        # the workers are forked with the renderer's modules loaded (shared, not imported by
        # each) and before the encoders load (they share no torch state)
        import encoders.geometry.prepare
        import encoders.geometry.render  # noqa: F401

        self.pool = WorkerPool(
            settings.serve.preparer.workers,
            functools.partial(prepare_query, query),
            warm=functools.partial(warm_renderer, query.render),
            fork_lock=self._lock,
        )
        self._encoders_loaded = threading.Event()
        self._encoders_error: BaseException | None = None

        def load_encoders() -> None:
            try:
                # after the workers' warm-up: a replica that replaces a lost one prepares query
                # meshes first, without sharing the CPU with this load
                self.pool.wait_warm()
                with self._lock:  # no worker is forked while torch loads
                    set_torch_threads(torch_threads)
                    self.encode_parts = EncodeParts(
                        settings.model.bundle,
                        device,
                        torch_threads,
                        settings.index.clip_runtime,
                        **kind_options(settings.index, CATEGORIES),
                    )
            except BaseException as e:
                log.exception("index-one's encoders did not load")
                self._encoders_error = e
            finally:
                self._encoders_loaded.set()

        threading.Thread(target=load_encoders, name="load-encoders", daemon=True).start()

    def _encoders(self):
        """Index-one's EncodeParts, once its thread has loaded it."""
        self._encoders_loaded.wait()
        if self._encoders_error is not None:
            error = self._encoders_error
            raise RuntimeError(f"index-one's encoders did not load: {error}") from error
        return self.encode_parts

    def _stand_in_encoders(self):
        """Index-one's EncodeParts for a stand-in call, or 503 at once while it loads (the
        caller then waits for the deployment itself, not for this load)."""
        if not self._encoders_loaded.is_set() or self._encoders_error is not None:
            raise unavailable("the PartPreparer's encoders are not loaded yet")
        return self.encode_parts

    def __del__(self):
        pool = getattr(self, "pool", None)
        if pool is not None:
            pool.close()

    async def prepare_mesh(self, data: bytes, file_type: str) -> dict[str, Any]:
        """A query part file -> ``prepare_query``'s dict, in a worker process within
        ``serve.limits.mesh_budget_s``; raises ApiError (field ``mesh``) for a bad or costly
        file."""
        budget = self.limits.mesh_budget_s
        try:
            return await self.pool.run((data, file_type), budget)
        except BudgetExceeded:
            raise too_large(
                "mesh",
                f"preparing the part took over the budget of {budget:g} s "
                "(serve.limits.mesh_budget_s): send a simpler mesh",
                "too_costly",
            ) from None
        except WorkerCrashed as e:
            raise undecodable(
                "mesh", f"the part could not be prepared: {e}", "unreadable"
            ) from None

    async def index_row(self, row: dict[str, Any]) -> dict[str, Any]:
        """A discovered-part row (with ``data``) -> the encoded row the job's writer takes
        (or an error row): ``prepare_row`` then ``EncodeParts.encode_rows``."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._index_thread, self._index_row, row)

    def _index_row(self, row: dict[str, Any]) -> dict[str, Any]:
        from encoders.parts.prepare import prepare_row

        encode_parts = self._encoders()
        with self._lock:
            prepared = prepare_row(row, self.settings)
            return encode_parts.encode_rows([prepared])[0]

    async def encode_images(self, images: list[bytes]) -> list[Any]:
        """The ImageEncoder's ``encode_each`` on index-one's image tower: the ingress's stand-in
        while the ImageEncoder has lost its replica (serve.handles.HandleEncoders)."""
        from serve.image_encoder import encode_each

        encode_parts = self._stand_in_encoders()

        def run() -> list[Any]:
            results = encode_each(encode_parts.clip, images)
            return [str(item) if isinstance(item, Exception) else item for item in results]

        return await asyncio.to_thread(run)

    async def encode_clouds(self, clouds: list[Any]) -> Any:
        """The GeometryEncoder's ``encode`` on index-one's geometry encoder: the ingress's
        stand-in while the GeometryEncoder has lost its replica."""
        import numpy as np

        from serve.geometry_encoder import check_clouds, encode_clouds

        encode_parts = self._stand_in_encoders()
        check_clouds(clouds, encode_parts.bundle.num_points)
        if not clouds:
            return np.zeros((0, encode_parts.dim), dtype=np.float32)
        return await asyncio.to_thread(
            encode_clouds, encode_parts.geometry, clouds, encode_parts.device
        )

    async def info(self) -> dict[str, Any]:
        """The bundle, once index-one's encoders are loaded (the ingress's readiness)."""
        await asyncio.to_thread(self._encoders)
        return {"bundle_id": self.bundle.id, "dim": self.bundle.embed_dim}
