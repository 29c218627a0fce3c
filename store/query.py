"""Fused queries: query vectors, the (query modality -> target vector) weight table, filters, hits.

``plan_search`` turns a ``FusedQuery`` into a backend-neutral ``SearchPlan`` (one prefetch per
weighted pair, a fusion, filter conditions, limits); the backends translate the plan into one
Qdrant query, and ``finish_hits`` turns the engine's answer into ``SearchHit``s with the exact
cosine of every pair that took part, their match score and its percentage (store/similarity.py).
``same_size_filters`` turns a query part's extents into size filters, the same on every backend.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from store.errors import BundleMismatchError, InvalidQueryError
from store.fusion import maxsim, sort_ranked
from store.schema import DENSE_VECTORS, VIEWS, CollectionSpec, normalize_vector, point_id
from store.similarity import UNCALIBRATED, SimilarityScale, check_min_similarity, match_score
from store.vectors import unit_rows

MODALITIES = DENSE_VECTORS  # query modalities: text, image, geometry (views act as image)
MAX_WEIGHT = 1e6  # past float32's range a weighted sum's scores overflow and the engine cancels
FusionMethod = Literal["rrf", "dbsf", "weighted_sum"]
FUSIONS: tuple[str, ...] = ("rrf", "dbsf", "weighted_sum")
# (query modality, target vector) -> weight; a query's own entries override these, 0 drops a pair.
# Each modality against its own vector at 1, every cross-modal pair at 0.6: the best of a grid
# tuned on training-split queries (``python -m cadsearch.tune``), see
# docs/tuning.md#fusion-weights
DEFAULT_WEIGHTS: dict[tuple[str, str], float] = {
    (modality, target): 1.0 if modality == target else 0.6
    for modality in ("text", "image", "geometry")
    for target in ("text", "image", "geometry")
}
RANGE_FIELDS = ("extent_max", "extent_mid", "extent_min", "size_x", "size_y", "size_z")
EXTENT_FIELDS = RANGE_FIELDS[:3]  # sorted bounding-box extents, largest first


def pair_name(modality: str, target: str) -> str:
    """The display key of a pair: ``"text->image"``."""
    return f"{modality}->{target}"


class Range(BaseModel):
    """An inclusive range in mm; either end may be open."""

    model_config = ConfigDict(extra="forbid")

    gte: float | None = None
    lte: float | None = None

    @model_validator(mode="after")
    def _check(self) -> Range:
        for end in (self.gte, self.lte):
            if end is not None and not math.isfinite(end):
                raise ValueError(f"range ends must be finite, got {end}")
        if self.gte is not None and self.lte is not None and self.gte > self.lte:
            raise ValueError(f"empty range: gte {self.gte} > lte {self.lte}")
        return self


class Filters(BaseModel):
    """Payload filters of a search (also of count and facets). Sizes in mm."""

    model_config = ConfigDict(extra="forbid")

    categories: list[str] = []  # any of
    # any of, on parts without a category (docs/predicted-kind.md); with its least probability
    predicted_categories: list[str] = []
    min_predicted_score: float | None = Field(None, ge=0.0, le=1.0)
    tags_any: list[str] = []  # at least one of
    tags_all: list[str] = []  # every one of
    extent_max: Range | None = None  # largest bbox extent
    extent_mid: Range | None = None
    extent_min: Range | None = None  # smallest bbox extent
    size_x: Range | None = None  # bbox size along x (unsorted)
    size_y: Range | None = None
    size_z: Range | None = None
    exclude_part_ids: list[str] = []  # e.g. the part itself in "more like this"


# neutral filter conditions, translated by each backend:
#   ("any", key, [values]) | ("range", key, gte, lte) | ("ids", [point ids])
Condition = tuple


def as_filters(value: Filters | Mapping[str, Any] | None) -> Filters | None:
    """Filters from a Filters, a plain mapping (e.g. a request body) or None."""
    if value is None or isinstance(value, Filters):
        return value
    try:
        return Filters.model_validate(value)
    except ValidationError as e:
        raise InvalidQueryError(f"invalid filters {value!r}: {e}", field="filters") from e


def filter_conditions(
    filters: Filters | Mapping[str, Any] | None,
) -> tuple[list[Condition], list[Condition]]:
    """``(must, must_not)`` neutral conditions of the filters."""
    must: list[Condition] = []
    must_not: list[Condition] = []
    filters = as_filters(filters)
    if filters is None:
        return must, must_not
    if filters.categories:
        must.append(("any", "category", list(filters.categories)))
    if filters.predicted_categories:
        must.append(("any", "predicted_category", list(filters.predicted_categories)))
    if filters.min_predicted_score is not None:
        must.append(("range", "predicted_score", filters.min_predicted_score, None))
    if filters.tags_any:
        must.append(("any", "tags", list(filters.tags_any)))
    for tag in filters.tags_all:
        must.append(("any", "tags", [tag]))
    for key in RANGE_FIELDS:
        bounds = getattr(filters, key)
        if bounds is not None and (bounds.gte is not None or bounds.lte is not None):
            must.append(("range", key, bounds.gte, bounds.lte))
    if filters.exclude_part_ids:
        must_not.append(("ids", [point_id(p) for p in filters.exclude_part_ids]))
    return must, must_not


@dataclass
class FusedQuery:
    """A multimodal query: any of text / image / geometry (D,) and views (n, D) query vectors.

    weights : {(modality, target) or "modality->target": weight}, merged over DEFAULT_WEIGHTS
    fusion : "rrf" (weighted RRF with ``rrf_k``), "dbsf", or "weighted_sum" of cosines
    rerank : rescore the fused candidates by MaxSim over the stored ``views`` multivector
    rerank_weights : {"modality->target": weight} added to the rerank score: weight x that pair's
        cosine per query row (against MaxSim / rows, the mean best view match); pairs of
        modalities the query lacks are skipped
    similarity : the scale of each hit's ``similarity_percent`` (None: ``UNCALIBRATED``)
    min_similarity : percent 0..100; hits below it are dropped before paging, among the best
        ``prefetch_limit`` fused (or reranked) candidates
    """

    text: Any = None
    image: Any = None
    geometry: Any = None
    views: Any = None  # (n, D) view vectors of a query mesh: mean = image query, rows = rerank
    weights: Mapping[Any, float] | None = None
    fusion: FusionMethod = "rrf"
    rrf_k: int = 60
    filters: Filters | None = None
    top_k: int = 10
    offset: int = 0
    rerank: bool = False
    rerank_weights: Mapping[Any, float] | None = None
    prefetch_limit: int | None = None  # candidates per pair; None: max(30, 3 * (offset + top_k))
    rerank_candidates: int | None = None  # fused candidates reranked; None: prefetch_limit
    exact: bool = False  # exact kNN instead of HNSW (slow; for recall checks)
    bundle_id: str | None = None  # bundle that encoded the query; must match the collection
    similarity: SimilarityScale | None = None
    min_similarity: float | None = None


@dataclass(frozen=True)
class Pair:
    """One prefetch: a query modality's vector against a target vector, with its weight."""

    modality: str
    target: str
    weight: float
    vector: np.ndarray  # (D,) float32, L2-normalized
    name: str = ""  # "modality->target"

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", pair_name(self.modality, self.target))


