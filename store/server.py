"""Qdrant server (or cluster) backend through qdrant-client; ``:memory:`` stands in for tests.

The spec lives in the collection's ``metadata`` (Qdrant >= 1.16). Writes go in batches with
``wait=True``; transient errors (connection, timeout, 429, 5xx, gRPC UNAVAILABLE...) are retried
with exponential backoff. shard_number / replication_factor / write_consistency_factor pass
through from StoreOptions at creation.
"""

from __future__ import annotations

import logging
import random
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, TypeVar

from qdrant_client import QdrantClient
from qdrant_client import models as m
from qdrant_client.http.exceptions import ResponseHandlingException, UnexpectedResponse

from store.base import RawHit, Store
from store.errors import CollectionNotFoundError, StoreError
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
T = TypeVar("T")
RETRY_STATUS = {408, 429, 500, 502, 503, 504}
RETRY_GRPC = {"UNAVAILABLE", "DEADLINE_EXCEEDED", "RESOURCE_EXHAUSTED", "ABORTED"}


def is_transient(error: BaseException) -> bool:
    """Whether a request error is worth retrying (network, overload, server restart)."""
    if isinstance(error, UnexpectedResponse):
        return error.status_code in RETRY_STATUS
    if isinstance(error, ResponseHandlingException | ConnectionError | TimeoutError):
        return True
    code = getattr(error, "code", None)  # grpc.RpcError, without importing grpc
    if callable(code):
        try:
            return getattr(code(), "name", "") in RETRY_GRPC
        except Exception:  # noqa: BLE001 - a foreign error type: not transient
            return False
    return False


def collection_config(spec: CollectionSpec, options: StoreOptions) -> dict[str, Any]:
    """create_collection keyword arguments of a collection."""
    vectors = {
        name: m.VectorParams(size=spec.dim, distance=m.Distance.COSINE) for name in DENSE_VECTORS
    }
    vectors[VIEWS] = m.VectorParams(
        size=spec.dim,
        distance=m.Distance.COSINE,
        multivector_config=m.MultiVectorConfig(comparator=m.MultiVectorComparator.MAX_SIM),
        hnsw_config=m.HnswConfigDiff(m=0),
        on_disk=True if options.views_on_disk else None,
    )
    quantization = None
    if options.quantization == "int8":
        quantization = m.ScalarQuantization(
            scalar=m.ScalarQuantizationConfig(
                type=m.ScalarType.INT8, quantile=options.quantile, always_ram=True
            )
        )
    return {
        "vectors_config": vectors,
        "hnsw_config": m.HnswConfigDiff(
            m=options.hnsw_m,
            ef_construct=options.hnsw_ef_construct,
            full_scan_threshold=options.full_scan_threshold_kb,
        ),
        "quantization_config": quantization,
        "on_disk_payload": options.payload_on_disk,
        "shard_number": options.shard_number,
        "replication_factor": options.replication_factor,
        "write_consistency_factor": options.write_consistency_factor,
        "metadata": spec.to_metadata(),
    }


def _condition(cond: Condition) -> Any:
    kind = cond[0]
    if kind == "any":
        return m.FieldCondition(key=cond[1], match=m.MatchAny(any=list(cond[2])))
    if kind == "range":
        return m.FieldCondition(key=cond[1], range=m.Range(gte=cond[2], lte=cond[3]))
    if kind == "ids":
        return m.HasIdCondition(has_id=list(cond[1]))
    raise ValueError(f"unknown filter condition {kind!r}")


def _filter(must: list[Condition], must_not: list[Condition]) -> m.Filter | None:
    if not must and not must_not:
        return None
    return m.Filter(
        must=[_condition(c) for c in must] or None,
        must_not=[_condition(c) for c in must_not] or None,
    )


def _point(point: PreparedPoint | StoredPart) -> m.PointStruct:
    vectors = {name: value.tolist() for name, value in (point.vectors or {}).items()}
    return m.PointStruct(id=point.id, vector=vectors, payload=point.payload)


