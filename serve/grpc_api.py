"""gRPC front end: CADRetrievalService messages <-> the search service, same checks and messages as
HTTP. A refusal sets the status code (INVALID_ARGUMENT, NOT_FOUND, UNAUTHENTICATED, ...) and the
ApiError's message as details, and answers an empty message (Ray Serve's documented pattern).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import numpy as np

from serve.auth import presented_key, require_key
from serve.errors import ApiError, invalid
from serve.inputs import make_search_input, parse_json
from serve.proto import cad_retrieval_pb2 as pb
from serve.urls import absolute_urls
from store.query import RANGE_FIELDS, Filters

log = logging.getLogger(__name__)
DEFAULT_TOP_K = 10


def _metadata(context) -> list[tuple[str, str]]:
    try:
        return list(context.invocation_metadata() or [])
    except Exception:
        return []


def authorize(ingress, context, what: str, protected: bool) -> None:
    if protected:
        require_key(ingress.key_digests, presented_key(_metadata(context)), what)


def refuse(context, error: ApiError) -> None:
    """Set the gRPC status of an ApiError on the context."""
    if context is not None:
        context.set_code(getattr(grpc.StatusCode, error.grpc_code))
        context.set_details(error.message)


async def answer(context, empty, work) -> Any:
    """Run ``work()``; an ApiError (or an unexpected error) becomes the call's status."""
    try:
        return await work()
    except ApiError as e:
        refuse(context, e)
    except Exception as e:
        log.exception("gRPC call failed")
        refuse(context, ApiError(500, "internal", f"internal error ({type(e).__name__})"))
    return empty


# -- FindSimilarModels ------------------------------------------------------------------------


def _range(message) -> dict[str, float]:
    return {end: getattr(message, end) for end in ("gte", "lte") if message.HasField(end)}


def filters_of(request: pb.SimilarModelsRequest) -> Filters | None:
    """The request's filters: ``filters``, ``category_filter`` and ``bbox_filter`` together."""
    data: dict[str, Any] = {}
    if request.HasField("filters"):
        f = request.filters
        for name in (
            "categories",
            "tags_any",
            "tags_all",
            "exclude_part_ids",
            "predicted_categories",
        ):
            if getattr(f, name):
                data[name] = list(getattr(f, name))
        for name in RANGE_FIELDS:
            if f.HasField(name):
                data[name] = _range(getattr(f, name))
        if f.HasField("min_predicted_score"):
            data["min_predicted_score"] = f.min_predicted_score
    if request.HasField("category_filter"):
        data["categories"] = [*data.get("categories", []), request.category_filter]
    if request.HasField("bbox_filter"):
        box = request.bbox_filter
        for axis in ("x", "y", "z"):
            bounds = {}
            if box.HasField("min"):
                bounds["gte"] = getattr(box.min, axis)
            if box.HasField("max") and getattr(box.max, axis) > 0:
                bounds["lte"] = getattr(box.max, axis)
            if bounds:
                data[f"size_{axis}"] = {**data.get(f"size_{axis}", {}), **bounds}
    if not data:
        return None
    try:
        return Filters.model_validate(data)
    except Exception as e:
        raise invalid("filters", str(e).replace("\n", " ")) from e


def search_input_of(request: pb.SimilarModelsRequest, limits):
    if request.HasField("image_path"):
        raise invalid("image_path", "is not accepted: send the image's bytes as image_data")
    points = None
    if request.HasField("geometry_query"):
        points = np.asarray(
            [(p.x, p.y, p.z) for p in request.geometry_query.points], dtype=np.float64
        ).reshape(-1, 3)
    return make_search_input(
        limits,
        text=request.text_query if request.HasField("text_query") else None,
        image=request.image_data if request.HasField("image_data") else None,
        points=points,
        part_id=request.part_id if request.HasField("part_id") else None,
        mesh=request.mesh_data if request.HasField("mesh_data") else None,
        mesh_format=request.mesh_format if request.HasField("mesh_format") else None,
        filters=filters_of(request),
        top_k=request.top_k or DEFAULT_TOP_K,
        offset=request.offset,
        weights=dict(request.weights) or None,
        fusion=request.fusion if request.HasField("fusion") else "rrf",
        rerank=request.rerank if request.HasField("rerank") else None,
        include_embeddings=request.include_embeddings,
        min_similarity=(request.min_similarity if request.HasField("min_similarity") else None),
        same_size=request.same_size if request.HasField("same_size") else None,
    )


