"""Write stage target when the search service holds the Edge shard: writes go through it.

Qdrant Edge lets one process write a shard. When ``cadsearch serve`` runs on the collection, its
ingress replica holds the shard and names itself in the holder file (store/holder.py); the
reindex job then sends its encoded rows and its prune to the service's writer API
(serve/writer_api.py) in batches, and the service writes them as it writes an uploaded part. The
shard keeps one writer, searches keep answering, and each batch is searchable as soon as its
request returns (docs/operations.md#indexing-while-serving).
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterable, Iterator
from typing import Any

from store.errors import WriterLockedError
from store.holder import ShardHolder, service_holder
from store.rows import BYTES_COLUMNS, WRITE_COLUMNS, error_record
from store.schema import IdEntry
from store.write import WriteResult

from .write import StoreWriter

WRITER_PATH = "/v1/writer"
RETRY_S = 120.0  # how long a write waits for a service that does not answer (a replica restart)
BODY_SHARE = 0.8  # of the service's body limit, per request (JSON and base64 overhead aside)
ROW_OVERHEAD = 1024  # bytes of JSON per row besides its values (keys, quotes, small strings)
RETRY_STATUS = (404, 502, 503, 504)  # the app not deployed (yet), proxy or replica restarting


class ServiceWriteError(RuntimeError):
    """The search service that holds the shard cannot take the job's writes."""


def open_writer(settings, spec, view_store):
    """The write stage's target: the store itself (``StoreWriter``), or, when a search service
    holds the Edge shard, that service (``ServiceWriter``). Raises WriterLockedError with what to
    do when the shard is held by a process that is not a running search service."""
    from store.factory import open_store

    try:
        return StoreWriter(open_store(settings.store, spec), view_store)
    except WriterLockedError as e:
        holder = service_holder(e.folder) if e.folder else None
        if holder is None:
            raise WriterLockedError(
                f"Qdrant Edge collection {e.folder} is held by process {e.pid or 'unknown'}, "
                "which is not a running search service (Edge allows one writer): if it is "
                "another `cadsearch index`, wait until it ends; otherwise stop it, then run "
                "again. While `cadsearch serve` holds the collection, indexing writes through "
                "it (docs/operations.md#indexing-while-serving)",
                folder=e.folder,
                pid=e.pid,
            ) from e
        keys = [key.get_secret_value() for key in settings.api_keys]
        return ServiceWriter(holder, spec.bundle_id, api_key=keys[0] if keys else None)


def _row_json(row: dict[str, Any]) -> dict[str, Any]:
    out = {name: row.get(name) for name in WRITE_COLUMNS}
    for name in BYTES_COLUMNS:
        value = out[name]
        if isinstance(value, list):
            out[name] = [base64.b64encode(v).decode() for v in value]
        else:
            out[name] = base64.b64encode(value or b"").decode()
    out["view_names"] = list(out["view_names"] or [])
    return {name: "" if value is None else value for name, value in out.items()}


def _row_bytes(row: dict[str, Any]) -> int:
    """About how many bytes a row takes as JSON (base64 grows bytes by 4/3)."""
    size = ROW_OVERHEAD
    for name in WRITE_COLUMNS:
        value = row.get(name)
        values = value if isinstance(value, list) else [value]
        for v in values:
            grow = 4 / 3 if name in BYTES_COLUMNS else 1
            size += int(len(v or b"") * grow) + 8
    return size


def request_batches(
    rows: Iterable[dict[str, Any]], max_bytes: int, max_rows: int, result: WriteResult
) -> Iterator[list[dict[str, Any]]]:
    """Rows in order, in batches of at most max_rows and about max_bytes of JSON each; a row
    alone over max_bytes goes to ``result.errors`` instead (stage write, code too_large)."""
    batch: list[dict[str, Any]] = []
    size = 0
    for row in rows:
        row_size = _row_bytes(row)
        if row_size > max_bytes:
            message = (
                f"its encoded row (about {row_size} bytes) is over the {max_bytes} bytes a "
                "request to the search service may carry (serve.limits.max_body_mb)"
            )
            result.errors.append(
                error_record(
                    row["part_id"], row.get("uri", ""), "write", "RowTooLarge", "too_large", message
                )
            )
            continue
        if batch and (size + row_size > max_bytes or len(batch) >= max_rows):
            yield batch
            batch, size = [], 0
        batch.append(row)
        size += row_size
    if batch:
        yield batch


