"""The search page at / in a real browser (Debian's Chromium, driven by Playwright) over the real
service (Ray Serve, the encoder deployments, Qdrant Edge)."""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np
import pytest
import trimesh
from PIL import Image

from serve.web import WEB_DIR, vendor_files, vendor_status

pytestmark = pytest.mark.integration

CHROMIUM = Path("/usr/bin/chromium")  # Debian's package (`make test` installs it when missing)
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # WebGL for the 3D viewer on the CPU (SwiftShader): asked for, not an automatic fallback
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
]
TIMEOUT_MS = 60_000  # the first query of a fresh service warms the encoders


@dataclass
class Page:
    """A browser page on the search page, with the errors its scripts reported."""

    page: object
    errors: list[str] = field(default_factory=list)

    def assert_no_script_errors(self, allowed_status: int | None = None) -> None:
        """No uncaught exception and no console error, except Chromium's log line of an API
        answer with allowed_status (the page shows those in its banner)."""
        unexpected = [
            e
            for e in self.errors
            if not (allowed_status and f"status of {allowed_status}" in e and "/v1/search" in e)
        ]
        assert not unexpected, unexpected


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: apt-get install chromium (make test does)")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def ui(served, browser):
    """A fresh page on the search page, its category menu loaded from the facets."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    out = Page(page)
    page.on("pageerror", lambda error: out.errors.append(f"uncaught: {error}"))
    page.on(
        "console",
        lambda message: (
            message.type == "error"
            and out.errors.append(f"console: {message.text} at {message.location.get('url')}")
        ),
    )
    page.goto(served.http_url + "/")
    page.wait_for_selector("#f-category[data-loaded=true]", state="attached")
    try:
        yield out
    finally:
        context.close()


def _search(page, trigger) -> None:
    """Run trigger (a click, a submit) and wait until the page has shown the search's answer."""
    with page.expect_response(lambda r: r.url.endswith("/v1/search")):
        trigger()
    page.wait_for_function("!document.getElementById('results').hasAttribute('aria-busy')")


def _cards(page) -> list[dict]:
    """What every result card shows."""
    return page.eval_on_selector_all(
        "[data-testid=result-card]",
        """cards => cards.map(card => {
            const text = id => card.querySelector(`[data-testid=${id}]`).textContent.trim();
            const img = card.querySelector('img');
            return {
                part_id: card.dataset.partId,
                name: text('card-name'),
                category: text('card-category'),
                size: text('card-size'),
                score: text('card-score'),
                match: text('card-match'),
                score_label: card.querySelector('.score-label').textContent.trim(),
                pairs: [...card.querySelectorAll('.cosines tr')].map(r => r.dataset.pair),
                thumb: img ? img.getAttribute('src') : null,
            };
        })""",
    )


def _thumbnail_widths(page) -> list[int]:
    """The natural width of every card's first view, once each has loaded or failed (0)."""
    thumbs = "[...document.querySelectorAll('[data-testid=card-thumb]')]"
    page.wait_for_function(f"() => {thumbs}.every(img => img.complete)")
    return page.evaluate(f"() => {thumbs}.map(img => img.naturalWidth)")


def _names(served) -> dict[str, str]:
    return {r["part_id"]: r["name"] for r in served.catalog}


def _extents(card: dict) -> list[float]:
    return [float(v) for v in re.findall(r"[\d.]+", card["size"])]


def test_page_and_assets_are_served(served):
    with httpx.Client(base_url=served.http_url, timeout=60) as http:
        page = http.get("/")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert "/ui/app.js" in page.text and "/ui/style.css" in page.text
        assert http.get("/ui/app.js").headers["content-type"].startswith("text/javascript")
        assert http.get("/ui/style.css").headers["content-type"].startswith("text/css")
        missing = http.get("/ui/__init__.py")
        assert missing.status_code == 404 and missing.json()["error"]["field"] == "name"
        assert "/" not in http.get("/openapi.json").json()["paths"]


