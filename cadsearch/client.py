"""A small Python client of the cadsearch HTTP API, for other teams and ``cadsearch search``.

    from cadsearch.client import CadsearchClient
    with CadsearchClient("http://127.0.0.1:8000", api_key=None) as client:
        hits = client.search(text="M8 hex bolt", top_k=5, filters={"categories": ["bolt"]})
        vectors = client.embed_text(["hex nut M8"])        # (n, D) float32

Errors come back as ``CadsearchError`` with the service's status, code, field and message.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import numpy as np

from serve.urls import absolute_urls

DEFAULT_TIMEOUT_S = 60.0


class CadsearchError(RuntimeError):
    """An error answer of the service (4xx/5xx)."""

    def __init__(self, status: int, code: str, message: str, field: str = ""):
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.field = field
        self.message = message


def _part_path(part_id: str, suffix: str = "") -> str:
    return f"/v1/parts/{quote(part_id, safe='/')}{suffix}"


def _read(source: str | Path | bytes) -> tuple[bytes, str | None]:
    if isinstance(source, bytes | bytearray):
        return bytes(source), None
    path = Path(source)
    return path.read_bytes(), path.name


class CadsearchClient:
    """The HTTP API of one cadsearch service.

    base_url : e.g. ``http://127.0.0.1:8000``; api_key : sent as ``X-API-Key`` when given
    """

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        timeout: float = DEFAULT_TIMEOUT_S,
        transport: httpx.BaseTransport | None = None,
    ):
        headers = {"X-API-Key": api_key} if api_key else {}
        self.http = httpx.Client(
            base_url=base_url.rstrip("/"), headers=headers, timeout=timeout, transport=transport
        )

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> CadsearchClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _answer(self, response: httpx.Response) -> Any:
        if response.status_code >= 400:
            try:
                error = response.json()["error"]
            except Exception:
                raise CadsearchError(response.status_code, "http_error", response.text) from None
            raise CadsearchError(
                error.get("status", response.status_code),
                error.get("code", ""),
                error.get("message", ""),
                error.get("field", ""),
            )
        return response.json()

    def _urls(self, out: dict[str, Any]) -> dict[str, Any]:
        # paths (a service without serve.public_url) made fetchable as they are
        return absolute_urls(str(self.http.base_url), out)

    # -- search -------------------------------------------------------------------------------

    def search(
        self,
        text: str | None = None,
        *,
        image: str | Path | bytes | None = None,
        mesh: str | Path | bytes | None = None,
        mesh_format: str | None = None,
        points: Any = None,
        like: str | None = None,
        filters: dict[str, Any] | None = None,
        top_k: int = 10,
        offset: int = 0,
        weights: dict[str, float] | None = None,
        fusion: str = "rrf",
        rerank: bool | None = None,
        include_embeddings: bool = False,
        min_similarity: float | None = None,
        same_size: float | None = None,
    ) -> dict[str, Any]:
        """A fused search; returns the response (``results``, ``bundle_id``, ...).

        image / mesh : a file path or bytes; like : a part id ("more like this")
        rerank : None leaves it to the service (its search.rerank: image and mesh queries)
        min_similarity : percent 0..100: results below it (``similarity_percent``) are dropped
        same_size : percent: only parts whose sorted extents are each within this tolerance of
            the mesh's or the ``like`` part's
        filters : e.g. ``{"categories": ["gear"]}``; parts without a category by their predicted
            kind: ``{"predicted_categories": ["spur_gear"], "min_predicted_score": 0.5}``
        points : (N, 3) array-like surface points
        """
        body: dict[str, Any] = {
            "top_k": top_k,
            "offset": offset,
            "fusion": fusion,
            "include_embeddings": include_embeddings,
        }
        optional = {
            "rerank": rerank,
            "text": text,
            "part_id": like,
            "filters": filters,
            "weights": weights,
            "mesh_format": mesh_format,
            "min_similarity": min_similarity,
            "same_size": same_size,
            "points": np.asarray(points, dtype=float).tolist() if points is not None else None,
        }
        body.update({key: value for key, value in optional.items() if value is not None})
        if mesh is None:
            if image is not None:
                body["image"] = base64.b64encode(_read(image)[0]).decode()
            return self._urls(self._answer(self.http.post("/v1/search", json=body)))
        files = {}
        data, name = _read(mesh)
        files["mesh"] = (name or f"query.{mesh_format or 'stl'}", data)
        if image is not None:
            image_data, image_name = _read(image)
            files["image"] = (image_name or "query.png", image_data)
        form = {
            key: json.dumps(value) if key in ("filters", "weights", "points") else str(value)
            for key, value in body.items()
        }
        form = {
            key: value.lower() if value in ("True", "False") else value
            for key, value in form.items()
        }
        return self._urls(self._answer(self.http.post("/v1/search", data=form, files=files)))

    # -- parts --------------------------------------------------------------------------------

    def get_part(self, part_id: str) -> dict[str, Any]:
        return self._urls(self._answer(self.http.get(_part_path(part_id))))

    def get_embeddings(self, part_id: str) -> dict[str, Any]:
        return self._answer(self.http.get(_part_path(part_id, "/embeddings")))

    def facets(self, category: Sequence[str] = ()) -> dict[str, Any]:
        return self._answer(self.http.get("/v1/facets", params={"category": list(category)}))

    def index_part(
        self,
        file: str | Path | bytes,
        part_id: str,
        metadata: dict[str, Any] | None = None,
        *,
        filename: str | None = None,
        file_type: str | None = None,
    ) -> dict[str, Any]:
        """Index one part file (path or bytes) under part_id; metadata: name, category, tags,
        description, units, ..."""
        data, name = _read(file)
        form = {"part_id": part_id, "metadata": json.dumps(metadata or {})}
        if file_type:
            form["file_type"] = file_type
        files = {"file": (filename or name or f"{part_id}.{file_type or 'stl'}", data)}
        return self._urls(self._answer(self.http.post("/v1/parts", data=form, files=files)))

    def delete_part(self, part_id: str) -> dict[str, Any]:
        return self._answer(self.http.delete(_part_path(part_id)))

    # -- embed --------------------------------------------------------------------------------

    def _vectors(self, answer: dict[str, Any]) -> np.ndarray:
        return np.asarray(answer["vectors"], dtype=np.float32)

    def embed_text(self, texts: Sequence[str]) -> np.ndarray:
        """(n, D) float32 unit vectors of texts."""
        return self._vectors(
            self._answer(self.http.post("/v1/embed/text", json={"texts": list(texts)}))
        )

    def embed_images(self, images: Sequence[str | Path | bytes]) -> np.ndarray:
        """(n, D) float32 unit vectors of images (paths or encoded bytes)."""
        encoded = [base64.b64encode(_read(image)[0]).decode() for image in images]
        return self._vectors(
            self._answer(self.http.post("/v1/embed/image", json={"images": encoded}))
        )

    def embed_points(self, clouds: Sequence[Any]) -> np.ndarray:
        """(n, D) float32 unit vectors of point clouds (each (N, 3), any units)."""
        body = {"point_clouds": [np.asarray(c, dtype=float).tolist() for c in clouds]}
        return self._vectors(self._answer(self.http.post("/v1/embed/geometry", json=body)))

    def ready(self) -> dict[str, Any]:
        return self._answer(self.http.get("/readyz"))
