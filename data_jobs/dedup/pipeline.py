"""The duplicate-groups job: stored vectors -> candidate pairs -> geometric check -> groups.

Candidates (a Ray Data stage over blocks of parts) are the k nearest neighbours of each part by
each stored vector within a cosine threshold; the check (a Ray Data stage over pairs) loads both
meshes and aligns them (``check.compare_meshes``). A rerun reuses every pair already checked whose
two files are unchanged (content sha256), so adding parts checks only the pairs they bring.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from data_jobs.dedup.check import Tolerances
from data_jobs.dedup.groups import duplicate_groups, write_outputs
from data_jobs.ray_setup import ensure_ray

CHECKED_NAME = "checked.jsonl"
SIGNATURES_NAME = "signatures.npz"
VECTORS = ("geometry", "image")
SHAPE = "shape"  # the pose-free signature computed from each mesh (check.shape_signature)
DEFAULT_THRESHOLDS = {"geometry": 0.9, "image": 0.9, SHAPE: 0.98}


@dataclass
class DedupSummary:
    """What a run did; written to summary.json beside the groups."""

    parts: int = 0
    candidates: int = 0
    checked: int = 0  # pairs checked by this run
    reused: int = 0  # pairs taken from the last run (both files unchanged)
    failed: int = 0  # pairs whose meshes could not be read
    duplicate_pairs: int = 0
    groups: int = 0
    seconds: float = 0.0
    parts_per_s: float = 0.0
    relations: dict[str, int] = field(default_factory=dict)
    out_dir: str = ""
    finished_at: str = ""  # UTC, ISO 8601: what the service shows as the groups' age

    def line(self) -> str:
        return (
            f"{self.groups} duplicate groups ({self.duplicate_pairs} pairs) among {self.parts} "
            f"parts: {self.candidates} candidates, {self.checked} checked, {self.reused} reused, "
            f"{self.failed} failed, {self.seconds:.1f} s -> {self.out_dir}"
        )


@dataclass(frozen=True)
class PartFacts:
    """What the job keeps of a stored part."""

    part_id: str
    uri: str
    sha256: str
    name: str
    category: str
    extents: list[float]
    units: dict[str, Any]
    view_urls: list[str]


def _facts(stored) -> PartFacts:
    payload = stored.payload
    meta = payload.get("meta") or {}
    return PartFacts(
        part_id=stored.part_id,
        uri=str(payload.get("source_uri") or ""),
        sha256=str(payload.get("content_sha256") or ""),
        name=str(payload.get("name") or stored.part_id),
        category=str(payload.get("category") or ""),
        extents=list(payload.get("extents") or []),
        units={k: meta[k] for k in ("units", "scale") if meta.get(k) is not None},
        view_urls=list(payload.get("view_urls") or []),
    )


def read_collection(store, vectors=VECTORS) -> tuple[list[PartFacts], dict[str, np.ndarray]]:
    """Every part's facts and its unit vectors, one (n, D) float16 matrix per vector name."""
    facts, rows = [], {name: [] for name in vectors}
    for stored in store.iter_points(with_vectors=True):
        if not all(name in (stored.vectors or {}) for name in vectors):
            continue  # a part without these vectors cannot be a candidate
        facts.append(_facts(stored))
        for name in vectors:
            rows[name].append(np.asarray(stored.vectors[name], dtype=np.float16))
    dim = store.spec.dim
    return facts, {n: np.stack(r) if r else np.zeros((0, dim), np.float16) for n, r in rows.items()}


def _load_checked(path: Path) -> dict[tuple[str, str, str, str], dict]:
    if not path.is_file():
        return {}
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            r = json.loads(line)
            out[(r["a"], r["b"], r["sha_a"], r["sha_b"])] = r
    return out


