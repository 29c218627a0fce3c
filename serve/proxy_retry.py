"""Serve's proxies when the ingress replica dies during a request: an HTTP read is sent once more,
anything else answered 503 ``unavailable`` with Retry-After, gRPC UNAVAILABLE
(docs/operations.md#a-replica-that-dies).

Ray Serve 2.60's proxy answers nothing for a request whose replica died (``ActorDiedError``): its
ASGI app returns without a response and uvicorn sends a bare ``500 Internal Server Error``. Serve
routes later requests to the replica it starts in place of the dead one; only the requests the
dead replica held are lost. ``ReplicaLossMiddleware`` wraps the proxy's app (Serve's
``RAY_SERVE_HTTP_PROXY_CALLBACK_IMPORT_PATH``, set for the proxies by
``serve.local.controller_options``) and turns such a silent end into a second try or a typed 503.

A read (GET, HEAD, OPTIONS, and a POST to a search or embed path: ``READ_PATHS``) is replayed
with the body the proxy took from the client, kept while the request runs up to
``REPLAY_MAX_BYTES``; the second try waits, like any new request, for the replica Serve starts.
A write (index, delete, the writer API) is not replayed: it may have been applied before the
replica died. Its client gets the 503 and may send it again: writes are upserts by part id.

gRPC has no such hook: Serve's gRPC proxy answers INTERNAL, with the dead actor's address in its
details. ``grpc_unavailable`` makes it UNAVAILABLE (gRPC's retryable status) with a plain message;
it is installed in Serve's processes by their setup hook (``serve.grpc_bind.install``).
"""

from __future__ import annotations

import json
import logging

from serve.errors import RETRY_AFTER_S, unavailable

log = logging.getLogger(__name__)
# Serve's proxies call the function this names for their list of Starlette middlewares
CALLBACK_ENV = "RAY_SERVE_HTTP_PROXY_CALLBACK_IMPORT_PATH"
CALLBACK = "serve.proxy_retry.middlewares"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
READ_PATHS = ("/v1/search", "/v1/embed/")  # POSTs that only read: searches and embeds
# a body kept for a second try at most this large (a query mesh upload is a few MB); a larger
# read is answered 503 instead, so that 16 requests in flight keep at most 128 MB in the proxy
REPLAY_MAX_BYTES = 8 * 2**20


def is_read(method: str, path: str) -> bool:
    """Whether a request only reads, so that sending it twice changes nothing (the API's path
    from its first ``/v1/``: an app may be mounted under a route prefix)."""
    api = path[path.find("/v1/") :] if "/v1/" in path else path
    return method in SAFE_METHODS or (method == "POST" and api.startswith(READ_PATHS))


def lost_answer(method: str, path: str) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """(status, headers, body) of a request whose replica stopped before it answered."""
    applied = "" if is_read(method, path) else " (it may have been applied)"
    error = unavailable(
        f"the service's replica stopped during the request{applied}; retry in {RETRY_AFTER_S} s"
    )
    body = json.dumps(error.to_json()).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"retry-after", str(RETRY_AFTER_S).encode()),
    ]
    return error.status, headers, body


class ReplicaLossMiddleware:
    """ASGI middleware around Serve's HTTP proxy (see the module's docstring)."""

    def __init__(self, app, replay_max_bytes: int = REPLAY_MAX_BYTES):
        self.app = app
        self.replay_max_bytes = replay_max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        method, path = scope["method"], scope["path"]
        replayable = is_read(method, path)
        kept: list[dict] = []  # the body's messages, for a second try
        state = {"keep": replayable, "size": 0, "started": False, "disconnected": False}

        async def receive_and_keep():
            message = await receive()
            if message["type"] == "http.disconnect":
                state["disconnected"] = True
            elif message["type"] == "http.request" and state["keep"]:
                state["size"] += len(message.get("body", b""))
                kept.append(message)
                if state["size"] > self.replay_max_bytes:
                    state["keep"] = False
                    kept.clear()
            return message

        async def send_and_note(message):
            if message["type"] == "http.response.start":
                state["started"] = True
            await send(message)

        # Serve's proxy adds headers to the scope it is given (its request id): each try gets
        # its own copy, the same request id included
        await self.app(_copy(scope), receive_and_keep, send_and_note)
        if state["started"] or state["disconnected"]:
            return
        if state["keep"]:
            log.warning("%s %s: the replica stopped during the request; sent again", method, path)
            state["keep"] = False
            await self.app(_copy(scope), _replay(kept, receive_and_keep), send_and_note)
            if state["started"] or state["disconnected"]:
                return
        log.warning("%s %s: the replica stopped during the request; answered 503", method, path)
        status, headers, body = lost_answer(method, path)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _copy(scope: dict) -> dict:
    return {**scope, "headers": list(scope.get("headers") or [])}


def _replay(kept: list[dict], receive):
    """A receive that gives the kept body's messages again, then the client's own."""
    pending = list(kept)

    async def replay():
        if pending:
            return pending.pop(0)
        return await receive()

    return replay


def middlewares() -> list:
    """Serve's HTTP proxy callback: the middlewares its proxies wrap their app in."""
    from starlette.middleware import Middleware

    return [Middleware(ReplicaLossMiddleware)]


def lost_replica_status(original):
    """Serve's ``get_grpc_response_status`` with a replica that died (``serve.handles
    .replica_lost``) answered UNAVAILABLE, its details without the actor's address."""
    import grpc
    from ray.serve._private.proxy_request_response import ResponseStatus

    from serve.handles import replica_lost

    def get_grpc_response_status(exc, request_timeout_s, request_id):
        if not replica_lost(exc):
            return original(exc, request_timeout_s, request_id)
        log.warning("gRPC request %s: the replica stopped during it; UNAVAILABLE", request_id)
        message = (
            "the service's replica stopped during the request (a write may have been "
            f"applied); retry in {RETRY_AFTER_S} s"
        )
        return ResponseStatus(code=grpc.StatusCode.UNAVAILABLE, is_error=True, message=message)

    get_grpc_response_status._cadsearch = True
    return get_grpc_response_status


def grpc_unavailable() -> None:
    """Make this process's Serve gRPC proxy answer a lost replica UNAVAILABLE (see above)."""
    from ray.serve._private import proxy

    if not getattr(proxy.get_grpc_response_status, "_cadsearch", False):
        proxy.get_grpc_response_status = lost_replica_status(proxy.get_grpc_response_status)
