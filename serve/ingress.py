"""SearchIngress deployment: the HTTP API (FastAPI) and the gRPC CADRetrievalService, one replica
class. It validates requests, calls the encoder deployments concurrently and owns the store.

With Qdrant Edge exactly one process may hold the shard, so the ingress then runs one replica;
with a Qdrant server it scales out (serve.ingress settings).

No ``from __future__ import annotations`` here: FastAPI reads the route signatures' types, and
Ray Serve's ingress wrapper hides the module globals that string annotations would need.
"""

import asyncio
import functools
import gc
import logging
import time
from typing import Annotated

from fastapi import Depends, FastAPI, File, Form, Query, Request, UploadFile
from fastapi.responses import Response
from ray import serve

from serve import grpc_api
from serve.api_models import (
    ERROR_RESPONSES,
    DeleteResponse,
    DuplicatesResponse,
    EmbeddingsResponse,
    EmbedGeometryRequest,
    EmbedImageRequest,
    EmbedResponse,
    EmbedTextRequest,
    FacetsResponse,
    IndexResponse,
    PartMetadata,
    PartResponse,
    SearchResponse,
)
from serve.auth import presented_key, require_key
from serve.docs import add_offline_docs
from serve.errors import invalid
from serve.http_util import (
    BodyLimitMiddleware,
    DeadlineMiddleware,
    FastJSONResponse,
    HostCheckMiddleware,
    add_search_openapi,
    install_error_handlers,
    read_search_request,
)
from serve.inputs import check_image, decode_base64, make_search_input, point_array, preload
from serve.urls import absolute_urls
from serve.web import add_web_ui
from serve.writer_api import add_writer_api, announce_holder, withdraw_holder

log = logging.getLogger(__name__)
app = FastAPI(
    title="cadsearch",
    version="0.1.0",
    description="Multimodal search over a catalog of CAD parts: text, image, 3D file, "
    "more like this; filters by category, tags and size. Errors: "
    '`{"error": {"status", "code", "field", "message"}}`.',
    docs_url=None,  # /docs and /redoc with local assets: add_offline_docs
    redoc_url=None,
)
app.add_middleware(DeadlineMiddleware)  # request_timeout_s, from the body's first byte
app.add_middleware(BodyLimitMiddleware)
app.add_middleware(HostCheckMiddleware)  # added last: runs first
install_error_handlers(app)
add_search_openapi(app)
add_web_ui(app)  # the search page at /
add_offline_docs(app)  # /docs, /redoc: no CDN
add_writer_api(app)  # /v1/writer: a reindex job's writes while this replica holds the shard


def guard(what: str, flag: str | None = None):
    """A dependency that asks for an API key: always (flag None) or when serve.<flag> is set.
    It runs before the body is parsed, so a request without a key learns nothing else."""

    async def check(request: Request) -> None:
        state = request.app.state
        if flag is None or getattr(state.serve_settings, flag):
            require_key(state.key_digests, presented_key(request.headers), what)

    return Depends(check)


def _open_service(settings, encoders, service_class, wait_s: float = 60.0):
    """The service, waiting while another process still holds the Edge shard (the replica this
    one replaces, or an index job finishing)."""
    from store.errors import WriterLockedError

    deadline = time.monotonic() + wait_s
    while True:
        try:
            return service_class(settings, encoders)
        except WriterLockedError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


