"""View and mesh URLs of answers: paths of the local view store made absolute on a base URL."""

from __future__ import annotations

from typing import Any


def absolute_urls(base: str | None, out: dict[str, Any]) -> dict[str, Any]:
    """``out`` (one part, or an answer with ``results``) with its ``view_urls`` and ``mesh_url``
    that are paths (``/views/...``) put under ``base``; None leaves them paths. The service
    passes ``serve.public_url``, never the request's Host header, which the client can forge
    (docs/security.md#urls-in-answers); the Python client passes its own base URL."""
    if base is None:
        return out
    base = base.rstrip("/")
    for result in out.get("results", [out]):
        urls = result.get("view_urls") or []
        result["view_urls"] = [base + url if url.startswith("/") else url for url in urls]
        mesh = result.get("mesh_url")
        if mesh and mesh.startswith("/"):
            result["mesh_url"] = base + mesh
    return out