def test_text_search_shows_result_cards(served, ui, tmp_path):
    page = ui.page
    categories = page.eval_on_selector_all("#f-category option", "os => os.map(o => o.value)")
    assert set(categories) == {""} | {r["category"] for r in served.catalog}
    assert page.get_by_role("link", name="API docs").get_attribute("href") == "/docs"

    page.get_by_label("Describe the part").fill("hex nut")
    _search(page, lambda: page.get_by_label("Describe the part").press("Enter"))
    cards = _cards(page)
    assert len(cards) == 12  # the default 12 results, the whole catalog
    assert "hex_nut" in [c["category"] for c in cards[:6]]
    names = _names(served)
    for card in cards:
        assert card["name"] == names[card["part_id"]] and card["category"]
        assert float(card["score"]) > 0
        assert re.fullmatch(r"\d{1,3}% match", card["match"]), card["match"]
        assert card["pairs"] == ["text->text", "text->image", "text->geometry"]
        assert len(_extents(card)) == 3 and card["size"].endswith("mm")
        assert card["thumb"].startswith("/views/")  # a path on the service: no Host in URLs
    shown = [int(card["match"].split("%")[0]) for card in cards]
    assert shown == sorted(shown, reverse=True)  # #1 never shows less than #2
    widths = _thumbnail_widths(page)
    assert len(widths) == 12 and all(w > 0 for w in widths), widths
    assert "12 results for text" in page.get_by_test_id("status").inner_text()
    page.screenshot(path=str(tmp_path / "text_search.png"), full_page=True)
    ui.assert_no_script_errors()


def test_filters_narrow_the_results(ui):
    page = ui.page
    page.get_by_label("Describe the part").fill("part")
    page.get_by_label("Category", exact=True).select_option("hex_bolt")
    _search(page, lambda: page.get_by_role("button", name="Search").click())
    cards = _cards(page)
    assert cards and {c["category"] for c in cards} == {"hex_bolt"}

    page.get_by_label("Category", exact=True).select_option("")
    page.get_by_label("Largest extent at most (mm)").fill("40")
    _search(page, lambda: page.get_by_role("button", name="Search").click())
    small = _cards(page)
    assert 0 < len(small) < 12 and all(max(_extents(c)) <= 40.05 for c in small)
    ui.assert_no_script_errors()


def test_more_like_this_searches_by_the_part(served, ui):
    page = ui.page
    page.get_by_label("Describe the part").fill("flat washer")
    _search(page, lambda: page.get_by_role("button", name="Search").click())
    before = [c["part_id"] for c in _cards(page)]
    liked = before[1]
    card = page.locator(f"[data-testid=result-card][data-part-id='{liked}']")
    _search(page, lambda: card.get_by_test_id("more-like-this").click())
    after = [c["part_id"] for c in _cards(page)]
    assert liked not in after and len(after) == 11 and after != before
    chip = page.get_by_test_id("like-chip")
    assert chip.is_visible() and _names(served)[liked] in chip.inner_text()
    assert page.get_by_label("Describe the part").input_value() == ""
    assert "similar part" in page.get_by_test_id("status").inner_text()
    ui.assert_no_script_errors()


def _percents(cards: list[dict]) -> list[int]:
    return [int(card["match"].split("%")[0]) for card in cards]


def test_minimum_match_and_same_size(served, ui):
    page = ui.page
    page.get_by_label("Describe the part").fill("hex nut M8")
    _search(page, lambda: page.get_by_role("button", name="Search").click())
    shown = _percents(_cards(page))
    floor = max(shown) - 1  # a shown percentage is rounded: this keeps the best one
    page.get_by_label("Minimum match (%)").fill(str(floor))
    _search(page, lambda: page.get_by_role("button", name="Search").click())
    kept = _percents(_cards(page))
    assert 0 < len(kept) < len(shown) and min(kept) >= floor
    page.get_by_label("Minimum match (%)").fill("")
    # same size needs a 3D file or a part: the service says so, naming the field
    page.get_by_label("Same size as the query part").check()
    _search(page, lambda: page.get_by_role("button", name="Search").click())
    assert "same_size" in page.get_by_test_id("error-banner").inner_text()
    nut = served.part("hex_nut")
    page.get_by_label("Describe the part").fill("")
    page.get_by_label("3D file").set_input_files(str(served.file(nut)))
    page.get_by_label("Same size tolerance (%)").fill("60")
    _search(page, lambda: page.get_by_role("button", name="Search").click())
    cards = _cards(page)
    assert cards[0]["part_id"] == nut["part_id"] and 0 < len(cards) < 12
    ui.assert_no_script_errors(allowed_status=422)