def _point(values) -> pb.Point3D:
    return pb.Point3D(x=values[0], y=values[1], z=values[2])


def similar_model(result: dict[str, Any]) -> pb.SimilarModel:
    model = pb.SimilarModel(
        genome_id=result["part_id"],
        model_name=result["name"],
        category=result["category"],
        similarity_score=result["score"],
        view_urls=result["view_urls"],
        cosines=result["cosines"],
        tags=result["tags"],
        extents=result["extents_mm"] or [],
    )
    for modality, value in result["similarity"].items():
        setattr(model, f"{modality}_similarity", value)
    if result["maxsim"] is not None:
        model.maxsim = result["maxsim"]
    if result["similarity_percent"] is not None:
        model.similarity_percent = result["similarity_percent"]
        model.match_score = result["match_score"]
    if result.get("mesh_url"):
        model.mesh_url = result["mesh_url"]
    if result.get("predicted_category"):
        model.predicted_category = result["predicted_category"]
        model.predicted_score = result["predicted_score"]
    bbox = result["bbox_mm"]
    if bbox.get("min") and bbox.get("max"):
        model.bounding_box.CopyFrom(
            pb.BoundingBox(min=_point(bbox["min"]), max=_point(bbox["max"]))
        )
    return model


def similar_models_response(out: dict[str, Any], base: str | None) -> pb.SimilarModelsResponse:
    """The service's search answer as a SimilarModelsResponse, its view and mesh URLs put under
    ``base`` (``serve.public_url``; None: paths) as the HTTP answer's are."""
    out = absolute_urls(base, out)
    response = pb.SimilarModelsResponse(
        results=[similar_model(r) for r in out["results"]],
        query_id=out["query_id"],
        bundle_id=out["bundle_id"],
        similarity_kind=out["similarity_kind"],
        similarity_calibrated=out["similarity_calibrated"],
        query_extents=out.get("query_extents_mm") or [],
    )
    if "embeddings" in out:
        e = out["embeddings"]
        response.query_embeddings.CopyFrom(
            pb.QueryEmbeddings(
                text=e.get("text", []), image=e.get("image", []), geometry=e.get("geometry", [])
            )
        )
    return response


async def find_similar(ingress, request, context) -> pb.SimilarModelsResponse:
    async def work():
        authorize(ingress, context, "search", ingress.serve_settings.protect_search)
        query = await asyncio.to_thread(search_input_of, request, ingress.service.limits)
        out = await ingress.service.search(query)
        return similar_models_response(out, ingress.serve_settings.public_url)

    return await answer(context, pb.SimilarModelsResponse(), work)


# -- IndexModel, IndexModelBatch --------------------------------------------------------------


def _read_model_path(path: str, roots: list[str], max_mb: float) -> bytes:
    if not roots:
        raise invalid(
            "model_path",
            "is not accepted by this service (no serve.index_path_roots): send "
            "the file's bytes as model_data",
        )
    resolved = Path(path).expanduser().resolve()
    allowed = [Path(root).expanduser().resolve() for root in roots]
    if not any(resolved.is_relative_to(root) for root in allowed):
        raise ApiError(
            403, "forbidden", f"{path!r} is outside serve.index_path_roots", "model_path"
        )
    if not resolved.is_file():
        raise ApiError(404, "not_found", f"no file {path!r}", "model_path")
    if resolved.stat().st_size > max_mb * 2**20:
        raise ApiError(
            413, "too_large", f"{path!r} is over the limit of {max_mb:g} MB", "model_path"
        )
    return resolved.read_bytes()


