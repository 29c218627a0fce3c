"""Calibrate similarity percentages on TRAINING parts (``python -m cadsearch.calibrate``).

Indexes a catalog with the bundle (the eval's private index), then for each query kind makes the
queries the service would make, from the training split only (``data_jobs.splits``):

- text: each part's description variants the index never saw (the eval's ``text_queries``);
- image: renders of each part from cameras and at sizes the index never used (the eval's);
- mesh: a part's stored geometry and image vectors (what an uploaded mesh gives), itself left out;
- like: a part's stored text, image and geometry vectors under ``search.like_weights``, itself
  left out ("more like this");

and scores every training-split part against each query with the store's own explanation
(``store.query.explain_hits``): one ``(match score, same category)`` pair per query and part.
``100 x P(same category | match)`` is fitted per kind by isotonic regression and kept as knots
(``fit_scale``), written as the bundle's ``similarity.json`` (docs/similarity.md).
"""

from __future__ import annotations

import json
import math
import re
import shutil
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from cadsearch.settings import Settings
    from store.similarity import SimilarityScale

KNOT_STEP = 5.0  # percent: the knots keep the isotonic fit within this many points
RAW_DECIMALS = 5
SHOWN_PERCENTS = (10, 25, 50, 75, 90)  # the docs' summary: the match a percentage needs
SUPPORT_PERCENTS = (50, 90)  # pairs whose fitted percentage is at least these


def reduce_knots(
    raw: np.ndarray, percent: np.ndarray, step: float = KNOT_STEP
) -> tuple[list[float], list[float]]:
    """The knots of a monotone piecewise-linear curve that keep it within ``step`` points.

    raw : (K,) float, strictly increasing; percent : (K,) float, non-decreasing
    Kept: both ends, and at each multiple of ``step`` the curve reaches, the first knot at or
    above it and the knot before (so a jump across several multiples stays a jump).
    returns : (raw, percent) lists, raw rounded to RAW_DECIMALS and percent to 0.1
    """
    raw, percent = np.asarray(raw, dtype=np.float64), np.asarray(percent, dtype=np.float64)
    keep = {0, len(raw) - 1}
    for level in np.arange(step, 100.0 + step / 2, step):
        first = int(np.searchsorted(percent, level - 1e-9, side="left"))
        if first < len(raw):
            keep.update((first, max(first - 1, 0)))
    knots: dict[float, float] = {}
    for i in sorted(keep):
        x = round(float(raw[i]), RAW_DECIMALS)
        knots[x] = max(knots.get(x, 0.0), round(float(percent[i]), 1))  # a rounding collision
    return list(knots), list(knots.values())


def fit_scale(raw, same, step: float = KNOT_STEP) -> SimilarityScale:
    """``100 x P(same | raw)`` by isotonic regression, as a SimilarityScale.

    raw : (n,) float match scores; same : (n,) bool, whether the pair is of one category
    """
    from sklearn.isotonic import IsotonicRegression

    from store.similarity import SimilarityScale

    raw = np.asarray(raw, dtype=np.float64)
    same = np.asarray(same, dtype=np.float64)
    if raw.shape != same.shape or raw.ndim != 1:
        raise ValueError(f"raw {raw.shape} and same {same.shape} must be (n,) alike")
    if len(np.unique(same)) < 2 or len(np.unique(raw)) < 2:
        raise ValueError("a fit needs pairs of both labels and at least two distinct scores")
    fitted = IsotonicRegression(y_min=0.0, y_max=1.0, increasing=True, out_of_bounds="clip")
    fitted.fit(raw, same)
    knots = reduce_knots(fitted.X_thresholds_, 100.0 * fitted.y_thresholds_, step)
    return SimilarityScale(tuple(knots[0]), tuple(knots[1]))


def _candidates(store, part_ids: list[str]) -> dict[str, tuple]:
    """part id -> ``(point id, 0.0, payload, vectors)``: the raw hits ``explain_hits`` takes."""
    from store.schema import DENSE_VECTORS

    parts = store.get_many(part_ids, with_vectors=list(DENSE_VECTORS))
    return {p.part_id: (p.id, 0.0, p.payload, p.vectors) for p in parts}