@dataclass
class SearchPlan:
    """A validated query in backend-neutral form."""

    pairs: list[Pair]
    fusion: str
    native: bool  # fusion runs in the engine (one query); False: pure function over a batch
    rrf_k: int
    must: list[Condition]
    must_not: list[Condition]
    top_k: int
    offset: int
    prefetch_limit: int
    fetch_limit: int  # results asked of the engine: offset + top_k + slack for stable ties
    exact: bool
    rerank_rows: np.ndarray | None  # (R, D) float32 MaxSim query rows, None: no rerank
    rerank_candidates: int
    queries: dict[str, np.ndarray] = field(default_factory=dict)  # modality -> (D,) vector
    # terms added to the MaxSim rerank score, weights scaled by the rerank rows (see FusedQuery)
    rerank_pairs: list[Pair] = field(default_factory=list)
    scale: SimilarityScale = UNCALIBRATED  # match score -> similarity_percent
    min_similarity: float | None = None  # percent: hits below are dropped before paging

    @property
    def weights(self) -> list[float]:
        return [pair.weight for pair in self.pairs]


@dataclass
class SearchHit:
    """One answer: the part, its ranking score and why it ranked (cosine of each pair)."""

    id: str  # point id
    part_id: str
    score: float  # fused score; reranked: MaxSim plus the rerank pairs' weighted cosines
    cosines: dict[str, float]  # "modality->target" -> exact cosine of that pair
    maxsim: float | None  # exact MaxSim of the rerank rows against the stored views
    payload: dict[str, Any]
    match: float | None = None  # weighted mean cosine of the fused pairs (store/similarity.py)
    similarity_percent: float | None = None  # the plan's scale of ``match``, 0..100


