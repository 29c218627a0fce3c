"""Benchmark: fused three-vector search with a category filter on Qdrant Edge.

Synthetic parts with the real schema (payload, views multivector) and cluster structure (one
center per category + noise, normalized); a query is a new part of a known category: its text,
image and geometry vectors fused by weighted RRF over the nine (modality -> target) pairs,
filtered to its category, top 10.

Figures, one JSON line at the end:
- edge_vs_local_speedup: p50 of qdrant-client's local mode over p50 of Qdrant Edge, same data
  (20k parts) and queries (local mode is brute-force Python).
- recall@10 of the HNSW answer against exact search (SearchParams(exact=True)): on a per-vector
  query (text -> text, unfiltered) and on the fused query (filtered, and unfiltered).
- p50 / p99 latency and queries/s (sequential, one client) per catalog size, and
  p50_growth_10x = p50(10x parts) / p50(parts); memory per part (RSS delta and on-disk size).
"""

from __future__ import annotations

import argparse
import gc
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from helpers.synthetic import SyntheticCatalog

from store import CollectionSpec, Filters, FusedQuery, StoreOptions
from store.edge import EdgeStore

SPEC = CollectionSpec(bundle_id="bench-synthetic", dim=256, view_count=10, view_set="canonical10")
BATCH = 2000  # parts per upsert call
PROBE_BASE = 10_000_000  # probe parts (queries) are indexed far past the catalog


def rss_bytes() -> int:
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def disk_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def load(stores: list, catalog: SyntheticCatalog, n: int) -> list[dict]:
    """Upsert n parts in batches into each store, then optimize; timings per store.

    The records are generated once per batch for all stores, and not timed.
    """
    upsert_s = [0.0] * len(stores)
    for start in range(0, n, BATCH):
        records = catalog.records(start, min(BATCH, n - start))
        for i, store in enumerate(stores):
            t = time.perf_counter()
            store.upsert(records)
            upsert_s[i] += time.perf_counter() - t
    out = []
    for store, upserting in zip(stores, upsert_s, strict=True):
        t = time.perf_counter()
        store.optimize()
        optimize_s = time.perf_counter() - t
        out.append(
            {
                "upsert_s": round(upserting, 2),
                "optimize_s": round(optimize_s, 2),
                "parts_per_s": round(n / (upserting + optimize_s)),
            }
        )
    return out


def probes(catalog: SyntheticCatalog, start: int, count: int) -> list[tuple[dict, str]]:
    """``count`` query parts (vectors, category) that are not in the catalog."""
    index = PROBE_BASE + start
    vectors = catalog.vectors(index, count)
    return [
        ({k: vectors[k][i] for k in ("text", "image", "geometry")}, catalog.category(index + i))
        for i in range(count)
    ]


def fused(vectors: dict, category: str | None, exact: bool = False) -> FusedQuery:
    filters = Filters(categories=[category]) if category else None
    return FusedQuery(**vectors, filters=filters, top_k=10, exact=exact)


def per_vector(vectors: dict, exact: bool = False) -> FusedQuery:
    only_text = {"text->image": 0, "text->geometry": 0}
    return FusedQuery(text=vectors["text"], weights=only_text, top_k=10, exact=exact)


def latency(store, queries: list[FusedQuery], answers: list | None = None) -> dict:
    """Sequential search latency; the answers' ids go to ``answers`` when given."""
    times = []
    t0 = time.perf_counter()
    for q in queries:
        t = time.perf_counter()
        hits = store.search(q)
        times.append(time.perf_counter() - t)
        if answers is not None:
            answers.append([h.id for h in hits])
    total = time.perf_counter() - t0
    ms = np.array(times) * 1000
    return {
        "p50_ms": round(float(np.percentile(ms, 50)), 3),
        "p99_ms": round(float(np.percentile(ms, 99)), 3),
        "qps": round(len(queries) / total, 1),
    }


def recall(store, pairs: list[tuple[FusedQuery, FusedQuery]]) -> float:
    """Mean overlap of the HNSW top 10 with the exact top 10."""
    overlaps = []
    for approx, exact in pairs:
        got = {h.id for h in store.search(approx)}
        want = {h.id for h in store.search(exact)}
        overlaps.append(len(got & want) / max(1, len(want)))
    return round(float(np.mean(overlaps)), 4)


def bench_size(n: int, catalog, options, n_queries: int, n_recall: int, workdir: Path) -> dict:
    gc.collect()
    rss0 = rss_bytes()
    folder = workdir / f"edge-{n}"
    store = EdgeStore(folder, SPEC, options)
    try:
        (timings,) = load([store], catalog, n)
        gc.collect()
        rss1 = rss_bytes()
        info = store.shard.info()
        warm = [fused(v, c) for v, c in probes(catalog, 0, 50)]
        latency(store, warm)
        timed = [fused(v, c) for v, c in probes(catalog, 1000, n_queries)]
        result = {"parts": n, **timings, **latency(store, timed)}
        sample = probes(catalog, 100_000, n_recall)
        result["recall_per_vector"] = recall(
            store, [(per_vector(v), per_vector(v, exact=True)) for v, _ in sample]
        )
        result["recall_fused_filtered"] = recall(
            store, [(fused(v, c), fused(v, c, exact=True)) for v, c in sample]
        )
        result["recall_fused"] = recall(
            store, [(fused(v, None), fused(v, None, exact=True)) for v, _ in sample]
        )
        result["segments"] = info.segments_count
        result["rss_bytes_per_part"] = round((rss1 - rss0) / n)
        store.shard.flush()
        result["disk_bytes_per_part"] = round(disk_bytes(folder) / n)
    finally:
        store.close()
        shutil.rmtree(folder, ignore_errors=True)
    print(json.dumps({"size": result}), file=sys.stderr, flush=True)
    return result


