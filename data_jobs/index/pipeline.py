"""The reindex pipeline: discover -> prepare (CPU tasks) -> encode (actor pool) -> write."""

from __future__ import annotations

import json
import math
import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from data_jobs.ray_setup import ensure_ray
from store.rows import exception_record
from store.write import WriteResult

from .write import ErrorReport


class SystemicError(RuntimeError):
    """The job cannot run at all (store, bundle, source or cluster), as opposed to one bad part."""


@dataclass
class IndexSummary:
    """What a run did; printed at the end and written to summary.json."""

    run_id: str
    source: str
    bundle_id: str
    discovered: int = 0
    indexed: int = 0
    skipped: int = 0  # unchanged since the last run (same fingerprint and bundle)
    failed: int = 0  # rows in errors.jsonl
    pruned: int = 0
    seconds: float = 0.0
    parts_per_s: float = 0.0  # indexed parts per second of the whole run
    errors_path: str = ""
    systemic: bool = False
    stages: dict[str, int] = field(default_factory=dict)  # failures per stage
    nodes: dict[str, dict[str, int]] = field(default_factory=dict)  # stage -> Ray node -> parts

    def line(self) -> str:
        return (
            f"indexed {self.indexed}, skipped {self.skipped}, failed {self.failed}, "
            f"pruned {self.pruned} of {self.discovered} parts in {self.seconds:.1f} s "
            f"({self.parts_per_s:.2f} parts/s); errors: {self.errors_path}"
        )

    def table(self) -> str:
        """The run as a two-column table a person reads at the end of ``cadsearch index``."""
        rows = [
            ("discovered", self.discovered),
            ("indexed", self.indexed),
            ("skipped (unchanged)", self.skipped),
            ("failed", self.failed),
            *((f"  failed at {stage}", n) for stage, n in self.stages.items()),
            ("pruned", self.pruned),
            ("seconds", f"{self.seconds:.1f}"),
            ("parts/s", f"{self.parts_per_s:.2f}"),
            ("errors", self.errors_path),
        ]
        width = max(len(name) for name, _ in rows)
        rule = "-" * (width + 2 + max(len(str(value)) for _, value in rows))
        body = [f"{name:<{width}}  {value}" for name, value in rows]
        return "\n".join([rule, *body, rule])


def plan(sources, existing: dict[str, Any], bundle_id: str, full: bool):
    """Split discovered parts into (todo, unchanged): unchanged = same fingerprint and bundle."""
    todo, unchanged = [], []
    for source in sources:
        entry = existing.get(source.part_id)
        same = (
            entry is not None
            and source.fingerprint
            and entry.fingerprint == source.fingerprint
            and entry.bundle_id == bundle_id
        )
        (unchanged if same and not full else todo).append(source)
    return todo, unchanged


def build_dataset(rows: list[dict], settings, uses_b2: bool):
    """The Ray Data pipeline up to the write: prepare tasks, then the encoder actor pool."""
    import ray

    from data_jobs.catalog.families import CATEGORIES
    from encoders.parts.encode import EncodeParts, kind_options

    from .prepare import prepare_batch

    index = settings.index
    blocks = max(1, math.ceil(len(rows) / index.prepare_batch_size))
    ds = ray.data.from_items(rows, override_num_blocks=blocks)
    ds = ds.map_batches(
        prepare_batch,
        fn_kwargs={"settings": settings, "uses_b2": uses_b2},
        batch_size=index.prepare_batch_size,
        num_cpus=index.prepare_num_cpus,
        resources=index.prepare_resources or None,
        # retries when a worker process dies (a crash in a native loader); also keeps Ray Data
        # from fusing this CPU stage into the encoder actors
        max_retries=index.prepare_max_retries,
    )
    return ds.map_batches(
        EncodeParts,
        fn_constructor_kwargs={
            "bundle": settings.model.bundle,
            "device": "cuda" if index.encode_num_gpus > 0 else settings.model.device,
            "torch_threads": index.torch_threads,
            "runtime": index.clip_runtime,
            **kind_options(index, CATEGORIES),
        },
        batch_size=index.encode_batch_size,
        compute=ray.data.ActorPoolStrategy(
            min_size=index.encode_actors, max_size=index.encode_actors_max or index.encode_actors
        ),
        num_cpus=index.encode_num_cpus,
        num_gpus=index.encode_num_gpus or None,
        resources=index.encode_resources or None,
        # Ray Data hands its actors their callable through the object store; with restarts on,
        # Ray logs an ERROR for every actor start. A dead encoder fails the run instead: a
        # rerun resumes after the parts already written
        max_restarts=0,
    )


