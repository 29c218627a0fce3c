"""Collection schema: one point per part, its named vectors, payload fields and their validation.

A part is one Qdrant point. Its id is the UUIDv5 of the part's stable key (``part_id``) under a
fixed project namespace, so indexing the same part again is an idempotent upsert. Named vectors:
``text``, ``image``, ``geometry`` (dense, cosine, HNSW) and ``views`` (a multivector of the K view
embeddings, MaxSim, no HNSW: used for reranking only).
"""

from __future__ import annotations

import functools
import json
import math
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple

import numpy as np

from store.errors import BundleMismatchError, InvalidRecordError
from store.vectors import unit_rows

# UUIDv5 namespace of point ids: uuid5(NAMESPACE_URL, "https://cadsearch/parts"), fixed forever
PART_NAMESPACE = uuid.UUID("161803b2-55a4-5a07-a6c9-ef5daa148ef2")
DENSE_VECTORS = ("text", "image", "geometry")  # one (D,) vector each, HNSW-indexed
VIEWS = "views"  # (K, D) multivector, MaxSim, rerank only
ALL_VECTORS = (*DENSE_VECTORS, VIEWS)
# keyword payload indexes
KEYWORD_INDEXES = ("category", "tags", "bundle_id", "part_id", "predicted_category")
FLOAT_INDEXES = (
    *("extent_max", "extent_mid", "extent_min", "size_x", "size_y", "size_z"),
    "predicted_score",
)
# fields whose values get their own HNSW sub-graphs (selective filters stay fast and exact
# enough); the others filter through the main graph or a plain scan, and cost no build time
HNSW_FILTER_FIELDS = ("category",)
FACET_FIELDS = ("category", "tags")  # fields with facet counts (filter menus)
METADATA_KEY = "cadsearch"  # key of the spec inside the collection metadata
METADATA_FORMAT = 1
_SHA256 = re.compile(r"[0-9a-f]{64}")


@functools.lru_cache(maxsize=1 << 16)
def point_id(part_id: str) -> str:
    """The point id of a part: UUIDv5 of its stable key under PART_NAMESPACE, as a string
    (kept for recent keys: a "more like this" search derives it twice, ~10 us each)."""
    return str(uuid.uuid5(PART_NAMESPACE, part_id))


def utc_now_iso() -> str:
    """The current time as ISO-8601 UTC with milliseconds, e.g. ``2025-01-31T12:00:00.000Z``."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class CollectionSpec:
    """What a collection's vectors are: kept as collection metadata, checked on every open."""

    bundle_id: str  # id of the model bundle that made the vectors
    dim: int  # embedding dimension D of every vector
    view_count: int  # K rows of the views multivector
    view_set: str = "canonical10"  # name of the canonical view set the views were rendered from

    def __post_init__(self) -> None:
        if not isinstance(self.bundle_id, str) or not self.bundle_id:
            raise ValueError(f"bundle_id must be a non-empty string, got {self.bundle_id!r}")
        if not isinstance(self.dim, int) or self.dim < 1:
            raise ValueError(f"dim must be a positive int, got {self.dim!r}")
        if not isinstance(self.view_count, int) or self.view_count < 1:
            raise ValueError(f"view_count must be a positive int, got {self.view_count!r}")

    def to_metadata(self) -> dict[str, Any]:
        """The collection metadata dict that records this spec."""
        return {
            METADATA_KEY: {
                "format": METADATA_FORMAT,
                "bundle_id": self.bundle_id,
                "dim": self.dim,
                "view_count": self.view_count,
                "view_set": self.view_set,
            }
        }

    @classmethod
    def from_metadata(cls, metadata: Mapping[str, Any] | None) -> CollectionSpec | None:
        """The spec recorded in collection metadata, or None when it holds none."""
        entry = (metadata or {}).get(METADATA_KEY)
        if not isinstance(entry, Mapping):
            return None
        return cls(
            bundle_id=entry["bundle_id"],
            dim=int(entry["dim"]),
            view_count=int(entry["view_count"]),
            view_set=entry.get("view_set", "canonical10"),
        )

    def check_same(self, requested: CollectionSpec, where: str) -> None:
        """Raise BundleMismatchError unless ``requested`` describes the same vectors as self."""
        if requested == self:
            return
        raise BundleMismatchError(
            f"{where} holds vectors of bundle {self.bundle_id!r} (dim {self.dim}, "
            f"{self.view_count} views of {self.view_set!r}); asked for bundle "
            f"{requested.bundle_id!r} (dim {requested.dim}, {requested.view_count} views of "
            f"{requested.view_set!r}). Re-index into a new collection, or open it with its own "
            "bundle.",
            stored=self.bundle_id,
            requested=requested.bundle_id,
        )


