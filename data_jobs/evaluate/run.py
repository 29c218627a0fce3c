"""The eval job: index a catalog with a bundle (the real reindex job), then score its query parts.

Four tasks, all over the whole indexed catalog as the database and relevance = same category:
- text -> part: description variants the index never saw, service default text weights;
- image -> part: renders from cameras and at sizes the index never used, default image weights;
  image and mesh queries rerank as the service does by default (settings ``search``);
- mesh -> part: a part's own stored geometry, image and view vectors (what an uploaded mesh gives),
  itself excluded;
- zero-shot: stored geometry (and image) vectors against one text prompt per category.
The text, mesh and zero-shot tasks run again on the parts of unseen families and KiCad folders
(``data_jobs.catalog.unseen``), over the same collection: the ``unseen_*`` metrics.
"""

from __future__ import annotations

import math
import shutil
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from . import metrics
from .predicted import predicted_task
from .queries import (
    QUERY_IMAGE_SIZES,
    QueryRenderer,
    category_prompt,
    query_views,
    read_query_mesh,
    text_queries,
)

if TYPE_CHECKING:
    from cadsearch.settings import Settings

SPLITS = ("heldout", "train", "all")
QUICK_MAX_QUERIES = 40  # query parts of a --quick run
MAX_RANK = 200  # results ranked per query; AP still divides by every relevant part
RECALL_KS = (1, 5, 10)
EVAL_COLLECTION = "eval"
GEOMETRY_ONLY = {"geometry->image": 0.0, "geometry->text": 0.0}
IMAGE_ONLY = {"image->geometry": 0.0, "image->text": 0.0}
DETAIL_TOP = 10  # part ids kept per query in the per-query details
# unseen headline metric -> (task, the task's metric it is on the unseen parts)
UNSEEN_METRICS = {
    "unseen_text_recall_at_5": ("text", "text_recall_at_5"),
    "unseen_text_map": ("text", "text_map"),
    "unseen_zero_shot_top1": ("zero_shot", "zero_shot_top1"),
    "unseen_mesh_map": ("mesh", "mesh_map"),
}


class EvalError(RuntimeError):
    """The eval cannot run: the catalog did not index, or gives nothing to query or to judge."""


@dataclass
class EvalContext:
    """The indexed database and the query parts, shared by the tasks."""

    store: Any
    bundle_id: str
    payloads: dict[str, dict[str, Any]]  # part id -> stored payload, every indexed part
    records: dict[str, dict[str, Any]]  # part id -> manifest record (descriptions)
    query_ids: list[str]
    counts: Counter = field(default_factory=Counter)  # category -> parts in the database
    search: Any = None  # SearchSettings: which query kinds rerank, the rerank pairs
    similarity: Any = None  # the bundle's SimilarityTable: a page's order (None: uncalibrated)

    def reranks(self, kind: str) -> bool:
        return self.search is not None and self.search.reranks([kind])

    def category(self, part_id: str) -> str:
        return self.payloads[part_id]["category"]

    def ranked(
        self,
        kind: str,
        exclude: str | None = None,
        weights=None,
        rerank=False,
        rerank_weights=None,
        **vectors,
    ) -> list:
        """Hits of one fused query, best first, over the whole database (exact scoring).

        Exact kNN, so the numbers measure the model and not the HNSW graph. ``rerank``: as the
        service reranks (MaxSim over views plus its rerank pairs unless ``rerank_weights``).
        ``kind``: the query kind whose similarity scale orders the page, as in the service.
        """
        from store import Filters, FusedQuery
        from store.similarity import UNCALIBRATED

        size = len(self.payloads) - (1 if exclude else 0)
        if rerank and rerank_weights is None and self.search is not None:
            rerank_weights = self.search.rerank_weights(
                [m for m, v in vectors.items() if v is not None]
            )
        query = FusedQuery(
            **vectors,
            weights=weights,
            rerank=rerank,
            rerank_weights=rerank_weights if rerank else None,
            top_k=max(1, min(size, MAX_RANK)),
            exact=True,
            filters=Filters(exclude_part_ids=[exclude] if exclude else []),
            bundle_id=self.bundle_id,
            similarity=self.similarity.scale(kind) if self.similarity else UNCALIBRATED,
        )
        return self.store.search(query)

    def labels(self, hits: list) -> list[str]:
        return [hit.payload.get("category", "") for hit in hits]


