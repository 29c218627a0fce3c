"""Write stage: where the encoded rows go (store/write.py writes them): the store this process
opens, or a Qdrant server through a Datasink; failures to the report."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ray.data import Datasink
from ray.data.block import BlockAccessor

from store.write import WriteResult, write_rows

if TYPE_CHECKING:
    from cadsearch.settings import Settings
    from store.schema import CollectionSpec


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