def test_mesh_upload_finds_the_part(served, ui, tmp_path):
    page = ui.page
    nut = served.part("hex_nut")
    path = served.file(nut)
    assert path.suffix == ".stl"
    page.get_by_label("3D file").set_input_files(str(path))
    assert page.get_by_label("Multi-view MaxSim rerank").input_value() == ""  # service default
    _search(page, lambda: page.get_by_role("button", name="Search").click())
    cards = _cards(page)
    assert cards[0]["part_id"] == nut["part_id"]
    assert cards[0]["score_label"] == "Rerank score"  # a mesh query reranks by default
    page.get_by_label("Multi-view MaxSim rerank").select_option("false")
    _search(page, lambda: page.get_by_role("button", name="Search").click())
    assert _cards(page)[0]["score_label"] != "Rerank score"
    assert "image->image" in cards[0]["pairs"] and "geometry->geometry" in cards[0]["pairs"]
    assert page.get_by_test_id("error-banner").is_hidden()
    assert all(w > 0 for w in _thumbnail_widths(page))
    page.screenshot(path=str(tmp_path / "mesh_search.png"), full_page=True)
    ui.assert_no_script_errors()


def test_api_errors_show_in_the_banner(served, ui, tmp_path):
    page = ui.page
    banner = page.get_by_test_id("error-banner")
    assert banner.is_hidden()
    with httpx.Client(base_url=served.http_url, timeout=60) as http:
        expected = http.post("/v1/search", json={"top_k": 12}).json()["error"]["message"]
    _search(page, lambda: page.get_by_role("button", name="Search").click())
    assert banner.is_visible() and banner.inner_text().strip().startswith(expected)
    assert "at least one" in expected and _cards(page) == []
    # a bad filter: the service's message names the field
    page.get_by_label("Describe the part").fill("bolt")
    page.get_by_label("Largest extent at least (mm)").fill("50")
    page.get_by_label("Largest extent at most (mm)").fill("10")
    _search(page, lambda: page.get_by_role("button", name="Search").click())
    assert "filters.extent_max" in banner.inner_text()
    page.screenshot(path=str(tmp_path / "error.png"))
    page.get_by_role("button", name="Dismiss error").click()
    assert banner.is_hidden()
    ui.assert_no_script_errors(allowed_status=422)


# -- the 3D viewer and the compare view ---------------------------------------------------------

MESH_BUDGET = 200_000  # bytes: render.glb_max_kb's default
IMPORT = re.compile(
    r"^\s*(?:import|export)[^;'\"]*?from\s*'([^']+)'|^\s*\}\s*from\s*'([^']+)'", re.M
)


def _imports(source: str) -> set[str]:
    return {a or b for a, b in IMPORT.findall(source)}