def eval_settings(settings, bundle, root: Path):
    """Settings of a private index: Qdrant Edge and local views under ``root``, this bundle."""
    return settings.model_copy(
        update={
            "model": settings.model.model_copy(update={"bundle": str(bundle.path)}),
            "store": settings.store.model_copy(
                update={
                    "backend": "edge",
                    "path": str(root / "qdrant"),
                    "collection": EVAL_COLLECTION,
                    "url": None,
                }
            ),
            "views": settings.views.model_copy(
                update={"kind": "local", "path": str(root / "views"), "bucket": None}
            ),
            "index": settings.index.model_copy(update={"reports_dir": str(root / "index-runs")}),
        }
    )


def select_queries(part_ids, split: str, limit: int | None, seed: int) -> list[str]:
    """Query part ids: those of ``split`` (``data_jobs.splits``), at most ``limit`` by seed."""
    from data_jobs.splits import split_of

    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; known: {list(SPLITS)}")
    chosen = sorted(p for p in part_ids if split == "all" or split_of(p) == split)
    if limit is not None and len(chosen) > limit:
        picked = np.random.default_rng(seed).choice(len(chosen), size=limit, replace=False)
        chosen = sorted(chosen[i] for i in picked)
    return chosen


def _hits(rankings: list[list[str]], labels: list[str], k: int) -> list[float]:
    return [
        metrics.hit_rate_at_k([ranked], [label], k)
        for ranked, label in zip(rankings, labels, strict=True)
    ]


def _aps(rankings, labels, relevant) -> list[float]:
    return [
        metrics.average_precision(r, label, n)
        for r, label, n in zip(rankings, labels, relevant, strict=True)
    ]


def eval_text(ctx: EvalContext, clip) -> tuple[dict, dict, list]:
    """text -> part: hit rate at 1/5/10 and mAP by category (the part itself counts)."""
    queries = [
        (pid, text)
        for pid in ctx.query_ids
        for text in text_queries(ctx.records.get(pid), ctx.payloads[pid])
    ]
    vectors = clip.encode_text([text for _, text in queries]) if queries else []
    labels, rankings, details = [], [], []
    for (pid, text), vector in zip(queries, vectors, strict=True):
        hits = ctx.ranked("text", text=vector)
        labels.append(ctx.category(pid))
        rankings.append(ctx.labels(hits))
        details.append({"part_id": pid, "text": text, "top": [h.part_id for h in hits[:5]]})
    aps = _aps(rankings, labels, [ctx.counts[label] for label in labels])
    values = {f"text_recall_at_{k}": _hits(rankings, labels, k) for k in RECALL_KS}
    values["text_map"] = aps
    for detail, ap in zip(details, aps, strict=True):
        detail["ap"] = ap
    return _means(values), {name: (v, labels) for name, v in values.items()}, details


def eval_image(ctx: EvalContext, clip, settings, seed: int) -> tuple[dict, dict, list]:
    """image -> part: renders at unseen cameras and sizes; top-1 category, with and without self."""
    renderer = QueryRenderer(settings.render, QUERY_IMAGE_SIZES)
    images, meta = [], []
    try:
        for pid in ctx.query_ids:
            mesh = read_query_mesh(ctx.payloads[pid], settings)
            views = query_views(seed, pid, settings.render.view_set, len(renderer.sizes))
            images.extend(renderer.render(mesh, views))
            meta.extend((pid, size, view) for size, view in zip(renderer.sizes, views, strict=True))
    finally:
        renderer.close()
    vectors = clip.encode_images(images) if images else []
    labels, rankings, top1_self, excluding, details = [], [], [], [], []
    rerank = ctx.reranks("image")
    for (pid, size, view), vector in zip(meta, vectors, strict=True):
        label = ctx.category(pid)
        hits = ctx.ranked("image", image=vector, rerank=rerank)
        labels.append(label)
        rankings.append(ctx.labels(hits))
        top1_self.append(float(bool(hits) and hits[0].part_id == pid))
        others = ctx.counts[label] - 1
        if others > 0:
            rest = ctx.ranked("image", image=vector, exclude=pid, rerank=rerank)
            excluding.append(metrics.top1_accuracy([ctx.labels(rest)], [label]))
        else:
            excluding.append(math.nan)  # no other part of its category: undefined, skipped
        details.append(
            {
                "part_id": pid,
                "size": size,
                "azimuth": view.azimuth,
                "elevation": view.elevation,
                "top": [h.part_id for h in hits[:5]],
            }
        )
    values = {
        "image_top1": _hits(rankings, labels, 1),
        "image_top1_excluding_self": excluding,
        "image_self_top1": top1_self,
        "image_recall_at_5": _hits(rankings, labels, 5),
        "image_map": _aps(rankings, labels, [ctx.counts[label] for label in labels]),
    }
    return _means(values), {name: (v, labels) for name, v in values.items()}, details


