"""Open the configured store: Qdrant Edge in a folder, or a Qdrant server by URL."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from store.options import StoreConfig, StoreOptions
from store.schema import CollectionSpec

if TYPE_CHECKING:
    from store.base import Store

API_KEY_ENV = "QDRANT_API_KEY"  # the server API key comes from the environment only


def open_store(
    settings: StoreConfig,
    spec: CollectionSpec | None = None,
    *,
    options: StoreOptions | None = None,
    client: Any = None,
) -> Store:
    """Open (or with a spec, create) the collection the settings name.

    backend "edge": the shard folder ``<settings.path>/<settings.collection>``.
    backend "server": ``settings.url`` with $QDRANT_API_KEY, or a ready qdrant-client ``client``;
    ``url: ":memory:"`` gives qdrant-client's in-memory stand-in (tests only).
    """
    options = options or settings.options()
    if settings.backend == "edge":
        from store.edge import EdgeStore

        if client is not None:
            raise ValueError("backend 'edge' takes no qdrant-client client")
        return EdgeStore(Path(settings.path) / settings.collection, spec, options)
    if settings.backend == "server":
        from store.server import ServerStore

        if client is not None:
            return ServerStore(spec, collection=settings.collection, client=client, options=options)
        if not settings.url:
            raise ValueError("backend 'server' needs store.url (or a client)")
        if settings.url == ":memory:":
            return ServerStore(
                spec, collection=settings.collection, location=":memory:", options=options
            )
        return ServerStore(
            spec,
            collection=settings.collection,
            url=settings.url,
            api_key=os.environ.get(API_KEY_ENV) or None,
            prefer_grpc=settings.prefer_grpc,
            options=options,
        )
    raise ValueError(f"unknown store backend {settings.backend!r}; known: 'edge', 'server'")