def test_vendored_three_is_served_and_self_contained(served):
    status = vendor_status()
    assert status["available"], status.get("reason")
    makefile = (WEB_DIR.parents[1] / "Makefile").read_text()
    assert f"THREE_VERSION := {status['version']}" in makefile  # the pinned version
    page = (WEB_DIR / "index.html").read_text()
    imports = json.loads(re.search(r'<script type="importmap">(.*?)</script>', page, re.S)[1])
    mapped = imports["imports"]
    files = set(vendor_files())
    with httpx.Client(base_url=served.http_url, timeout=60) as http:
        assert http.get("/ui/vendor.json").json() == status
        viewer = http.get("/ui/viewer.js")
        assert viewer.headers["content-type"].startswith("text/javascript")
        for path in files:
            answer = http.get(f"/ui/vendor/{path}")
            assert answer.status_code == 200, path
            if not path.endswith(".js"):
                continue
            assert answer.headers["content-type"].startswith("text/javascript")
            # every import resolves, through the page's import map, to a vendored file
            for name in _imports(answer.text):
                if name.startswith("."):
                    url = str(httpx.URL(f"/ui/vendor/{path}").join(name))
                elif name == "three":
                    url = mapped["three"]
                else:
                    url = mapped["three/addons/"] + name.removeprefix("three/addons/")
                assert url.removeprefix("/ui/vendor/") in files, (path, name)
        for name in _imports(viewer.text):
            assert name in mapped or name.startswith("three/addons/"), name
        # only the listed files, never a path the request makes up
        for bad in [
            "three/src/Three.js",
            "three/../../__init__.py",
            "%2e%2e/__init__.py",
            "three/build/%2e%2e/%2e%2e/%2e%2e/%2e%2e/__init__.py",
            "three/build/three.module.js%00.png",
        ]:
            answer = http.get(f"/ui/vendor/{bad}")
            assert answer.status_code == 404, bad


def test_vendor_status_without_the_files(tmp_path):
    (tmp_path / "vendor.txt").write_text("# comment\nLICENSE\nbuild/three.module.js\n")
    status = vendor_status(tmp_path)
    assert not status["available"] and "make vendor" in status["reason"]
    assert status["missing"] == ["three/LICENSE", "three/build/three.module.js"]


def _glb_matches(data: bytes, extents_mm: list[float]) -> None:
    assert data[:4] == b"glTF" and len(data) <= MESH_BUDGET, len(data)
    back = trimesh.load(io.BytesIO(data), file_type="glb", force="mesh")
    np.testing.assert_allclose(sorted(back.extents, reverse=True), extents_mm, rtol=0.01, atol=0.01)


def test_mesh_route_index_one_and_delete(served):
    nut = served.part("hex_nut")
    key = {"X-API-Key": served.key}
    with httpx.Client(base_url=served.http_url, timeout=120) as http:
        part = http.get(f"/v1/parts/{nut['part_id']}").json()
        assert part["mesh_url"].startswith("/views/")  # no serve.public_url: a path
        assert part["mesh_url"].endswith("/mesh.glb")
        assert part["mesh_url"].rsplit("/", 2)[1] == part["view_urls"][0].rsplit("/", 2)[1]
        mesh = http.get(part["mesh_url"])
        assert mesh.status_code == 200
        assert mesh.headers["content-type"] == "model/gltf-binary"
        _glb_matches(mesh.content, part["extents_mm"])
        # keys that leave the part's folder or name anything else are refused
        uid = part["mesh_url"].rsplit("/", 2)[1]
        for bad in [
            f"{uid}/%2e%2e/{uid}/mesh.glb",
            "%2e%2e/%2e%2e/etc/passwd",
            f"{uid}/mesh.glb%00.png",
            f"{uid}/MESH.glb",
            f"{uid}/other.glb",
        ]:
            answer = http.get(f"/views/{bad}")
            assert answer.status_code == 404 and answer.json()["error"]["field"] == "key", bad
        # index one part through the service: its GLB is written, and deleted with it
        with open(served.file(nut), "rb") as f:
            created = http.post(
                "/v1/parts",
                files={"file": ("nut.stl", f.read())},
                data={"part_id": "web-ui/3d-nut", "metadata": json.dumps({"category": "t"})},
                headers=key,
            )
        assert created.status_code == 201, created.text
        url = created.json()["mesh_url"]
        try:
            _glb_matches(http.get(url).content, part["extents_mm"])
        finally:
            assert http.delete("/v1/parts/web-ui/3d-nut", headers=key).status_code == 200
        assert http.get(url).status_code == 404


def _viewer_ready(page) -> None:
    page.wait_for_function(
        """() => {
            const dialog = document.getElementById('viewer');
            return dialog.open && dialog.dataset.state === 'ready';
        }"""
    )