def eval_mesh(ctx: EvalContext) -> tuple[dict, dict, list]:
    """mesh -> part: stored geometry + image (+ views) vectors, the part excluded; mAP fused and
    single: geometry, the mean image vector, and the views alone (MaxSim over the image's hits)."""
    parts = ctx.store.get_many(ctx.query_ids, with_vectors=True)
    rerank = ctx.reranks("mesh")
    modes = {
        "mesh_map": lambda v: {
            "geometry": v["geometry"],
            "image": v["image"],
            "views": v.get("views") if rerank else None,
            "rerank": rerank,
        },
        "mesh_map_geometry": lambda v: {"geometry": v["geometry"], "weights": GEOMETRY_ONLY},
        "mesh_map_image": lambda v: {"image": v["image"], "weights": IMAGE_ONLY},
        "mesh_map_views": lambda v: {
            "image": v["image"],
            "views": v.get("views"),
            "weights": IMAGE_ONLY,
            "rerank": v.get("views") is not None,
            "rerank_weights": {},
        },
    }
    values: dict[str, list[float]] = {name: [] for name in modes}
    labels, details, self_hits = [], [], 0
    for part in parts:
        label = ctx.category(part.part_id)
        labels.append(label)
        detail: dict[str, Any] = {"part_id": part.part_id}
        for name, query in modes.items():
            hits = ctx.ranked("mesh", exclude=part.part_id, **query(part.vectors))
            self_hits += sum(hit.part_id == part.part_id for hit in hits)
            ap = metrics.average_precision(ctx.labels(hits), label, ctx.counts[label] - 1)
            values[name].append(ap)
            detail[name.replace("mesh_map", "ap")] = ap
            if name == "mesh_map":
                detail["top"] = [h.part_id for h in hits[:DETAIL_TOP]]
        details.append(detail)
    headline = _means(values)
    singles = ("mesh_map_geometry", "mesh_map_image", "mesh_map_views")
    best_single = max(headline[name] for name in singles)
    undefined = any(math.isnan(headline[name]) for name in modes)
    headline["fused_gain"] = math.nan if undefined else headline["mesh_map"] - best_single
    headline["mesh_self_hits"] = self_hits  # the query part among its own results: must be 0
    return headline, {name: (v, labels) for name, v in values.items()}, details


def eval_zero_shot(ctx: EvalContext, clip) -> tuple[dict, dict, list]:
    """Zero-shot: argmax cosine of stored geometry / image vectors against category prompts."""
    categories = sorted(ctx.counts)
    prompts = clip.encode_text([category_prompt(c) for c in categories])
    parts = ctx.store.get_many(ctx.query_ids, with_vectors=True)
    labels = [ctx.category(part.part_id) for part in parts]
    values, details = {}, [{"part_id": part.part_id} for part in parts]
    for name, vector in (("zero_shot_top1", "geometry"), ("zero_shot_top1_image", "image")):
        stored = np.stack([np.asarray(p.vectors[vector], dtype=np.float32) for p in parts])
        similarity = stored @ prompts.T
        predicted = metrics.zero_shot_predictions(similarity)
        values[name] = [
            float(categories[j] == label) for j, label in zip(predicted, labels, strict=True)
        ]
        for detail, j in zip(details, predicted, strict=True):
            detail[f"predicted_{vector}"] = categories[j]
    headline = _means(values)
    headline["zero_shot_chance"] = 1.0 / len(categories)
    return headline, {name: (v, labels) for name, v in values.items()}, details


def unseen_part_ids(ctx: EvalContext) -> list[str]:
    """Indexed parts of the families and KiCad folders no shipped bundle trains on, sorted.

    Decided by ``data_jobs.catalog.unseen.is_unseen`` on the manifest record (else the payload).
    """
    from data_jobs.catalog.unseen import is_unseen

    return sorted(
        pid
        for pid, payload in ctx.payloads.items()
        if is_unseen({**payload, **(ctx.records.get(pid) or {})})
    )