def check_weights(
    weights: Mapping[Any, float] | None, field: str = "weights"
) -> dict[tuple[str, str], float]:
    """``{"modality->target" or (modality, target): weight}``, checked (InvalidQueryError of
    ``field``)."""
    table: dict[tuple[str, str], float] = {}
    for key, value in (weights or {}).items():
        pair = tuple(key.split("->")) if isinstance(key, str) else tuple(key)
        if len(pair) != 2 or pair[0] not in MODALITIES or pair[1] not in DENSE_VECTORS:
            raise InvalidQueryError(
                f"unknown weight key {key!r}: expected 'modality->target' with both of "
                f"{list(DENSE_VECTORS)}",
                field=field,
            )
        if (
            not isinstance(value, int | float)
            or not math.isfinite(value)
            or not 0 <= value <= MAX_WEIGHT
        ):
            raise InvalidQueryError(
                f"weight of {key!r} must be a finite number >= 0 and <= {MAX_WEIGHT:g}, "
                f"got {value!r}",
                field=field,
            )
        table[pair] = float(value)
    return table


def check_paging(
    top_k: Any, offset: Any, max_top_k: int | None = None, max_offset: int | None = None
) -> tuple[int, int]:
    """``(top_k, offset)``: ints, top_k >= 1 and offset >= 0, each at most its max when given
    (an API's limits); InvalidQueryError naming the field."""
    for name, value, low, high in (
        ("top_k", top_k, 1, max_top_k),
        ("offset", offset, 0, max_offset),
    ):
        wrong = isinstance(value, bool) or not isinstance(value, int)
        if wrong or value < low or (high is not None and value > high):
            span = f">= {low}" if high is None else f"between {low} and {high}"
            raise InvalidQueryError(f"{name}: must be an int {span}, got {value!r}", field=name)
    return top_k, offset


