"""Write stage: view PNGs (and the light GLB) to the view store, points to the vector store,
failures to the report."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ray.data import Datasink
from ray.data.block import BlockAccessor

from .rows import exception_record, vector_of

if TYPE_CHECKING:
    from cadsearch.settings import Settings
    from store.schema import CollectionSpec

log = logging.getLogger(__name__)
UNCATEGORIZED = "uncategorized"


@dataclass
class WriteResult:
    """What one write call did."""

    indexed: list[str] = field(default_factory=list)  # part ids now in the collection
    errors: list[dict[str, Any]] = field(default_factory=list)  # error report rows
    nodes: dict[str, dict[str, int]] = field(default_factory=dict)  # stage -> node id -> parts

    def merge(self, other: WriteResult) -> None:
        self.indexed.extend(other.indexed)
        self.errors.extend(other.errors)
        for stage, counts in other.nodes.items():
            mine = self.nodes.setdefault(stage, {})
            for node, count in counts.items():
                mine[node] = mine.get(node, 0) + count

    def count_node(self, stage: str, node: str) -> None:
        if node:
            counts = self.nodes.setdefault(stage, {})
            counts[node] = counts.get(node, 0) + 1


def _record(row: dict[str, Any], spec, view_urls: list[str], mesh_url: str = ""):
    from store.schema import PartRecord

    payload = json.loads(row["payload_json"])
    views = vector_of(row["views"], spec.dim)
    return PartRecord(
        part_id=row["part_id"],
        vectors={
            "text": vector_of(row["text"], spec.dim),
            "image": vector_of(row["image"], spec.dim),
            "geometry": vector_of(row["geometry"], spec.dim),
            "views": views.reshape(-1, spec.dim),
        },
        category=payload["category"] or UNCATEGORIZED,
        content_sha256=payload["content_sha256"],
        fingerprint=payload["fingerprint"],
        bbox_min=payload["bbox_min"],
        bbox_max=payload["bbox_max"],
        name=payload["name"],
        tags=payload["tags"],
        description=payload["description"],
        source_uri=payload["source_uri"],
        face_count=int(payload["face_count"]),
        view_urls=view_urls,
        mesh_url=mesh_url,
        meta={**payload["meta"], "through_holes": payload["through_holes"]},
        bundle_id=row["bundle_id"],
        predicted_category=payload.get("predicted_category", ""),
        predicted_score=payload.get("predicted_score"),
    )


def _error(row: dict[str, Any], stage: str, e: Exception) -> dict[str, str]:
    return exception_record(row["part_id"], row.get("uri", ""), stage, e)


def write_rows(rows: Iterable[dict[str, Any]], store, view_store) -> WriteResult:
    """Write encoded rows: views first, then one batched upsert; error rows go to the report.

    A batch the store refuses is retried part by part, so one bad record never costs the others.
    """
    result = WriteResult()
    records, written_views = [], []
    for row in rows:
        result.count_node("prepare", row.get("prepared_on", ""))
        result.count_node("encode", row.get("encoded_on", ""))
        if row["error"]:
            result.errors.append(json.loads(row["error"]))
            continue
        try:
            from store.schema import prepare_record

            # the record is checked before its views are stored: a refused part leaves no views
            prepare_record(_record(row, store.spec, []), store.spec)
            pairs = list(zip(row["view_names"], row["views_png"], strict=True))
            urls = view_store.put_views(row["part_id"], pairs)
            mesh_url = _put_mesh(row, view_store)
            records.append((row, _record(row, store.spec, urls, mesh_url)))
            written_views.append(row["part_id"])
        except Exception as e:
            result.errors.append(_error(row, "write", e))
    if not records:
        return result
    try:
        store.upsert([record for _, record in records])
        result.indexed.extend(record.part_id for _, record in records)
    except Exception:
        for row, record in records:
            try:
                store.upsert([record])
                result.indexed.append(record.part_id)
            except Exception as e:
                result.errors.append(_error(row, "write", e))
    return result


def _put_mesh(row: dict[str, Any], view_store) -> str:
    """The URL of the part's light GLB once stored, or "" (none made, or the store refused it:
    the part is indexed without a 3D view all the same)."""
    data = row.get("mesh_glb") or b""
    if not data:
        return ""
    try:
        return view_store.put_mesh(row["part_id"], data)
    except Exception as e:
        log.warning("part %r: light GLB not stored (%s: %s)", row["part_id"], type(e).__name__, e)
        return ""


class StoreWriter:
    """The write stage's target when this process opens the store itself: rows written here
    (the driver is the Edge shard's one writer), prune and optimize on the store.

    Its counterpart ``ServiceWriter`` (service_writer.py) sends the same calls to the search
    service that holds the shard; run_index takes either.
    """

    def __init__(self, store, view_store):
        self.store = store
        self.view_store = view_store
        # Qdrant Edge: rows stream to this process; a Qdrant server: a Datasink writes them
        self.streams = store.backend == "edge"

    def existing(self) -> dict[str, Any]:
        """part id -> IdEntry of every stored part."""
        return {entry.part_id: entry for entry in self.store.iter_ids()}

    def write(self, rows: list[dict[str, Any]]) -> WriteResult:
        result = write_rows(rows, self.store, self.view_store)
        self.store.flush()  # what is written survives a crash: a rerun resumes after it
        return result

    def delete(self, part_ids: list[str]) -> int:
        """Remove parts and their views; how many were stored."""
        for part_id in part_ids:
            self.view_store.delete_part(part_id)
        return self.store.delete(part_ids)

    def optimize(self) -> None:
        """Build the store's indexes (quick when there is nothing new to index)."""
        self.store.optimize()

    def close(self) -> None:
        self.store.close()


class ErrorReport:
    """errors.jsonl of one run: one JSON object per failed part (part, stage, type, message)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.touch()
        self._lock = threading.Lock()

    def add(self, errors: Iterable[dict[str, Any]]) -> int:
        lines = [json.dumps(error, sort_keys=True) + "\n" for error in errors]
        if lines:
            with self._lock, open(self.path, "a", encoding="utf-8") as f:
                f.writelines(lines)
        return len(lines)

    def read(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.path.read_text().splitlines() if line.strip()]


class PartsDatasink(Datasink[WriteResult]):
    """Datasink of encoded parts into a Qdrant server collection: each write task opens its own
    connection (cached per worker process), so writing scales out with the cluster.

    With Qdrant Edge (one writer) the job streams the same rows into ``write_rows`` in the
    driver instead: see pipeline.py.
    """

    def __init__(self, settings: Settings, spec: CollectionSpec, report_path: str):
        self.settings = settings  # pickled to the write tasks without secrets
        self.spec = spec
        self.report_path = report_path
        self.result = WriteResult()

    def get_name(self) -> str:
        return "CadsearchParts"

    def write(self, blocks, ctx) -> WriteResult:
        store, view_store = _open_targets(self.settings, self.spec)
        result = WriteResult()
        for block in blocks:
            rows = BlockAccessor.for_block(block).to_pylist()
            result.merge(write_rows(rows, store, view_store))
        return result

    def on_write_complete(self, write_result) -> None:
        results = getattr(write_result, "write_returns", write_result)
        report = ErrorReport(Path(self.report_path))
        for result in results:
            self.result.merge(result)
            report.add(result.errors)


_targets: dict[tuple[str, str], Any] = {}


def _open_targets(settings: Settings, spec: CollectionSpec):
    """The store and view store of a write task's process, opened once."""
    key = (settings.model_dump_json(), json.dumps(asdict(spec), sort_keys=True))
    if key not in _targets:
        from store.factory import open_store
        from store.views import open_view_store

        _targets[key] = (open_store(settings.store, spec), open_view_store(settings.views))
    return _targets[key]