def run_index(
    source: str,
    settings,
    *,
    full: bool = False,
    prune: bool = False,
    b2_api=None,
    run_dir: str | Path | None = None,
) -> IndexSummary:
    """Index a catalog (folder, manifest or b2:// prefix) into the configured collection.

    Parts whose fingerprint and bundle are unchanged are skipped before any rendering (``full``
    re-encodes everything); ``prune`` removes parts whose source disappeared. Every discovered
    part ends in the collection or as a row of errors.jsonl. Raises SystemicError when the job
    cannot run at all.
    """
    from data_jobs.sources import discover
    from encoders.bundle import load_bundle
    from store.views import open_view_store

    from .service_writer import ServiceWriteError, open_writer

    started = time.perf_counter()
    run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ-") + uuid.uuid4().hex[:6]
    run_dir = Path(run_dir or Path(settings.index.reports_dir) / run_id)
    report = ErrorReport(run_dir / "errors.jsonl")
    try:
        bundle = load_bundle(settings.model.bundle)
        settings = bundle.effective_settings(settings)
        spec = bundle.collection_spec()
        sources = discover(source, settings, b2_api=b2_api)
        view_store = open_view_store(settings.views, b2_api=b2_api)
        # the store, or the search service that holds the Edge shard: one writer either way
        writer = open_writer(settings, spec, view_store)
    except Exception as e:
        raise SystemicError(f"cannot start indexing {source}: {type(e).__name__}: {e}") from e

    summary = IndexSummary(run_id, str(source), bundle.id, discovered=len(sources))
    summary.errors_path = str(report.path)
    result = WriteResult()
    try:
        existing = writer.existing()
        todo, unchanged = plan(sources, existing, bundle.id, full)
        summary.skipped = len(unchanged)
        if prune:
            known = {s.part_id for s in sources}
            gone = sorted(set(existing) - known)
            summary.pruned = writer.delete(gone) if gone else 0
        # problems known from discovery alone (unsupported type, missing file) skip the cluster
        runnable = []
        for part in todo:
            problem = part.problem()
            if problem is None:
                runnable.append(part)
            else:
                result.errors.append(exception_record(part.part_id, part.uri, "discover", problem))
        report.add(result.errors)
        if runnable:
            result.merge(_run_pipeline(runnable, settings, writer, report, spec, b2_api))
        # also when nothing was written: what a search service wrote gets its indexes here
        writer.optimize()
    except ServiceWriteError as e:
        raise SystemicError(f"{e} (what was written stays: a rerun resumes after it)") from e
    finally:
        writer.close()
    summary.indexed = len(result.indexed)
    summary.failed = len(result.errors)
    summary.nodes = result.nodes
    for error in result.errors:
        summary.stages[error["stage"]] = summary.stages.get(error["stage"], 0) + 1
    summary.seconds = round(time.perf_counter() - started, 3)
    summary.parts_per_s = round(summary.indexed / summary.seconds, 3) if summary.seconds else 0.0
    internal = [e for e in result.errors if e.get("code") == "internal"]
    summary.systemic = bool(runnable) and not result.indexed and len(internal) == len(runnable)
    (run_dir / "summary.json").write_text(json.dumps(asdict(summary), indent=2))
    return summary


def _run_pipeline(parts, settings, writer, report, spec, b2_api) -> WriteResult:
    """Run the Ray Data stages and write their output (streaming, as blocks finish)."""
    import ray

    from .write import PartsDatasink

    rows = []
    for part in parts:
        row = part.to_row()
        # an in-process B2 client (explicit b2_api) cannot travel to workers: read here instead
        row["data"] = _read_inline(part, b2_api) if b2_api is not None else b""
        rows.append(row)
    uses_b2 = b2_api is None and any(part.uri.startswith("b2://") for part in parts)
    started_ray = ensure_ray(settings.index.ray_address)
    try:
        ds = build_dataset(rows, settings, uses_b2)
        result = WriteResult()
        if writer.streams:
            # Qdrant Edge has exactly one writer: this process, which holds the shard, or the
            # search service that holds it; each batch is flushed, so a rerun resumes after it
            for batch in ds.iter_batches(
                batch_size=settings.index.write_batch_size, batch_format="pyarrow"
            ):
                written = writer.write(batch.to_pylist())
                report.add(written.errors)
                result.merge(written)
        else:
            sink = PartsDatasink(settings, spec, str(report.path))
            ds.write_datasink(sink)
            result.merge(sink.result)
        return result
    finally:
        if started_ray:
            ray.shutdown()


def _read_inline(part, b2_api) -> bytes:
    from encoders.parts.source import read_part_bytes

    try:
        return read_part_bytes(part.uri, b2_api=b2_api)
    except Exception:
        return b""  # the prepare stage reads again and reports the failure
