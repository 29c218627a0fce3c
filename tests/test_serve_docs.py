"""The API docs pages of the ingress app work offline: every asset they name is served here."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from serve.docs import ASSETS, ASSETS_PATH, assets_dir
from serve.ingress import app

# src="...", href="..." and spec-url="..." of a page, and Swagger UI's url: '...'
REFERENCE = re.compile(r"""(?:src|href|spec-url)="([^"]+)"|url: '([^']+)'""")


@pytest.fixture(scope="module")
def http():
    with TestClient(app) as client:
        yield client


def references(html: str) -> list[str]:
    return [a or b for a, b in REFERENCE.findall(html)]


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_pages_reference_only_local_urls_that_answer(http, page):
    answer = http.get(page)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/html")
    urls = references(answer.text)
    assert any(url.startswith(ASSETS_PATH + "/") and url.endswith(".js") for url in urls), urls
    for url in urls:
        assert url.startswith("/") and not url.startswith("//"), f"{page} loads {url}"
        served = http.get(url)
        assert served.status_code == 200, url
        if url == app.openapi_url:
            assert "/v1/search" in served.json()["paths"]
        else:
            assert served.content == (assets_dir() / url.rsplit("/", 1)[1]).read_bytes()
    assert app.openapi_url in urls


def test_swagger_ui_renders_openapi_3_1():
    # FastAPI writes OpenAPI 3.1, which Swagger UI renders from version 5 on
    assert app.openapi()["openapi"].startswith("3.1")
    bundle = (assets_dir() / "swagger-ui-bundle.js").read_text(encoding="utf-8", errors="replace")
    assert "isOAS31" in bundle


def test_docs_assets_are_the_listed_files_only(http):
    assert set(ASSETS) <= {p.name for p in assets_dir().iterdir()}
    assert http.get(f"{ASSETS_PATH}/core.py").status_code == 404
    assert http.get(f"{ASSETS_PATH}/..%2F__init__.py").status_code == 404
    assert http.get("/docs/oauth2-redirect").status_code == 200