class ServerStore(Store):
    """A collection on a Qdrant server or cluster (or qdrant-client's ``:memory:`` in tests)."""

    backend = "server"

    def __init__(
        self,
        spec: CollectionSpec | None = None,
        *,
        collection: str = "parts",
        url: str | None = None,
        api_key: str | None = None,
        prefer_grpc: bool = True,
        location: str | None = None,
        client: QdrantClient | None = None,
        options: StoreOptions | None = None,
    ):
        given = [
            name for name, v in (("url", url), ("location", location), ("client", client)) if v
        ]
        if len(given) != 1:
            raise ValueError(f"give exactly one of url, location, client; got {given or 'none'}")
        if client is not None and api_key is not None:
            raise ValueError("api_key goes with url, not with a ready client")
        self._options = options or StoreOptions()
        self.collection = collection
        self._owns_client = client is None
        self.client = client or QdrantClient(
            url=url,
            location=location,
            api_key=api_key,
            prefer_grpc=prefer_grpc,
            timeout=self._options.timeout_s,
        )
        # qdrant-client's local mode searches exactly and warns about every search_params
        self._local = type(getattr(self.client, "_client", None)).__name__ == "QdrantLocal"
        try:
            self._spec = self._open(spec)
        except BaseException:
            self.close()
            raise

    def _retry(self, what: str, call: Callable[[], T]) -> T:
        delay = self._options.backoff_s
        for attempt in range(self._options.retries + 1):
            try:
                return call()
            except Exception as e:
                if attempt == self._options.retries or not is_transient(e):
                    raise
                log.warning("%s failed (%s); retry %d in %.2fs", what, e, attempt + 1, delay)
                time.sleep(delay * (1 + 0.1 * random.random()))
                delay = min(delay * 2, 30.0)
        raise AssertionError("unreachable")

    def _open(self, spec: CollectionSpec | None) -> CollectionSpec:
        name = self.collection
        where = f"Qdrant collection {name!r}"
        if self._retry("collection_exists", lambda: self.client.collection_exists(name)):
            info = self._retry("get_collection", lambda: self.client.get_collection(name))
            stored = CollectionSpec.from_metadata(info.config.metadata)
            if stored is None:
                raise StoreError(f"{where} has no cadsearch metadata: not a cadsearch collection")
            if spec is not None:
                stored.check_same(spec, where)
            return stored
        if spec is None:
            raise CollectionNotFoundError(f"no {where}; give a CollectionSpec to create it")
        config = collection_config(spec, self._options)
        self._retry("create_collection", lambda: self.client.create_collection(name, **config))
        kinds: list[tuple[str, Any]] = [
            (
                k,
                m.KeywordIndexParams(
                    type="keyword",
                    enable_hnsw=k in HNSW_FILTER_FIELDS,
                    is_tenant=k == "category" and self._options.group_by_category or None,
                ),
            )
            for k in KEYWORD_INDEXES
        ]
        kinds += [
            (k, m.FloatIndexParams(type="float", enable_hnsw=k in HNSW_FILTER_FIELDS))
            for k in FLOAT_INDEXES
        ]
        with warnings.catch_warnings():  # local mode warns that indexes have no effect there
            warnings.simplefilter("ignore")
            for key, kind in kinds:
                self._retry(
                    f"create_payload_index {key}",
                    lambda k=key, t=kind: self.client.create_payload_index(name, k, t, wait=True),
                )
        info = self._retry("get_collection", lambda: self.client.get_collection(name))
        if CollectionSpec.from_metadata(info.config.metadata) != spec:
            raise StoreError(
                f"the server did not keep the metadata of {where}: Qdrant >= 1.16 needed"
            )
        return spec

    @property
    def spec(self) -> CollectionSpec:
        return self._spec

    @property
    def options(self) -> StoreOptions:
        return self._options

    # -- writes -------------------------------------------------------------------------------

    def upsert(self, records: Iterable[PartRecord]) -> int:
        points = prepare_batch(records, self.spec)
        self._write(points)
        return len(points)

    def _write(self, points: Sequence[PreparedPoint | StoredPart]) -> None:
        size = self._options.upsert_batch
        for start in range(0, len(points), size):
            batch = [_point(p) for p in points[start : start + size]]
            self._retry(
                f"upsert of {len(batch)} points",
                lambda b=batch: self.client.upsert(self.collection, b, wait=True),
            )

    def write_stored(self, parts: Sequence[StoredPart]) -> None:
        self._write(parts)

    def delete(self, part_ids: Iterable[str]) -> int:
        ids = [point_id(p) for p in part_ids]
        if not ids:
            return 0
        found = self._retry(
            "retrieve",
            lambda: self.client.retrieve(self.collection, ids, with_payload=False),
        )
        existing = [str(r.id) for r in found]
        if existing:
            selector = m.PointIdsList(points=existing)
            self._retry("delete", lambda: self.client.delete(self.collection, selector, wait=True))
        return len(existing)

    def flush(self) -> None:
        """Nothing to do: every write waited (``wait=True``) for the server to apply it."""

    def optimize(self, timeout_s: float = 600.0) -> None:
        """Wait until the server has indexed everything (status green)."""
        deadline = time.monotonic() + timeout_s
        while True:
            info = self._retry(
                "get_collection", lambda: self.client.get_collection(self.collection)
            )
            if info.status == m.CollectionStatus.GREEN or time.monotonic() > deadline:
                return
            time.sleep(0.5)

    # -- reads --------------------------------------------------------------------------------

    def get_many(
        self, part_ids: Sequence[str], *, with_vectors: bool | Sequence[str] = False
    ) -> list[StoredPart]:
        ids = [point_id(p) for p in part_ids]
        records = self._retry(
            "retrieve",
            lambda: self.client.retrieve(
                self.collection, ids, with_payload=True, with_vectors=with_vectors
            ),
        )
        by_id = {str(r.id): r for r in records}
        return [self._stored(by_id[pid], with_vectors) for pid in ids if pid in by_id]

    @staticmethod
    def _stored(record: Any, with_vectors: bool | Sequence[str]) -> StoredPart:
        payload = dict(record.payload or {})
        vectors = vectors_from_stored(record.vector) if with_vectors else None
        return StoredPart(str(record.id), payload.get("part_id", ""), payload, vectors)

    def count(self, filters: Filters | None = None) -> int:
        flt = _filter(*filter_conditions(filters))
        result = self._retry(
            "count", lambda: self.client.count(self.collection, count_filter=flt, exact=True)
        )
        return result.count

    def facet(self, field: str, filters: Filters | None = None, limit: int = 100) -> dict[str, int]:
        flt = _filter(*filter_conditions(filters))
        response = self._retry(
            "facet",
            lambda: self.client.facet(
                self.collection, field, facet_filter=flt, limit=limit, exact=True
            ),
        )
        hits = sorted(((h.value, h.count) for h in response.hits), key=lambda h: (-h[1], h[0]))
        return dict(hits)

    def _scroll(self, batch_size: int, with_payload: Any, with_vectors: bool) -> Iterator[Any]:
        offset = None
        while True:
            records, offset = self._retry(
                "scroll",
                lambda o=offset: self.client.scroll(
                    self.collection,
                    limit=batch_size,
                    offset=o,
                    with_payload=with_payload,
                    with_vectors=with_vectors,
                ),
            )
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

    def _params(self, plan: SearchPlan) -> m.SearchParams | None:
        if self._local:
            return None
        quantization = None
        if plan.exact and self._options.quantization != "none":  # ground truth: original vectors
            quantization = m.QuantizationSearchParams(ignore=True)
        elif self._options.quantization != "none":
            quantization = m.QuantizationSearchParams(
                rescore=self._options.rescore, oversampling=self._options.oversampling
            )
        return m.SearchParams(
            hnsw_ef=max(self._options.search_ef, plan.prefetch_limit),
            exact=plan.exact,
            quantization=quantization,
        )

    def _fusion(self, plan: SearchPlan) -> Any:
        if plan.fusion == "rrf":
            return m.RrfQuery(rrf=m.Rrf(k=plan.rrf_k, weights=plan.weights))
        if plan.fusion == "dbsf":
            return m.FusionQuery(fusion=m.Fusion.DBSF)
        terms = [
            m.MultExpression(mult=[p.weight, f"$score[{i}]"]) for i, p in enumerate(plan.pairs)
        ]
        defaults = {f"$score[{i}]": 0.0 for i in range(len(plan.pairs))}
        return m.FormulaQuery(formula=m.SumExpression(sum=terms), defaults=defaults)

    def _prefetches(self, plan: SearchPlan, flt: m.Filter | None) -> list[m.Prefetch]:
        params = self._params(plan)
        return [
            m.Prefetch(
                query=p.vector.tolist(),
                using=p.target,
                limit=plan.prefetch_limit,
                params=params,
                filter=flt,
            )
            for p in plan.pairs
        ]

    @staticmethod
    def _raw(points: list[Any]) -> list[RawHit]:
        return [(str(p.id), p.score, dict(p.payload or {}), p.vector or {}) for p in points]

    def _run_fused(self, plan: SearchPlan) -> list[tuple[str, float]]:
        flt = _filter(plan.must, plan.must_not)
        fused = self._fusion(plan)
        prefetch = self._prefetches(plan, flt)
        using = None
        if plan.rerank_rows is not None:
            inner = m.Prefetch(
                prefetch=prefetch, query=fused, limit=plan.rerank_candidates, filter=flt
            )
            fused, using, prefetch = self._rerank(plan, [inner])
        response = self._retry(
            "query_points",
            lambda: self.client.query_points(
                self.collection,
                query=fused,
                using=using,
                prefetch=prefetch,
                query_filter=flt,
                limit=plan.fetch_limit,
                with_payload=False,
                with_vectors=False,
            ),
        )
        return [(str(p.id), p.score) for p in response.points]

    def _run_pairs(self, plan: SearchPlan) -> list[list[tuple[str, float]]]:
        flt = _filter(plan.must, plan.must_not)
        params = self._params(plan)
        requests = [
            m.QueryRequest(
                query=p.vector.tolist(),
                using=p.target,
                filter=flt,
                params=params,
                limit=plan.prefetch_limit,
                with_payload=False,
                with_vector=False,
            )
            for p in plan.pairs
        ]
        answers = self._retry(
            "query_batch_points",
            lambda: self.client.query_batch_points(self.collection, requests),
        )
        return [[(str(p.id), p.score) for p in answer.points] for answer in answers]

    def _rerank(
        self,
        plan: SearchPlan,
        candidates: list[m.Prefetch] | None,
        flt: m.Filter | None = None,
        params: m.SearchParams | None = None,
    ) -> tuple[Any, str | None, list[m.Prefetch] | None]:
        """The rerank stage as EdgeStore._rerank builds it: (query, using, prefetch)."""
        rows = plan.rerank_rows.tolist()
        if not plan.rerank_pairs:
            return rows, VIEWS, candidates
        limit = plan.rerank_candidates
        stage = m.Prefetch(
            prefetch=candidates, query=rows, using=VIEWS, limit=limit, filter=flt, params=params
        )
        stages = [stage] + [
            m.Prefetch(
                prefetch=[stage],
                query=p.vector.tolist(),
                using=p.target,
                limit=limit,
                params=params,
            )
            for p in plan.rerank_pairs
        ]
        terms = ["$score[0]"] + [
            m.MultExpression(mult=[p.weight, f"$score[{i}]"])
            for i, p in enumerate(plan.rerank_pairs, start=1)
        ]
        defaults = {f"$score[{i}]": 0.0 for i in range(1, len(stages))}
        return m.FormulaQuery(formula=m.SumExpression(sum=terms), defaults=defaults), None, stages

    def _run_rerank(self, plan: SearchPlan, ids: list[str]) -> list[RawHit]:
        flt = _filter([*plan.must, ("ids", ids)], plan.must_not)
        exact = None
        if not self._local:
            exact = m.SearchParams(exact=True, quantization=m.QuantizationSearchParams(ignore=True))
        query, using, stages = self._rerank(plan, None, flt, exact)
        response = self._retry(
            "query_points",
            lambda: self.client.query_points(
                self.collection,
                query=query,
                using=using,
                prefetch=stages,
                query_filter=None if stages else flt,
                search_params=None if stages else exact,
                limit=plan.fetch_limit,
                with_payload=True,
                with_vectors=hit_vector_names(plan),
            ),
        )
        return self._raw(response.points)

    def _fetch_hits(self, plan: SearchPlan, scored: list[tuple[str, float]]) -> list[RawHit]:
        ids = [pid for pid, _ in scored]
        records = self._retry(
            "retrieve",
            lambda: self.client.retrieve(
                self.collection, ids, with_payload=True, with_vectors=hit_vector_names(plan)
            ),
        )
        by_id = {str(r.id): r for r in records}
        return [
            (pid, score, dict(by_id[pid].payload or {}), by_id[pid].vector or {})
            for pid, score in scored
            if pid in by_id
        ]

    # -- lifetime -----------------------------------------------------------------------------

    def close(self) -> None:
        if self._owns_client and getattr(self, "client", None) is not None:
            self.client.close()
