"""``python -m cadsearch.calibrate``: fit a bundle's similarity percentages (docs/similarity.md).

Indexes a catalog with the bundle, pairs training-split queries of each kind (text, image, mesh,
more like this) with training-split parts, fits ``100 x P(same category | match score)`` per kind
and writes ``similarity.json`` (default: into the bundle's directory). Never give it an
evaluation catalog: generate a fresh one, e.g.
``cadsearch catalog generate --out /tmp/cal --n 240 --seed 4242 --exclude-unseen``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from cadsearch.settings import load_settings


def main(argv: list[str] | None = None) -> int:
    from data_jobs.evaluate.calibrate import calibrate, table_markdown, write_table
    from encoders.bundle import load_bundle
    from store.similarity import SIMILARITY_FILE

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bundle", default="cad-mini", help="a shipped name or a directory")
    parser.add_argument("--catalog", required=True, help="a generated catalog (manifest.jsonl)")
    parser.add_argument("--out", default=None, help=f"default: the bundle's {SIMILARITY_FILE}")
    parser.add_argument("--config", default=None, help="settings profile (default: local)")
    parser.add_argument("--seed", type=int, default=0, help="query cameras, --limit's pick")
    parser.add_argument("--limit", type=int, default=None, help="training-split query parts")
    parser.add_argument("--workdir", default=None, help="keep (or reuse) the index there")
    args = parser.parse_args(argv)
    bundle = load_bundle(args.bundle)
    table = calibrate(
        bundle,
        args.catalog,
        seed=args.seed,
        limit=args.limit,
        workdir=args.workdir,
        settings=load_settings(args.config),
    )
    out = write_table(table, args.out or Path(bundle.path) / SIMILARITY_FILE)
    print(table_markdown(table), file=sys.stderr)
    print(
        json.dumps({"written": str(out), "bundle_id": table["bundle_id"], "pairs": table["pairs"]})
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
