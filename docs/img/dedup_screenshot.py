"""Retake docs/img/dedup-report.png: the catalog of `bench/dedup.py --quick` with 10 base parts
(8 of them with a planted duplicate), indexed with the reindex job, `cadsearch dedup`'s job on it,
then its report.html in Debian's headless Chromium (via Playwright) at 1200 x 900.

    .venv/bin/python docs/img/dedup_screenshot.py [--out docs/img/dedup-report.png]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # run as a script from a checkout, like bench/

CHROMIUM = "/usr/bin/chromium"  # Debian's package; Playwright's browser downloads are not used


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default=str(ROOT / "docs/img/dedup-report.png"))
    parser.add_argument("--parts", type=int, default=10, help="unrelated base parts")
    parser.add_argument("--planted", type=int, default=8, help="of them with a duplicate")
    args = parser.parse_args()

    import ray
    from playwright.sync_api import sync_playwright

    from bench.dedup import planted_catalog
    from cadsearch.settings import load_settings
    from data_jobs.dedup.pipeline import run_dedup
    from data_jobs.index.pipeline import run_index
    from encoders.bundle import load_bundle
    from store.factory import open_store
    from store.views import open_view_store

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        planted_catalog(root / "catalog", args.parts, args.planted, seed=5)
        settings = load_settings(
            "local",
            store={"backend": "edge", "path": str(root / "qdrant")},
            views={"kind": "local", "path": str(root / "views")},
            index={"reports_dir": str(root / "runs")},
        )
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
        try:
            print(run_index(str(root / "catalog"), settings).line())
            spec = load_bundle(settings.model.bundle).collection_spec()
            with open_store(settings.store, spec) as store:
                views = open_view_store(settings.views)
                print(run_dedup(store, root / "dedup", view_store=views).line())
        finally:
            ray.shutdown()
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"]
            )
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.goto((root / "dedup" / "report.html").as_uri())
            page.wait_for_load_state("load")  # thumbnails are inlined: nothing else to fetch
            page.screenshot(path=args.out)
            browser.close()
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
