"""HTTP plumbing of the ingress: body size limit, JSON errors, multipart and JSON search parsing,
fast JSON responses."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from serve.api_models import SearchRequest
from serve.errors import (
    RETRY_AFTER_S,
    ApiError,
    from_validation_errors,
    invalid,
    timed_out,
    too_large,
    undecodable,
)
from serve.inputs import parse_json

log = logging.getLogger(__name__)
SEARCH_FILE_FIELDS = ("image", "mesh")
SEARCH_JSON_FIELDS = ("filters", "weights", "points")
MULTIPART_MAX_FIELDS = 32
THREAD_JSON_BYTES = 1 << 20  # bodies past this are parsed in a worker thread, off the event loop
DEFAULT_JSON_DEPTH = 32
_LABEL = r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?"
# host[:port]: a DNS name or IPv4 address, or a bracketed IPv6 address
_HOST = re.compile(
    rf"(?:(?P<name>{_LABEL}(?:\.{_LABEL})*\.?)|\[(?P<v6>[0-9A-Fa-f:.]+)\])(?::(?P<port>\d{{1,5}}))?"
)


class BodyLimitMiddleware:
    """ASGI middleware: a body over ``app.state.max_body_bytes`` gets a 413 before it is read
    (Content-Length) or as soon as it passes the limit (chunked uploads)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = getattr(scope["app"].state, "max_body_bytes", None) if "app" in scope else None
        if limit is None:
            return await self.app(scope, receive, send)
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > limit:
                return await _send_error(send, _body_too_large(int(value), limit))
        received = 0

        async def limited_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _body_too_large(received, limit)
            return message

        return await self.app(scope, limited_receive, send)


class DeadlineMiddleware:
    """ASGI middleware: a request still running ``app.state.request_timeout_s`` after it came in
    has its handler cancelled and is answered 504 ``timeout`` (a response already begun is cut
    off). Serve's proxy has a timeout too, but a client can lift it with a header
    (docs/security.md#request-timeouts); this one it cannot."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        timeout = getattr(scope["app"].state, "request_timeout_s", None) if "app" in scope else None
        if scope["type"] != "http" or timeout is None:
            return await self.app(scope, receive, send)
        started = False

        async def tracked_send(message):
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            async with asyncio.timeout(timeout) as deadline:
                await self.app(scope, receive, tracked_send)
        except TimeoutError:
            if not deadline.expired():
                raise
            log.warning("%s %s: stopped after %g s", scope["method"], scope["path"], timeout)
            if not started:
                await _send_error(send, timed_out(timeout))


def valid_host(value: str) -> bool:
    """Whether a Host header is host[:port] (a name, an IPv4 or a bracketed IPv6 address)."""
    found = _HOST.fullmatch(value)
    if found is None or len(value) > 260:
        return False
    if found["port"] is not None and not 0 < int(found["port"]) < 65536:
        return False
    if found["v6"] is not None:
        try:
            ipaddress.IPv6Address(found["v6"])
        except ValueError:
            return False
    return True


class HostCheckMiddleware:
    """ASGI middleware: a Host header that is not host[:port] gets a 400 before any route runs
    (whatever a client puts there must not reach a page, a log line or a URL)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            for name, value in scope.get("headers", []):
                if name == b"host" and not valid_host(value.decode("latin-1")):
                    error = ApiError(400, "bad_host", "is not a valid host[:port]", "Host")
                    return await _send_error(send, error)
        return await self.app(scope, receive, send)


class FastJSONResponse(JSONResponse):
    """A JSON response encoded with orjson, much faster than Starlette's ``JSONResponse`` on a
    page of results (docs/tuning.md#ingress), with the same values (UTF-8, compact; floats
    round-trip exactly, small and large ones may be written in another notation). numpy arrays
    and scalars encode as lists and numbers, NaN and infinity as null."""

    def render(self, content: Any) -> bytes:
        import orjson

        return orjson.dumps(content, option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS)


def _body_too_large(size: int, limit: int) -> ApiError:
    return too_large(
        "body", f"{size} bytes is over the limit of {limit / 2**20:g} MB", "body_too_large"
    )


async def _send_error(send, error: ApiError) -> None:
    response = error_response(error)
    await send(
        {
            "type": "http.response.start",
            "status": response.status_code,
            "headers": response.raw_headers,
        }
    )
    await send({"type": "http.response.body", "body": response.body})


def error_response(error: ApiError) -> JSONResponse:
    headers = {}
    if error.status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    elif error.status == 503:
        headers["Retry-After"] = str(RETRY_AFTER_S)
    return JSONResponse(error.to_json(), status_code=error.status, headers=headers or None)


