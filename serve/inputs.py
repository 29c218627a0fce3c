"""Query inputs of the search service: decode and check texts, images, point clouds and part files.

Plain functions, shared by the HTTP and gRPC front ends; each raises ``serve.errors.ApiError``
naming the field, so bad input never reaches an encoder or the store.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from serve.errors import ApiError, invalid, too_large, undecodable
from store.errors import InvalidQueryError
from store.query import Filters, check_paging, check_same_size, check_weights
from store.similarity import check_min_similarity

_DATA_URL = re.compile(r"^data:[\w/+.-]*;base64,", re.I)
POINT_SEED = 0  # resampling a query cloud is deterministic: the same cloud, the same vector
# a CLIP tower resizes an image's short side to its input size first: a 1x3000 image takes
# 600 MB there, and the fuzzer's 1x65535 ones grew the ImageEncoder by 7 GB
MAX_IMAGE_ASPECT = 50


@dataclass
class SearchInput:
    """A checked search request: any mix of query modalities, filters and options."""

    text: str | None = None
    image: bytes | None = None  # encoded image (checked to decode)
    mesh: bytes | None = None  # a part file; mesh_type says its format
    mesh_type: str | None = None
    points: np.ndarray | None = None  # (N, 3) checked raw points
    part_id: str | None = None  # "more like this"
    filters: Filters | None = None
    top_k: int = 10
    offset: int = 0
    weights: dict[str, float] | None = None
    fusion: str = "rrf"
    rerank: bool | None = None  # None: the settings' search.rerank for the query's kinds
    include_embeddings: bool = False
    min_similarity: float | None = None  # percent: hits below it are dropped before paging
    same_size: float | None = None  # percent: tolerance on the query part's sorted extents

    def modalities(self) -> list[str]:
        given = ("text", "image", "mesh", "points", "part_id")
        return [name for name in given if getattr(self, name) is not None]

    def similarity_kind(self) -> str:
        """The calibration its percentages use (docs/similarity.md#query-kinds): a part id
        "like", a mesh or points "mesh", an image "image", a text alone "text"."""
        if self.part_id is not None:
            return "like"
        if self.mesh is not None or self.points is not None:
            return "mesh"
        return "image" if self.image is not None else "text"


def query_error(error: InvalidQueryError) -> ApiError:
    """422 naming the query field the store refused (the store's own check, its own field)."""
    return invalid(error.field, str(error))


def check_text(text: Any, field: str, max_chars: int) -> str:
    """A non-blank query text of at most max_chars characters."""
    if not isinstance(text, str):
        raise invalid(field, f"must be a string, got {type(text).__name__}")
    if not text.strip():
        raise invalid(field, "must not be empty or blank")
    if len(text) > max_chars:
        raise invalid(field, f"is {len(text)} characters, over the limit of {max_chars}")
    return text


def json_depth(value: Any, limit: int) -> int:
    """The nesting depth of a parsed JSON value (a scalar is 0), counted up to limit + 1."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict | list):
            depth += 1
            deepest = max(deepest, depth)
            if deepest > limit:
                break
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, depth) for child in children if isinstance(child, dict | list))
    return deepest


def parse_json(
    text: str | bytes,
    field: str,
    max_depth: int,
    malformed: Callable[[str, str, str], ApiError] = invalid,
) -> Any:
    """A JSON text parsed; refused when nested deeper than max_depth (422) or malformed (422 by
    default: a field's bad value; a whole body passes ``undecodable``, 400)."""
    try:
        value = json.loads(text)
    except RecursionError as e:  # the decoder recurses per level: ~1000 levels exhaust it
        raise invalid(field, f"is nested over {max_depth} levels deep", "too_deep") from e
    except ValueError as e:
        raise malformed(field, f"is not valid JSON ({e})", "bad_json") from e
    if json_depth(value, max_depth) > max_depth:
        raise invalid(field, f"is nested over {max_depth} levels deep", "too_deep")
    return value


def decode_base64(value: Any, field: str) -> bytes:
    """Bytes of a base64 string (standard or URL-safe alphabet; a ``data:`` URL prefix is ok)."""
    if not isinstance(value, str):
        raise invalid(field, f"must be a base64 string, got {type(value).__name__}")
    text = _DATA_URL.sub("", value.strip())
    if not text:
        raise invalid(field, "is empty")
    try:
        if "-" in text or "_" in text:
            return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as e:
        raise undecodable(field, f"is not valid base64 ({e})", "bad_base64") from e


def check_image(data: bytes, field: str, max_pixels: int) -> tuple[int, int]:
    """(width, height) of an encoded image, after checking it decodes and is not too large.

    The size is read from the header before any pixel is decoded (decompression bombs stop here).
    """
    from PIL import Image

    if not data:
        raise invalid(field, "is empty")
    try:
        image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as e:  # PIL's own header check, past twice its limit
        raise too_large(field, f"declares too many pixels ({e})", "image_too_large") from e
    except Exception as e:
        raise undecodable(field, f"cannot decode as an image ({e})", "bad_image") from e
    width, height = image.size
    if width * height > max_pixels:
        raise too_large(
            field,
            f"{width}x{height} pixels is over the limit of {max_pixels} pixels",
            "image_too_large",
        )
    if min(width, height) < 1:
        raise undecodable(field, f"{width}x{height} pixels holds no pixel", "bad_image")
    if max(width, height) > MAX_IMAGE_ASPECT * min(width, height):
        raise too_large(
            field,
            f"{width}x{height} pixels is longer than {MAX_IMAGE_ASPECT}:1 (the encoder's resize "
            "of its short side would expand it)",
            "image_too_large",
        )
    try:
        image.load()
    except Exception as e:
        raise undecodable(field, f"cannot decode as an image ({e})", "bad_image") from e
    return width, height


def point_array(value: Any, field: str, min_points: int, max_points: int) -> np.ndarray:
    """A query point cloud as (N, 3) float64, checked: shape, finite, count, not degenerate."""
    if isinstance(value, np.ndarray):
        array = value
    else:
        if not isinstance(value, list | tuple):
            raise invalid(field, f"must be a list of [x, y, z] points, got {type(value).__name__}")
        if len(value) > max_points:
            raise too_large(
                field, f"{len(value)} points is over the limit of {max_points}", "too_many_points"
            )
        try:
            array = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError) as e:
            raise invalid(field, f"must be a list of [x, y, z] numbers ({e})") from e
    if array.ndim != 2 or array.shape[1] != 3:
        raise invalid(field, f"must be an (N, 3) list of [x, y, z] points, got shape {array.shape}")
    count = array.shape[0]
    if count > max_points:
        raise too_large(
            field, f"{count} points is over the limit of {max_points}", "too_many_points"
        )
    if count < min_points:
        raise invalid(field, f"{count} points is under the minimum of {min_points}")
    bad = int((~np.isfinite(array)).any(axis=1).sum())
    if bad:
        raise invalid(field, f"{bad} points have non-finite coordinates (NaN or inf)", "non_finite")
    # the bounds a part's vertices have: past them normalizing gives an all-zero cloud
    from encoders.geometry.validate import MAX_COORDINATE, MIN_EXTENT

    largest = float(np.abs(array).max())
    if largest > MAX_COORDINATE:
        message = f"a coordinate of magnitude {largest:.3g} is beyond {MAX_COORDINATE:g}"
        raise invalid(field, message, "coordinate_range")
    extent = float(np.ptp(array, axis=0).max())
    if extent <= MIN_EXTENT:
        message = f"all points coincide: they span {extent:.3g}, at most {MIN_EXTENT:g}"
        raise invalid(field, message, "zero_extent")
    return array


def prepare_cloud(points: np.ndarray, num_points: int, seed: int = POINT_SEED) -> np.ndarray:
    """A checked cloud as the geometry encoder's input: (num_points, 3) float32 in the unit sphere.

    Normalized by the index's own function (``to_unit_sphere``), then resampled to num_points
    (without replacement when there are enough).
    """
    from encoders.geometry.normalize import to_unit_sphere

    centered = to_unit_sphere(points)
    rng = np.random.default_rng(seed)
    count = centered.shape[0]
    if count != num_points:
        index = rng.choice(count, size=num_points, replace=count < num_points)
        centered = centered[index]
    return centered.astype(np.float32)


def file_type_for(filename: str | None, explicit: str | None, field: str) -> str:
    """The type of an uploaded part file: ``explicit`` when given, else the name's extension."""
    from encoders.geometry.loaders import SUPPORTED_EXTENSIONS

    kind = (explicit or "").strip().lower().lstrip(".")
    if not kind and filename and "." in filename:
        kind = filename.rsplit(".", 1)[1].lower()
    if not kind:
        raise invalid(
            field,
            f"cannot tell the file type of {filename!r}: give a file name with an extension "
            f"or a file type (supported: {', '.join(SUPPORTED_EXTENSIONS)})",
            "unsupported_format",
        )
    if kind not in SUPPORTED_EXTENSIONS:
        raise ApiError(
            400,
            "unsupported_format",
            f"unsupported file type {kind!r} (supported: {', '.join(SUPPORTED_EXTENSIONS)})",
            field,
        )
    return kind


def preload() -> None:
    """Import what the checks import lazily (part id rules, mesh loaders, PIL): a replica does
    it while it starts, not in its first requests (docs/tuning.md#ingress)."""
    import PIL.Image  # noqa: F401

    from encoders.geometry.loaders import SUPPORTED_EXTENSIONS  # noqa: F401
    from store.part_ids import validate_part_id  # noqa: F401


def check_part_id(part_id: Any, field: str = "part_id") -> str:
    """A usable part id (the catalog sources' rule: non-blank, <= 512 chars, no control chars)."""
    from store.part_ids import validate_part_id

    try:
        return validate_part_id(part_id)
    except ValueError as e:
        raise invalid(field, str(e)) from e


def check_upload_size(data: bytes, field: str, max_mb: float) -> bytes:
    """An uploaded file's bytes, refused when empty or over max_mb."""
    if not data:
        raise invalid(field, "the uploaded file is empty")
    if len(data) > max_mb * 1024 * 1024:
        raise too_large(field, f"{len(data)} bytes is over the limit of {max_mb:g} MB")
    return data


def check_query(
    top_k: Any,
    offset: Any,
    weights: Any,
    limits,
    min_similarity: Any = None,
    same_size: Any = None,
) -> tuple[int, int]:
    """The store's own checks of paging (within the API's limits), weights, min_similarity and
    same_size, run before any encoder; 422 naming the field."""
    try:
        paging = check_paging(top_k, offset, limits.max_top_k, limits.max_offset)
        check_weights(weights)
        check_min_similarity(min_similarity)
        check_same_size(same_size)
        return paging
    except InvalidQueryError as e:
        raise query_error(e) from e


def make_search_input(
    limits,
    *,
    text: str | None = None,
    image: bytes | None = None,
    points: Any = None,
    part_id: str | None = None,
    mesh: bytes | None = None,
    mesh_filename: str | None = None,
    mesh_format: str | None = None,
    filters: Any = None,
    top_k: int = 10,
    offset: int = 0,
    weights: dict[str, float] | None = None,
    fusion: str = "rrf",
    rerank: bool | None = None,
    include_embeddings: bool = False,
    min_similarity: float | None = None,
    same_size: float | None = None,
):
    """A checked ``SearchInput`` of already parsed request fields (images and meshes as bytes)."""
    top_k, offset = check_query(top_k, offset, weights, limits, min_similarity, same_size)
    if same_size is not None and part_id is None and mesh is None:
        raise invalid(
            "same_size", "needs a query part: a mesh upload or a part_id (more like this)"
        )
    query = SearchInput(
        filters=filters,
        top_k=top_k,
        offset=offset,
        weights=dict(weights) if weights else None,
        fusion=fusion,
        rerank=None if rerank is None else bool(rerank),
        include_embeddings=bool(include_embeddings),
        min_similarity=None if min_similarity is None else float(min_similarity),
        same_size=None if same_size is None else float(same_size),
    )
    if text is not None:
        query.text = check_text(text, "text", limits.max_text_chars)
    if image is not None:
        check_image(image, "image", limits.max_image_pixels)
        query.image = image
    if points is not None:
        query.points = point_array(points, "points", limits.min_points, limits.max_points)
    if part_id is not None:
        query.part_id = check_part_id(part_id)
    if mesh is not None:
        query.mesh_type = file_type_for(mesh_filename, mesh_format, "mesh")
        query.mesh = check_upload_size(mesh, "mesh", limits.max_body_mb)
    elif mesh_format is not None:
        raise invalid("mesh_format", "is given without a mesh")
    return query
