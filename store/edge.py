"""Qdrant Edge backend: the real Qdrant engine in-process, one shard in a folder, one writer.

Folder layout (one collection)::

    <path>/collection.json   the spec (bundle id, dim, view set) and creation options, atomic
    <path>/shard/            the EdgeShard (segments, WAL, edge_config.json)
    <path>/writer.lock       exclusive flock held while open; a second writer is refused
    <path>/holder.json       a search service that holds the lock names itself (store/holder.py)

Qdrant Edge's shard config has no free-form metadata, so the spec lives in the sidecar JSON.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import qdrant_edge as qe

from store.base import RawHit, Store
from store.errors import CollectionNotFoundError, StoreError, WriterLockedError
from store.options import StoreOptions
from store.query import Condition, Filters, SearchPlan, filter_conditions, hit_vector_names
from store.schema import (
    DENSE_VECTORS,
    FLOAT_INDEXES,
    HNSW_FILTER_FIELDS,
    ID_ENTRY_FIELDS,
    KEYWORD_INDEXES,
    VIEWS,
    CollectionSpec,
    IdEntry,
    PartRecord,
    PreparedPoint,
    StoredPart,
    id_entry,
    point_id,
    prepare_batch,
    vectors_from_stored,
)

log = logging.getLogger(__name__)
SIDECAR = "collection.json"
SHARD_DIR = "shard"
LOCK_FILE = "writer.lock"
# options fixed when the shard is created; the others (search ef, oversampling) apply per open
CREATION_OPTIONS = (
    "quantization",
    "quantile",
    "views_on_disk",
    "payload_on_disk",
    "group_by_category",
    "hnsw_m",
    "hnsw_ef_construct",
    "full_scan_threshold_kb",
)


def _acquire_lock(path: Path) -> int:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
        os.close(fd)
        raise WriterLockedError(
            f"Qdrant Edge collection {path.parent} is already open by another writer "
            f"(pid {holder}); Edge allows exactly one: close it first, or use a Qdrant server",
            folder=str(path.parent),
            pid=int(holder) if holder.isdigit() else None,
        ) from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, str(os.getpid()).encode(), 0)
    return fd


def _write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=2, sort_keys=True)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def edge_config(spec: CollectionSpec, options: StoreOptions) -> qe.EdgeConfig:
    """The EdgeConfig of a collection: dense HNSW vectors and a MaxSim views multivector."""
    hnsw = qe.HnswIndexConfig(
        m=options.hnsw_m,
        ef_construct=options.hnsw_ef_construct,
        full_scan_threshold=options.full_scan_threshold_kb,
    )
    no_hnsw = qe.HnswIndexConfig(m=0, ef_construct=options.hnsw_ef_construct, full_scan_threshold=0)
    vectors = {
        name: qe.EdgeVectorParams(size=spec.dim, distance=qe.Distance.Cosine)
        for name in DENSE_VECTORS
    }
    vectors[VIEWS] = qe.EdgeVectorParams(
        size=spec.dim,
        distance=qe.Distance.Cosine,
        multivector_config=qe.MultiVectorConfig(qe.MultiVectorComparator.MaxSim),
        hnsw_config=no_hnsw,
        memory=qe.Memory.Cold if options.views_on_disk else None,
    )
    quantization = None
    if options.quantization == "int8":
        quantization = qe.ScalarQuantizationConfig(
            qe.ScalarType.Int8, quantile=options.quantile, always_ram=True
        )
    return qe.EdgeConfig(
        vectors=vectors,
        hnsw_config=hnsw,
        quantization_config=quantization,
        payload_memory=qe.Memory.Cold if options.payload_on_disk else qe.Memory.Cached,
        max_search_threads=options.search_threads,
    )


def _condition(cond: Condition) -> Any:
    kind = cond[0]
    if kind == "any":
        return qe.FieldCondition(cond[1], match=qe.MatchAny(list(cond[2])))
    if kind == "range":
        return qe.FieldCondition(cond[1], range=qe.RangeFloat(gte=cond[2], lte=cond[3]))
    if kind == "ids":
        return qe.HasIdCondition(set(cond[1]))
    raise ValueError(f"unknown filter condition {kind!r}")


def _filter(must: list[Condition], must_not: list[Condition]) -> qe.Filter | None:
    if not must and not must_not:
        return None
    return qe.Filter(
        must=[_condition(c) for c in must] or None,
        must_not=[_condition(c) for c in must_not] or None,
    )


def _point(point: PreparedPoint | StoredPart) -> qe.Point:
    vectors = {name: value.tolist() for name, value in (point.vectors or {}).items()}
    return qe.Point(point.id, vectors, point.payload)


class EdgeStore(Store):
    """A collection in a Qdrant Edge shard folder. Open it once: it is the only writer."""

    backend = "edge"

    def __init__(
        self,
        path: str | Path,
        spec: CollectionSpec | None = None,
        options: StoreOptions | None = None,
    ):
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        self._lock_fd: int | None = _acquire_lock(self.path / LOCK_FILE)
        self._shard: qe.EdgeShard | None = None
        try:
            self._spec, self._options = self._open(spec, options or StoreOptions())
        except BaseException:
            self.close()
            raise

    def _open(
        self, spec: CollectionSpec | None, options: StoreOptions
    ) -> tuple[CollectionSpec, StoreOptions]:
        sidecar = self.path / SIDECAR
        shard_dir = self.path / SHARD_DIR
        shard_exists = (shard_dir / "edge_config.json").exists()
        if sidecar.exists():
            stored = json.loads(sidecar.read_text(encoding="utf-8"))
            stored_spec = CollectionSpec.from_metadata(stored.get("metadata"))
            if stored_spec is None:
                raise StoreError(f"{sidecar} holds no cadsearch collection spec")
            if spec is not None:
                stored_spec.check_same(spec, f"Qdrant Edge collection {self.path}")
            kept = {k: v for k, v in stored.get("options", {}).items() if k in CREATION_OPTIONS}
            changed = {k: v for k, v in kept.items() if getattr(options, k) != v}
            if changed:
                log.warning("%s: creation options %s are kept from creation", self.path, changed)
            options = options.model_copy(update=kept)
            spec = stored_spec
        else:
            if shard_exists:
                raise StoreError(f"{shard_dir} has a shard but no {SIDECAR}: not a cadsearch store")
            if spec is None:
                raise CollectionNotFoundError(
                    f"no collection at {self.path}; give a CollectionSpec to create one"
                )
            options_doc = {k: getattr(options, k) for k in CREATION_OPTIONS}
            _write_json_atomic(sidecar, {"metadata": spec.to_metadata(), "options": options_doc})
        if shard_exists:
            # a config at load is checked against the shard's and replaces its per-open settings
            # (the search pool); without one the shard keeps what it was last opened with
            config = edge_config(spec, options) if options.search_threads else None
            self._shard = qe.EdgeShard.load(str(shard_dir), config)
        else:
            self._shard = qe.EdgeShard.create(str(shard_dir), edge_config(spec, options))
        self._ensure_indexes(options)
        return spec, options

    def _ensure_indexes(self, options: StoreOptions) -> None:
        """Create the payload indexes a shard lacks (all of them, for a new shard)."""
        present = set(self.shard.info().payload_schema)
        for name in KEYWORD_INDEXES:
            if name not in present:
                params = qe.KeywordIndexParams(
                    enable_hnsw=name in HNSW_FILTER_FIELDS,
                    is_tenant=name == "category" and options.group_by_category or None,
                )
                self._update(qe.UpdateOperation.create_field_index(name, params))
        for name in FLOAT_INDEXES:
            if name not in present:
                params = qe.FloatIndexParams(enable_hnsw=name in HNSW_FILTER_FIELDS)
                self._update(qe.UpdateOperation.create_field_index(name, params))

    @property
    def spec(self) -> CollectionSpec:
        return self._spec

    @property
    def options(self) -> StoreOptions:
        return self._options

    @property
    def shard(self) -> qe.EdgeShard:
        if self._shard is None:
            raise StoreError(f"Qdrant Edge collection {self.path} is closed")
        return self._shard

    def _update(self, operation: qe.UpdateOperation) -> None:
        self.shard.update(operation)

    # -- writes -------------------------------------------------------------------------------

    def upsert(self, records: Iterable[PartRecord]) -> int:
        points = prepare_batch(records, self.spec)
        self._write(points)
        return len(points)

    def _write(self, points: Sequence[PreparedPoint | StoredPart]) -> None:
        if points:  # one update operation: one WAL entry, so a batch lands whole or not at all
            self._update(qe.UpdateOperation.upsert_points([_point(p) for p in points]))

    def write_stored(self, parts: Sequence[StoredPart]) -> None:
        self._write(parts)

    def delete(self, part_ids: Iterable[str]) -> int:
        ids = [point_id(p) for p in part_ids]
        if not ids:
            return 0
        existing = [r.id for r in self.shard.retrieve(ids, with_payload=False, with_vector=False)]
        if existing:
            self._update(qe.UpdateOperation.delete_points(existing))
        return len(existing)

    def flush(self) -> None:
        self.shard.flush()

    def optimize(self) -> None:
        self.shard.optimize()
        self.shard.flush()

    # -- reads --------------------------------------------------------------------------------

    def get_many(
        self, part_ids: Sequence[str], *, with_vectors: bool | Sequence[str] = False
    ) -> list[StoredPart]:
        ids = [point_id(p) for p in part_ids]
        records = self.shard.retrieve(ids, with_payload=True, with_vector=with_vectors)
        by_id = {str(r.id): r for r in records}
        out = []
        for pid in ids:
            if pid in by_id:
                out.append(self._stored(by_id[pid], with_vectors))
        return out

    @staticmethod
    def _stored(record: Any, with_vectors: bool | Sequence[str]) -> StoredPart:
        payload = dict(record.payload or {})
        vectors = vectors_from_stored(record.vector) if with_vectors else None
        return StoredPart(str(record.id), payload.get("part_id", ""), payload, vectors)

    def count(self, filters: Filters | None = None) -> int:
        return self.shard.count(
            qe.CountRequest(exact=True, filter=_filter(*filter_conditions(filters)))
        )

    def facet(self, field: str, filters: Filters | None = None, limit: int = 100) -> dict[str, int]:
        request = qe.FacetRequest(
            field, limit=limit, exact=True, filter=_filter(*filter_conditions(filters))
        )
        # the engine keeps a deleted value with count 0 in its index until the shard is reopened
        counts = ((h.value, h.count) for h in self.shard.facet(request) if h.count > 0)
        return dict(sorted(counts, key=lambda h: (-h[1], h[0])))

    def _scroll(self, batch_size: int, with_payload: Any, with_vector: bool) -> Iterator[Any]:
        offset = None
        while True:
            request = qe.ScrollRequest(
                offset=offset, limit=batch_size, with_payload=with_payload, with_vector=with_vector
            )
            records, offset = self.shard.scroll(request)
            yield from records
            if offset is None or not records:
                return

    def iter_ids(self, batch_size: int = 1024) -> Iterator[IdEntry]:
        for r in self._scroll(batch_size, ID_ENTRY_FIELDS, False):
            yield id_entry(r.id, r.payload)

    def iter_points(self, batch_size: int = 256, with_vectors: bool = True) -> Iterator[StoredPart]:
        for r in self._scroll(batch_size, True, with_vectors):
            yield self._stored(r, with_vectors)

    # -- search -------------------------------------------------------------------------------

    def _params(self, plan: SearchPlan) -> qe.SearchParams:
        quantization = None
        if plan.exact and self.options.quantization != "none":  # ground truth: original vectors
            quantization = qe.QuantizationSearchParams(ignore=True)
        elif self.options.quantization != "none":
            quantization = qe.QuantizationSearchParams(
                rescore=self.options.rescore, oversampling=self.options.oversampling
            )
        return qe.SearchParams(
            hnsw_ef=max(self.options.search_ef, plan.prefetch_limit),
            exact=plan.exact,
            quantization=quantization,
        )

    def _fusion(self, plan: SearchPlan) -> Any:
        if plan.fusion == "rrf":
            return qe.Fusion.Rrf(k=plan.rrf_k, weights=plan.weights)
        if plan.fusion == "dbsf":
            return qe.Fusion.Dbsf()
        E = qe.Expression
        terms = [
            E.Mult([E.Constant(p.weight), E.Variable(f"$score[{i}]")])
            for i, p in enumerate(plan.pairs)
        ]
        defaults = {f"$score[{i}]": 0.0 for i in range(len(plan.pairs))}
        return qe.Formula(E.Sum(terms), defaults=defaults)

    def _prefetches(self, plan: SearchPlan, flt: qe.Filter | None) -> list[qe.Prefetch]:
        params = self._params(plan)
        lists = {m: v.tolist() for m, v in plan.queries.items()}  # each once, not once a pair
        return [
            qe.Prefetch(
                limit=plan.prefetch_limit,
                query=qe.Query.Nearest(lists[p.modality], using=p.target),
                params=params,
                filter=flt,
            )
            for p in plan.pairs
        ]

    def _raw(self, points: list[Any]) -> list[RawHit]:
        return [(str(p.id), p.score, dict(p.payload or {}), p.vector or {}) for p in points]

    def _run_fused(self, plan: SearchPlan) -> list[tuple[str, float]]:
        flt = _filter(plan.must, plan.must_not)
        fused = self._fusion(plan)
        prefetches = self._prefetches(plan, flt)
        # every candidate comes from the filtered prefetches: the outer stages need no filter
        # of their own (repeating it there costs time: docs/tuning.md#store-options)
        if plan.rerank_rows is not None:
            inner = qe.Prefetch(limit=plan.rerank_candidates, query=fused, prefetches=prefetches)
            query, prefetches = self._rerank(plan, [inner])
        else:
            query = fused
        request = qe.QueryRequest(
            limit=plan.fetch_limit,
            query=query,
            prefetches=prefetches,
            with_payload=False,
            with_vector=False,
        )
        return [(str(p.id), p.score) for p in self.shard.query(request)]

    def _run_pairs(self, plan: SearchPlan) -> list[list[tuple[str, float]]]:
        flt = _filter(plan.must, plan.must_not)
        params = self._params(plan)
        requests = [
            qe.QueryRequest(
                limit=plan.prefetch_limit,
                query=qe.Query.Nearest(p.vector.tolist(), using=p.target),
                filter=flt,
                params=params,
                with_payload=False,
                with_vector=False,
            )
            for p in plan.pairs
        ]
        answers = self.shard.query_batch(qe.QueryBatchRequest(requests))
        return [[(str(p.id), p.score) for p in answer] for answer in answers]

    def _rerank(
        self,
        plan: SearchPlan,
        candidates: list[qe.Prefetch] | None,
        flt: qe.Filter | None = None,
        params: qe.SearchParams | None = None,
    ) -> tuple[Any, list[qe.Prefetch] | None]:
        """The rerank stage over ``candidates`` (or the filter's points): MaxSim over views, plus
        the rerank pairs as a formula over stages that rescore the views stage's points (so parts
        without views still drop out). Returns (query, prefetches) of the enclosing request."""
        by_views = qe.Query.Nearest(plan.rerank_rows.tolist(), using=VIEWS)
        if not plan.rerank_pairs:
            return by_views, candidates
        limit = plan.rerank_candidates
        stage = qe.Prefetch(
            limit=limit, query=by_views, prefetches=candidates, filter=flt, params=params
        )
        stages = [stage] + [
            qe.Prefetch(
                limit=limit,
                query=qe.Query.Nearest(p.vector.tolist(), using=p.target),
                prefetches=[stage],
                params=params,
            )
            for p in plan.rerank_pairs
        ]
        E = qe.Expression
        terms = [E.Variable("$score[0]")] + [
            E.Mult([E.Constant(p.weight), E.Variable(f"$score[{i}]")])
            for i, p in enumerate(plan.rerank_pairs, start=1)
        ]
        defaults = {f"$score[{i}]": 0.0 for i in range(1, len(stages))}
        return qe.Formula(E.Sum(terms), defaults=defaults), stages

    def _run_rerank(self, plan: SearchPlan, ids: list[str]) -> list[RawHit]:
        flt = _filter([*plan.must, ("ids", ids)], plan.must_not)
        exact = qe.SearchParams(exact=True, quantization=qe.QuantizationSearchParams(ignore=True))
        query, stages = self._rerank(plan, None, flt, exact)
        request = qe.QueryRequest(
            limit=plan.fetch_limit,
            query=query,
            prefetches=stages,
            filter=None if stages else flt,
            params=None if stages else exact,
            with_payload=True,
            with_vector=hit_vector_names(plan),
        )
        return self._raw(self.shard.query(request))

    def _fetch_hits(self, plan: SearchPlan, scored: list[tuple[str, float]]) -> list[RawHit]:
        records = self.shard.retrieve(
            [pid for pid, _ in scored], with_payload=True, with_vector=hit_vector_names(plan)
        )
        by_id = {str(r.id): r for r in records}
        return [
            (pid, score, dict(by_id[pid].payload or {}), by_id[pid].vector or {})
            for pid, score in scored
            if pid in by_id
        ]

    # -- lifetime -----------------------------------------------------------------------------

    def close(self) -> None:
        if self._shard is not None:
            try:
                self._shard.flush()
                self._shard.close()
            finally:
                self._shard = None
        if self._lock_fd is not None:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
            os.close(self._lock_fd)
            self._lock_fd = None