def install_error_handlers(app: FastAPI) -> None:
    """Every error as ``{"error": {status, code, field, message}}``; nothing crashes a replica."""

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, error: ApiError):
        return error_response(error)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, error: RequestValidationError):
        errors = list(error.errors())
        if errors and errors[0].get("type") == "json_invalid":
            detail = errors[0].get("ctx", {}).get("error", "malformed JSON")
            return error_response(undecodable("body", f"is not valid JSON ({detail})", "bad_json"))
        return error_response(from_validation_errors(errors))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException):
        code = {404: "not_found", 405: "method_not_allowed"}.get(error.status_code, "http_error")
        return error_response(ApiError(error.status_code, code, str(error.detail)))

    @app.exception_handler(Exception)
    async def _internal(request: Request, error: Exception):
        log.exception("unhandled error in %s %s", request.method, request.url.path)
        message = f"internal error ({type(error).__name__}); the request was not applied"
        return error_response(ApiError(500, "internal", message))


def _json_depth_limit(request: Request) -> int:
    serve_settings = getattr(request.app.state, "serve_settings", None)
    return serve_settings.limits.max_json_depth if serve_settings else DEFAULT_JSON_DEPTH


def _json_field(form: dict[str, Any], name: str, max_depth: int) -> None:
    value = form.get(name)
    if isinstance(value, str):
        form[name] = parse_json(value, name, max_depth) if value.strip() else None


async def read_search_request(request: Request) -> tuple[SearchRequest, dict[str, Any]]:
    """The search request of a JSON or multipart body, and its uploads:
    ``{"image": bytes, "mesh": bytes, "mesh_filename": str}`` (the ones given)."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    uploads: dict[str, Any] = {}
    if content_type == "multipart/form-data":
        try:
            form = await request.form(
                max_files=len(SEARCH_FILE_FIELDS), max_fields=MULTIPART_MAX_FIELDS
            )
        except ApiError:
            raise
        except Exception as e:
            raise undecodable("body", f"is not a valid multipart form ({e})", "bad_form") from e
        fields: dict[str, Any] = {}
        for name, value in form.multi_items():
            if hasattr(value, "read"):  # an uploaded file
                if name not in SEARCH_FILE_FIELDS:
                    raise invalid(name, f"file uploads go in {list(SEARCH_FILE_FIELDS)} only")
                uploads[name] = await value.read()
                if name == "mesh":
                    uploads["mesh_filename"] = value.filename
            elif name in fields:
                raise invalid(name, "is given twice")
            else:
                fields[name] = value
        for name in SEARCH_JSON_FIELDS:
            _json_field(fields, name, _json_depth_limit(request))
        payload: Any = fields
    elif content_type in ("application/json", ""):
        body = await request.body()
        depth = _json_depth_limit(request)
        if not body.strip():
            payload = {}
        elif len(body) > THREAD_JSON_BYTES:
            payload = await asyncio.to_thread(parse_json, body, "body", depth, undecodable)
        else:
            payload = parse_json(body, "body", depth, undecodable)
        if not isinstance(payload, dict):
            raise invalid("body", f"must be a JSON object, got {type(payload).__name__}")
        if "mesh" in payload:
            raise invalid("mesh", "is a file upload: send multipart/form-data with a mesh file")
    else:
        raise ApiError(
            415,
            "unsupported_media_type",
            f"send application/json or multipart/form-data, not {content_type!r}",
            "content-type",
        )
    try:
        return SearchRequest.model_validate(payload), uploads
    except ValidationError as e:
        raise from_validation_errors(e.errors()) from e


def add_search_openapi(app: FastAPI, path: str = "/v1/search") -> None:
    """Document both request bodies of the search route (it parses its body itself)."""
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = original()
        model = SearchRequest.model_json_schema(ref_template="#/components/schemas/{model}")
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.update(model.pop("$defs", {}))
        components["SearchRequest"] = model
        form = {
            "type": "object",
            "properties": {
                **{k: v for k, v in model["properties"].items() if k != "image"},
                "image": {"type": "string", "format": "binary"},
                "mesh": {"type": "string", "format": "binary", "description": "a part file"},
                **{
                    name: {"type": "string", "description": f"JSON, as in the JSON body's {name}"}
                    for name in SEARCH_JSON_FIELDS
                },
            },
        }
        operation = schema["paths"][path]["post"]
        operation["requestBody"] = {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/SearchRequest"}},
                "multipart/form-data": {"schema": form},
            },
        }
        app.openapi_schema = schema
        return schema

    app.openapi = openapi