def eval_unseen(ctx: EvalContext, clip, query_ids: list[str]) -> tuple[dict, dict, dict]:
    """The text, mesh and zero-shot tasks again on the unseen query parts alone.

    Each task runs as it does for every part: text queries retrieve over the whole collection,
    mesh queries exclude the part itself, zero-shot prompts name every category of the catalog
    (seen and unseen). returns: ``unseen_*`` headline (None when no query part is unseen),
    a per-category table of the unseen categories, per-query details by task.
    """
    if not query_ids:
        return {"unseen_parts": 0, **dict.fromkeys(UNSEEN_METRICS)}, {}, {}
    subset = replace(ctx, query_ids=list(query_ids))
    text, text_values, text_details = eval_text(subset, clip)
    mesh, mesh_values, mesh_details = eval_mesh(subset)
    zero_shot, zero_shot_values, zero_shot_details = eval_zero_shot(subset, clip)
    headline = {"unseen_parts": len(query_ids)}
    for key, (task, name) in UNSEEN_METRICS.items():
        headline[key] = {"text": text, "mesh": mesh, "zero_shot": zero_shot}[task][name]
    per_query = {**text_values, **mesh_values, **zero_shot_values}
    table = per_category_table(
        subset, {name: per_query[name] for _, name in UNSEEN_METRICS.values()}
    )
    table = {category: row for category, row in table.items() if row["queries"]}
    details = {"text": text_details, "mesh": mesh_details, "zero_shot": zero_shot_details}
    return headline, table, details


def _means(values: dict[str, list[float]]) -> dict[str, float]:
    return {name: metrics.nanmean(v) for name, v in values.items()}


def per_category_table(ctx: EvalContext, per_query: dict) -> dict[str, dict[str, Any]]:
    """``{category: {"parts", "queries", metric: mean}}`` over every category of the database."""
    queries = Counter(ctx.category(pid) for pid in ctx.query_ids)
    table = {c: {"parts": ctx.counts[c], "queries": queries[c]} for c in sorted(ctx.counts)}
    for name, (values, labels) in per_query.items():
        for category, entry in metrics.per_category(values, labels).items():
            table[category][name] = entry["mean"]
    return table


def run_eval(
    bundle,
    catalog_dir,
    *,
    split: str = "heldout",
    quick: bool = False,
    seed: int = 0,
    workdir=None,
    settings: Settings,
) -> dict[str, Any]:
    """Index ``catalog_dir`` with ``bundle`` into a private collection, then score its queries.

    bundle : a shipped bundle name, a bundle directory or a loaded ModelBundle
    split : query parts: "heldout" (``data_jobs.splits``), "train" or "all" (e.g. a catalog
        generated with an unseen seed); every indexed part is the database either way
    quick : at most QUICK_MAX_QUERIES query parts, picked by ``seed``
    workdir : keep the private store, views and index report there (None: a temporary folder)
    returns : headline metrics, counts, per-category table, per-query details, timings
    """
    from data_jobs.catalog.generate import MANIFEST_NAME, load_manifest
    from data_jobs.index.pipeline import run_index
    from encoders.bundle import ModelBundle, load_bundle
    from store.factory import open_store

    started = time.perf_counter()
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; known: {list(SPLITS)}")
    bundle = bundle if isinstance(bundle, ModelBundle) else load_bundle(bundle)
    catalog_dir = Path(catalog_dir)
    if not (catalog_dir / MANIFEST_NAME).is_file():
        raise FileNotFoundError(
            f"{catalog_dir}: no {MANIFEST_NAME}; eval needs a catalog with categories and "
            "descriptions (cadsearch catalog generate writes one)"
        )
    records = {r["part_id"]: r for r in load_manifest(catalog_dir)}
    root = (
        Path(workdir) if workdir is not None else Path(tempfile.mkdtemp(prefix="cadsearch-eval-"))
    )
    root.mkdir(parents=True, exist_ok=True)
    settings = eval_settings(settings, bundle, root)
    timings: dict[str, float] = {}
    try:
        clock = time.perf_counter()
        # incremental: a kept workdir re-renders and re-encodes only the parts that changed
        # (the job's skip list: content hash and bundle id); a new one indexes everything
        summary = run_index(str(catalog_dir), settings, run_dir=root / "index-run")
        timings["index_s"] = time.perf_counter() - clock
        if summary.systemic or not (summary.indexed or summary.skipped):
            stages = ", ".join(f"{stage} {n}" for stage, n in summary.stages.items())
            raise EvalError(f"indexing {catalog_dir} failed: {summary.line()}; by stage: {stages}")
        store = open_store(settings.store, bundle.collection_spec())
        try:
            limit = QUICK_MAX_QUERIES if quick else None
            result = _score(store, bundle, records, settings, split, limit, seed, timings)
        finally:
            store.close()
    finally:
        if workdir is None:
            shutil.rmtree(root, ignore_errors=True)
    result["counts"]["parts_failed"] = summary.failed
    result["counts"]["catalog_parts"] = len(records)
    timings["total_s"] = time.perf_counter() - started
    result["timings"] = {name: round(seconds, 3) for name, seconds in timings.items()}
    result["catalog"] = str(catalog_dir)
    result["workdir"] = str(root) if workdir is not None else None
    return result