@dataclass
class PartRecord:
    """One part to index: its vectors and its payload fields (sizes in mm).

    vectors : {"text": (D,), "image": (D,), "geometry": (D,), "views": (K, D)} float; views may
        be missing (its stage failed); text, image and geometry are required.
    """

    part_id: str  # stable key of the part in its catalog
    vectors: Mapping[str, Any]
    category: str
    content_sha256: str  # sha256 of the source file, hex (reindex skips unchanged parts)
    bbox_min: Sequence[float]  # (3,) mm
    bbox_max: Sequence[float]  # (3,) mm
    name: str = ""
    tags: Sequence[str] = ()
    description: str = ""
    source_uri: str = ""
    face_count: int = 0
    view_urls: Sequence[str] = ()
    mesh_url: str = ""  # the light GLB of the web page's 3D viewer ("": none; not in the payload)
    meta: Mapping[str, Any] = field(default_factory=dict)  # any extra JSON metadata
    fingerprint: str = ""  # cheap change key of the source ("sha256:..", "b2id:.."), optional
    bundle_id: str | None = None  # if given, must equal the collection's bundle
    indexed_at: str | None = None  # ISO-8601 UTC; None: the time of the upsert
    # zero-shot kind of a part its source gave no category, and its probability 0..1; both or
    # neither (docs/predicted-kind.md)
    predicted_category: str = ""
    predicted_score: float | None = None


@dataclass
class StoredPart:
    """A part as stored: its point id, payload and (when asked for) its vectors."""

    id: str  # point id (UUID string)
    part_id: str
    payload: dict[str, Any]
    vectors: dict[str, np.ndarray] | None = None  # name -> (D,) or (K, D) float32, L2-normalized


class IdEntry(NamedTuple):
    """What the reindex job needs to skip unchanged parts."""

    part_id: str
    content_sha256: str
    bundle_id: str
    id: str  # point id
    fingerprint: str = ""  # the source's change key, when the indexer gave one


ID_ENTRY_FIELDS = ["part_id", "content_sha256", "bundle_id", "fingerprint"]  # payload they need


class PreparedPoint(NamedTuple):
    """A validated record: point id, normalized float32 vectors, payload."""

    id: str
    vectors: dict[str, np.ndarray]
    payload: dict[str, Any]


def _bad(index: int, part_id: Any, message: str) -> InvalidRecordError:
    return InvalidRecordError(f"record {index} (part_id {part_id!r}): {message}")


def normalize_vector(value: Any, shape: tuple[int, ...], what: str) -> np.ndarray:
    """``value`` as float32 of ``shape`` with L2-normalized rows; ValueError names the problem."""
    try:
        array = np.asarray(value, dtype=np.float32)
    except (TypeError, ValueError) as e:
        raise ValueError(f"{what} is not a numeric array: {e}") from e
    if array.shape != shape:
        raise ValueError(f"{what} has shape {array.shape}, expected {shape}")
    if not np.isfinite(array).all():
        raise ValueError(f"{what} has non-finite values (NaN or inf)")
    if (np.linalg.norm(array, axis=-1) < 1e-12).any():
        raise ValueError(f"{what} has a zero-length vector")
    return unit_rows(array)


def _vec3(value: Any, what: str) -> list[float]:
    try:
        out = [float(x) for x in value]
    except (TypeError, ValueError) as e:
        raise ValueError(f"{what} must be 3 numbers, got {value!r}") from e
    if len(out) != 3 or not all(math.isfinite(x) for x in out):
        raise ValueError(f"{what} must be 3 finite numbers, got {value!r}")
    return out


def _strings(value: Any, what: str) -> list[str]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ValueError(f"{what} must be a list of strings, got {value!r}")
    out = list(value)
    if not all(isinstance(x, str) for x in out):
        raise ValueError(f"{what} must be a list of strings, got {value!r}")
    return out


