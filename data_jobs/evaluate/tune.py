"""Choose search defaults on TRAINING parts (``python -m cadsearch.tune`` runs it).

Indexes a catalog once, then scores the eval's tasks with each candidate on queries from the
training split only, so the held-out numbers that ``cadsearch eval`` reports stay untouched by the
choice. ``--what weights``: fusion weight tables (as ``store.query.DEFAULT_WEIGHTS``); ``--what
rerank``: the settings' ``search`` section (which query kinds rerank, the geometry term). Prints
one JSON line per candidate and the best by the sum of mesh mAP, image top-1 and text recall@5.
"""

from __future__ import annotations

import itertools
import json
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cadsearch.settings import Settings

HEADLINE = (
    "mesh_map",
    "mesh_map_geometry",
    "mesh_map_image",
    "mesh_map_views",
    "fused_gain",
    "image_top1",
    "text_recall_at_5",
    "zero_shot_top1",
)


def candidate_tables() -> list[dict[tuple[str, str], float]]:
    """Weight tables over one grid: each query modality's own pair at 1, its cross pairs at the
    grid's values (same grid for every modality, to keep the search small and regular)."""
    from store.query import DEFAULT_WEIGHTS

    tables = [dict(DEFAULT_WEIGHTS)]
    for cross_visual, cross_text in itertools.product((0.3, 0.6, 1.0), (0.0, 0.3, 0.6)):
        table = {}
        for m in ("text", "image", "geometry"):
            for t in ("text", "image", "geometry"):
                if m == t:
                    table[(m, t)] = 1.0
                elif "text" in (m, t):
                    table[(m, t)] = cross_text if m != "text" else cross_visual
                else:
                    table[(m, t)] = cross_visual
        tables.append(table)
    return tables


def candidate_searches() -> list[dict[str, Any]]:
    """``search`` settings: no rerank, then image and mesh queries reranked with a grid of
    geometry terms."""
    return [{"rerank": []}] + [
        {"rerank": ["image", "mesh"], "rerank_geometry": weight} for weight in (0.0, 0.2, 0.3, 0.5)
    ]


def tune(
    bundle,
    catalog: str,
    *,
    what: str = "weights",
    limit: int = 100,
    seed: int = 0,
    workdir: str | None = None,
    settings: Settings,
) -> list[dict[str, Any]]:
    """Score every candidate on at most ``limit`` training-split query parts.

    Refuses (UnseenPartsError) a catalog holding parts of the unseen families or KiCad folders.

    workdir : keep the index there (a kept one is reused: the job skips unchanged parts)
    """
    import store.query as query_module
    from data_jobs.catalog.generate import load_manifest
    from data_jobs.catalog.unseen import refuse_unseen
    from data_jobs.index.pipeline import run_index
    from encoders.bundle import load_bundle
    from store.factory import open_store

    from .run import _score, eval_settings

    if what not in ("weights", "rerank"):
        raise ValueError(f"unknown candidates {what!r}: weights or rerank")
    bundle = load_bundle(bundle)
    records = {r["part_id"]: r for r in load_manifest(catalog)}
    refuse_unseen(records.values(), catalog)  # nothing is tuned on the generalization test
    root = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="cadsearch-tune-"))
    base = eval_settings(settings, bundle, root)
    results = []
    original = dict(query_module.DEFAULT_WEIGHTS)
    if what == "weights":
        candidates = [({"weights": table}, base) for table in candidate_tables()]
    else:
        candidates = [
            (
                {"search": search},
                base.model_copy(update={"search": type(base.search).model_validate(search)}),
            )
            for search in candidate_searches()
        ]
    try:
        run_index(str(catalog), base, run_dir=root / "index-run")
        store = open_store(base.store, bundle.collection_spec())
        try:
            for candidate, settings in candidates:
                if "weights" in candidate:
                    query_module.DEFAULT_WEIGHTS.clear()
                    query_module.DEFAULT_WEIGHTS.update(candidate["weights"])
                    candidate = {
                        "weights": {f"{m}->{t}": w for (m, t), w in candidate["weights"].items()}
                    }
                scored = _score(store, bundle, records, settings, "train", limit, seed, {})
                line = {k: round(float(scored[k]), 4) for k in HEADLINE}
                line.update(candidate)
                line["objective"] = round(
                    scored["mesh_map"] + scored["image_top1"] + scored["text_recall_at_5"], 4
                )
                print(json.dumps(line), flush=True)
                results.append(line)
        finally:
            store.close()
    finally:
        query_module.DEFAULT_WEIGHTS.clear()
        query_module.DEFAULT_WEIGHTS.update(original)
        if not workdir:
            shutil.rmtree(root, ignore_errors=True)
    return results
