"""``python -m cadsearch.tune``: choose search defaults on training parts (data_jobs.evaluate.tune).

Prints one JSON line per candidate, then the best by the sum of mesh mAP, image top-1 and text
recall@5.
"""

from __future__ import annotations

import argparse
import json

from cadsearch.settings import load_settings


def main(argv: list[str] | None = None) -> int:
    from data_jobs.evaluate.tune import tune

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bundle", default="cad-mini")
    parser.add_argument("--catalog", required=True)
    parser.add_argument("--config", default=None, help="settings profile (default: local)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--limit", type=int, default=100, help="training-split query parts")
    parser.add_argument("--what", choices=("weights", "rerank"), default="weights")
    parser.add_argument("--workdir", default=None, help="keep (or reuse) the index there")
    args = parser.parse_args(argv)
    results = tune(
        args.bundle,
        args.catalog,
        what=args.what,
        limit=args.limit,
        seed=args.seed,
        workdir=args.workdir,
        settings=load_settings(args.config),
    )
    best = max(results, key=lambda r: r["objective"])
    print(json.dumps({"best": best}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