class PairCollector:
    """``(match, same category)`` of one query against every training part, by query kind."""

    def __init__(self, spec, bundle_id: str, candidates: dict[str, tuple]):
        self.spec = spec
        self.bundle_id = bundle_id
        self.candidates = candidates
        self.pairs: dict[str, tuple[list[float], list[bool]]] = {}
        self.queries: dict[str, int] = {}
        self.weights: dict[str, dict[str, float]] = {}

    def add(self, kind: str, category: str, exclude: str | None = None, **query) -> None:
        from store.query import FusedQuery, explain_hits, plan_search

        plan = plan_search(FusedQuery(bundle_id=self.bundle_id, **query), self.spec)
        raw = [hit for pid, hit in self.candidates.items() if pid != exclude]
        matches, same = self.pairs.setdefault(kind, ([], []))
        for hit in explain_hits(plan, raw):
            if hit.match is not None:
                matches.append(hit.match)
                same.append(hit.payload.get("category") == category)
        self.queries[kind] = self.queries.get(kind, 0) + 1
        self.weights.setdefault(kind, {pair.name: pair.weight for pair in plan.pairs})


def collect_pairs(store, bundle, records, settings, seed: int, limit: int | None) -> PairCollector:
    """Every kind's pairs over the training split of an indexed store."""
    from .queries import (
        QUERY_IMAGE_SIZES,
        QueryRenderer,
        query_views,
        read_query_mesh,
        text_queries,
    )
    from .run import EvalError, select_queries

    payloads = {p.part_id: p.payload for p in store.iter_points(with_vectors=False)}
    train = select_queries(
        [pid for pid, payload in payloads.items() if payload.get("category")], "train", None, seed
    )
    if len({payloads[pid]["category"] for pid in train}) < 2:
        raise EvalError("calibration needs training parts of at least two categories")
    queries = select_queries(train, "train", limit, seed)
    collector = PairCollector(bundle.collection_spec(), bundle.id, _candidates(store, train))
    clip = bundle.load_clip(
        device=settings.model.device, torch_threads=settings.model.torch_threads
    )
    texts = [(pid, t) for pid in queries for t in text_queries(records.get(pid), payloads[pid])]
    vectors = clip.encode_text([t for _, t in texts]) if texts else []
    for (pid, _), vector in zip(texts, vectors, strict=True):
        collector.add("text", payloads[pid]["category"], text=vector)
    render = bundle.effective_settings(settings)
    renderer = QueryRenderer(render.render, QUERY_IMAGE_SIZES)
    images, owners = [], []
    try:
        for pid in queries:
            mesh = read_query_mesh(payloads[pid], render)
            views = query_views(seed, pid, render.render.view_set, len(renderer.sizes))
            images.extend(renderer.render(mesh, views))
            owners.extend([pid] * len(views))
    finally:
        renderer.close()
    vectors = clip.encode_images(images) if images else []
    for pid, vector in zip(owners, vectors, strict=True):
        collector.add("image", payloads[pid]["category"], image=vector)
    like = dict(settings.search.like_weights)
    for pid in queries:
        stored = collector.candidates[pid][3]
        category = payloads[pid]["category"]
        collector.add("mesh", category, pid, geometry=stored["geometry"], image=stored["image"])
        collector.add(
            "like",
            category,
            pid,
            text=stored["text"],
            image=stored["image"],
            geometry=stored["geometry"],
            weights=like,
        )
    return collector


