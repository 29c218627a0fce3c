"""The search page: a single-page UI over the HTTP API, as static files (no build step).

``GET /`` answers index.html and ``GET /ui/<name>`` its assets (the files of ``ASSETS``, nothing
else of this folder). The routes are plain functions on the ingress app, not methods of the
deployment class, so Ray Serve's ingress wrapper leaves them as they are.
"""

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse

from serve.errors import not_found

WEB_DIR = Path(__file__).parent
ASSETS_PATH = "/ui"
# asset file name -> media type
ASSETS = {
    "app.js": "text/javascript; charset=utf-8",
    "style.css": "text/css; charset=utf-8",
}
# a browser revalidates (ETag) on every load, so a new version of the page shows at once
CACHE_HEADERS = {"Cache-Control": "no-cache"}


def add_web_ui(app: FastAPI) -> None:
    """Register ``GET /`` (the search page) and ``GET /ui/{name}`` (its assets) on app."""

    @app.get("/", include_in_schema=False)
    async def web_index() -> FileResponse:
        return FileResponse(
            WEB_DIR / "index.html", media_type="text/html; charset=utf-8", headers=CACHE_HEADERS
        )

    @app.get(ASSETS_PATH + "/{name}", include_in_schema=False)
    async def web_asset(name: str) -> FileResponse:
        if name not in ASSETS:
            raise not_found("name", f"no UI asset {name!r}")
        return FileResponse(WEB_DIR / name, media_type=ASSETS[name], headers=CACHE_HEADERS)
