"""Training data job (Ray Data): catalogs in, parquet shards of prepared parts out.

One row a part: ``part_id``, ``source`` (the catalog's name), ``split`` (``data_jobs.splits``),
``category``, ``name``, ``description`` (the text its index entry is made from),
``descriptions`` (the manifest's variants), ``points`` (float32 bytes, ``(points_factor *
num_points, 3)``: the trainer draws ``num_points`` of them afresh each epoch), ``views_png`` (the
bundle's view set at its image size, PNG), ``extra_views_png`` (views from seeded random angles,
for the image tower to see more than the indexed angles) and ``extents_mm``.

Parts that fail go to ``errors.jsonl`` (the same record as the reindex job's), never stop the job.
``summary.json`` counts rows per source, split and category.
"""

from __future__ import annotations

import json
import math
import time
import traceback
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from data_jobs.catalog.unseen import refuse_unseen
from data_jobs.ray_setup import ensure_ray
from data_jobs.splits import DEFAULT_HOLDOUT, split_of
from store.rows import batch_to_rows, error_record, exception_record, rows_to_batch

if TYPE_CHECKING:
    from cadsearch.settings import Settings

SHARDS_DIR = "shards"
ERRORS_FILE = "errors.jsonl"
SUMMARY_FILE = "summary.json"
COLUMNS = (
    "part_id",
    "source",
    "split",
    "category",
    "name",
    "description",
    "descriptions",
    "points",
    "views_png",
    "extra_views_png",
    "extents_mm",
    "error",
)


@dataclass
class TrainingDataSummary:
    out_dir: str
    rows: int
    errors: int
    by_source: dict[str, int]
    by_split: dict[str, int]
    categories: dict[str, int]
    num_points: int
    stored_points: int
    image_size: int
    view_set: str
    extra_views: int
    wall_s: float
    shards: list[str] = field(default_factory=list)


def catalog_name(spec: str) -> tuple[str, str]:
    """``"name=path"`` or ``"path"`` (named after its folder) -> (name, path)."""
    name, sep, path = spec.partition("=")
    if sep and name and "/" not in name:
        return name, path
    return Path(spec.rstrip("/")).name or "catalog", spec


def extra_view_specs(part_id: str, count: int, seed: int) -> list:
    """``count`` camera directions for a part, seeded by its id: azimuth uniform, elevation
    uniform on the sphere's band within +-70 degrees (so no view repeats an indexed angle)."""
    from encoders.geometry.render import ViewSpec
    from encoders.geometry.sample import part_seed

    rng = np.random.default_rng(part_seed(seed, part_id))
    specs = []
    for i in range(count):
        azimuth = float(rng.uniform(0.0, 360.0))
        elevation = math.degrees(math.asin(rng.uniform(-0.94, 0.94)))
        specs.append(ViewSpec(f"random{i}", azimuth, elevation))
    return specs


def _variants(metadata: dict[str, Any]) -> list[str]:
    texts = [str(t).strip() for t in metadata.get("descriptions") or [] if str(t).strip()]
    first = str(metadata.get("description") or "").strip()
    if first and first not in texts:
        texts.insert(0, first)
    return texts


def prepare_training_row(
    row: dict[str, Any], settings: Settings, options: dict[str, Any]
) -> dict[str, Any]:
    """One discovered part to a training row, or a row whose ``error`` is an errors.jsonl JSON."""
    from encoders.geometry.prepare import prepare_part
    from encoders.geometry.render import get_renderer
    from encoders.geometry.sample import part_seed, sample_points
    from encoders.parts.source import PartSource, read_part_bytes

    source = PartSource.from_row(row)
    try:
        problem = source.problem()
        if problem is not None:
            raise problem
        data = read_part_bytes(source.uri)
        prepared = prepare_part(
            data, source.part_id, source.metadata, settings, file_type=source.file_type
        )
        stored = int(options["points_factor"]) * settings.sampling.num_points
        seed = part_seed(settings.sampling.seed + 1, source.part_id)  # not the index's points
        points = sample_points(prepared.part.mesh, stored, seed)
        specs = extra_view_specs(source.part_id, int(options["extra_views"]), int(options["seed"]))
        extra = get_renderer(settings.render).render(prepared.part.mesh, specs) if specs else []
    except Exception as e:
        record = exception_record(source.part_id, source.uri, "prepare", e)
        if getattr(e, "code", None) is None:
            detail = traceback.format_exception_only(type(e), e)[-1].strip()
            record = error_record(
                source.part_id, source.uri, "prepare", type(e).__name__, "internal", detail
            )
        return {
            **{c: None for c in COLUMNS},
            "part_id": source.part_id,
            "error": json.dumps(record),
        }
    metadata = source.metadata
    return {
        "part_id": source.part_id,
        "source": row["source"],
        "split": row["split"],
        "category": str(metadata.get("category") or ""),
        "name": str(metadata.get("name") or source.part_id),
        "description": prepared.description,
        "descriptions": _variants(metadata),
        "points": np.ascontiguousarray(points, dtype=np.float32).tobytes(),
        "views_png": [view.png() for view in prepared.views],
        "extra_views_png": [view.png() for view in extra],
        "extents_mm": [float(v) for v in prepared.facts.extents_mm],
        "error": "",
    }


def prepare_training_batch(batch: dict[str, Any], settings: Settings, options_json: str) -> dict:
    """Ray Data batch function: the renderer is cached per worker process."""
    options = json.loads(options_json)
    rows = [prepare_training_row(row, settings, options) for row in batch_to_rows(batch)]
    return rows_to_batch(rows, COLUMNS)


