"""The store section of the settings: where a collection lives and its storage tunables.

One model, owned here: ``StoreOptions`` are what a backend needs, ``StoreConfig`` adds where the
collection lives; the settings' ``store`` section is a ``StoreConfig`` (flat in a profile:
``store: {backend: edge, quantization: int8}``). Pydantic only, so the settings import it cheaply.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class StoreOptions(BaseModel):
    """Storage and search tunables of a collection (large catalogs: int8, views on disk)."""

    model_config = ConfigDict(extra="forbid")

    quantization: Literal["none", "int8"] = "none"  # int8 scalar quantization of all vectors
    quantile: float = Field(0.99, gt=0.5, le=1.0)  # int8 quantization range quantile
    rescore: bool = True  # with int8: rescore candidates with the original vectors
    oversampling: float = Field(2.0, ge=1.0)  # with int8: candidates fetched per result
    views_on_disk: bool = False  # keep the views multivector on disk (mmap), not in RAM
    payload_on_disk: bool = False  # payload read from disk per hit (saves RAM, costs latency)
    # lay storage out by category (Qdrant is_tenant): category-filtered search gets faster,
    # unfiltered HNSW recall lower (docs/tuning.md#store-options)
    group_by_category: bool = False
    hnsw_m: int = Field(16, ge=4)  # HNSW edges per node (dense vectors)
    hnsw_ef_construct: int = Field(100, ge=4)  # HNSW build-time candidate list
    # HNSW search-time candidate list (at least the prefetch limit); a low full-scan threshold
    # lets category-filtered queries walk per-category links (docs/tuning.md#store-options)
    search_ef: int = Field(64, ge=1)
    full_scan_threshold_kb: int = Field(100, ge=0)  # filtered below this (KB of vectors): scan
    # Qdrant Edge search pool threads; None keeps the shard's own (from the CPUs), and the search
    # ingress uses its CPU share: more threads than CPUs only add hand-offs
    # (docs/tuning.md#search-threads)
    search_threads: int | None = Field(None, ge=1)
    # server backend only (passed through at creation; None: the server's default)
    shard_number: int | None = Field(None, ge=1)
    replication_factor: int | None = Field(None, ge=1)
    write_consistency_factor: int | None = Field(None, ge=1)
    upsert_batch: int = Field(256, ge=1)  # points per upsert request (server; Edge: one op)
    retries: int = Field(5, ge=0)  # retries of a request after a transient error
    backoff_s: float = Field(0.5, ge=0.0)  # first retry delay; doubles on each retry
    timeout_s: int | None = Field(None, ge=1)  # per-request timeout (server)


class StoreConfig(StoreOptions):
    """Where vectors live (backend, folder or URL, collection), plus the collection's tunables."""

    backend: Literal["edge", "server"] = "edge"
    path: str = "data/qdrant"  # Qdrant Edge shard folder (backend=edge)
    url: str | None = None  # Qdrant server URL (backend=server); ":memory:" in tests
    collection: str = "parts"
    prefer_grpc: bool = True  # backend=server

    def options(self, **overrides: Any) -> StoreOptions:
        """The tunables alone, as the backends take them, with ``overrides`` applied."""
        fields = self.model_dump(include=set(StoreOptions.model_fields))
        return StoreOptions(**{**fields, **overrides})
