"""The search service's logic, behind both front ends (HTTP and gRPC): encode, query, index, read.

``SearchService`` owns the vector store and the view store of one ingress replica and reaches the
models through an ``Encoders`` object: deployment handles in Ray Serve (see ingress.py), anything
with the same async methods elsewhere. Inputs arrive decoded and checked (serve/inputs.py); every
refusal is an ``ApiError``. Store calls block, so they run in threads (a search's reads on an
in-process Edge shard excepted: see ``SearchService._read``); writes are serialized.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from serve.duplicates import DuplicateIndex
from serve.errors import ApiError, from_error_row, invalid, not_found
from serve.inputs import (
    SearchInput,
    check_part_id,
    check_upload_size,
    file_type_for,
    prepare_cloud,
    query_error,
)
from store import BundleMismatchError, Filters, FusedQuery, InvalidQueryError, SearchHit
from store.query import same_size_filters
from store.similarity import UNCALIBRATED
from store.vectors import mean_direction, unit_rows

log = logging.getLogger(__name__)
MODALITIES = ("text", "image", "geometry")
SAME_PAIRS = tuple((m, f"{m}->{m}") for m in MODALITIES)  # similarity: the same-modality cosines
UPLOAD_SCHEME = "upload:"  # source_uri of a part indexed from an upload: upload:<file name>


class Encoders(Protocol):
    """What the service needs of the models (each call may batch with other requests)."""

    async def text(self, texts: list[str]) -> np.ndarray: ...  # (n, D)

    async def image(self, images: list[bytes]) -> np.ndarray: ...  # (n, D)

    async def geometry(self, clouds: list[np.ndarray]) -> np.ndarray: ...  # (n, D)

    async def prepare_mesh(self, data: bytes, file_type: str) -> dict[str, Any]: ...

    async def index_row(self, row: dict[str, Any]) -> dict[str, Any]: ...

    async def info(self) -> dict[str, str]: ...  # encoder name -> bundle id


@dataclass
class QueryVectors:
    """The query's vectors: (D,) per modality, (K, D) views of a query mesh or stored part."""

    vectors: dict[str, np.ndarray] = field(default_factory=dict)
    views: np.ndarray | None = None
    extents: list[float] | None = None  # mm, of the query mesh or part (same_size)


def fused_vector(vectors: dict[str, np.ndarray]) -> np.ndarray:
    """The L2-normalized mean of a part's text, image and geometry vectors: (D,)."""
    return mean_direction([vectors[m] for m in MODALITIES])


def part_json(payload: dict[str, Any]) -> dict[str, Any]:
    """A stored part's payload as the API shows it (sizes in mm)."""
    return {
        "part_id": payload.get("part_id", ""),
        "name": payload.get("name", ""),
        "category": payload.get("category", ""),
        "tags": list(payload.get("tags") or []),
        "description": payload.get("description", ""),
        "bbox_mm": {"min": payload.get("bbox_min"), "max": payload.get("bbox_max")},
        "extents_mm": payload.get("extents"),
        "size_mm": [payload.get("size_x"), payload.get("size_y"), payload.get("size_z")],
        "face_count": payload.get("face_count", 0),
        "view_urls": list(payload.get("view_urls") or []),
        "mesh_url": payload.get("mesh_url"),
        "source_uri": payload.get("source_uri", ""),
        "content_sha256": payload.get("content_sha256", ""),
        "bundle_id": payload.get("bundle_id", ""),
        "indexed_at": payload.get("indexed_at", ""),
        "meta": payload.get("meta") or {},
        **predicted_json(payload),
    }


def predicted_json(payload: dict[str, Any]) -> dict[str, Any]:
    """The predicted kind of a part without a category: both fields None when it has none."""
    return {
        "predicted_category": payload.get("predicted_category"),
        "predicted_score": payload.get("predicted_score"),
    }