def check_shards(shard_dirs: Sequence[str | Path]) -> None:
    """Refuse training shards that hold unseen parts (``data_jobs.catalog.unseen``).

    Reads only the ``part_id`` and ``category`` columns of each parquet file.
    Raises UnseenPartsError naming the families / folders / kinds and a count.
    """
    import pyarrow.parquet as pq

    for folder in shard_dirs:
        rows = []
        for path in sorted(Path(folder).glob("*.parquet")):
            rows += pq.read_table(path, columns=["part_id", "category"]).to_pylist()
        refuse_unseen(rows, str(folder))


def training_shards(data_dirs: Sequence[str | Path]) -> list[str]:
    """The shard folders of training data folders, for the trainer: each must hold parquet
    files, and none may hold unseen parts (UnseenPartsError, see ``check_shards``)."""
    shards = [str(Path(folder) / SHARDS_DIR) for folder in data_dirs]
    for folder in shards:
        if not any(Path(folder).glob("*.parquet")):
            raise FileNotFoundError(f"no training shards in {folder}; run the training data job")
    check_shards(shards)  # no shipped bundle may train on the unseen parts (docs/unseen.md)
    return shards


def build_training_data(
    catalogs: Sequence[str],
    out_dir: str | Path,
    *,
    bundle: str = "cad-mini",
    settings: Settings,
    extra_views: int = 4,
    points_factor: int = 2,
    holdout: float = DEFAULT_HOLDOUT,
    seed: int = 0,
    limit: int | None = None,
    rows_per_shard: int = 256,
    concurrency: int | None = None,
) -> TrainingDataSummary:
    """Prepare every part of the catalogs into ``out_dir/shards/*.parquet``.

    catalogs : folders or manifests, each optionally ``name=path`` (the rows' ``source``)
    extra_views : random-angle views per part besides the bundle's view set
    points_factor : points stored per part, in units of the bundle's point count
    limit : at most this many parts per catalog (first by part id), for quick runs
    Raises UnseenPartsError, before any part is prepared, when a catalog holds parts of the
    families or KiCad folders no shipped bundle may train on (``data_jobs.catalog.unseen``).
    """
    import ray

    from data_jobs.sources import discover

    if extra_views < 0:
        raise ValueError(f"extra_views must be >= 0, got {extra_views}")
    from encoders.bundle import load_bundle

    t0 = time.perf_counter()
    model = load_bundle(bundle)
    settings = model.effective_settings(settings)  # the bundle's points, views, image size
    out = Path(out_dir)
    shards = out / SHARDS_DIR
    if shards.exists() and any(shards.iterdir()):
        raise FileExistsError(f"{shards} is not empty; choose a new --out")
    rows, errors = [], []
    for spec in catalogs:
        name, path = catalog_name(spec)
        sources = discover(path, settings)
        # before any part is read or rendered: no shipped bundle may see these parts
        refuse_unseen(
            ({"part_id": p.part_id, **p.metadata} for p in sources[: limit or None]), path
        )
        for part in sources[: limit or None]:
            problem = part.problem()
            if problem is not None:
                errors.append(exception_record(part.part_id, part.uri, "discover", problem))
                continue
            row = part.to_row()
            row.update(source=name, split=split_of(part.part_id, holdout))
            rows.append(row)
    if not rows:
        raise ValueError(f"no readable parts in {list(catalogs)}")
    out.mkdir(parents=True, exist_ok=True)
    options = {"extra_views": extra_views, "points_factor": points_factor, "seed": seed}
    ensure_ray()  # quiet: one progress bar on a terminal
    ds = ray.data.from_items(rows).map_batches(
        prepare_training_batch,
        fn_kwargs={
            "settings": settings,  # reaches the workers without secrets
            "options_json": json.dumps(options),
        },
        batch_size=4,
        num_cpus=1,
        concurrency=concurrency,
    )
    ds = ds.materialize()
    for batch in ds.filter(lambda r: bool(r["error"])).iter_rows():
        errors.append(json.loads(batch["error"]))
    good = ds.filter(lambda r: not r["error"])
    good.write_parquet(str(shards), min_rows_per_file=rows_per_shard)
    with open(out / ERRORS_FILE, "w", encoding="utf-8") as f:
        for record in errors:
            f.write(json.dumps(record) + "\n")
    counts: dict[str, Counter] = {"source": Counter(), "split": Counter(), "category": Counter()}
    for row in good.select_columns(["source", "split", "category"]).iter_rows():
        for key, counter in counts.items():
            counter[row[key]] += 1
    summary = TrainingDataSummary(
        out_dir=str(out),
        rows=sum(counts["split"].values()),
        errors=len(errors),
        by_source=dict(counts["source"]),
        by_split=dict(counts["split"]),
        categories=dict(sorted(counts["category"].items())),
        num_points=settings.sampling.num_points,
        stored_points=points_factor * settings.sampling.num_points,
        image_size=settings.render.image_size,
        view_set=settings.render.view_set,
        extra_views=extra_views,
        wall_s=round(time.perf_counter() - t0, 1),
        shards=sorted(p.name for p in shards.glob("*.parquet")),
    )
    (out / SUMMARY_FILE).write_text(json.dumps(asdict(summary), indent=2), encoding="utf-8")
    return summary
