"""Echo deployment: a no-op HTTP answer through the same proxy as the service (bench ceiling)."""

from __future__ import annotations

from ray import serve
from starlette.responses import JSONResponse


@serve.deployment(name="Echo", max_ongoing_requests=256, ray_actor_options={"num_cpus": 0})
class Echo:
    """Answers every request with ``{"ok": true}``: what Ray Serve's ingress costs alone."""

    async def __call__(self, request) -> JSONResponse:
        return JSONResponse({"ok": True})