def hit_json(hit: SearchHit) -> dict[str, Any]:
    """One search result: the part, its fused score and the cosine of every pair."""
    p = hit.payload
    cosines = hit.cosines
    return {
        "part_id": hit.part_id,
        "name": p.get("name", ""),
        "category": p.get("category", ""),
        "tags": list(p.get("tags") or []),
        "score": hit.score,
        # docs/similarity.md: the weighted mean cosine of the fused pairs, and its percentage
        "match_score": hit.match,
        "similarity_percent": hit.similarity_percent,
        "cosines": dict(cosines),
        "similarity": {m: cosines[pair] for m, pair in SAME_PAIRS if pair in cosines},
        "maxsim": hit.maxsim,
        "bbox_mm": {"min": p.get("bbox_min"), "max": p.get("bbox_max")},
        "extents_mm": p.get("extents"),
        "size_mm": [p.get("size_x"), p.get("size_y"), p.get("size_z")],
        "view_urls": list(p.get("view_urls") or []),
        "mesh_url": p.get("mesh_url"),
        "description": p.get("description", ""),
        **predicted_json(p),
    }


class SearchService:
    """Search, embed, index and read parts of one collection.

    settings : cadsearch Settings (model.bundle, store, views, serve.limits)
    encoders : the models (see ``Encoders``)
    store, view_store : opened here from the settings when not given
    """

    def __init__(self, settings, encoders: Encoders, store=None, view_store=None):
        from encoders.bundle import load_bundle
        from serve.replica import cpu_share_threads
        from store.factory import open_store
        from store.views import open_view_store

        bundle = load_bundle(settings.model.bundle)
        self.settings = settings
        self.limits = settings.serve.limits
        self.search_defaults = settings.search
        self.bundle_id = bundle.id
        self.dim = bundle.embed_dim
        self.num_points = bundle.num_points
        self.spec = bundle.collection_spec()
        self.similarity = bundle.similarity_table()  # None: percentages uncalibrated
        self.encoders = encoders
        if store is None:
            # the Edge search pool: the ingress's CPU share unless store.search_threads is set
            threads = cpu_share_threads(
                settings.serve.ingress.num_cpus, settings.store.search_threads
            )
            options = settings.store.options(search_threads=threads)
            store = open_store(settings.store, self.spec, options=options)
        self.store = store
        self.view_store = view_store if view_store is not None else open_view_store(settings)
        self.duplicates = DuplicateIndex(settings.dedup.out_dir)  # the latest `cadsearch dedup`
        self._write_lock = threading.Lock()
        self._reads_inline = _holds_gil(self.store)

    def close(self) -> None:
        self.store.close()

    # -- search -------------------------------------------------------------------------------

    async def search(self, query: SearchInput) -> dict[str, Any]:
        """Encode every given modality concurrently, run one fused store query, explain hits."""
        started = time.perf_counter()
        if not query.modalities():
            raise invalid(
                "query", "give at least one of text, image, mesh, points or part_id", "empty_query"
            )
        if query.mesh is not None and query.points is not None:
            raise invalid("points", "give either points or a mesh, not both")
        rerank = query.rerank
        if rerank is None:
            rerank = self.search_defaults.reranks(query.modalities())
        vectors = await self._query_vectors(query, rerank)
        filters = query.filters or Filters()
        if query.part_id is not None:
            excluded = [*filters.exclude_part_ids, query.part_id]
            filters = filters.model_copy(update={"exclude_part_ids": excluded})
        kind = query.similarity_kind()
        scale = self.similarity.scale(kind) if self.similarity is not None else UNCALIBRATED
        fused = FusedQuery(
            text=vectors.vectors.get("text"),
            image=vectors.vectors.get("image"),
            geometry=vectors.vectors.get("geometry"),
            # a part's or mesh's views: the rerank's rows, or the image query (their mean)
            views=vectors.views if rerank or "image" not in vectors.vectors else None,
            weights=self._weights(query),
            fusion=query.fusion,
            filters=filters,
            top_k=query.top_k,
            offset=query.offset,
            rerank=rerank,
            rerank_weights=self.search_defaults.rerank_weights(vectors.vectors) if rerank else None,
            bundle_id=self.bundle_id,
            similarity=scale,
            min_similarity=query.min_similarity,
        )
        try:
            if query.same_size is not None:
                fused.filters = same_size_filters(filters, vectors.extents, query.same_size)
            hits = await self._read(self.store.search, fused)
        except InvalidQueryError as e:
            raise query_error(e) from e
        except BundleMismatchError as e:
            raise ApiError(409, "bundle_mismatch", str(e)) from e
        results = [hit_json(hit) for hit in hits]
        counts = self.duplicates.counts([hit.part_id for hit in hits])
        for result, count in zip(results, counts, strict=True):
            result["duplicates"] = count
        out: dict[str, Any] = {
            "results": results,
            "bundle_id": self.bundle_id,
            "query_id": uuid.uuid4().hex[:16],
            "modalities": query.modalities(),
            "similarity_kind": kind,
            "similarity_calibrated": scale.calibrated,
            "took_ms": round((time.perf_counter() - started) * 1000, 2),
        }
        if vectors.extents is not None:  # the compare view's query part
            out["query_extents_mm"] = sorted((float(v) for v in vectors.extents), reverse=True)
        if query.include_embeddings:
            out["embeddings"] = self._embeddings_json(vectors)
        return out

    def _weights(self, query: SearchInput) -> dict[str, float] | None:
        """The request's weights, over search.like_weights for "more like this" alone."""
        if query.modalities() != ["part_id"]:
            return query.weights
        return {**self.search_defaults.like_weights, **(query.weights or {})}

    async def _read(self, call, *args, **kwargs):
        """A search's store read (get, search): in a worker thread, except on an in-process Edge
        shard. Its calls hold the GIL (no other thread runs while one does) and take about a
        millisecond, so a thread only adds hand-offs (docs/tuning.md#ingress)."""
        if self._reads_inline:
            return call(*args, **kwargs)
        return await asyncio.to_thread(call, *args, **kwargs)

    async def _query_vectors(self, query: SearchInput, rerank: bool) -> QueryVectors:
        out = QueryVectors()
        jobs: dict[str, Any] = {}
        if query.part_id is not None:
            # its views only for a rerank (converting them costs more than the query's reads)
            names = True if rerank else list(MODALITIES)
            jobs["part"] = self._read(self.store.get, query.part_id, with_vectors=names)
        if query.text is not None:
            jobs["text"] = self.encoders.text([query.text])
        if query.image is not None:
            jobs["image"] = self.encoders.image([query.image])
        if query.points is not None:
            cloud = prepare_cloud(query.points, self.num_points)
            jobs["geometry"] = self.encoders.geometry([cloud])
        if query.mesh is not None:
            jobs["mesh"] = self._encode_mesh(query.mesh, query.mesh_type or "")
        results = dict(zip(jobs, await asyncio.gather(*jobs.values()), strict=True))
        if "part" in results:
            part = results["part"]
            if part is None:
                raise not_found("part_id", f"no part {query.part_id!r} in the collection")
            out.vectors.update({m: part.vectors[m] for m in MODALITIES if m in part.vectors})
            out.extents = part.payload.get("extents")
            if query.image is None and query.mesh is None:
                out.views = part.vectors.get("views")
        for name in ("text", "image", "geometry"):
            if name in results:
                out.vectors[name] = np.asarray(results[name][0], dtype=np.float32)
        if "mesh" in results:
            geometry, views, out.extents = results["mesh"]
            out.vectors["geometry"] = geometry
            out.views = views
            if query.image is None:
                out.vectors.pop("image", None)  # the mean of the mesh's views takes its place
        return out

    async def _encode_mesh(
        self, data: bytes, file_type: str
    ) -> tuple[np.ndarray, np.ndarray, list[float]]:
        """A query part file -> (geometry (D,), views (K, D), extents (3,) mm): points and views
        encoded at once."""
        prepared = await self.encoders.prepare_mesh(data, file_type)
        geometry, views = await asyncio.gather(
            self.encoders.geometry([prepared["points"]]),
            self.encoders.image(list(prepared["views_png"])),
        )
        extents = np.subtract(prepared["bbox_max"], prepared["bbox_min"]).tolist()
        return (
            np.asarray(geometry[0], dtype=np.float32),
            np.asarray(views, dtype=np.float32),
            extents,
        )

    @staticmethod
    def _embeddings_json(vectors: QueryVectors) -> dict[str, Any]:
        out = {m: unit_rows(v).tolist() for m, v in vectors.vectors.items()}
        if vectors.views is not None:
            if "image" not in out:
                out["image"] = mean_direction(vectors.views).tolist()
            out["views"] = np.asarray(vectors.views, dtype=np.float32).tolist()
        return out

    # -- embed --------------------------------------------------------------------------------

    def _check_batch(self, items: list, field: str) -> None:
        if not items:
            raise invalid(field, "must hold at least one item")
        if len(items) > self.limits.max_batch_items:
            raise ApiError(
                413,
                "too_many_items",
                f"{len(items)} items is over the limit of {self.limits.max_batch_items}",
                field,
            )

    async def embed_text(self, texts: list[str]) -> dict[str, Any]:
        self._check_batch(texts, "texts")
        return self._embed_json(await self.encoders.text(texts))

    async def embed_images(self, images: list[bytes]) -> dict[str, Any]:
        self._check_batch(images, "images")
        return self._embed_json(await self.encoders.image(images))

    async def embed_points(self, clouds: list[np.ndarray]) -> dict[str, Any]:
        self._check_batch(clouds, "point_clouds")
        prepared = [prepare_cloud(cloud, self.num_points) for cloud in clouds]
        return self._embed_json(await self.encoders.geometry(prepared))

    def _embed_json(self, vectors: np.ndarray) -> dict[str, Any]:
        vectors = np.asarray(vectors, dtype=np.float32)
        return {"bundle_id": self.bundle_id, "dim": self.dim, "vectors": vectors.tolist()}

    # -- parts --------------------------------------------------------------------------------

    async def get_part(self, part_id: str) -> dict[str, Any]:
        part_id = check_part_id(part_id)
        part = await asyncio.to_thread(self.store.get, part_id)
        if part is None:
            raise not_found("part_id", f"no part {part_id!r} in the collection")
        return part_json(part.payload)

    async def get_duplicates(self, part_id: str) -> dict[str, Any]:
        """The part's duplicate group in the latest dedup run, each member's relation to it."""
        part_id = check_part_id(part_id)
        if await asyncio.to_thread(self.store.get, part_id) is None:
            raise not_found("part_id", f"no part {part_id!r} in the collection")
        return await asyncio.to_thread(self.duplicates.of_part, part_id)

    async def get_embeddings(self, part_id: str) -> dict[str, Any]:
        part_id = check_part_id(part_id)
        part = await asyncio.to_thread(self.store.get, part_id, with_vectors=True)
        if part is None:
            raise not_found("part_id", f"no part {part_id!r} in the collection")
        vectors = part.vectors or {}
        out: dict[str, Any] = {
            "part_id": part_id,
            "bundle_id": part.payload.get("bundle_id", self.bundle_id),
            "dim": self.dim,
        }
        for name in MODALITIES:
            out[name] = np.asarray(vectors[name], dtype=np.float32).tolist()
        out["fused"] = fused_vector(vectors).tolist()
        views = vectors.get("views")
        out["views"] = np.asarray(views, dtype=np.float32).tolist() if views is not None else []
        return out

    async def facets(self, filters: Filters | None = None, limit: int = 100) -> dict[str, Any]:
        facets, total = await asyncio.gather(
            asyncio.to_thread(self.store.facets, filters, limit),
            asyncio.to_thread(self.store.count, filters),
        )
        return {"facets": facets, "total": total}

    async def index_part(
        self,
        data: bytes,
        *,
        part_id: str,
        filename: str | None = None,
        file_type: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Index one uploaded part through the stages the reindex job runs.

        prepare (``encoders.parts.prepare.prepare_row``) and encode (``EncodeParts``) run in the
        preparer deployment, the write (``store.write.write_rows``) here, where the store is
        open. A part that fails any stage writes nothing (views included).
        """
        from encoders.parts.source import PartSource

        part_id = check_part_id(part_id)
        kind = file_type_for(filename, file_type, "file")
        check_upload_size(data, "file", self.limits.max_body_mb)
        source = PartSource(
            part_id=part_id,
            uri=f"{UPLOAD_SCHEME}{filename or part_id + '.' + kind}",
            file_type=kind,
            metadata=dict(metadata or {}),
            fingerprint="sha256:" + hashlib.sha256(data).hexdigest(),
            size=len(data),
        )
        row = {**source.to_row(), "data": data}
        encoded = await self.encoders.index_row(row)
        if encoded["error"]:
            raise from_error_row(json.loads(encoded["error"]), "file")
        result = await asyncio.to_thread(self._write, [encoded])
        if result.errors:
            error = result.errors[0]
            invalid_record = error.get("code") == "invalid_record"
            raise from_error_row(error, "metadata" if invalid_record else "file")
        part = await asyncio.to_thread(self.store.get, part_id)
        payload = part.payload if part is not None else {}
        return {
            "part_id": part_id,
            "indexed": True,
            "name": payload.get("name", part_id),
            "category": payload.get("category", ""),
            "bundle_id": self.bundle_id,
            "num_views": len(encoded.get("view_names") or []),
            "view_urls": list(payload.get("view_urls") or []),
            "mesh_url": payload.get("mesh_url"),
            **predicted_json(payload),
        }

    def _write(self, rows: list[dict[str, Any]]):
        from store.write import write_rows

        with self._write_lock:
            result = write_rows(rows, self.store, self.view_store)
            self.store.flush()
            return result

    async def delete_part(self, part_id: str) -> dict[str, Any]:
        part_id = check_part_id(part_id)

        def delete() -> tuple[int, int]:
            with self._write_lock:
                removed = self.store.delete([part_id])
                self.store.flush()
                views = self.view_store.delete_part(part_id) if removed else 0
                return removed, views

        removed, views = await asyncio.to_thread(delete)
        if not removed:
            raise not_found("part_id", f"no part {part_id!r} in the collection")
        return {"part_id": part_id, "deleted": True, "views_removed": views}

    # -- a reindex job's writes, sent here while this replica holds the Edge shard ------------
    # (serve/writer_api.py; docs/operations.md#indexing-while-serving)

    def write_rows(self, rows: list[dict[str, Any]]):
        """Write a reindex job's encoded rows (its write stage, run here); the WriteResult."""
        return self._write(rows)

    def delete_parts(self, part_ids: list[str]) -> int:
        """Remove parts and their views (a reindex job's prune); how many were stored."""
        with self._write_lock:
            removed = self.store.delete(part_ids)
            self.store.flush()
            for part_id in part_ids:
                self.view_store.delete_part(part_id)
        return removed

    def view_file(self, key: str) -> tuple[bytes, str]:
        """A view PNG or light GLB of the local view store and its media type (404 for a
        malformed or unknown key)."""
        from store.views import InvalidViewKeyError, LocalViewStore, ViewNotFoundError

        if not isinstance(self.view_store, LocalViewStore):
            raise not_found("key", "views are served by the view store's own URLs, not here")
        try:
            return self.view_store.get(key), self.view_store.content_type(key)
        except (InvalidViewKeyError, ViewNotFoundError) as e:
            raise not_found("key", str(e)) from e

    # -- health -------------------------------------------------------------------------------

    async def ready(self, timeout_s: float = 5.0) -> dict[str, Any]:
        """Store open and every encoder loaded with the collection's bundle; raises 503 if not."""
        try:
            count = await asyncio.to_thread(self.store.count)
            encoders = await asyncio.wait_for(self.encoders.info(), timeout_s)
        except Exception as e:
            raise ApiError(503, "not_ready", f"{type(e).__name__}: {e}") from e
        wrong = {name: bid for name, bid in encoders.items() if bid != self.bundle_id}
        if wrong:
            raise ApiError(
                503,
                "bundle_mismatch",
                f"encoders {wrong} run another bundle than the collection's {self.bundle_id!r}",
            )
        return {"ready": True, "parts": count, "bundle_id": self.bundle_id, "encoders": encoders}


def _holds_gil(store) -> bool:
    """Whether a store's reads run in this process holding the GIL (Qdrant Edge, not a server)."""
    from store.edge import EdgeStore

    return isinstance(store, EdgeStore)
