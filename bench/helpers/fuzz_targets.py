"""In-process fuzz targets: the service's parsers and checks called directly, without a server
(cases from fuzz_cases.py). A target returns ``"ok"`` or the typed error's code; any other
exception is a finding and propagates (docs/security.md#fuzzing)."""

from __future__ import annotations

import asyncio
import inspect
from types import SimpleNamespace
from typing import Any


def prepare_mesh_case(data: bytes, file_type: str, settings=None) -> str:
    """What the PartPreparer does to a query mesh, views excepted: load, validate, normalize,
    sample, describe (``prepare_part``); "ok" or the MeshError's code."""
    from encoders.geometry.errors import MeshError
    from encoders.geometry.prepare import prepare_part

    try:
        prepare_part(data, "fuzz", {}, settings, file_type=file_type, render=False)
    except MeshError as e:
        return e.code
    return "ok"


def api_code(error: Exception) -> str:
    """The code of a typed refusal; an ApiError of 500 or more is a server error, re-raised."""
    if error.status >= 500:
        raise error
    return error.code


ENCODER_SIDE = 224  # the CLIP towers' input size: an image's short side is resized to it first


def check_image_case(data: bytes, max_pixels: int) -> str:
    """The search's and embed's image check (``serve.inputs.check_image``); an image it accepts
    must stay within max_pixels through the image tower's resize too."""
    from serve.errors import ApiError
    from serve.inputs import check_image

    try:
        width, height = check_image(data, "image", max_pixels)
    except ApiError as e:
        return api_code(e)
    resized = ENCODER_SIDE**2 * max(width, height) / min(width, height)
    if resized > max_pixels:
        raise ValueError(f"a {width}x{height} image passed, and resizes to {resized:,.0f} pixels")
    return "ok"


def _request(body: bytes, content_type: str, limits):
    from starlette.requests import Request

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    headers = [(b"content-type", content_type.encode("latin-1"))] if content_type else []
    headers.append((b"content-length", str(len(body)).encode()))
    state = SimpleNamespace(serve_settings=SimpleNamespace(limits=limits))
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/v1/search",
        "headers": headers,
        "query_string": b"",
        "app": SimpleNamespace(state=state),
    }
    return Request(scope, receive)


async def _search_input(body: bytes, content_type: str, limits):
    from serve.errors import invalid
    from serve.http_util import read_search_request
    from serve.inputs import decode_base64, make_search_input

    # the steps of SearchIngress.search (serve/ingress.py) before its first encoder call
    model, uploads = await read_search_request(_request(body, content_type, limits))
    if model.image is not None and "image" in uploads:
        raise invalid("image", "is given twice (base64 field and file upload)")
    image = decode_base64(model.image, "image") if model.image is not None else None
    image = image if image is not None else uploads.get("image")
    # every request field the check takes, so fields added to both are fuzzed as they come
    taken = inspect.signature(make_search_input).parameters
    fields = {name: getattr(model, name) for name in type(model).model_fields if name in taken}
    fields.update(image=image, mesh=uploads.get("mesh"), mesh_filename=uploads.get("mesh_filename"))
    return make_search_input(limits, **fields)


_loop: asyncio.AbstractEventLoop | None = None


def search_body_case(body: bytes, content_type: str, limits) -> str:
    """A /v1/search body parsed and checked as the ingress does (``read_search_request``, then
    ``make_search_input``), then its point cloud made the encoder's input; no server."""
    import numpy as np

    from serve.errors import ApiError
    from serve.inputs import prepare_cloud

    global _loop
    if _loop is None:
        _loop = asyncio.new_event_loop()
    try:
        query = _loop.run_until_complete(_search_input(body, content_type, limits))
    except ApiError as e:
        return api_code(e)
    if query.points is not None:
        cloud = prepare_cloud(query.points, 1024)
        if not np.isfinite(cloud).all() or not np.ptp(cloud, axis=0).max() > 0:
            raise ValueError("points passed the checks but their encoder input is degenerate")
    return "ok"


def grpc_index_case(request, settings) -> str:
    """An IndexModelRequest's arguments checked as the gRPC front end does
    (``grpc_api.index_args``)."""
    from serve.errors import ApiError
    from serve.grpc_api import index_args

    try:
        index_args(request, settings)
    except ApiError as e:
        return api_code(e)
    return "ok"


def grpc_search_case(request, limits) -> str:
    """A SimilarModelsRequest checked as the gRPC front end does (``grpc_api.search_input_of``)."""
    from serve.errors import ApiError
    from serve.grpc_api import search_input_of

    try:
        search_input_of(request, limits)
    except ApiError as e:
        return api_code(e)
    return "ok"