def bench_local(n: int, catalog, options, n_queries: int, workdir: Path) -> dict:
    """Qdrant Edge against qdrant-client's local mode on the same parts and queries."""
    from store.server import ServerStore

    queries = [fused(v, c) for v, c in probes(catalog, 200_000, n_queries + 1)]
    edge = EdgeStore(workdir / "edge-local-cmp", SPEC, options)
    local = ServerStore(SPEC, location=":memory:", options=options)
    try:
        load([edge, local], catalog, n)
        latency(edge, queries * 3)  # warm-up
        if n_queries > 2:  # local mode is plain Python: its warm-up matters little
            latency(local, queries[:1])
        local_answers: list = []
        local_stats = latency(local, queries[1:], local_answers)
        edge_answers: list = []
        edge_stats = latency(edge, queries[1:] * max(1, 200 // n_queries), edge_answers)
    finally:
        edge.close()
        local.close()
        shutil.rmtree(workdir / "edge-local-cmp", ignore_errors=True)
    return {
        "parts": n,
        "edge_p50_ms": edge_stats["p50_ms"],
        "local_p50_ms": local_stats["p50_ms"],
        "speedup": round(local_stats["p50_ms"] / edge_stats["p50_ms"], 1),
        "local_queries": n_queries,
        "same_top10": sum(a == b for a, b in zip(edge_answers, local_answers, strict=False)),
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="3k and 30k parts, fewer queries (under a minute)"
    )
    parser.add_argument("--sizes", type=int, nargs="*", help="catalog sizes (parts)")
    parser.add_argument("--local-parts", type=int, default=20_000)
    parser.add_argument("--workdir", default=None, help="scratch folder (default: a temp dir)")
    parser.add_argument("--quantization", choices=["none", "int8"], default="int8")
    parser.add_argument("--views-in-ram", action="store_true", help="views multivector in RAM")
    parser.add_argument(
        "--group-by-category", action="store_true", help="category storage layout (is_tenant)"
    )
    parser.add_argument("--full-scan-kb", type=int, default=None, help="HNSW full_scan_threshold")
    parser.add_argument("--search-ef", type=int, default=None, help="HNSW search-time ef")
    parser.add_argument("--skip-local", action="store_true", help="no local-mode comparison")
    args = parser.parse_args(argv)
    sizes = args.sizes or ([3_000, 30_000] if args.quick else [10_000, 30_000, 100_000, 300_000])
    n_queries, n_recall, n_local = (150, 30, 2) if args.quick else (1000, 200, 20)
    options = StoreOptions(
        quantization=args.quantization,
        views_on_disk=not args.views_in_ram,
        group_by_category=args.group_by_category,
    )
    if args.search_ef is not None:
        options = options.model_copy(update={"search_ef": args.search_ef})
    if args.full_scan_kb is not None:
        options = options.model_copy(update={"full_scan_threshold_kb": args.full_scan_kb})
    catalog = SyntheticCatalog(SPEC, categories=30, seed=0)
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="bench-store-"))
    workdir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    try:
        local = {"speedup": None}
        if not args.skip_local:
            local = bench_local(args.local_parts, catalog, options, n_local, workdir)
        per_size = [bench_size(n, catalog, options, n_queries, n_recall, workdir) for n in sizes]
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    by_n = {r["parts"]: r for r in per_size}
    # every tenfold span measured; the headline figure is the largest one, where the collection
    # is fully HNSW-indexed (below Qdrant's indexing threshold small segments are brute-forced)
    pairs = {
        f"{n}->{n * 10}": round(by_n[n * 10]["p50_ms"] / by_n[n]["p50_ms"], 3)
        for n in sorted(by_n)
        if n * 10 in by_n
    }
    small = max((n for n in sorted(by_n) if n * 10 in by_n), default=sizes[0])
    growth = by_n[small * 10]["p50_ms"] / by_n[small]["p50_ms"] if small * 10 in by_n else None
    result = {
        "bench": "store",
        "mode": "quick" if args.quick else "full",
        "note": (
            f"{args.quick and 'quick' or 'full'}: {sizes} parts, {n_queries} timed queries, "
            f"{n_recall} recall queries, {n_local} local-mode queries"
        ),
        "query": "text+image+geometry -> 9 pairs, weighted RRF k=60, category filter, top 10",
        "dim": SPEC.dim,
        "views": SPEC.view_count,
        "categories": catalog.categories,
        "options": options.model_dump(
            include={"quantization", "views_on_disk", "group_by_category", "search_ef"}
        ),
        "edge_vs_local": local,
        "edge_vs_local_speedup": local["speedup"],
        "sizes": per_size,
        "recall_at10_per_vector": min(r["recall_per_vector"] for r in per_size),
        "recall_at10_fused": min(r["recall_fused_filtered"] for r in per_size),
        "recall_at10_fused_unfiltered": min(r["recall_fused"] for r in per_size),
        "p50_growth_10x": round(growth, 3) if growth is not None else None,
        "growth_sizes": [small, small * 10],
        "p50_growth_pairs": pairs,
        "wall_s": round(time.perf_counter() - t0, 1),
    }
    result["pass"] = {
        "edge_vs_local_speedup>=100": (result["edge_vs_local_speedup"] or 0) >= 100,
        "recall>=0.95": min(result["recall_at10_per_vector"], result["recall_at10_fused"]) >= 0.95,
        "p50_growth_10x<=2": growth is not None and growth <= 2,
    }
    print(json.dumps(result), flush=True)
    return result


if __name__ == "__main__":
    main()