def _panes(page) -> list[dict]:
    return page.eval_on_selector_all(
        "#viewer [data-testid=viewer-pane]",
        """panes => panes.map(pane => ({
            state: pane.dataset.state,
            role: pane.querySelector('.pane-role').textContent,
            title: pane.querySelector('.pane-title').textContent,
            size: pane.querySelector('[data-testid=pane-size]').textContent,
            match: pane.querySelector('[data-testid=pane-match]').textContent,
            pairs: [...pane.querySelectorAll('.pane-scores tr')].map(r => r.dataset.pair),
            note: pane.querySelector('[data-testid=pane-note]').hidden
                ? '' : pane.querySelector('[data-testid=pane-note]').textContent,
            scale_mm: pane.querySelector('.scale-bar').dataset.mm,
            scale_px: pane.querySelector('.scale-bar').getBoundingClientRect().width,
        }))""",
    )


def _canvas_pixels(page, index: int) -> np.ndarray:
    """What the index-th viewer canvas shows, as (h, w, 3) uint8 from a screenshot."""
    canvas = page.locator("#viewer [data-testid=viewer-canvas]").nth(index)
    return np.asarray(Image.open(io.BytesIO(canvas.screenshot())).convert("RGB"))


def _drawn(pixels: np.ndarray) -> None:
    """A part is drawn: shading and edges over the plain background, not one flat colour."""
    background = pixels[2, 2].astype(int)
    differs = np.abs(pixels.astype(int) - background).sum(axis=2) > 30
    assert pixels.std() > 10 and 0.01 < differs.mean() < 0.95, (pixels.std(), differs.mean())


def _sorted_extents(text: str) -> list[float]:
    return sorted((float(v) for v in re.findall(r"[\d.]+", text)), reverse=True)


def test_3d_view_of_a_result(served, ui, tmp_path):
    page = ui.page
    page.wait_for_selector("body.has-viewer", state="attached")
    page.get_by_label("Describe the part").fill("hex nut")
    _search(page, lambda: page.get_by_label("Describe the part").press("Enter"))
    card = page.locator("[data-testid=result-card]").first
    shown = _cards(page)[0]
    card.get_by_test_id("view-3d").click()
    _viewer_ready(page)
    [pane] = _panes(page)
    assert pane["state"] == "ready" and pane["title"] == shown["name"]
    assert pane["role"] == "Result #1" and pane["note"] == ""
    assert _sorted_extents(pane["size"]) == sorted(_extents(shown), reverse=True)
    assert pane["pairs"] == shown["pairs"] and pane["match"].startswith(shown["match"])
    before = _canvas_pixels(page, 0)
    _drawn(before)
    page.locator("#viewer canvas").screenshot(path=str(tmp_path / "viewer.png"))
    # drag rotates, the wheel zooms (the scale bar follows)
    box = page.locator("#viewer canvas").bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 120, y + 40, steps=6)
    page.mouse.up()
    after = _canvas_pixels(page, 0)
    _drawn(after)
    assert np.abs(after.astype(int) - before.astype(int)).mean() > 1
    scale = _panes(page)[0]["scale_px"]
    page.mouse.wheel(0, -400)
    page.wait_for_function(
        f"document.querySelector('#viewer .scale-bar').getBoundingClientRect().width != {scale}"
    )
    page.get_by_test_id("viewer-close").click()
    assert not page.evaluate("document.getElementById('viewer').open")
    ui.assert_no_script_errors()