def index_args(request: pb.IndexModelRequest, settings) -> dict[str, Any]:
    """The arguments of ``SearchService.index_part`` of one IndexModelRequest."""
    if request.use_creo_rendering:
        raise invalid(
            "use_creo_rendering", "is not supported: cadsearch renders views off-screen itself"
        )
    has_data, has_path = request.HasField("model_data"), bool(request.model_path)
    if has_data == has_path:
        raise invalid("model_data", "give exactly one of model_data and model_path")
    metadata: dict[str, Any] = {}
    if request.HasField("metadata_json"):
        depth = settings.serve.limits.max_json_depth
        metadata = parse_json(request.metadata_json, "metadata_json", depth)
        if not isinstance(metadata, dict):
            raise invalid("metadata_json", "must be a JSON object")
    for name in ("description", "name", "category"):
        if request.HasField(name):
            metadata[name] = getattr(request, name)
    if request.tags:
        metadata["tags"] = list(request.tags)
    filename = Path(request.model_path).name if has_path else None
    part_id = request.genome_id if request.HasField("genome_id") else metadata.pop("part_id", None)
    if part_id is None and has_path:
        part_id = Path(request.model_path).stem
    if not part_id:
        raise invalid("genome_id", "is required with model_data (the part's id)")
    limits = settings.serve.limits
    data = (
        request.model_data
        if has_data
        else _read_model_path(
            request.model_path, settings.serve.index_path_roots, limits.max_body_mb
        )
    )
    file_type = request.file_type if request.HasField("file_type") else None
    return {
        "data": data,
        "part_id": part_id,
        "filename": filename,
        "file_type": file_type,
        "metadata": metadata,
    }


async def index_or_raise(ingress, request: pb.IndexModelRequest) -> pb.IndexModelResponse:
    """Index one part; raises ApiError for a refused request or part."""
    args = index_args(request, ingress.settings)
    data = args.pop("data")
    out = absolute_urls(
        ingress.serve_settings.public_url, await ingress.service.index_part(data, **args)
    )
    response = pb.IndexModelResponse(
        genome_id=out["part_id"],
        model_name=out["name"],
        num_views_rendered=out["num_views"],
        has_geometry_embedding=True,
        has_text_embedding=True,
        has_image_embedding=out["num_views"] > 0,
        indexed=True,
        view_urls=out["view_urls"],
    )
    if out.get("mesh_url"):
        response.mesh_url = out["mesh_url"]
    return response


async def index_model(ingress, request, context) -> pb.IndexModelResponse:
    async def work():
        authorize(ingress, context, "indexing", True)
        return await index_or_raise(ingress, request)

    return await answer(context, pb.IndexModelResponse(), work)


async def index_model_batch(ingress, requests: AsyncIterator, context) -> AsyncIterator:
    """One response per request, in order; a bad part is reported in its response's errors."""
    try:
        authorize(ingress, context, "indexing", True)
    except ApiError as e:
        # a stream that yields nothing never hands its context's status to the proxy: raising
        # after setting it does (Ray Serve wraps the error with the code set on the context)
        refuse(context, e)
        raise
    async for request in requests:
        try:
            yield await index_or_raise(ingress, request)
        except ApiError as e:
            genome_id = request.genome_id if request.HasField("genome_id") else ""
            yield pb.IndexModelResponse(genome_id=genome_id, errors=[e.message], error_code=e.code)
        except Exception as e:
            log.exception("IndexModelBatch: one part failed")
            yield pb.IndexModelResponse(
                genome_id=request.genome_id,
                errors=[f"internal error ({type(e).__name__})"],
                error_code="internal",
            )


# -- GetModelEmbeddings -----------------------------------------------------------------------


async def get_embeddings(ingress, request, context) -> pb.GetEmbeddingsResponse:
    async def work():
        authorize(ingress, context, "part reads", ingress.serve_settings.protect_search)
        if not request.genome_id:
            raise invalid("genome_id", "is required (the part's id)")
        out = await ingress.service.get_embeddings(request.genome_id)
        return pb.GetEmbeddingsResponse(
            genome_id=out["part_id"],
            text_embedding=out["text"],
            image_embedding=out["image"],
            geometry_embedding=out["geometry"],
            fused_embedding=out["fused"],
            bundle_id=out["bundle_id"],
            dim=out["dim"],
            view_embeddings=[pb.ViewEmbedding(values=row) for row in out["views"]],
        )

    return await answer(context, pb.GetEmbeddingsResponse(), work)
