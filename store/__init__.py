"""Collection schema and vector-store backends (Qdrant Edge embedded, Qdrant server).

Light names (schema, queries, errors, fusion) import eagerly; the backends import qdrant_edge or
qdrant_client only when first used: ``from store import EdgeStore, ServerStore, open_store``.
"""

from __future__ import annotations

from typing import Any

from store.errors import (
    BundleMismatchError,
    CollectionNotFoundError,
    InvalidQueryError,
    InvalidRecordError,
    SnapshotError,
    StoreError,
    WriterLockedError,
)
from store.options import StoreConfig, StoreOptions
from store.query import DEFAULT_WEIGHTS, Filters, FusedQuery, Range, SearchHit
from store.schema import (
    CollectionSpec,
    IdEntry,
    PartRecord,
    StoredPart,
    point_id,
)

_LAZY = {
    "Store": "store.base",
    "EdgeStore": "store.edge",
    "ServerStore": "store.server",
    "open_store": "store.factory",
}

__all__ = [
    "DEFAULT_WEIGHTS",
    "BundleMismatchError",
    "CollectionNotFoundError",
    "CollectionSpec",
    "Filters",
    "FusedQuery",
    "IdEntry",
    "InvalidQueryError",
    "InvalidRecordError",
    "PartRecord",
    "Range",
    "SearchHit",
    "SnapshotError",
    "StoreConfig",
    "StoreError",
    "StoreOptions",
    "StoredPart",
    "WriterLockedError",
    "point_id",
    *_LAZY,
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'store' has no attribute {name!r}")
