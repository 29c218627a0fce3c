"""The API docs pages (``/docs`` Swagger UI, ``/redoc`` ReDoc) with their assets served here.

FastAPI's own pages load Swagger UI and ReDoc from a CDN, so they are blank on a machine without
internet access. These pages name only local URLs: ``GET /docs-assets/<name>`` answers the files
that the ``fastapi-offline`` package ships (Swagger UI 5, which renders FastAPI's OpenAPI 3.1;
ReDoc 2). Create the app with ``docs_url=None, redoc_url=None`` and call ``add_offline_docs``.
"""

from importlib import resources
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import FileResponse, HTMLResponse

from serve.errors import not_found

DOCS_PATH = "/docs"
REDOC_PATH = "/redoc"
ASSETS_PATH = "/docs-assets"
ASSETS_PACKAGE = "fastapi_offline"  # ships static/: swagger-ui-bundle.js, swagger-ui.css, ...
# asset file name -> media type
ASSETS = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "redoc.standalone.js": "text/javascript; charset=utf-8",
    "favicon.png": "image/png",
}
CACHE_HEADERS = {"Cache-Control": "no-cache"}  # revalidated (ETag): a new package shows at once


def assets_dir() -> Path:
    """The folder of the Swagger UI and ReDoc files (raises with a pip hint when missing)."""
    try:
        folder = Path(str(resources.files(ASSETS_PACKAGE).joinpath("static")))
    except ModuleNotFoundError as e:
        raise RuntimeError("the API docs need fastapi-offline (pip install fastapi-offline)") from e
    missing = [name for name in ASSETS if not (folder / name).is_file()]
    if missing:
        raise RuntimeError(f"{ASSETS_PACKAGE} at {folder} lacks the docs assets {missing}")
    return folder


def add_offline_docs(app: FastAPI) -> None:
    """Register ``/docs``, its OAuth2 redirect, ``/redoc`` and ``/docs-assets/{name}`` on app."""
    folder = assets_dir()
    oauth2_redirect = DOCS_PATH + "/oauth2-redirect"

    def asset(request: Request, name: str) -> str:
        return f"{request.scope.get('root_path', '')}{ASSETS_PATH}/{name}"

    @app.get(DOCS_PATH, include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} - Swagger UI",
            oauth2_redirect_url=f"{root}{oauth2_redirect}",
            swagger_js_url=asset(request, "swagger-ui-bundle.js"),
            swagger_css_url=asset(request, "swagger-ui.css"),
            swagger_favicon_url=asset(request, "favicon.png"),
            swagger_ui_parameters=app.swagger_ui_parameters,
        )

    @app.get(oauth2_redirect, include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get(REDOC_PATH, include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_redoc_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} - ReDoc",
            redoc_js_url=asset(request, "redoc.standalone.js"),
            redoc_favicon_url=asset(request, "favicon.png"),
            with_google_fonts=False,
        )

    @app.get(ASSETS_PATH + "/{name}", include_in_schema=False)
    async def docs_asset(name: str) -> FileResponse:
        if name not in ASSETS:
            raise not_found("name", f"no docs asset {name!r}")
        return FileResponse(folder / name, media_type=ASSETS[name], headers=CACHE_HEADERS)
