"""Benchmark: the reindex job end to end against the same stages in one plain loop per core."""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import tempfile
import time
from pathlib import Path


def _job_settings(work: Path, **index):
    from cadsearch.settings import load_settings

    return load_settings(
        "local",
        store={"backend": "edge", "path": str(work / "qdrant")},
        views={"kind": "local", "path": str(work / "views")},
        index={"reports_dir": str(work / "runs"), **index},
    )


def _ideal_worker(args) -> list[dict]:
    """One core's plain loop: load the bundle once, then prepare and encode its share of parts."""
    rows, settings_json, batch = args
    import torch

    from cadsearch.settings import settings_from_json
    from encoders.parts.encode import EncodeParts
    from encoders.parts.prepare import prepare_row

    torch.set_num_threads(1)
    settings = settings_from_json(settings_json)
    encoder = EncodeParts(settings.model.bundle, torch_threads=1)
    out = []
    for start in range(0, len(rows), batch):
        prepared = [prepare_row(row, settings) for row in rows[start : start + batch]]
        out.extend(encoder.encode_rows(prepared))
    return out


def ideal_run(sources, settings, cores: int) -> tuple[float, int]:
    """Seconds for the same stages in `cores` plain processes, then one sequential write."""
    from cadsearch.settings import settings_to_json
    from encoders.bundle import load_bundle
    from store.factory import open_store
    from store.views import LocalViewStore
    from store.write import write_rows

    started = time.perf_counter()
    rows = [source.to_row() for source in sources]
    settings_json = settings_to_json(settings)
    shares = [
        (rows[i::cores], settings_json, settings.index.encode_batch_size) for i in range(cores)
    ]
    with mp.get_context("spawn").Pool(cores) as pool:
        encoded = [row for share in pool.map(_ideal_worker, shares) for row in share]
    store = open_store(settings.store, load_bundle(settings.model.bundle).collection_spec())
    result = write_rows(encoded, store, LocalViewStore(settings.views.path))
    store.optimize()
    store.close()
    return time.perf_counter() - started, len(result.indexed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="40 parts (about a minute)")
    parser.add_argument("--parts", type=int, default=None)
    parser.add_argument("--cores", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args()
    n = args.parts or (40 if args.quick else 1000)

    import ray

    from data_jobs.catalog.generate import generate_catalog
    from data_jobs.index.pipeline import run_index
    from data_jobs.sources import discover
    from encoders.bundle import load_bundle

    with tempfile.TemporaryDirectory(prefix="bench-index-") as tmp:
        tmp = Path(tmp)
        generate_catalog(tmp / "catalog", n=n, seed=11)
        print(f"catalog: {n} parts", flush=True)

        settings = _job_settings(tmp / "ideal")
        bundle = load_bundle(settings.model.bundle)
        sources = discover(str(tmp / "catalog"), settings)
        ideal_s, ideal_parts = ideal_run(sources, bundle.effective_settings(settings), args.cores)
        print(f"ideal: {ideal_parts} parts in {ideal_s:.1f} s", flush=True)

        # the cluster is up before the job starts, as on a real cluster
        ray.init(num_cpus=args.cores, include_dashboard=False, log_to_driver=False)
        settings = _job_settings(tmp / "job", encode_num_cpus=0.0)
        first = run_index(str(tmp / "catalog"), settings)
        print(f"pipeline: {first.line()}", flush=True)
        rerun = run_index(str(tmp / "catalog"), settings)
        print(f"unchanged rerun: {rerun.line()}", flush=True)
        ray.shutdown()

    assert first.indexed == ideal_parts == n, (first.indexed, ideal_parts, n)
    result = {
        "bench": "index",
        "parts": n,
        "cores": args.cores,
        "parts_per_s": round(first.indexed / first.seconds, 2),
        "ideal_parts_per_s": round(ideal_parts / ideal_s, 2),
        "efficiency": round(ideal_s / first.seconds, 3),
        "pipeline_s": round(first.seconds, 2),
        "ideal_s": round(ideal_s, 2),
        "rerun_s": round(rerun.seconds, 3),
        "rerun_s_ratio": round(rerun.seconds / first.seconds, 4),
        "quick": args.quick,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