def test_compare_results_of_a_text_query(served, ui, tmp_path):
    page = ui.page
    page.wait_for_selector("body.has-viewer", state="attached")
    page.get_by_label("Describe the part").fill("spur gear")
    _search(page, lambda: page.get_by_label("Describe the part").press("Enter"))
    cards = _cards(page)
    page.locator("[data-testid=result-card]").nth(2).get_by_test_id("compare").click()
    _viewer_ready(page)
    left, right = _panes(page)
    assert (left["role"], right["role"]) == ("Result #1", "Result #3")
    assert (left["title"], right["title"]) == (cards[0]["name"], cards[2]["name"])
    for pane, card in ((left, cards[0]), (right, cards[2])):
        assert pane["state"] == "ready"
        assert _sorted_extents(pane["size"]) == sorted(_extents(card), reverse=True)
        assert pane["pairs"] == card["pairs"] == ["text->text", "text->image", "text->geometry"]
        assert re.match(r"\d{1,3}% match · match score \d\.\d{3}", pane["match"]), pane["match"]
    # one scale: a scale bar of the same length means the same millimetres in both panes
    assert left["scale_mm"] == right["scale_mm"] and abs(left["scale_px"] - right["scale_px"]) < 1
    _drawn(_canvas_pixels(page, 0))
    _drawn(_canvas_pixels(page, 1))
    page.screenshot(path=str(tmp_path / "compare.png"))
    # another result to compare with
    page.get_by_test_id("compare-with").select_option(cards[1]["part_id"])
    page.wait_for_function(
        "document.querySelector('#viewer .pane-title').textContent === "
        + json.dumps(cards[1]["name"])
    )
    _viewer_ready(page)
    assert [p["role"] for p in _panes(page)] == ["Result #2", "Result #3"]
    page.keyboard.press("Escape")
    ui.assert_no_script_errors()


def test_compare_with_the_uploaded_query_file(served, ui, tmp_path):
    page = ui.page
    page.wait_for_selector("body.has-viewer", state="attached")
    nut = served.part("hex_nut")
    path = served.file(nut)
    page.get_by_label("3D file").set_input_files(str(path))
    _search(page, lambda: page.get_by_role("button", name="Search").click())
    cards = _cards(page)
    assert cards[0]["part_id"] == nut["part_id"]
    page.locator("[data-testid=result-card]").first.get_by_test_id("compare").click()
    _viewer_ready(page)
    query, result = _panes(page)
    assert (query["role"], query["title"]) == ("Query file", path.name)
    assert query["state"] == "ready" and query["match"] == "" and query["pairs"] == []
    # the same part: the file's sizes (as the service measured them) are the result's
    assert _sorted_extents(query["size"]) == pytest.approx(
        _sorted_extents(result["size"]), abs=0.11
    )
    assert query["scale_mm"] == result["scale_mm"]
    query_pixels, result_pixels = _canvas_pixels(page, 0), _canvas_pixels(page, 1)
    _drawn(query_pixels)
    _drawn(result_pixels)
    page.screenshot(path=str(tmp_path / "compare_upload.png"))
    page.keyboard.press("Escape")

    # "more like this": the query is the stored part
    liked = page.locator("[data-testid=result-card]").first
    _search(page, lambda: liked.get_by_test_id("more-like-this").click())
    page.locator("[data-testid=result-card]").first.get_by_test_id("compare").click()
    _viewer_ready(page)
    query, result = _panes(page)
    assert (query["role"], query["title"]) == ("Query part", nut["name"])
    assert query["state"] == "ready" and result["state"] == "ready"
    ui.assert_no_script_errors()


def test_page_without_vendored_three_hides_the_viewer(served, browser, tmp_path):
    """Where `make vendor` has not run, the page answers /ui/vendor.json as below: it still
    searches, shows no 3D or Compare buttons and says why in the console."""
    (tmp_path / "vendor.txt").write_text((WEB_DIR / "vendor.txt").read_text())
    missing = json.dumps(vendor_status(tmp_path))
    context = browser.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    console: list[tuple[str, str]] = []
    page.on("console", lambda message: console.append((message.type, message.text)))
    page.route(
        "**/ui/vendor.json",
        lambda route: route.fulfill(body=missing, content_type="application/json"),
    )
    try:
        with page.expect_console_message(lambda message: "make vendor" in message.text):
            page.goto(served.http_url + "/")
        page.get_by_label("Describe the part").fill("washer")
        _search(page, lambda: page.get_by_label("Describe the part").press("Enter"))
        assert len(_cards(page)) == 12
        assert page.locator("[data-testid=view-3d]:visible").count() == 0
        assert page.locator("[data-testid=compare]:visible").count() == 0
        assert not page.evaluate("document.body.classList.contains('has-viewer')")
        warnings = [text for kind, text in console if kind == "warning"]
        assert any("make vendor" in text for text in warnings), console
        assert not [text for kind, text in console if kind == "error"], console
    finally:
        context.close()
