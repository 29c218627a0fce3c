"""The vector store interface: every operation a backend offers, and the shared search flow.

Two backends implement it: ``EdgeStore`` (Qdrant Edge, embedded, one writer) and
``ServerStore`` (a Qdrant server or cluster through qdrant-client). The contract tests run the
same suite on both and compare their answers.

Fusion paths (both backends alike):
- ``rrf``: native, one query: a prefetch per pair fused by weighted RRF (``Rrf(k, weights)``).
- ``weighted_sum``: native, one query: a formula ``sum_i w_i * $score[i]`` over the prefetches
  (a pair whose prefetch missed the point counts 0).
- ``dbsf``: native (``Fusion.DBSF``) when every weight is 1; otherwise the pair queries run as
  one batch (``query_batch``) and ``store.fusion.dbsf`` fuses them in Python, because Qdrant's
  DBSF takes no weights.
- rerank: native, in the same query: MaxSim over ``views`` on top of the fused prefetch (plus any
  rerank pairs' weighted cosines, a formula over stages rescoring its points); on the
  Python path a second query reranks the fused candidates. Parts without views drop out.
- min_similarity: every candidate the engine returns (the best ``prefetch_limit``) is explained,
  those below it are dropped, then the page is cut (``store.query.similar_page``).
- page order: the fused (or reranked) ranking picks the page (``offset``, ``top_k``); its hits
  are then ordered by ``similarity_percent``, ties in the ranking's order
  (``store.query.by_similarity``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar

from store.fusion import dbsf, sort_ranked, weighted_rrf, weighted_sum
from store.options import StoreOptions
from store.query import (
    Filters,
    FusedQuery,
    SearchHit,
    SearchPlan,
    by_similarity,
    explain_hits,
    finish_hits,
    page_of,
    plan_search,
    similar_page,
)
from store.schema import FACET_FIELDS, CollectionSpec, IdEntry, PartRecord, StoredPart

# (id, score, payload, vectors) as an engine returns a hit
RawHit = tuple[str, float, dict[str, Any], dict[str, Any]]


class Store(ABC):
    """One collection of parts: one point per part, named vectors, payload, metadata spec."""

    backend: ClassVar[str]

    @property
    @abstractmethod
    def spec(self) -> CollectionSpec:
        """What the collection's vectors are (bundle id, dim, view set)."""

    @property
    @abstractmethod
    def options(self) -> StoreOptions:
        """Storage and search tunables."""

    # -- writes -------------------------------------------------------------------------------

    @abstractmethod
    def upsert(self, records: Iterable[PartRecord]) -> int:
        """Validate the whole batch, then insert or replace its parts; returns how many."""

    @abstractmethod
    def delete(self, part_ids: Iterable[str]) -> int:
        """Delete parts by part id; returns how many existed."""

    @abstractmethod
    def write_stored(self, parts: Sequence[StoredPart]) -> None:
        """Write parts exactly as stored (id, payload, vectors): the restore primitive."""

    @abstractmethod
    def flush(self) -> None:
        """Make every write so far durable (a no-op where each write already is)."""

    @abstractmethod
    def optimize(self) -> None:
        """Build indexes and merge segments after a bulk load (blocks until done)."""

    # -- reads --------------------------------------------------------------------------------

    @abstractmethod
    def get_many(
        self, part_ids: Sequence[str], *, with_vectors: bool | Sequence[str] = False
    ) -> list[StoredPart]:
        """The stored parts of these part ids, in their order; missing ones are left out.
        ``with_vectors``: all of a part's vectors (True), none, or these names only."""

    def get(self, part_id: str, *, with_vectors: bool | Sequence[str] = False) -> StoredPart | None:
        """One stored part, or None."""
        found = self.get_many([part_id], with_vectors=with_vectors)
        return found[0] if found else None

    @abstractmethod
    def count(self, filters: Filters | None = None) -> int:
        """Number of parts (matching the filters)."""

    @abstractmethod
    def facet(self, field: str, filters: Filters | None = None, limit: int = 100) -> dict[str, int]:
        """Counts of each value of a keyword field (category, tags), most frequent first."""

    def facets(self, filters: Filters | None = None, limit: int = 100) -> dict[str, dict[str, int]]:
        """Facet counts of every filter-menu field: ``{"category": {...}, "tags": {...}}``."""
        return {name: self.facet(name, filters, limit) for name in FACET_FIELDS}

    @abstractmethod
    def iter_ids(self, batch_size: int = 1024) -> Iterator[IdEntry]:
        """Every part's id, content_sha256 and bundle id (the reindex job's skip list)."""

    @abstractmethod
    def iter_points(self, batch_size: int = 256, with_vectors: bool = True) -> Iterator[StoredPart]:
        """Every stored part in point id order, with its vectors."""

    # -- search -------------------------------------------------------------------------------

    def search(self, query: FusedQuery, *, native: bool | None = None) -> list[SearchHit]:
        """Fused multimodal search. ``native=False`` forces the Python fusion path."""
        plan = plan_search(query, self.spec)
        if native is None:
            native = plan.native
        elif native and not plan.native:
            raise ValueError(f"fusion {plan.fusion!r} with unequal weights has no native path")
        if native:  # ids and scores from the engine, then payloads and vectors of the page only
            return self._explain_page(plan, self._run_fused(plan))
        lists = self._run_pairs(plan)
        limit = plan.rerank_candidates if plan.rerank_rows is not None else plan.fetch_limit
        if plan.fusion == "rrf":
            fused = weighted_rrf(lists, plan.weights, k=plan.rrf_k, limit=limit)
        elif plan.fusion == "dbsf":
            fused = dbsf(lists, plan.weights, limit=limit)
        else:
            fused = weighted_sum(lists, plan.weights, limit=limit)
        if not fused:
            return []
        if plan.rerank_rows is not None:
            return finish_hits(plan, self._run_rerank(plan, [str(pid) for pid, _ in fused]))
        return self._explain_page(plan, fused)

    def _explain_page(self, plan: SearchPlan, scored: list[tuple[str, float]]) -> list[SearchHit]:
        """Scored candidates -> the page's hits: reads the page only, or with min_similarity
        every candidate (its percentage needs the vectors)."""
        if plan.min_similarity is None:
            return by_similarity(explain_hits(plan, self._fetch_hits(plan, page_of(plan, scored))))
        ranked = sort_ranked((str(pid), float(score)) for pid, score in scored)
        return similar_page(plan, explain_hits(plan, self._fetch_hits(plan, ranked)))

    @abstractmethod
    def _run_fused(self, plan: SearchPlan) -> list[tuple[str, float]]:
        """The whole plan as one engine query (prefetches, fusion, filter, optional rerank):
        ``(id, score)`` of the best ``plan.fetch_limit``. No payloads or vectors: asking the
        engine's query for them cost Qdrant Edge more than a separate read of the page
        (docs/tuning.md#store-options)."""

    @abstractmethod
    def _run_pairs(self, plan: SearchPlan) -> list[list[tuple[str, float]]]:
        """Each pair's ranked ``(id, cosine)`` list, all pairs in one batched request."""

    @abstractmethod
    def _run_rerank(self, plan: SearchPlan, ids: list[str]) -> list[RawHit]:
        """MaxSim over views of these candidates (filtered), best ``plan.fetch_limit``."""

    @abstractmethod
    def _fetch_hits(self, plan: SearchPlan, scored: list[tuple[str, float]]) -> list[RawHit]:
        """Payload and vectors of already scored points."""

    # -- snapshots and lifetime -----------------------------------------------------------------

    def snapshot(self, path: str | Path) -> Path:
        """Write a portable logical snapshot (a directory, or a .tar file) of the collection."""
        from store.snapshot import write_snapshot

        return write_snapshot(self, path)

    def restore(self, path: str | Path) -> int:
        """Load a snapshot into this (empty) collection; returns the number of parts."""
        from store.snapshot import restore_snapshot

        return restore_snapshot(self, path)

    @abstractmethod
    def close(self) -> None:
        """Flush and release the collection (and the writer lock)."""

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
