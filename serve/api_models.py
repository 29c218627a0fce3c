"""HTTP API models: requests (unknown fields are errors) and responses, as OpenAPI shows them."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from store.query import Filters


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SearchRequest(_Request):
    """A fused search: any mix of query modalities (at least one), filters and options.

    As JSON, ``image`` is base64. As multipart/form-data at the same path, ``image`` and ``mesh``
    are file uploads, and ``filters``, ``weights`` and ``points`` are JSON text fields.
    """

    text: str | None = Field(None, description="a description of the part, e.g. 'M8 hex bolt'")
    image: str | None = Field(None, description="base64 PNG/JPEG (a photo, screenshot, sketch)")
    points: list[list[float]] | None = Field(None, description="surface points [[x, y, z], ...]")
    part_id: str | None = Field(None, description="more like this part (excluded from results)")
    mesh_format: str | None = Field(None, description="type of an uploaded mesh (default: suffix)")
    filters: Filters | None = None
    top_k: int = Field(10, description="results per page (1 .. serve.limits.max_top_k)")
    offset: int = Field(0, description="results to skip (paging)")
    weights: dict[str, float] | None = Field(
        None, description="'modality->target': weight over the defaults; 0 drops a pair"
    )
    fusion: Literal["rrf", "dbsf", "weighted_sum"] = "rrf"
    rerank: bool | None = Field(
        None,
        description="multi-view MaxSim rerank of the fused candidates (plus "
        "search.rerank_geometry x the geometry cosine for a mesh); null: the service's "
        "search.rerank (image and mesh queries)",
    )
    include_embeddings: bool = Field(False, description="return the query vectors")
    min_similarity: float | None = Field(
        None,
        description="percent, 0..100: results whose similarity_percent is below it are "
        "dropped before paging (docs/similarity.md)",
    )
    same_size: float | None = Field(
        None,
        description="percent, > 0 and <= 100: only parts whose sorted bounding-box extents are "
        "each within this tolerance of the query part's (a mesh upload or part_id)",
    )


class EmbedTextRequest(_Request):
    texts: list[str] = Field(..., description="texts to embed (1 .. serve.limits.max_batch_items)")


class EmbedImageRequest(_Request):
    images: list[str] = Field(..., description="base64 PNG/JPEG images")


class EmbedGeometryRequest(_Request):
    point_clouds: list[list[list[float]]] = Field(
        ..., description="point clouds, each [[x, y, z], ...] in any units (normalized here)"
    )


class PartMetadata(BaseModel):
    """Metadata of an uploaded part (the fields of a catalog manifest line; others go to meta)."""

    model_config = ConfigDict(extra="allow")

    part_id: str | None = None
    name: str | None = None
    category: str | None = None
    tags: list[str] = []
    description: str | None = None
    units: str | None = Field(None, description="file units: mm (default), cm, m, in, ...")


class BBox(BaseModel):
    min: list[float] | None = None
    max: list[float] | None = None


class SearchResult(BaseModel):
    part_id: str
    name: str
    category: str
    tags: list[str]
    score: float = Field(
        ...,
        description="fused score (reranked: MaxSim + the geometry term): it picks the page's "
        "results, which are ordered by similarity_percent (docs/similarity.md)",
    )
    match_score: float | None = Field(
        None, description="weighted mean cosine of the query's fused pairs (docs/similarity.md)"
    )
    similarity_percent: float | None = Field(
        None,
        description="0..100: the match score through the bundle's calibration of the query kind "
        "(100 x P(same kind)); see similarity_calibrated",
    )
    cosines: dict[str, float] = Field(..., description="'modality->target' -> cosine")
    similarity: dict[str, float] = Field(..., description="cosine of each same-modality pair")
    maxsim: float | None = None
    bbox_mm: BBox
    extents_mm: list[float] | None = None
    size_mm: list[float | None]
    view_urls: list[str]
    mesh_url: str | None = Field(
        None, description="light GLB (mm) for a 3D viewer; null for parts indexed without one"
    )
    description: str
    predicted_category: str | None = Field(
        None, description="zero-shot kind of a part without a category (docs/predicted-kind.md)"
    )
    predicted_score: float | None = Field(None, description="its probability, 0..1")
    duplicates: int = Field(
        0, description="other parts in its duplicate group (latest `cadsearch dedup`)"
    )


class SearchResponse(BaseModel):
    results: list[SearchResult]
    bundle_id: str
    query_id: str
    modalities: list[str]
    similarity_kind: str = Field(..., description="text, image, mesh or like: its calibration")
    similarity_calibrated: bool = Field(
        ..., description="false: the bundle has no calibration; similarity_percent = 100 x match"
    )
    took_ms: float
    query_extents_mm: list[float] | None = Field(
        None,
        description="sorted extents of the query part (a mesh upload or part_id), largest first",
    )
    embeddings: dict[str, Any] | None = None


class EmbedResponse(BaseModel):
    bundle_id: str
    dim: int
    vectors: list[list[float]]


class PartResponse(BaseModel):
    model_config = ConfigDict(extra="allow")

    part_id: str
    name: str
    category: str
    tags: list[str]
    bbox_mm: BBox
    extents_mm: list[float] | None = None
    view_urls: list[str]
    mesh_url: str | None = Field(
        None, description="light GLB (mm) for a 3D viewer; null for parts indexed without one"
    )
    predicted_category: str | None = Field(
        None, description="zero-shot kind of a part without a category (docs/predicted-kind.md)"
    )
    predicted_score: float | None = Field(None, description="its probability, 0..1")


class Duplicate(BaseModel):
    part_id: str
    name: str
    category: str
    extents_mm: list[float] | None = None
    view_urls: list[str]
    relation: str = Field(
        ...,
        description="to the asked part: identical, identical_within_tolerance, mirrored, scaled",
    )
    scale: float | None = Field(None, description="this part's size over the asked part's")
    distance: float | None = Field(
        None, description="mean surface distance after alignment / middle extent (checked pair)"
    )
    via: list[str] = Field(
        default_factory=list, description="parts between them when the pair was not checked"
    )


class DuplicatesResponse(BaseModel):
    part_id: str
    dedup_ran: bool = Field(..., description="false: no `cadsearch dedup` output yet")
    dedup_finished_at: str | None = None
    group: int | None = Field(None, description="its group in groups.jsonl (None: no group)")
    count: int
    duplicates: list[Duplicate]
    message: str


class EmbeddingsResponse(BaseModel):
    part_id: str
    bundle_id: str
    dim: int
    text: list[float]
    image: list[float]
    geometry: list[float]
    fused: list[float] = Field(..., description="normalized mean of text, image and geometry")
    views: list[list[float]]


class IndexResponse(BaseModel):
    part_id: str
    indexed: bool
    name: str
    category: str
    bundle_id: str
    num_views: int
    view_urls: list[str]
    mesh_url: str | None = Field(
        None, description="light GLB (mm) for a 3D viewer; null for parts indexed without one"
    )
    predicted_category: str | None = Field(
        None, description="zero-shot kind of a part without a category (docs/predicted-kind.md)"
    )
    predicted_score: float | None = Field(None, description="its probability, 0..1")


class DeleteResponse(BaseModel):
    part_id: str
    deleted: bool
    views_removed: int


class FacetsResponse(BaseModel):
    facets: dict[str, dict[str, int]]
    total: int


class ErrorDetail(BaseModel):
    status: int
    code: str
    field: str
    message: str


class ErrorResponse(BaseModel):
    error: ErrorDetail


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse, "description": description}
    for status, description in {
        400: "undecodable content (base64, image, mesh)",
        401: "API key missing",
        403: "API key not valid",
        404: "unknown part or view",
        413: "over a size limit",
        422: "invalid request (the message names the field)",
    }.items()
}
