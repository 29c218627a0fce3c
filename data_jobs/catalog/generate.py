"""Write a deterministic sample catalog of mechanical parts: mesh files plus manifest.jsonl."""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from pathlib import Path, PurePosixPath

import numpy as np

from data_jobs.catalog.families import FAMILIES, Family
from data_jobs.catalog.unseen import UNSEEN_FAMILIES

MANIFEST_NAME = "manifest.jsonl"
ERRORS_NAME = "errors.jsonl"  # parts a converted catalog (KiCad, MCAD) could not build
PARTS_DIR = "parts"
MESH_FORMATS = ("stl", "ply", "obj", "glb", "off")
MANIFEST_KEYS = (
    "part_id", "file", "name", "category", "parent", "family", "tags", "parameters",
    "attributes", "description", "descriptions", "units",
)  # fmt: skip


def family_schedule(n: int, seed: int, families: Sequence[str] | None = None) -> list[Family]:
    """Which family each of the n parts comes from.

    Categories are visited round-robin in a seeded shuffled order, and within a category its
    families take turns, so any n >= number of categories covers every category.
    """
    names = sorted(FAMILIES) if families is None else list(dict.fromkeys(families))
    unknown = [f for f in names if f not in FAMILIES]
    if unknown:
        raise KeyError(f"unknown part families: {unknown}; known: {sorted(FAMILIES)}")
    if not names:
        raise ValueError("no part families selected")
    by_category: dict[str, list[Family]] = {}
    for name in sorted(names):
        by_category.setdefault(FAMILIES[name].category, []).append(FAMILIES[name])
    order = sorted(by_category)
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0x5EED]))
    order = [order[i] for i in rng.permutation(len(order))]
    schedule = []
    for i in range(n):
        members = by_category[order[i % len(order)]]
        schedule.append(members[(i // len(order)) % len(members)])
    return schedule


def training_families(families: Sequence[str] | None = None) -> list[str]:
    """``families`` (None: the whole registry) less the unseen ones.

    Raises ValueError when ``families`` names an unseen family, rather than drop it quietly.
    """
    if families is None:
        return [name for name in sorted(FAMILIES) if name not in UNSEEN_FAMILIES]
    named = sorted(set(families) & set(UNSEEN_FAMILIES))
    if named:
        raise ValueError(f"unseen families cannot go into a training catalog: {named}")
    return list(families)


def part_rng(seed: int, index: int) -> np.random.Generator:
    """Independent random stream for part ``index`` of the catalog with ``seed``."""
    return np.random.default_rng(np.random.SeedSequence([seed, index]))


def part_id(family: str, seed: int, index: int) -> str:
    """Stable part id made of [a-z0-9_-], e.g. "hex_bolt-1-00007"."""
    return f"{family}-{seed}-{index:05d}"


def generate_catalog(
    out_dir: str | Path,
    n: int,
    seed: int,
    mesh_format: str = "stl",
    families: Sequence[str] | None = None,
    exclude_unseen: bool = False,
) -> list[dict]:
    """Generate n parts into out_dir/parts/ and write out_dir/manifest.jsonl.

    The same (n, seed, mesh_format, families, exclude_unseen) always gives byte-identical files.
    exclude_unseen : leave out the families no shipped bundle trains on
        (``data_jobs.catalog.unseen``): training catalogs are made this way
    returns: the manifest records, in order
    """
    if exclude_unseen:
        families = training_families(families)
    if mesh_format not in MESH_FORMATS:
        raise ValueError(f"mesh_format must be one of {MESH_FORMATS}, got {mesh_format!r}")
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    out_dir = Path(out_dir)
    (out_dir / PARTS_DIR).mkdir(parents=True, exist_ok=True)
    records = []
    for index, family in enumerate(family_schedule(n, seed, families)):
        part = family.generator(part_rng(seed, index))
        pid = part_id(family.name, seed, index)
        rel = f"{PARTS_DIR}/{pid}.{mesh_format}"
        data = part.mesh.export(file_type=mesh_format)
        (out_dir / rel).write_bytes(data.encode() if isinstance(data, str) else data)
        record = dict(
            part_id=pid,
            file=rel,
            name=part.name,
            category=family.category,
            parent=family.parent or family.category,
            family=family.name,
            tags=list(part.tags),
            parameters=dict(part.parameters),
            attributes=part.attributes.as_dict() if part.attributes else None,
            description=part.descriptions[0],
            descriptions=list(part.descriptions),
            units="mm",
        )
        records.append({k: record[k] for k in MANIFEST_KEYS})
    write_jsonl(out_dir / MANIFEST_NAME, records)
    return records


def write_jsonl(path: Path, rows: Sequence[dict]) -> None:
    """One JSON object per line, UTF-8 as is, "\\n" line ends (manifests, error lists)."""
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def write_converted_catalog(out_dir: Path, records: Sequence[dict], errors: Sequence[dict]):
    """Write a converted catalog's manifest.jsonl and errors.jsonl, and remove the part files of
    an earlier run that no record names (out_dir/parts/ holds this run's parts only)."""
    write_jsonl(out_dir / MANIFEST_NAME, records)
    write_jsonl(out_dir / ERRORS_NAME, errors)
    keep = {PurePosixPath(r["file"]).name for r in records}
    for stale in (out_dir / PARTS_DIR).iterdir():
        if stale.is_file() and stale.name not in keep:
            stale.unlink()


def load_manifest(path_or_dir: str | Path) -> list[dict]:
    """Records of a catalog's manifest.jsonl (given the file or the catalog directory)."""
    path = Path(path_or_dir)
    if path.is_dir():
        path = path / MANIFEST_NAME
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def main(argv: Sequence[str] | None = None) -> None:
    """CLI: python -m data_jobs.catalog.generate OUT_DIR --n 100 --seed 0 [--format stl]."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("out_dir")
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--format", default="stl", choices=MESH_FORMATS)
    ap.add_argument("--families", nargs="*", default=None, help="restrict to these families")
    ap.add_argument(
        "--exclude-unseen", action="store_true", help="leave out the never-trained-on families"
    )
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    records = generate_catalog(
        args.out_dir, args.n, args.seed, args.format, args.families, args.exclude_unseen
    )
    categories = len({r["category"] for r in records})
    took = time.perf_counter() - t0
    print(f"{len(records)} parts in {categories} categories -> {args.out_dir} ({took:.1f} s)")


if __name__ == "__main__":
    main()