class ServiceWriter:
    """The write stage's calls, sent to the search service that holds the Edge shard.

    holder : the service, from the shard's holder file
    bundle_id : the bundle this job encodes with; the service must serve the same
    api_key : an indexing key, when the service has keys ($CADSEARCH_API_KEYS)
    """

    streams = True  # rows stream to the driver, which sends them on

    def __init__(self, holder: ShardHolder, bundle_id: str, api_key: str | None = None):
        import httpx

        self.holder = holder
        self.url = holder.url.rstrip("/") + WRITER_PATH
        headers = {"X-API-Key": api_key} if api_key else {}
        self.client = httpx.Client(headers=headers, timeout=httpx.Timeout(600.0, connect=10.0))
        try:
            info = self._json("GET", "")
        except BaseException:
            self.client.close()
            raise
        if info["bundle_id"] != bundle_id:
            self.client.close()
            raise ServiceWriteError(
                f"the search service at {holder.url} serves bundle {info['bundle_id']!r}; this "
                f"job encodes with {bundle_id!r}: index with the service's settings profile"
            )
        self.max_body_bytes = int(info["max_body_bytes"] * BODY_SHARE)
        self.max_rows = int(info["max_rows"])

    def _call(self, method: str, path: str, **kwargs) -> Any:
        """One request, retried while the service does not answer (for RETRY_S)."""
        import httpx

        deadline = time.monotonic() + RETRY_S
        wait = 0.5
        while True:
            try:
                response = self.client.request(method, self.url + path, **kwargs)
                if response.status_code not in RETRY_STATUS:
                    break
                problem = f"HTTP {response.status_code}"
            except httpx.TransportError as e:
                problem = f"{type(e).__name__}: {e}"
            if time.monotonic() > deadline:
                raise ServiceWriteError(
                    f"the search service (pid {self.holder.pid}) holds the collection but does "
                    f"not answer at {self.url + path} ({problem}) after {RETRY_S:g} s: wait until "
                    "it is ready, or stop it, then run again"
                )
            time.sleep(wait)
            wait = min(wait * 2, 5.0)
        if response.status_code in (401, 403):
            raise ServiceWriteError(
                f"the search service at {self.holder.url} refuses this job's writes "
                f"({response.status_code}): set CADSEARCH_API_KEYS in the job's environment to "
                "one of the service's keys"
            )
        if response.status_code >= 400:
            raise ServiceWriteError(
                f"the search service at {self.url + path} answered {response.status_code}: "
                f"{response.text[:500]}"
            )
        return response

    def _json(self, method: str, path: str, **kwargs) -> Any:
        return self._call(method, path, **kwargs).json()

    def existing(self) -> dict[str, IdEntry]:
        """part id -> IdEntry of every stored part (streamed from the service)."""
        entries = {}
        for line in self._call("GET", "/ids").text.splitlines():
            if line.strip():
                entry = IdEntry(**json.loads(line))
                entries[entry.part_id] = entry
        return entries

    def write(self, rows: list[dict[str, Any]]) -> WriteResult:
        """Send rows in requests under the service's limits; a row alone over them is an error
        row (the service's serve.limits.max_body_mb)."""
        result = WriteResult()
        for chunk in request_batches(rows, self.max_body_bytes, self.max_rows, result):
            body = json.dumps({"rows": [_row_json(row) for row in chunk]})
            answer = self._json("POST", "/rows", content=body, headers=_JSON)
            result.merge(WriteResult(answer["indexed"], answer["errors"], answer["nodes"]))
        return result

    def delete(self, part_ids: list[str]) -> int:
        """Remove parts and their views, in requests of at most the service's batch size."""
        deleted = 0
        for start in range(0, len(part_ids), self.max_rows):
            body = json.dumps({"part_ids": part_ids[start : start + self.max_rows]})
            deleted += self._json("POST", "/delete", content=body, headers=_JSON)["deleted"]
        return deleted

    def optimize(self) -> None:
        """Nothing, on purpose: Qdrant Edge builds its indexes holding the Python GIL, which
        would stop every search of the service for as long as the build takes (it grows with
        the collection). The points stay searched exactly until a run that opens the shard
        itself optimizes (docs/operations.md#indexing-while-serving)."""

    def close(self) -> None:
        self.client.close()


_JSON = {"Content-Type": "application/json"}