def calibrate(
    bundle,
    catalog,
    *,
    seed: int = 0,
    limit: int | None = None,
    workdir=None,
    settings: Settings,
) -> dict[str, Any]:
    """Index ``catalog`` with ``bundle``, fit each kind on its training split: the
    ``similarity.json`` content (``store.similarity.SimilarityTable.from_json`` reads it).

    limit : at most this many training query parts (picked by ``seed``); every training part is
        a candidate either way
    workdir : keep (or reuse) the private index there (None: a temporary folder)
    Refuses a catalog holding parts of the unseen families or KiCad folders (the generalization
    test), and a catalog without categories.
    """
    from data_jobs.catalog.generate import MANIFEST_NAME, load_manifest
    from data_jobs.catalog.unseen import refuse_unseen
    from data_jobs.index.pipeline import run_index
    from encoders.bundle import ModelBundle, load_bundle
    from store.factory import open_store
    from store.similarity import FORMAT_VERSION

    from .run import EvalError, eval_settings

    started = time.perf_counter()
    bundle = bundle if isinstance(bundle, ModelBundle) else load_bundle(bundle)
    catalog = Path(catalog)
    if not (catalog / MANIFEST_NAME).is_file():
        raise FileNotFoundError(f"{catalog}: no {MANIFEST_NAME} (categories are the labels)")
    records = {r["part_id"]: r for r in load_manifest(catalog)}
    refuse_unseen(records.values(), catalog)
    root = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="cadsearch-calibrate-"))
    root.mkdir(parents=True, exist_ok=True)
    settings = eval_settings(settings, bundle, root)
    try:
        summary = run_index(str(catalog), settings, run_dir=root / "index-run")
        if summary.systemic or not (summary.indexed or summary.skipped):
            raise EvalError(f"indexing {catalog} failed: {summary.line()}")
        store = open_store(settings.store, bundle.collection_spec())
        try:
            collector = collect_pairs(store, bundle, records, settings, seed, limit)
        finally:
            store.close()
    finally:
        if not workdir:
            shutil.rmtree(root, ignore_errors=True)
    kinds, pairs, positives, support = {}, {}, {}, {}
    for kind, (matches, same) in collector.pairs.items():
        scale = fit_scale(matches, same)
        kinds[kind] = scale.to_json()
        pairs[kind], positives[kind] = len(same), int(np.sum(same))
        # how many pairs a high percentage rests on (few: the fit's top end is coarse)
        fitted = scale.percents(matches)
        support[kind] = {str(p): int(np.sum(fitted >= p)) for p in SUPPORT_PERCENTS}
    return {
        "format_version": FORMAT_VERSION,
        "bundle_id": bundle.id,
        "method": f"isotonic regression of P(same category | match), knots every {KNOT_STEP:g}%",
        "fitted_on": {
            "catalog": str(catalog),
            "split": "train",
            "parts": len(collector.candidates),
            "categories": len({h[2]["category"] for h in collector.candidates.values()}),
            "seed": seed,
            "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "took_s": round(time.perf_counter() - started, 1),
        },
        "queries": collector.queries,
        "pairs": pairs,
        "positives": positives,
        "pairs_at_or_above": support,
        "weights": collector.weights,
        "kinds": kinds,
    }


def write_table(table: dict[str, Any], path) -> Path:
    """``similarity.json``: indented, each list of knots on one line."""
    from store.similarity import SimilarityTable

    SimilarityTable.from_json(table)  # what is written must read back
    text = json.dumps(table, indent=2)
    text = re.sub(
        r"\[\s+([-0-9.eE,\s]+?)\s+\]", lambda m: "[" + " ".join(m.group(1).split()) + "]", text
    )
    path = Path(path)
    path.write_text(text + "\n", encoding="utf-8")
    return path


def needed_match(scale: SimilarityScale, percent: float) -> float | None:
    """The least match score the scale maps to ``percent`` or more: -inf when every score does,
    None when none does."""
    knots = list(zip(scale.raw, scale.percent, strict=True))
    if knots[0][1] >= percent:
        return -math.inf
    for (x0, y0), (x1, y1) in zip(knots, knots[1:], strict=False):
        if y1 >= percent:
            return x0 + (percent - y0) / (y1 - y0) * (x1 - x0)
    return None


def table_markdown(table: dict[str, Any]) -> str:
    """The docs' view of a table: pairs, and the match score each percentage needs, by kind."""
    from store.similarity import SimilarityTable

    scales = SimilarityTable.from_json(table).scales
    head = " | ".join(f"{p}%" for p in SHOWN_PERCENTS)
    support = " | ".join(f"pairs >= {p}%" for p in SUPPORT_PERCENTS)
    lines = [
        f"| kind | queries | pairs | same category | {head} | top | {support} |",
        "|---|---|---|---|" + "---|" * (len(SHOWN_PERCENTS) + 1 + len(SUPPORT_PERCENTS)),
    ]
    for kind, scale in scales.items():
        needed = [needed_match(scale, target) for target in SHOWN_PERCENTS]
        needed = ["never" if v is None else "any" if v == -math.inf else f"{v:.3f}" for v in needed]
        lines.append(
            f"| {kind} | {table['queries'][kind]} | {table['pairs'][kind]} | "
            f"{table['positives'][kind]} | "
            + " | ".join(needed)
            + f" | {scale.percent[-1]:g}% | "
            + " | ".join(str(n) for n in table["pairs_at_or_above"][kind].values())
            + " |"
        )
    return "\n".join(lines)
