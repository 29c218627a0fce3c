"""Retake docs/img/search-ui.png and docs/img/compare-view.png: the sample catalog indexed as
`make demo` does, the service on it, then the search page after a text query and the compare
view of its first and second results, in Debian's headless Chromium (via Playwright).

    .venv/bin/python docs/img/screenshot.py [--out docs/img/search-ui.png] [--query "hex bolt M12"]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # run as a script from a checkout, like bench/
sys.path.insert(0, str(ROOT / "tests"))

CHROMIUM = "/usr/bin/chromium"  # Debian's package; Playwright's browser downloads are not used


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default=str(ROOT / "docs/img/search-ui.png"))
    parser.add_argument("--compare-out", default=str(ROOT / "docs/img/compare-view.png"))
    parser.add_argument("--query", default="hex bolt M12")
    parser.add_argument("--n", type=int, default=60, help="parts (the demo's catalog.n)")
    args = parser.parse_args()

    import ray
    from playwright.sync_api import sync_playwright
    from ray import serve
    from serve_harness import free_port, service_overrides

    from cadsearch.settings import load_settings
    from data_jobs.catalog.generate import generate_catalog
    from data_jobs.index.pipeline import run_index
    from serve.local import start_service

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        generate_catalog(root / "catalog", n=args.n, seed=1)
        overrides = service_overrides(root)
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
        try:
            summary = run_index(str(root / "catalog"), load_settings("local", **overrides))
            print(summary.line())
            port = free_port()
            start_service("local", overrides, http_port=port, grpc_port=free_port())
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=CHROMIUM,
                    # WebGL on the CPU (SwiftShader) for the 3D compare view
                    args=["--headless", "--no-sandbox", "--disable-gpu", "--use-angle=swiftshader",
                          "--enable-unsafe-swiftshader"],
                )  # fmt: skip
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                page.set_default_timeout(120_000)  # the first query warms the encoders
                page.goto(f"http://127.0.0.1:{port}/")
                page.wait_for_selector("#f-category[data-loaded=true]", state="attached")
                page.get_by_label("Describe the part").fill(args.query)
                with page.expect_response(lambda r: r.url.endswith("/v1/search")):
                    page.get_by_label("Describe the part").press("Enter")
                page.wait_for_function(
                    "!document.getElementById('results').hasAttribute('aria-busy')"
                )
                thumbs = "[...document.querySelectorAll('[data-testid=card-thumb]')]"
                page.wait_for_function(f"() => {thumbs}.every(img => img.complete)")
                page.screenshot(path=args.out)
                cards = page.locator("[data-testid=result-card]")
                cards.nth(1).get_by_test_id("compare").click()
                page.wait_for_function(
                    "document.getElementById('viewer').open"
                    " && document.getElementById('viewer').dataset.state === 'ready'"
                )
                page.screenshot(path=args.compare_out)
                browser.close()
        finally:
            serve.shutdown()
            ray.shutdown()
    print(f"wrote {args.out} and {args.compare_out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
