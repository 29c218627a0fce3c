"""Portable logical snapshots: the same format from and into either backend.

A snapshot is a directory (or a ``.tar`` of one)::

    manifest.json        format, collection metadata (bundle spec), counts, sha256 of each file
    part-00000.jsonl     one line per point: {"id", "payload"}
    part-00000.npz       text, image, geometry (n, D); views (n, K, D); has_views (n,) float32/bool

The manifest is written last, so a snapshot cut short has none and is refused.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from store.errors import BundleMismatchError, SnapshotError
from store.schema import DENSE_VECTORS, VIEWS, CollectionSpec, StoredPart, utc_now_iso

if TYPE_CHECKING:
    from store.base import Store

FORMAT = "cadsearch-snapshot"
VERSION = 1
MANIFEST = "manifest.json"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_chunk(folder: Path, index: int, parts: list[StoredPart], spec: CollectionSpec) -> dict:
    stem = f"part-{index:05d}"
    n, dim, k = len(parts), spec.dim, spec.view_count
    arrays = {name: np.zeros((n, dim), np.float32) for name in DENSE_VECTORS}
    arrays[VIEWS] = np.zeros((n, k, dim), np.float32)
    arrays["has_views"] = np.zeros(n, bool)
    with open(folder / f"{stem}.jsonl", "w", encoding="utf-8") as f:
        for row, part in enumerate(parts):
            vectors = part.vectors or {}
            for name in DENSE_VECTORS:
                if vectors.get(name) is None:
                    raise SnapshotError(f"part {part.part_id!r} has no {name!r} vector to save")
                arrays[name][row] = vectors[name]
            if vectors.get(VIEWS) is not None:
                arrays[VIEWS][row] = vectors[VIEWS]
                arrays["has_views"][row] = True
            f.write(json.dumps({"id": part.id, "payload": part.payload}, sort_keys=True) + "\n")
    np.savez(folder / f"{stem}.npz", **arrays)
    files = [f"{stem}.jsonl", f"{stem}.npz"]
    return {"count": n, "files": {name: _sha256(folder / name) for name in files}}


def write_snapshot(store: Store, path: str | Path, chunk_size: int = 10_000) -> Path:
    """Write every point of ``store`` to a snapshot directory, or a ``.tar`` if path ends so."""
    path = Path(path)
    if path.exists() and (path.is_file() or any(path.iterdir())):
        raise SnapshotError(f"snapshot target {path} already exists and is not empty")
    as_tar = path.suffix == ".tar"
    folder = Path(tempfile.mkdtemp(prefix="snapshot-", dir=path.parent)) if as_tar else path
    folder.mkdir(parents=True, exist_ok=True)
    try:
        chunks, batch = [], []
        for part in store.iter_points(batch_size=min(chunk_size, 1024), with_vectors=True):
            batch.append(part)
            if len(batch) == chunk_size:
                chunks.append(_write_chunk(folder, len(chunks), batch, store.spec))
                batch = []
        if batch:
            chunks.append(_write_chunk(folder, len(chunks), batch, store.spec))
        manifest = {
            "format": FORMAT,
            "version": VERSION,
            "metadata": store.spec.to_metadata(),
            "count": sum(c["count"] for c in chunks),
            "chunks": chunks,
            "created_at": utc_now_iso(),
            "source_backend": store.backend,
        }
        (folder / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        if as_tar:
            with tarfile.open(path, "w") as tar:
                for item in sorted(folder.iterdir()):
                    tar.add(item, arcname=item.name)
    finally:
        if as_tar:
            shutil.rmtree(folder, ignore_errors=True)
    return path


def read_manifest(folder: Path) -> tuple[dict[str, Any], CollectionSpec]:
    """The manifest of a snapshot directory and the spec it records."""
    manifest_path = folder / MANIFEST
    if not manifest_path.is_file():
        raise SnapshotError(f"{folder} has no {MANIFEST}: not a snapshot, or an unfinished one")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    if manifest.get("format") != FORMAT or manifest.get("version") != VERSION:
        raise SnapshotError(
            f"{manifest_path}: unsupported snapshot format {manifest.get('format')!r} "
            f"version {manifest.get('version')!r}"
        )
    spec = CollectionSpec.from_metadata(manifest.get("metadata"))
    if spec is None:
        raise SnapshotError(f"{manifest_path} records no collection spec")
    return manifest, spec


def iter_chunks(folder: Path, manifest: dict[str, Any]) -> Iterator[list[StoredPart]]:
    """The snapshot's points chunk by chunk, each file checked against its sha256."""
    for chunk in manifest["chunks"]:
        for name, digest in chunk["files"].items():
            if not (folder / name).is_file() or _sha256(folder / name) != digest:
                raise SnapshotError(f"snapshot file {folder / name} is missing or corrupted")
        jsonl, npz = sorted(chunk["files"])
        rows = [json.loads(line) for line in (folder / jsonl).read_text("utf-8").splitlines()]
        with np.load(folder / npz) as arrays:
            vectors = {name: arrays[name] for name in (*DENSE_VECTORS, VIEWS, "has_views")}
        parts = []
        for i, row in enumerate(rows):
            part_vectors = {name: vectors[name][i] for name in DENSE_VECTORS}
            if vectors["has_views"][i]:
                part_vectors[VIEWS] = vectors[VIEWS][i]
            payload = row["payload"]
            parts.append(StoredPart(row["id"], payload.get("part_id", ""), payload, part_vectors))
        yield parts


def restore_snapshot(store: Store, path: str | Path) -> int:
    """Load a snapshot into an empty collection of the same bundle; returns the part count."""
    path = Path(path)
    if not path.exists():
        raise SnapshotError(f"no snapshot at {path}")
    with tempfile.TemporaryDirectory(prefix="restore-") as tmp:
        folder = path
        if path.is_file():
            with tarfile.open(path) as tar:
                tar.extractall(tmp, filter="data")
            folder = Path(tmp)
        manifest, spec = read_manifest(folder)
        if spec != store.spec:
            raise BundleMismatchError(
                f"snapshot {path} holds bundle {spec.bundle_id!r} (dim {spec.dim}, "
                f"{spec.view_count} views); the collection holds bundle "
                f"{store.spec.bundle_id!r} (dim {store.spec.dim}, {store.spec.view_count} views)",
                stored=store.spec.bundle_id,
                requested=spec.bundle_id,
            )
        existing = store.count()
        if existing:
            raise SnapshotError(f"restore needs an empty collection; this one has {existing} parts")
        for parts in iter_chunks(folder, manifest):
            store.write_stored(parts)
    store.optimize()
    restored = store.count()
    if restored != manifest["count"]:
        raise SnapshotError(f"restored {restored} parts, the snapshot holds {manifest['count']}")
    return restored


def snapshot_spec(path: str | Path) -> CollectionSpec:
    """The collection spec a snapshot (directory or .tar) records: open a store with it."""
    path = Path(path)
    if path.is_file():
        with tarfile.open(path) as tar:
            try:
                member = tar.extractfile(MANIFEST)
            except KeyError:
                member = None
            if member is None:
                raise SnapshotError(f"{path} has no {MANIFEST}: not a snapshot")
            with tempfile.TemporaryDirectory(prefix="manifest-") as tmp:
                (Path(tmp) / MANIFEST).write_bytes(member.read())
                return read_manifest(Path(tmp))[1]
    return read_manifest(path)[1]