@serve.deployment(name="SearchIngress", max_ongoing_requests=256)
@serve.ingress(app)
class SearchIngress:
    """The search service's front door: HTTP under FastAPI, gRPC methods by RPC name."""

    async def __init__(
        self, settings_json: str, key_digests: tuple[str, ...], text, image, geometry, preparer
    ):
        """key_digests : SHA-256 digests of the API keys, read by the driver that built the app
        (serve.auth.key_digests), never this replica's environment: a node started without the
        keys serves with the driver's keys all the same.

        The inline text copy (serve.handles.InlineText) follows a TextEncoder replica, loaded
        in the background after this replica is ready."""
        from cadsearch.settings import settings_from_json
        from serve.handles import HandleEncoders, InlineText, calls_in_flight
        from serve.service import SearchService

        self.settings = settings_from_json(settings_json)
        self.serve_settings = self.settings.serve
        self.key_digests = tuple(key_digests)
        inline = None
        if self.serve_settings.inline_text_items > 0 and self.serve_settings.text.num_gpus == 0:
            inline = InlineText(self.settings.model.bundle, self.serve_settings.inline_text_items)
        encoders = HandleEncoders(
            text,
            image,
            geometry,
            preparer,
            text_calls=calls_in_flight(self.serve_settings.text),
            text_call_items=self.serve_settings.text.max_batch_size,
            image_calls=calls_in_flight(self.serve_settings.image),
            image_call_items=self.serve_settings.image.max_batch_size,
            inline_text=inline,
        )
        self.service = _open_service(self.settings, encoders, SearchService)
        app.state.max_body_bytes = int(self.serve_settings.limits.max_body_mb * 2**20)
        app.state.request_timeout_s = self.serve_settings.limits.request_timeout_s
        app.state.serve_settings = self.serve_settings
        app.state.key_digests = self.key_digests
        app.state.service = self.service
        self.holder = announce_holder(self.settings, self.service.store)
        preload()
        # the inline copy loads in the background: a replica that replaces a lost one serves
        # at once (text calls go to the deployment meanwhile); a first start waits for it in
        # serve.local.start_service (inline_text_ready)
        self.inline = inline
        encoders.start_following()
        # what is loaded by now lives as long as the replica: the collector stops scanning it
        # (collections took a visible share of a search's CPU: docs/tuning.md#ingress)
        gc.freeze()

    def __del__(self):
        service = getattr(self, "service", None)
        if service is not None:
            withdraw_holder(service.store, getattr(self, "holder", None))
            service.close()

    def _urls(self, out: dict) -> dict:
        return absolute_urls(self.serve_settings.public_url, out)

    # -- HTTP: search -------------------------------------------------------------------------

    @app.post(
        "/v1/search",
        responses={200: {"model": SearchResponse}, **ERROR_RESPONSES},
        dependencies=[guard("search", "protect_search")],
        summary="Fused multimodal search (JSON, or multipart with image / mesh uploads)",
    )
    async def search(self, request: Request):
        model, uploads = await read_search_request(request)
        if model.image is not None and "image" in uploads:
            raise invalid("image", "is given twice (base64 field and file upload)")
        image = decode_base64(model.image, "image") if model.image is not None else None
        image = image if image is not None else uploads.get("image")
        heavy = image is not None or model.points is not None  # image decoding, point checks
        check = functools.partial(
            make_search_input,
            self.service.limits,
            text=model.text,
            image=image,
            points=model.points,
            part_id=model.part_id,
            mesh=uploads.get("mesh"),
            mesh_filename=uploads.get("mesh_filename"),
            mesh_format=model.mesh_format,
            filters=model.filters,
            top_k=model.top_k,
            offset=model.offset,
            weights=model.weights,
            fusion=model.fusion,
            rerank=model.rerank,
            include_embeddings=model.include_embeddings,
            min_similarity=model.min_similarity,
            same_size=model.same_size,
        )
        query = await asyncio.to_thread(check) if heavy else check()
        return FastJSONResponse(self._urls(await self.service.search(query)))

    @app.get(
        "/v1/facets",
        response_model=FacetsResponse,
        responses=ERROR_RESPONSES,
        dependencies=[guard("part reads", "protect_search")],
        summary="Category and tag counts (filter menus), optionally under filters",
    )
    async def facets(
        self,
        category: Annotated[list[str] | None, Query(description="repeatable")] = None,
        filters: Annotated[str | None, Query(description="JSON filters, as in a search")] = None,
    ):
        from pydantic import ValidationError

        from store.query import Filters

        try:
            parsed = Filters.model_validate_json(filters) if filters else Filters()
        except ValidationError as e:
            raise invalid("filters", str(e).replace("\n", " ")) from e
        if category:
            parsed = parsed.model_copy(update={"categories": [*parsed.categories, *category]})
        return await self.service.facets(parsed)

    # -- HTTP: parts --------------------------------------------------------------------------

    @app.get(
        "/v1/parts/{part_id:path}/embeddings",
        response_model=EmbeddingsResponse,
        responses=ERROR_RESPONSES,
        dependencies=[guard("part reads", "protect_search")],
        summary="A part's stored vectors (text, image, geometry, fused, views)",
    )
    async def part_embeddings(self, part_id: str):
        return FastJSONResponse(await self.service.get_embeddings(part_id))

    @app.get(
        "/v1/parts/{part_id:path}/duplicates",
        response_model=DuplicatesResponse,
        responses=ERROR_RESPONSES,
        dependencies=[guard("part reads", "protect_search")],
        summary="A part's duplicate group from the latest `cadsearch dedup`, with relations",
    )
    async def part_duplicates(self, part_id: str):
        out = await self.service.get_duplicates(part_id)
        self._urls({"results": out["duplicates"]})
        return FastJSONResponse(out)

    @app.get(
        "/v1/parts/{part_id:path}",
        response_model=PartResponse,
        responses=ERROR_RESPONSES,
        dependencies=[guard("part reads", "protect_search")],
        summary="A stored part: name, category, tags, sizes in mm, view URLs",
    )
    async def get_part(self, part_id: str):
        return FastJSONResponse(self._urls(await self.service.get_part(part_id)))

    @app.post(
        "/v1/parts",
        status_code=201,
        response_model=IndexResponse,
        responses=ERROR_RESPONSES,
        dependencies=[guard("indexing")],
        summary="Index one uploaded part file (the reindex job's prepare -> encode -> write)",
    )
    async def index_part(
        self,
        file: Annotated[UploadFile, File(description="the part file (stl, obj, step, ...)")],
        metadata: Annotated[
            str, Form(description="JSON: part_id, name, category, tags, units, ...")
        ] = "{}",
        part_id: Annotated[
            str | None, Form(description="the part's id (or metadata.part_id)")
        ] = None,
        file_type: Annotated[str | None, Form(description="default: the file's suffix")] = None,
    ):
        from pydantic import ValidationError

        try:
            meta = PartMetadata.model_validate_json(metadata)
        except ValidationError as e:
            errors = e.errors()
            if errors and errors[0].get("type") == "json_invalid":
                raise invalid("metadata", "is not valid JSON", "bad_json") from e
            field = ".".join(str(p) for p in errors[0].get("loc", ())) if errors else ""
            raise invalid(f"metadata.{field}".rstrip("."), errors[0].get("msg", "invalid")) from e
        values = meta.model_dump(exclude_none=True)
        given = values.pop("part_id", None)
        if part_id is not None and given is not None and part_id != given:
            raise invalid("part_id", f"{part_id!r} disagrees with metadata.part_id {given!r}")
        part_id = part_id or given
        if not part_id:
            raise invalid("part_id", "is required (a form field, or metadata.part_id)")
        data = await file.read()
        out = await self.service.index_part(
            data, part_id=part_id, filename=file.filename, file_type=file_type, metadata=values
        )
        return FastJSONResponse(self._urls(out), status_code=201)

    @app.delete(
        "/v1/parts/{part_id:path}",
        response_model=DeleteResponse,
        responses=ERROR_RESPONSES,
        dependencies=[guard("deleting parts")],
        summary="Remove a part and its views",
    )
    async def delete_part(self, part_id: str):
        return await self.service.delete_part(part_id)

    # -- HTTP: embed (for other teams) --------------------------------------------------------

    @app.post(
        "/v1/embed/text",
        response_model=EmbedResponse,
        responses=ERROR_RESPONSES,
        dependencies=[guard("embedding", "protect_embed")],
        summary="Texts -> unit vectors in the shared CLIP space",
    )
    async def embed_text(self, body: EmbedTextRequest):
        from serve.inputs import check_text

        limit = self.service.limits.max_text_chars
        texts = [check_text(t, f"texts[{i}]", limit) for i, t in enumerate(body.texts)]
        return FastJSONResponse(await self.service.embed_text(texts))

    @app.post(
        "/v1/embed/image",
        response_model=EmbedResponse,
        responses=ERROR_RESPONSES,
        dependencies=[guard("embedding", "protect_embed")],
        summary="Base64 images -> unit vectors in the shared CLIP space",
    )
    async def embed_image(self, body: EmbedImageRequest):
        self.service._check_batch(body.images, "images")
        limit = self.service.limits.max_image_pixels

        def decode() -> list[bytes]:
            out = []
            for i, text in enumerate(body.images):
                data = decode_base64(text, f"images[{i}]")
                check_image(data, f"images[{i}]", limit)
                out.append(data)
            return out

        return FastJSONResponse(await self.service.embed_images(await asyncio.to_thread(decode)))

    @app.post(
        "/v1/embed/geometry",
        response_model=EmbedResponse,
        responses=ERROR_RESPONSES,
        dependencies=[guard("embedding", "protect_embed")],
        summary="Point clouds -> unit vectors (each normalized and resampled like the index)",
    )
    async def embed_geometry(self, body: EmbedGeometryRequest):
        limits = self.service.limits
        self.service._check_batch(body.point_clouds, "point_clouds")
        clouds = [
            point_array(c, f"point_clouds[{i}]", limits.min_points, limits.max_points)
            for i, c in enumerate(body.point_clouds)
        ]
        return FastJSONResponse(await self.service.embed_points(clouds))

    # -- HTTP: views, health ------------------------------------------------------------------

    @app.get(
        "/views/{key:path}",
        responses={200: {"content": {"image/png": {}, "model/gltf-binary": {}}}},
        summary="A view PNG or light GLB (mesh.glb) of the local view store",
    )
    async def view(self, key: str):
        data, media_type = await asyncio.to_thread(self.service.view_file, key)
        return Response(data, media_type=media_type, headers={"Cache-Control": "max-age=3600"})

    @app.get("/healthz", summary="Liveness: the ingress answers")
    async def healthz(self):
        return {"status": "ok"}

    @app.get("/readyz", summary="Readiness: store open, every encoder loaded with the bundle")
    async def readyz(self):
        return {**await self.service.ready(), "inline_text": await self.inline_text_ready()}

    async def inline_text_ready(self) -> bool:
        """Whether single query texts are encoded here (the inline copy loaded), or no copy is
        configured."""
        return self.inline is None or self.inline.config is not None

    # -- gRPC: CADRetrievalService (methods by RPC name) ---------------------------------------

    async def FindSimilarModels(self, request, grpc_context=None):  # noqa: N802
        return await grpc_api.find_similar(self, request, grpc_context)

    async def IndexModel(self, request, grpc_context=None):  # noqa: N802
        return await grpc_api.index_model(self, request, grpc_context)

    async def IndexModelBatch(self, requests, grpc_context=None):  # noqa: N802
        async for response in grpc_api.index_model_batch(self, requests, grpc_context):
            yield response

    async def GetModelEmbeddings(self, request, grpc_context=None):  # noqa: N802
        return await grpc_api.get_embeddings(self, request, grpc_context)