def prepare_record(
    record: PartRecord, spec: CollectionSpec, index: int = 0, indexed_at: str | None = None
) -> PreparedPoint:
    """Validate one record against the spec; returns the point to write (raises InvalidRecord)."""
    pid = getattr(record, "part_id", None)
    if not isinstance(record, PartRecord):
        raise _bad(index, pid, f"expected a PartRecord, got {type(record).__name__}")
    if not isinstance(pid, str) or not pid.strip():
        raise _bad(index, pid, "part_id must be a non-empty string")
    if record.bundle_id is not None and record.bundle_id != spec.bundle_id:
        raise BundleMismatchError(
            f"record {index} (part_id {pid!r}) was made by bundle {record.bundle_id!r}; "
            f"the collection holds bundle {spec.bundle_id!r}",
            stored=spec.bundle_id,
            requested=record.bundle_id,
        )
    if not isinstance(record.vectors, Mapping):
        raise _bad(index, pid, "vectors must be a mapping of vector name to array")
    unknown = sorted(set(record.vectors) - set(ALL_VECTORS))
    if unknown:
        raise _bad(index, pid, f"unknown vector names {unknown}; known: {list(ALL_VECTORS)}")
    missing = [name for name in DENSE_VECTORS if record.vectors.get(name) is None]
    if missing:
        raise _bad(index, pid, f"missing vectors {missing} (text, image, geometry are required)")
    try:
        vectors = {
            name: normalize_vector(record.vectors[name], (spec.dim,), f"vector {name!r}")
            for name in DENSE_VECTORS
        }
        if record.vectors.get(VIEWS) is not None:
            shape = (spec.view_count, spec.dim)
            vectors[VIEWS] = normalize_vector(record.vectors[VIEWS], shape, f"vector {VIEWS!r}")
        bbox_min = _vec3(record.bbox_min, "bbox_min")
        bbox_max = _vec3(record.bbox_max, "bbox_max")
        if any(hi < lo for lo, hi in zip(bbox_min, bbox_max, strict=True)):
            raise ValueError(f"bbox_max {bbox_max} is below bbox_min {bbox_min}")
        tags = _strings(record.tags, "tags")
        view_urls = _strings(record.view_urls, "view_urls")
        for name in ("category", "name", "description", "source_uri", "fingerprint", "mesh_url"):
            if not isinstance(getattr(record, name), str):
                raise ValueError(f"{name} must be a string, got {getattr(record, name)!r}")
        if not record.category:
            raise ValueError("category must be a non-empty string")
        if not isinstance(record.content_sha256, str) or not _SHA256.fullmatch(
            record.content_sha256
        ):
            raise ValueError(f"content_sha256 must be 64 hex digits, got {record.content_sha256!r}")
        if isinstance(record.face_count, bool) or not isinstance(record.face_count, int):
            raise ValueError(f"face_count must be an int, got {record.face_count!r}")
        if record.face_count < 0:
            raise ValueError(f"face_count must be >= 0, got {record.face_count}")
        predicted = _predicted(record.predicted_category, record.predicted_score)
        if not isinstance(record.meta, Mapping):
            raise ValueError(f"meta must be a mapping, got {type(record.meta).__name__}")
        try:
            meta = json.loads(json.dumps(dict(record.meta), allow_nan=False))
        except (TypeError, ValueError) as e:
            raise ValueError(f"meta must be plain JSON: {e}") from e
    except (ValueError, TypeError) as e:
        raise _bad(index, pid, str(e)) from e
    # mm rounded to 1e-6 (a nanometre): short decimals survive every JSON parser exactly
    bbox_min, bbox_max = [round(x, 6) for x in bbox_min], [round(x, 6) for x in bbox_max]
    sizes = [round(hi - lo, 6) for lo, hi in zip(bbox_min, bbox_max, strict=True)]
    extents = sorted(sizes, reverse=True)
    payload = {
        "part_id": pid,
        "name": record.name or pid,
        "category": record.category,
        "tags": tags,
        "description": record.description,
        "source_uri": record.source_uri,
        "content_sha256": record.content_sha256,
        "fingerprint": record.fingerprint,
        "bbox_min": bbox_min,
        "bbox_max": bbox_max,
        "extents": extents,
        "extent_max": extents[0],
        "extent_mid": extents[1],
        "extent_min": extents[2],
        "size_x": sizes[0],
        "size_y": sizes[1],
        "size_z": sizes[2],
        "face_count": record.face_count,
        "view_urls": view_urls,
        **({"mesh_url": record.mesh_url} if record.mesh_url else {}),
        "bundle_id": spec.bundle_id,
        "indexed_at": record.indexed_at or indexed_at or utc_now_iso(),
        "meta": meta,
        **predicted,
    }
    return PreparedPoint(point_id(pid), vectors, payload)


def _predicted(category: Any, score: Any) -> dict[str, Any]:
    """The payload fields of a predicted kind: none, or both (score a probability)."""
    if not isinstance(category, str):
        raise ValueError(f"predicted_category must be a string, got {category!r}")
    if not category and score is None:
        return {}
    if not category or score is None:
        raise ValueError(
            f"predicted_category {category!r} and predicted_score {score!r}: give both or neither"
        )
    if isinstance(score, bool) or not isinstance(score, int | float) or not 0 <= score <= 1:
        raise ValueError(f"predicted_score must be a number in [0, 1], got {score!r}")
    return {"predicted_category": category, "predicted_score": round(float(score), 6)}


def id_entry(point: Any, payload: Mapping[str, Any] | None) -> IdEntry:
    """The IdEntry of a scrolled point."""
    p = payload or {}
    return IdEntry(
        p.get("part_id", ""),
        p.get("content_sha256", ""),
        p.get("bundle_id", ""),
        str(point),
        p.get("fingerprint", ""),
    )


def prepare_batch(records: Iterable[PartRecord], spec: CollectionSpec) -> list[PreparedPoint]:
    """Validate a whole batch before anything is written: one bad record refuses the batch."""
    stamp = utc_now_iso()
    points: list[PreparedPoint] = []
    seen: dict[str, int] = {}
    for index, record in enumerate(records):
        point = prepare_record(record, spec, index, stamp)
        part_id = point.payload["part_id"]
        if part_id in seen:
            raise _bad(
                index, part_id, f"duplicate part_id in the batch (also record {seen[part_id]})"
            )
        seen[part_id] = index
        points.append(point)
    return points


def vectors_from_stored(raw: Mapping[str, Any] | None) -> dict[str, np.ndarray]:
    """Stored vectors as float32 arrays (views (K, D), others (D,))."""
    return {name: np.asarray(value, dtype=np.float32) for name, value in (raw or {}).items()}
