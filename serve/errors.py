"""Errors of the search service: one typed error per answer, shared by HTTP and gRPC.

Every refusal is an ``ApiError`` with a status, a stable code and a message that names the field
("top_k: must be at most 100, got 500"). HTTP answers it as ``{"error": {code, field, message}}``
with the status; gRPC answers it with the matching status code and the same message.
"""

from __future__ import annotations

import re
import tempfile
from typing import Any

# HTTP status -> gRPC status code name (grpc.StatusCode.<name>)
GRPC_CODES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "FAILED_PRECONDITION",
    413: "INVALID_ARGUMENT",
    422: "INVALID_ARGUMENT",
    500: "INTERNAL",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
# Retry-After of a 503: about the time Serve takes to replace a replica that died
# (docs/operations.md#a-replica-that-dies)
RETRY_AFTER_S = 10
# MeshError.code -> HTTP status (a file over a size limit is "too large", the rest undecodable)
MESH_STATUS = {
    "file_too_large": 413,
    "too_many_faces": 413,
    "too_many_vertices": 413,
    "archive_too_large": 413,
    "invalid_record": 422,  # the store refused the part's record (metadata that is not JSON)
}

# internals a message must not show: object addresses, and paths under a temporary folder (an
# upload's scratch file, Ray's session folder) reduced to their file name
_ADDRESS = re.compile(r" (?:object )?at 0x[0-9a-fA-F]+")
_TEMP_PATH = re.compile(
    "(?:"
    + "|".join(
        re.escape(d.rstrip("/")) for d in sorted({tempfile.gettempdir(), "/tmp", "/var/tmp"})
    )
    + r")(?:/[^\s'\":,;)]*)*/([^\s'\":,;)/]*)"
)


def public_message(message: str) -> str:
    """A message with object addresses removed and temporary paths cut to their file name."""
    return _TEMP_PATH.sub(r"\1", _ADDRESS.sub("", message))


class ApiError(Exception):
    """A request the service refuses (4xx) or cannot answer (5xx).

    status : HTTP status; code : stable short name; field : the request field at fault ("" when
    none); the message starts with the field's name when there is one.
    """

    def __init__(self, status: int, code: str, message: str, field: str = ""):
        self.status = int(status)
        self.code = code
        self.field = field
        message = public_message(message)
        self.message = f"{field}: {message}" if field and not message.startswith(field) else message
        super().__init__(self.message)

    def to_json(self) -> dict[str, Any]:
        """The HTTP body: ``{"error": {"status", "code", "field", "message"}}``."""
        return {
            "error": {
                "status": self.status,
                "code": self.code,
                "field": self.field,
                "message": self.message,
            }
        }

    @property
    def grpc_code(self) -> str:
        """The name of the matching ``grpc.StatusCode``."""
        return GRPC_CODES.get(self.status, "INTERNAL" if self.status >= 500 else "INVALID_ARGUMENT")

    def __reduce__(self):  # crosses process boundaries (Ray) intact
        return (_rebuild, (self.status, self.code, self.message, self.field))


def _rebuild(status: int, code: str, message: str, field: str) -> ApiError:
    return ApiError(status, code, message, field)


def invalid(field: str, message: str, code: str = "invalid") -> ApiError:
    """422: a well-formed request with a bad value."""
    return ApiError(422, code, message, field)


def undecodable(field: str, message: str, code: str = "undecodable") -> ApiError:
    """400: content that cannot be decoded (base64, image, mesh)."""
    return ApiError(400, code, message, field)


def too_large(field: str, message: str, code: str = "too_large") -> ApiError:
    """413: over a size limit."""
    return ApiError(413, code, message, field)


def not_found(field: str, message: str) -> ApiError:
    """404: an unknown part or view."""
    return ApiError(404, "not_found", message, field)


def unavailable(message: str, code: str = "unavailable") -> ApiError:
    """503: a deployment the request needs does not answer now; worth retrying after
    ``RETRY_AFTER_S`` (HTTP sends it as ``Retry-After``; gRPC answers UNAVAILABLE)."""
    return ApiError(503, code, message)


def timed_out(timeout_s: float) -> ApiError:
    """504: the request ran past ``serve.limits.request_timeout_s`` and was stopped."""
    return ApiError(
        504,
        "timeout",
        f"the request took over {timeout_s:g} s (serve.limits.request_timeout_s) and was stopped",
    )


def from_mesh_error(error: Exception, field: str) -> ApiError:
    """An encoders.geometry MeshError (or its report row) as an ApiError on ``field``."""
    code = getattr(error, "code", None) or "mesh_error"
    return ApiError(MESH_STATUS.get(code, 400), code, str(error), field)


def from_error_row(error: dict[str, Any], field: str) -> ApiError:
    """An error row of the index pipeline (stage, code, message) as an ApiError on ``field``."""
    code = error.get("code") or "internal"
    message = error.get("message") or code
    if code == "internal":
        return ApiError(500, "internal", f"{error.get('stage', 'index')} failed: {message}", field)
    return ApiError(MESH_STATUS.get(code, 400), code, message, field)


def validation_field(loc: tuple | list) -> str:
    """A pydantic error location as a dotted field name (``("body", "filters", "x")`` ->
    ``filters.x``)."""
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "form")]
    return ".".join(parts)


def from_validation_errors(errors: list[dict[str, Any]]) -> ApiError:
    """pydantic ``ValidationError.errors()`` as one 422 naming the first field (all in message)."""
    if not errors:
        return invalid("", "invalid request")
    messages = []
    for error in errors[:5]:
        name = validation_field(error.get("loc", ())) or "body"
        messages.append(f"{name}: {error.get('msg', 'invalid')}")
    first = validation_field(errors[0].get("loc", ())) or "body"
    more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
    return ApiError(422, "validation_error", "; ".join(messages) + more, first)