def signature_batch(batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Ray Data stage: parts -> their shape signatures (empty for a file that cannot be read)."""
    from data_jobs.dedup.check import shape_signature

    out = []
    for part_json in batch["part"]:
        try:
            out.append(shape_signature(_mesh(**json.loads(part_json))))
        except Exception:  # the part's pairs fail in the check with the reason
            out.append(np.zeros(0, np.float32))
    return {"n": batch["n"], "signature": np.array(out, dtype=object)}


def _signatures(facts: list[PartFacts], path: Path, ray) -> np.ndarray:
    """(n, S) signatures of the parts, computed for parts new or changed since the last run."""
    cached = {}
    if path.is_file():
        with np.load(path) as f:
            cached = dict(zip(f["keys"].tolist(), f["vectors"], strict=True))
    keys = [f"{f.part_id}\t{f.sha256}" for f in facts]
    todo = [n for n, key in enumerate(keys) if key not in cached]
    if todo:
        rows = [{"n": n, "part": json.dumps(asdict(facts[n]))} for n in todo]
        ds = ray.data.from_items(rows, override_num_blocks=max(1, min(len(rows), 64)))
        for row in ds.map_batches(signature_batch, batch_size=8).take_all():  # in any order
            cached[keys[int(row["n"])]] = np.asarray(row["signature"], np.float32)
    size = max((len(v) for v in cached.values()), default=0)
    matrix = np.zeros((len(facts), size), np.float32)
    for n, key in enumerate(keys):
        if len(cached[key]) == size:
            matrix[n] = cached[key]
    kept = {key: cached[key] for key in keys if len(cached[key]) == size}
    np.savez(
        path,
        keys=np.array(list(kept), dtype=object).astype(str),
        vectors=np.stack(list(kept.values())) if kept else np.zeros((0, size), np.float32),
    )
    return matrix


def check_pair_batch(batch: dict[str, np.ndarray], tolerances: dict, samples: int) -> dict:
    """Ray Data stage: a batch of pairs -> one JSON comparison (or error) per pair."""
    from data_jobs.dedup.check import Tolerances, compare_meshes

    tol = Tolerances(**tolerances)
    out = []
    for a_json, b_json in zip(batch["a"], batch["b"], strict=True):
        a, b = json.loads(a_json), json.loads(b_json)
        try:
            result = compare_meshes(_mesh(**a), _mesh(**b), tol, samples=samples).as_dict()
        except Exception as e:  # one unreadable file fails its pair, never the job
            result = {"relation": "error", "error": f"{type(e).__name__}: {e}"[:500]}
        out.append(json.dumps(result))
    return {"n": batch["n"], "result": np.array(out, dtype=object)}


_MESHES: dict[tuple[str, str], Any] = {}


def _mesh(uri: str, sha256: str, units: dict, **_):
    """A part's mesh in mm, merged so that its volume is defined; a few kept per process."""
    import trimesh

    from encoders.geometry.loaders import file_type_of, load_mesh, unit_scale
    from encoders.parts.source import read_part_bytes

    key = (uri, sha256)
    if key not in _MESHES:
        if len(_MESHES) >= 64:
            _MESHES.pop(next(iter(_MESHES)))
        mesh = load_mesh(read_part_bytes(uri), file_type=file_type_of(uri))
        mesh = trimesh.Trimesh(mesh.vertices * unit_scale(units), mesh.faces, process=True)
        _MESHES[key] = mesh
    return _MESHES[key]


def run_dedup(
    store,
    out_dir: str | Path,
    *,
    k: int = 8,
    thresholds: dict[str, float] | None = None,
    tolerances: Tolerances = Tolerances(),  # noqa: B008 - frozen
    samples: int = 1500,
    block_size: int = 1024,
    view_store=None,
) -> DedupSummary:
    """Find duplicate groups in the collection ``store`` and write them under ``out_dir``:
    groups.jsonl, pairs.csv, report.html, checked.jsonl (the next run's reuse) and summary.json.

    thresholds : vector name ("geometry", "image", "shape") -> the cosine a neighbour needs to
                 become a candidate; "shape" is the pose-free signature of each mesh, the one
                 that finds rotated and mirrored copies (stored vectors see a part's pose)
    view_store : where the report's thumbnails are read from (None: linked by URL)
    """
    import ray

    started = time.perf_counter()
    thresholds = dict(thresholds or DEFAULT_THRESHOLDS)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    facts, matrices = read_collection(store, tuple(n for n in thresholds if n != SHAPE))
    summary = DedupSummary(parts=len(facts), out_dir=str(out))
    ensure_ray()  # quiet: Ray's INFO lines only with -v
    if SHAPE in thresholds and facts:
        matrices[SHAPE] = _signatures(facts, out / SIGNATURES_NAME, ray)
    pairs: list[tuple[int, int, str, float]] = []
    if len(facts) > 1:
        from data_jobs.dedup.candidates import neighbour_batch

        starts = ray.data.from_items([{"start": s} for s in range(0, len(facts), block_size)])
        found = starts.map_batches(
            neighbour_batch,
            fn_kwargs={
                "matrices": ray.put(matrices),
                "block_size": block_size,
                "k": k,
                "thresholds": thresholds,
            },
            batch_size=1,
        ).take_all()
        pairs = sorted(
            (int(r["i"]), int(r["j"]), str(r["vector"]), float(r["cosine"])) for r in found
        )
    summary.candidates = len(pairs)

    before = _load_checked(out / CHECKED_NAME)
    results: dict[tuple[int, int], dict] = {}
    todo = []
    for i, j, vector, cosine in pairs:
        a, b = facts[i], facts[j]
        hit = before.get((a.part_id, b.part_id, a.sha256, b.sha256))
        if hit is not None:
            results[(i, j)] = {**hit, "vector": vector, "cosine": round(cosine, 4)}
        else:
            todo.append((i, j, vector, cosine))
    summary.reused = len(results)
    if todo:
        rows = [
            {"n": n, "a": json.dumps(asdict(facts[i])), "b": json.dumps(asdict(facts[j]))}
            for n, (i, j, _, _) in enumerate(todo)
        ]
        checked = (
            ray.data.from_items(rows, override_num_blocks=max(1, min(len(rows), 64)))
            .map_batches(
                check_pair_batch,
                fn_kwargs={"tolerances": asdict(tolerances), "samples": samples},
                batch_size=4,
            )
            .take_all()
        )
        for row in checked:  # Ray Data gives rows in any order: each carries its pair's number
            i, j, vector, cosine = todo[int(row["n"])]
            a, b = facts[i], facts[j]
            results[(i, j)] = {
                "a": a.part_id, "b": b.part_id, "sha_a": a.sha256, "sha_b": b.sha256,
                "vector": vector, "cosine": round(cosine, 4), **json.loads(row["result"]),
            }  # fmt: skip
    summary.checked = len(todo)
    records = [results[key] for key in sorted(results)]
    summary.failed = sum(r["relation"] == "error" for r in records)
    with open(out / CHECKED_NAME, "w", encoding="utf-8") as f:
        for r in records:
            if r["relation"] != "error":  # a failed pair is checked again next time
                f.write(json.dumps(r) + "\n")
    groups = duplicate_groups(facts, records)
    write_outputs(out, facts, groups, records, view_store=view_store)
    found_pairs = [r for r in records if r["relation"] not in ("different", "error")]
    summary.duplicate_pairs = len(found_pairs)
    summary.groups = len(groups)
    for r in found_pairs:
        summary.relations[r["relation"]] = summary.relations.get(r["relation"], 0) + 1
    summary.seconds = round(time.perf_counter() - started, 3)
    summary.parts_per_s = round(len(facts) / max(summary.seconds, 1e-9), 2)
    summary.finished_at = datetime.now(UTC).isoformat(timespec="seconds")
    (out / "summary.json").write_text(json.dumps(asdict(summary), indent=2), encoding="utf-8")
    return summary