def plan_search(query: FusedQuery, spec: CollectionSpec) -> SearchPlan:
    """Validate a query against the collection spec and lay out its prefetches."""
    if query.bundle_id is not None and query.bundle_id != spec.bundle_id:
        raise BundleMismatchError(
            f"query vectors come from bundle {query.bundle_id!r}; the collection holds bundle "
            f"{spec.bundle_id!r}",
            stored=spec.bundle_id,
            requested=query.bundle_id,
        )
    if query.fusion not in FUSIONS:
        raise InvalidQueryError(
            f"unknown fusion {query.fusion!r}; known: {list(FUSIONS)}", field="fusion"
        )
    check_paging(query.top_k, query.offset)
    min_similarity = check_min_similarity(query.min_similarity)
    if query.fusion == "rrf" and (not isinstance(query.rrf_k, int) or query.rrf_k < 1):
        raise InvalidQueryError(f"rrf_k: must be an int >= 1, got {query.rrf_k!r}", field="rrf_k")
    try:
        queries = {
            m: normalize_vector(getattr(query, m), (spec.dim,), f"query vector {m!r}")
            for m in MODALITIES
            if getattr(query, m) is not None
        }
        views = None
        if query.views is not None:
            views = np.asarray(query.views, dtype=np.float32)
            if views.ndim != 2 or views.shape[0] < 1:
                raise ValueError(f"query views must be (n, {spec.dim}), got shape {views.shape}")
            views = normalize_vector(views, (views.shape[0], spec.dim), "query views")
            if "image" not in queries:
                queries["image"] = normalize_vector(views.mean(axis=0), (spec.dim,), "mean view")
    except ValueError as e:
        raise InvalidQueryError(str(e)) from e
    if not queries:
        raise InvalidQueryError("a query needs at least one of text, image, geometry or views")
    table = {**DEFAULT_WEIGHTS, **check_weights(query.weights)}
    pairs = [
        Pair(m, target, table[(m, target)], queries[m])
        for m in MODALITIES
        if m in queries
        for target in DENSE_VECTORS
        if table.get((m, target), 0.0) > 0
    ]
    if not pairs:
        raise InvalidQueryError(
            f"every weight of the given modalities {list(queries)} is 0", field="weights"
        )
    depth = query.offset + query.top_k
    prefetch_limit = query.prefetch_limit or max(30, 3 * depth)
    if prefetch_limit < depth:
        raise InvalidQueryError(
            f"prefetch_limit {prefetch_limit} is below offset + top_k {depth}",
            field="prefetch_limit",
        )
    rerank_rows, rerank_pairs = None, []
    rerank_table = check_weights(query.rerank_weights, "rerank_weights")
    if query.rerank:
        rows = views if views is not None else np.stack([queries[m] for m in queries])
        rerank_rows = rows.astype(np.float32)
        rerank_pairs = [
            Pair(m, target, weight * len(rows), queries[m])
            for (m, target), weight in rerank_table.items()
            if m in queries and weight > 0
        ]
    must, must_not = filter_conditions(query.filters)
    native = query.fusion != "dbsf" or all(pair.weight == 1.0 for pair in pairs)
    fetch_limit = depth + max(5, query.top_k // 2)
    if min_similarity is not None:  # hits below it leave the page: look at every candidate
        fetch_limit = max(fetch_limit, prefetch_limit)
    return SearchPlan(
        pairs=pairs,
        fusion=query.fusion,
        native=native,
        rrf_k=query.rrf_k,
        must=must,
        must_not=must_not,
        top_k=query.top_k,
        offset=query.offset,
        prefetch_limit=prefetch_limit,
        fetch_limit=fetch_limit,
        exact=query.exact,
        rerank_rows=rerank_rows,
        rerank_candidates=max(query.rerank_candidates or prefetch_limit, depth),
        queries=queries,
        rerank_pairs=rerank_pairs,
        scale=query.similarity or UNCALIBRATED,
        min_similarity=min_similarity,
    )


def page_of(plan: SearchPlan, scored) -> list[tuple[str, float]]:
    """``(id, score)`` candidates -> the requested page, best first, ties in a stable order."""
    ranked = sort_ranked((str(pid), float(score)) for pid, score in scored)
    return ranked[plan.offset : plan.offset + plan.top_k]


def finish_hits(plan: SearchPlan, raw: list[tuple[str, float, dict, dict]]) -> list[SearchHit]:
    """Engine answers ``(id, score, payload, vectors)`` -> the page of SearchHits, stable order."""
    by_id = {str(hit[0]): hit for hit in raw}
    if plan.min_similarity is not None:
        ranked = sort_ranked(hit[:2] for hit in raw)
        return similar_page(plan, explain_hits(plan, [by_id[str(pid)] for pid, _ in ranked]))
    page = page_of(plan, (h[:2] for h in raw))
    return by_similarity(explain_hits(plan, [by_id[pid] for pid, _ in page]))


def by_similarity(hits: list[SearchHit]) -> list[SearchHit]:
    """A page's hits by ``similarity_percent``, highest first; equal percentages keep their
    fused (or reranked) order, hits without one go last. The fusion picks the page, the
    percentage orders it, so a page never shows a higher percentage below a lower one
    (docs/similarity.md#page-order)."""
    return sorted(
        hits, key=lambda h: math.inf if h.similarity_percent is None else -h.similarity_percent
    )


def similar_page(plan: SearchPlan, hits: list[SearchHit]) -> list[SearchHit]:
    """Explained candidates, best first -> the page of those at or above ``min_similarity``,
    ordered by similarity."""
    floor = plan.min_similarity
    kept = [
        hit
        for hit in hits
        if floor is None or (hit.similarity_percent is not None and hit.similarity_percent >= floor)
    ]
    return by_similarity(kept[plan.offset : plan.offset + plan.top_k])


def explain_hits(plan: SearchPlan, raw: list[tuple[str, float, dict, dict]]) -> list[SearchHit]:
    """One page of ``(id, score, payload, vectors)``, in its order -> SearchHits.

    Cosines (and MaxSim) are computed exactly from the stored, L2-normalized vectors; the match
    score weighs the fused pairs' cosines (``store.similarity.match_score``).
    """
    by_id = {str(pid): (score, payload, vectors or {}) for pid, score, payload, vectors in raw}
    page = [(pid, entry[0]) for pid, entry in by_id.items()]
    explained = explained_pairs(plan)
    cosines: list[dict[str, float]] = [{} for _ in page]
    for target in {pair.target for pair in explained}:
        rows = [i for i, (pid, _) in enumerate(page) if by_id[pid][2].get(target) is not None]
        if not rows:
            continue
        pairs = [pair for pair in explained if pair.target == target]
        stored = unit_rows([by_id[page[i][0]][2][target] for i in rows])
        queries = np.stack([pair.vector for pair in pairs], axis=1).astype(np.float32)
        # (rows, pairs) in one product, to Python floats in one call
        for i, values in zip(rows, (stored @ queries).tolist(), strict=True):
            for pair, value in zip(pairs, values, strict=True):
                cosines[i][pair.name] = value
    weights = {pair.name: pair.weight for pair in plan.pairs}
    hits = []
    for (pid, score), hit_cosines in zip(page, cosines, strict=True):
        _, payload, vectors = by_id[pid]
        score_maxsim = None
        if plan.rerank_rows is not None and vectors.get(VIEWS) is not None:
            score_maxsim = maxsim(plan.rerank_rows, np.asarray(vectors[VIEWS]))
        order = {
            pair.name: hit_cosines[pair.name] for pair in explained if pair.name in hit_cosines
        }
        match = match_score(order, weights)
        hits.append(
            SearchHit(
                id=pid,
                part_id=(payload or {}).get("part_id", ""),
                score=float(score),
                cosines=order,
                maxsim=score_maxsim,
                payload=dict(payload or {}),
                match=match,
                similarity_percent=None if match is None else plan.scale.percent_of(match),
            )
        )
    return hits


def explained_pairs(plan: SearchPlan) -> list[Pair]:
    """The pairs whose cosines a hit shows: the fused ones, then any only the rerank adds."""
    fused = {pair.name for pair in plan.pairs}
    return [*plan.pairs, *(pair for pair in plan.rerank_pairs if pair.name not in fused)]


def hit_vector_names(plan: SearchPlan) -> list[str]:
    """Stored vectors a search must return to explain its hits."""
    names = sorted({pair.target for pair in explained_pairs(plan)}, key=DENSE_VECTORS.index)
    return [*names, VIEWS] if plan.rerank_rows is not None else names


def check_same_size(value: Any, field: str = "same_size") -> float | None:
    """A size tolerance in percent: None, or a finite number > 0 and <= 100 (InvalidQueryError
    of field)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 100:
        raise InvalidQueryError(
            f"{field} must be a tolerance in percent, > 0 and <= 100, got {value!r}", field=field
        )
    return float(value)


def same_size_filters(
    filters: Filters | Mapping[str, Any] | None,
    extents: Any,
    tolerance: Any,
    field: str = "same_size",
) -> Filters:
    """``filters`` plus the size window of a query part, each extent's range intersected.

    extents : (3,) float, the query part's bounding-box extents in mm (any order: sorted here)
    tolerance : percent, > 0 and <= 100: a hit's j-th largest extent lies in
        ``[e_j (1 - tolerance / 100), e_j (1 + tolerance / 100)]``, e_j the query part's, and in
        the request's own range of that extent when it has one
    raises InvalidQueryError of ``field``: a bad tolerance or extents, or a window that misses
    the request's own range (no part could match both)
    """
    tolerance = check_same_size(tolerance, field)
    if tolerance is None:
        raise InvalidQueryError(f"{field} needs a tolerance in percent", field=field)
    try:
        sizes = sorted((float(e) for e in extents), reverse=True)
    except (TypeError, ValueError) as e:
        raise InvalidQueryError(f"{field} needs the query part's extents: {e}", field=field) from e
    if len(sizes) != 3 or not all(math.isfinite(e) and e >= 0 for e in sizes):
        raise InvalidQueryError(
            f"{field} needs the query part's 3 extents in mm, got {sizes!r}", field=field
        )
    base = as_filters(filters) or Filters()
    update = {}
    for name, extent in zip(EXTENT_FIELDS, sizes, strict=True):
        low, high = extent * (1 - tolerance / 100), extent * (1 + tolerance / 100)
        own = getattr(base, name)
        if own is not None:
            low = low if own.gte is None else max(low, own.gte)
            high = high if own.lte is None else min(high, own.lte)
        if low > high:
            raise InvalidQueryError(
                f"{field}: the query part's {name} of {extent:g} mm +- {tolerance:g}% misses "
                f"filters.{name} {own.model_dump(exclude_none=True)}",
                field=field,
            )
        update[name] = Range(gte=low, lte=high)
    return base.model_copy(update=update)
