"""Benchmark: duplicate groups on a catalog with planted duplicates among unrelated parts.

Each planted duplicate is one variant of one base part: an exact copy, a re-tessellation, a
rotation, a mirror image (of a base made chiral), a 1% and a 50% scaling, and the same part as
OBJ and as PLY. The catalog is indexed with the reindex job, then ``cadsearch dedup``'s job runs.
Final JSON line: pair precision and recall against the planted pairs, the share of found planted
pairs labelled with the right relation, and parts per second of the dedup job. ``--quick``:
a small catalog (about a minute).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

# variant -> (relation the check must give, how it is made)
VARIANTS = {
    "copy": "identical",
    "retessellated": "identical",
    "rotated": "identical",
    "mirrored": "mirrored",
    "scaled_1pct": "identical_within_tolerance",
    "scaled_50pct": "scaled",
    "as_obj": "identical",
    "as_ply": "identical",
}


def chiral(mesh):
    """The mesh with three notches of different sizes cut into its surface at points no plane
    maps onto each other, so its mirror image is a different part."""
    from data_jobs.catalog.families_base import box, finish, from_trimesh, subtract

    size = float(mesh.extents.max())
    v = np.asarray(mesh.vertices)
    cuts = []
    for frac, direction in ((0.35, (1.0, 2.0, 3.0)), (0.25, (-3.0, 1.0, 0.5)), (0.2, (0.5, -2, 1))):
        corner = v[int(np.argmax(v @ np.asarray(direction)))]  # an extreme point of the surface
        cuts.append(box(frac * size, frac * size, frac * size, center=tuple(corner)))
    return finish(subtract(from_trimesh(mesh), cuts), rest_on_floor=False)


def variant_of(mesh, kind: str, rng: np.random.Generator):
    """(mesh, file format) of one planted variant of ``mesh``."""
    from scipy.spatial.transform import Rotation

    m = mesh.copy()
    if kind == "retessellated":
        return m.subdivide(), "stl"
    if kind == "rotated":
        t = np.eye(4)
        t[:3, :3] = Rotation.random(random_state=int(rng.integers(1 << 30))).as_matrix()
        t[:3, 3] = rng.uniform(-50, 50, 3)
        m.apply_transform(t)
        return m, "stl"
    if kind == "mirrored":
        m.apply_transform(np.diag([-1.0, 1.0, 1.0, 1.0]))
        return m, "stl"
    if kind == "scaled_1pct":
        m.apply_scale(1.01)
        return m, "stl"
    if kind == "scaled_50pct":
        m.apply_scale(0.5)
        return m, "stl"
    if kind == "as_obj":
        return m, "obj"
    if kind == "as_ply":
        return m, "ply"
    return m, "stl"


def planted_catalog(out: Path, unrelated: int, planted: int, seed: int) -> dict:
    """Write the catalog; returns the planted pairs {(a, b): relation} with a < b."""
    from data_jobs.catalog.generate import family_schedule, part_rng

    (out / "parts").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    seen, bases = set(), []
    for index, family in enumerate(family_schedule(unrelated * 3, seed)):
        part = family.generator(part_rng(seed, index))
        key = (family.name, json.dumps(part.parameters, sort_keys=True))
        if key not in seen:  # two parts with one parameter set may be true duplicates
            seen.add(key)
            bases.append((f"{family.name}-{index:04d}", family.category, part.mesh))
        if len(bases) == unrelated:
            break
    kinds = list(VARIANTS)
    manifest, truth = [], {}
    for n, (pid, category, mesh) in enumerate(bases):
        kind = kinds[n % len(kinds)] if n < planted else None
        if kind == "mirrored":
            mesh = chiral(mesh)
        rows = [(pid, mesh, "stl")]
        if kind is not None:
            variant, fmt = variant_of(mesh, kind, rng)
            rows.append((f"{pid}-dup-{kind}", variant, fmt))
            a, b = sorted((pid, rows[-1][0]))
            truth[(a, b)] = VARIANTS[kind]
        for part_id, m, fmt in rows:
            file = f"parts/{part_id}.{fmt}"
            data = m.export(file_type=fmt)
            (out / file).write_bytes(data.encode() if isinstance(data, str) else data)
            manifest.append(
                {"part_id": part_id, "file": file, "name": part_id, "category": category}
            )
    with open(out / "manifest.jsonl", "w", encoding="utf-8") as f:
        for record in manifest:
            f.write(json.dumps(record) + "\n")
    return truth


def score(records: list[dict], truth: dict) -> dict:
    """Pair precision / recall against the planted pairs, and relation accuracy on those found."""
    found = {
        tuple(sorted((r["a"], r["b"]))): r["relation"]
        for r in records
        if r["relation"] not in ("different", "error")
    }
    hits = [pair for pair in found if pair in truth]
    right = [pair for pair in hits if found[pair] == truth[pair]]
    return {
        "pair_precision": round(len(hits) / len(found), 4) if found else 0.0,
        "pair_recall": round(len(hits) / len(truth), 4) if truth else 0.0,
        "relation_accuracy": round(len(right) / len(hits), 4) if hits else 0.0,
        "found_pairs": len(found),
        "planted_pairs": len(truth),
        "wrong": sorted(f"{a}~{b}:{found[(a, b)]}" for a, b in hits if (a, b) not in right)[:10],
        "false": sorted(f"{a}~{b}:{found[(a, b)]}" for a, b in found if (a, b) not in truth)[:10],
        "missed": sorted(f"{a}~{b}" for a, b in truth if (a, b) not in found)[:10],
    }


def planted_cosines(store, truth: dict) -> dict:
    """The lowest cosine of a planted pair by each stored vector (what the candidate threshold
    must reach below)."""
    low: dict[str, float] = {}
    for a, b in truth:
        parts = store.get_many([a, b], with_vectors=["geometry", "image"])
        if len(parts) == 2:
            for name in ("geometry", "image"):
                cos = float(parts[0].vectors[name] @ parts[1].vectors[name])
                low[name] = round(min(low.get(name, 1.0), cos), 4)
    return low


def main(argv: list[str] | None = None) -> dict:
    began = time.perf_counter()
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="16 parts, 8 planted (a minute)")
    parser.add_argument("--parts", type=int, default=None, help="unrelated base parts")
    parser.add_argument("--planted", type=int, default=None)
    args = parser.parse_args(argv)
    unrelated = args.parts or (16 if args.quick else 200)
    planted = args.planted or (8 if args.quick else 48)

    import ray

    from cadsearch.settings import load_settings
    from data_jobs.dedup.groups import PAIRS_NAME
    from data_jobs.dedup.pipeline import run_dedup
    from data_jobs.index.pipeline import run_index
    from encoders.bundle import load_bundle
    from store.factory import open_store
    from store.views import open_view_store

    timings = {"imports_s": time.perf_counter() - began}
    with tempfile.TemporaryDirectory(prefix="bench-dedup-") as tmp:
        tmp = Path(tmp)
        clock = time.perf_counter()
        truth = planted_catalog(tmp / "catalog", unrelated, planted, seed=5)
        timings["catalog_s"] = time.perf_counter() - clock
        settings = load_settings(
            "local",
            store={"backend": "edge", "path": str(tmp / "qdrant")},
            views={"kind": "local", "path": str(tmp / "views")},
            # every planted part has a category: the encoder has no kinds to predict
            index={"reports_dir": str(tmp / "runs"), "predict_kinds": False},
        )
        clock = time.perf_counter()
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
        timings["ray_init_s"] = time.perf_counter() - clock
        clock = time.perf_counter()
        indexed = run_index(str(tmp / "catalog"), settings)
        timings["index_s"] = time.perf_counter() - clock
        print(f"index: {indexed.line()}", flush=True)
        store = open_store(settings.store, load_bundle(settings.model.bundle).collection_spec())
        started = time.perf_counter()
        summary = run_dedup(store, tmp / "dedup", view_store=open_view_store(settings.views))
        seconds = time.perf_counter() - started
        cosines = planted_cosines(store, truth)
        store.close()
        print(f"dedup: {summary.line()}", flush=True)
        import csv

        with open(tmp / "dedup" / PAIRS_NAME, encoding="utf-8") as f:
            records = list(csv.DictReader(f))
        clock = time.perf_counter()
        ray.shutdown()
        timings["ray_shutdown_s"] = time.perf_counter() - clock
    timings["dedup_s"] = seconds
    timings["wall_s"] = time.perf_counter() - began
    result = {
        "bench": "dedup",
        "parts": summary.parts,
        **score(records, truth),
        "candidates": summary.candidates,
        "min_planted_cosine": cosines,
        "parts_per_s": round(summary.parts / seconds, 2),
        "dedup_s": round(seconds, 2),
        "quick": args.quick,
        "timings": {name: round(value, 2) for name, value in timings.items()},
    }
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
