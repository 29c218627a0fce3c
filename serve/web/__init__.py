"""The search page: a single-page UI over the HTTP API, as static files (no build step).

``GET /`` answers index.html and ``GET /ui/<name>`` its assets (the files of ``ASSETS``, nothing
else of this folder). The 3D viewer's three.js files are vendored from npm at setup time
(``make vendor``, list in vendor.txt) into ``vendor/`` and served under ``/ui/vendor/``;
``GET /ui/vendor.json`` tells the page whether they are there, so without them it still works,
minus the viewer. The routes are plain functions on the ingress app, not methods of the
deployment class, so Ray Serve's ingress wrapper leaves them as they are.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.responses import FileResponse

from serve.errors import not_found

WEB_DIR = Path(__file__).parent
ASSETS_PATH = "/ui"
# asset file name -> media type
ASSETS = {
    "app.js": "text/javascript; charset=utf-8",
    "viewer.js": "text/javascript; charset=utf-8",
    "style.css": "text/css; charset=utf-8",
}
# a browser revalidates (ETag) on every load, so a new version of the page shows at once
CACHE_HEADERS = {"Cache-Control": "no-cache"}
VENDOR_PACKAGE = "three"  # vendor/<package>/<path of vendor.txt>
VENDOR_MEDIA_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".json": "application/json",
    "": "text/plain; charset=utf-8",  # LICENSE
}


def vendor_files(web_dir: Path = WEB_DIR) -> list[str]:
    """The vendored files the page may load, as paths under vendor/ (``three/build/...``)."""
    lines = (web_dir / "vendor.txt").read_text(encoding="utf-8").splitlines()
    paths = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    return [f"{VENDOR_PACKAGE}/{path}" for path in paths]


def vendor_status(web_dir: Path = WEB_DIR) -> dict[str, Any]:
    """Whether the 3D viewer's files are vendored: ``available``, the package ``version`` and,
    when some are missing, ``missing`` and a ``reason`` the page logs."""
    missing = [path for path in vendor_files(web_dir) if not (web_dir / "vendor" / path).is_file()]
    if missing:
        return {
            "available": False,
            "missing": missing,
            "reason": f"{len(missing)} three.js file(s) are not vendored in serve/web/vendor/ "
            "(run `make vendor`, which fetches them from npm): no 3D viewer",
        }
    package = web_dir / "vendor" / VENDOR_PACKAGE / "package.json"
    version = json.loads(package.read_text(encoding="utf-8")).get("version", "")
    return {"available": True, "package": VENDOR_PACKAGE, "version": version}


def add_web_ui(app: FastAPI) -> None:
    """Register ``GET /`` (the search page), ``GET /ui/{name}`` (its assets),
    ``GET /ui/vendor.json`` and ``GET /ui/vendor/{path}`` (the vendored three.js files)."""
    allowed = set(vendor_files())

    @app.get("/", include_in_schema=False)
    async def web_index() -> FileResponse:
        return FileResponse(
            WEB_DIR / "index.html", media_type="text/html; charset=utf-8", headers=CACHE_HEADERS
        )

    @app.get(ASSETS_PATH + "/vendor.json", include_in_schema=False)
    async def web_vendor_status() -> dict[str, Any]:
        return vendor_status()

    @app.get(ASSETS_PATH + "/vendor/{path:path}", include_in_schema=False)
    async def web_vendor(path: str) -> FileResponse:
        # only the listed files: the list, not the request, names what is read
        file = WEB_DIR / "vendor" / path
        if path not in allowed or not file.is_file():
            raise not_found("path", f"no vendored UI file {path!r}")
        media_type = VENDOR_MEDIA_TYPES.get(file.suffix, "application/octet-stream")
        return FileResponse(file, media_type=media_type, headers=CACHE_HEADERS)

    @app.get(ASSETS_PATH + "/{name}", include_in_schema=False)
    async def web_asset(name: str) -> FileResponse:
        if name not in ASSETS:
            raise not_found("name", f"no UI asset {name!r}")
        return FileResponse(WEB_DIR / name, media_type=ASSETS[name], headers=CACHE_HEADERS)
