"""The writer API: a reindex job's writes go through the search service that holds the Edge shard.

Qdrant Edge lets one process write a shard; while the service runs, that is its ingress replica.
The replica names itself in the shard's holder file (store/holder.py), and a reindex job that
finds the shard locked sends its encoded rows and its prune here, in batches, so the shard keeps
one writer and searches keep answering (docs/operations.md#indexing-while-serving). Every route
needs the indexing API key when keys are configured, as POST /v1/parts does:

    GET  /v1/writer           the collection's bundle and the batch limits
    GET  /v1/writer/ids       every stored part's id entry, one JSON object a line
    POST /v1/writer/rows      encoded rows (store/rows.py; bytes as base64): WriteResult
    POST /v1/writer/delete    part ids: points and views removed, how many were stored
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic.types import Base64Bytes

from serve.auth import presented_key, require_key
from serve.errors import from_validation_errors
from serve.http_util import FastJSONResponse

log = logging.getLogger(__name__)
PREFIX = "/v1/writer"
ID_LINES_PER_CHUNK = 1024  # id entries per chunk of the /ids stream


class EncodedRow(BaseModel):
    """One encoded part, as the reindex job's write stage takes it (store/rows.py)."""

    model_config = ConfigDict(extra="forbid")

    part_id: str
    uri: str = ""
    error: str = ""  # "" or the part's errors.jsonl row as a JSON object
    payload_json: str = ""
    view_names: list[str] = Field(default_factory=list)
    views_png: list[Base64Bytes] = Field(default_factory=list)
    mesh_glb: Base64Bytes = b""  # the light GLB of the 3D viewer ("": none)
    text: Base64Bytes = b""  # float32 (D,)
    image: Base64Bytes = b""
    geometry: Base64Bytes = b""
    views: Base64Bytes = b""  # float32 (K, D)
    bundle_id: str = ""
    prepared_on: str = ""
    encoded_on: str = ""

    @field_validator("error")
    @classmethod
    def _error_row(cls, value: str) -> str:
        try:
            row = json.loads(value) if value else {}
        except RecursionError as e:  # the decoder recurses per level: a 500 otherwise
            raise ValueError("is nested too deeply") from e
        if not isinstance(row, dict):
            raise ValueError("must be empty or an error row as a JSON object")
        return value

    def row(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in type(self).model_fields}


class WriteRowsRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rows: list[EncodedRow] = Field(min_length=1)


class DeletePartsRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    part_ids: list[str] = Field(min_length=1)


async def _indexing_key(request: Request) -> None:
    require_key(request.app.state.key_digests, presented_key(request.headers), "indexing")


def _parse(model: type[BaseModel], body: bytes) -> Any:
    try:
        return model.model_validate_json(body)
    except ValidationError as e:
        raise from_validation_errors(e.errors()) from e


def add_writer_api(app: FastAPI) -> None:
    """Register the writer routes on app; they reach the replica's ``SearchService`` through
    ``app.state.service`` (set by the ingress when it opens the store)."""
    needs_key = [Depends(_indexing_key)]

    @app.get(PREFIX, dependencies=needs_key, summary="Writer API: the collection's bundle, limits")
    async def writer_info(request: Request):
        service = request.app.state.service
        return {
            "bundle_id": service.bundle_id,
            "backend": service.store.backend,
            "max_body_bytes": request.app.state.max_body_bytes,
            "max_rows": service.limits.max_batch_items,
        }

    @app.get(PREFIX + "/ids", dependencies=needs_key, summary="Writer API: stored id entries")
    async def writer_ids(request: Request):
        store = request.app.state.service.store

        def chunks():  # Starlette runs a plain generator in a worker thread
            lines = []
            for entry in store.iter_ids():
                lines.append(json.dumps(entry._asdict()))
                if len(lines) >= ID_LINES_PER_CHUNK:
                    yield "\n".join(lines) + "\n"
                    lines = []
            if lines:
                yield "\n".join(lines) + "\n"

        return StreamingResponse(chunks(), media_type="application/x-ndjson")

    @app.post(PREFIX + "/rows", dependencies=needs_key, summary="Writer API: write encoded rows")
    async def writer_rows(request: Request):
        service = request.app.state.service
        body = await asyncio.to_thread(_parse, WriteRowsRequest, await request.body())
        service._check_batch(body.rows, "rows")
        result = await asyncio.to_thread(service.write_rows, [row.row() for row in body.rows])
        return FastJSONResponse(asdict(result))

    @app.post(PREFIX + "/delete", dependencies=needs_key, summary="Writer API: remove parts")
    async def writer_delete(request: Request):
        service = request.app.state.service
        body = _parse(DeletePartsRequest, await request.body())
        service._check_batch(body.part_ids, "part_ids")
        return {"deleted": await asyncio.to_thread(service.delete_parts, body.part_ids)}


def http_url(settings) -> str:
    """The base URL of this Serve instance's HTTP proxy on this machine: its own configuration
    (the port may differ from the settings'), a wildcard host read as loopback."""
    host, port = settings.serve.host, settings.serve.http_port
    try:
        from ray.serve.context import _get_global_client

        config = _get_global_client().http_config
        host, port = config.host or host, config.port or port
    except Exception as e:  # a replica outside Serve (tests): the settings' own
        log.debug("Serve's HTTP options not readable (%s); using the settings'", e)
    if host in ("0.0.0.0", "::", ""):
        host = "127.0.0.1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def announce_holder(settings, store):
    """Name this process as the Edge shard's holder (store/holder.py); None on a server."""
    from store.holder import ShardHolder, announce

    if store.backend != "edge":
        return None
    holder = ShardHolder(
        pid=os.getpid(),
        url=http_url(settings),
        app=settings.serve.app_name,
        since=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    announce(store.path, holder)
    return holder


def withdraw_holder(store, holder) -> None:
    """Remove this process's holder file (the replica stops holding the shard)."""
    from store.holder import withdraw

    if holder is not None:
        withdraw(store.path, holder.pid)
