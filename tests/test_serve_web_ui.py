"""The search page at / in a real browser (Debian's Chromium, driven by Playwright) over the real
service (Ray Serve, the encoder deployments, Qdrant Edge)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

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
        assert card["thumb"].startswith(served.http_url + "/views/")
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