def _score(store, bundle, records, settings, split, limit, seed, timings) -> dict[str, Any]:
    """The four tasks, then the unseen parts' tasks, over an opened, indexed store; at most
    ``limit`` query parts each (None: all)."""
    payloads = {p.part_id: p.payload for p in store.iter_points(with_vectors=False)}
    counts = Counter(payload.get("category", "") for payload in payloads.values())
    if set(counts) <= {"", "uncategorized"}:
        raise EvalError("no indexed part has a category: relevance needs categories")
    query_ids = select_queries(payloads, split, limit, seed)
    if not query_ids:
        raise EvalError(
            f"no {split!r} parts among the {len(payloads)} indexed; try split 'all' "
            "(e.g. for a catalog generated with an unseen seed)"
        )
    ctx = EvalContext(
        store,
        bundle.id,
        payloads,
        records,
        query_ids,
        counts,
        settings.search,
        bundle.similarity_table(),
    )
    clock = time.perf_counter()
    clip = bundle.load_clip(
        device=settings.model.device, torch_threads=settings.model.torch_threads
    )
    timings["load_model_s"] = time.perf_counter() - clock

    headline: dict[str, Any] = {}
    per_query: dict[str, tuple] = {}
    details: dict[str, list] = {}
    tasks = {
        "text": lambda: eval_text(ctx, clip),
        "image": lambda: eval_image(ctx, clip, bundle.effective_settings(settings), seed),
        "mesh": lambda: eval_mesh(ctx),
        "zero_shot": lambda: eval_zero_shot(ctx, clip),
        # every part of the split, seen and unseen apart (data_jobs/evaluate/predicted.py)
        "predicted": lambda: predicted_task(ctx, clip, settings.index, split),
    }
    for name, task in tasks.items():
        clock = time.perf_counter()
        task_headline, task_values, details[name] = task()
        timings[f"{name}_s"] = time.perf_counter() - clock
        headline.update(task_headline)
        per_query.update(task_values)
    clock = time.perf_counter()
    unseen = unseen_part_ids(ctx)
    unseen_headline, unseen_table, unseen_details = eval_unseen(
        ctx, clip, select_queries(unseen, split, limit, seed) if unseen else []
    )
    timings["unseen_s"] = time.perf_counter() - clock
    headline.update(unseen_headline)
    share = [counts[ctx.category(pid)] / len(payloads) for pid in query_ids]
    headline["top1_chance"] = metrics.nanmean(share)  # a random ranking's top-1 hit rate
    return {
        **headline,
        "bundle": bundle.name,
        "bundle_id": bundle.id,
        "trained": dict(bundle.trained),
        "split": split,
        "quick": limit is not None,
        "seed": int(seed),
        "counts": {
            "parts": len(payloads),
            "categories": len(counts),
            "query_parts": len(query_ids),
            "text_queries": len(details["text"]),
            "image_queries": len(details["image"]),
            "mesh_queries": len(details["mesh"]),
            "unseen_indexed": len(unseen),
        },
        "config": {
            "max_rank": MAX_RANK,
            "query_image_sizes": list(QUERY_IMAGE_SIZES),
            "index_image_size": bundle.image_size,
            "view_set": bundle.view_set,
            "max_queries": limit,
        },
        "per_category": per_category_table(ctx, per_query),
        "unseen_per_category": unseen_table,
        "queries": {**details, **{f"unseen_{k}": v for k, v in unseen_details.items()}},
    }
