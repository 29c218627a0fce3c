"""``cadsearch train``: a Ray Train TorchTrainer over the training shards; the output is a bundle.

The driver reads the shard folders it is handed (``data_jobs.training_data`` writes them) with
Ray Data, splits train / held-out by the rows' ``split``, encodes every description once with the
locked text tower, and starts ``train.num_workers`` workers (CPU here, GPUs on a cluster) running
``encoders.train.loop.train_loop``. Each epoch reports metrics and a checkpoint; a run started
again with the same ``run_dir`` and name resumes from its latest checkpoint (Ray Train restores
it), and ``resume_from`` starts from any checkpoint folder. The last checkpoint becomes a bundle.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from encoders.train.loop import CHECKPOINT_FILE, LoopConfig, texts_of, train_loop

if TYPE_CHECKING:
    from cadsearch.settings import TrainSettings

TEXT_CACHE = "text_cache.npz"
TRAINING_FILE = "training.json"


@dataclass
class TrainResult:
    bundle_path: str
    bundle_id: str
    mode: str
    epochs: int
    train_rows: int
    val_rows: int
    history: list[dict[str, Any]]
    wall_s: float


def _texts(rows: list[dict[str, Any]]) -> list[str]:
    """Every distinct text of the rows, in first-seen order."""
    seen = dict.fromkeys(
        t for row in rows for t in texts_of(row["description"], row["descriptions"])
    )
    return list(seen)


def text_cache(bundle, rows: list[dict[str, Any]], path: Path) -> Path:
    """Encode every description once with the bundle's (locked) text tower into ``path``."""
    texts = _texts(rows)
    if path.exists():
        cached = np.load(path, allow_pickle=False)
        if set(map(str, cached["texts"])) >= set(texts):
            return path
    clip = bundle.load_clip(text_only=True)
    vectors = clip.encode_text(texts, batch_size=128)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, texts=np.array(texts, dtype=object).astype(str), vectors=vectors)
    os.replace(tmp, path)
    return path


def init_bundle(init: str | None, run_dir: Path):
    """The bundle training starts from: a given one, or cad-mini's untrained architecture built
    from its seed (``encoders.make_bundle``)."""
    from encoders.bundle import load_bundle
    from encoders.make_bundle import build_cad_mini

    if init:
        return load_bundle(init)
    folder = run_dir / "init-bundle"
    if (folder / "bundle.json").exists():
        return load_bundle(folder)
    return build_cad_mini(folder)


def validation_parts(part_ids: list[str], n: int) -> list[str]:
    """The ``n`` parts scored after each epoch: a fixed, spread-out pick of ``part_ids``."""
    import hashlib

    digest = {pid: hashlib.sha256(pid.encode()).hexdigest() for pid in part_ids}
    return sorted(sorted(set(part_ids), key=digest.__getitem__)[: max(0, int(n))])


def run_training(
    shards: Sequence[str | Path],
    out: str | Path,
    *,
    train: TrainSettings,
    name: str = "cad-mini",
    init: str | None = None,
    run_dir: str | Path | None = None,
    run_name: str = "train",
    resume_from: str | Path | None = None,
    overwrite: bool = False,
) -> TrainResult:
    """Train on the parquet files of ``shards`` (folders, checked by the caller: see
    ``data_jobs.training_data.training_shards``) and write the bundle ``name`` into ``out``.

    train : the ``train`` section of the settings (mode, epochs, batch size, workers, ...)
    """
    import ray
    from ray.train import Checkpoint, CheckpointConfig, DataConfig, RunConfig, ScalingConfig
    from ray.train.torch import TorchTrainer

    t0 = time.perf_counter()
    shards = [str(folder) for folder in shards]
    run_dir = Path(run_dir or Path(out).with_name(Path(out).name + "-run")).resolve()
    run_dir.mkdir(parents=True, exist_ok=True)
    if (Path(out) / "bundle.json").exists() and not overwrite:
        raise FileExistsError(f"{out} already holds a bundle; pass overwrite=True to replace it")
    for folder in shards:
        if not any(Path(folder).glob("*.parquet")):
            raise FileNotFoundError(f"no training shards in {folder}; run the training data job")
    base = init_bundle(init, run_dir)

    ray.init(ignore_reinit_error=True, log_to_driver=True)
    ray.data.DataContext.get_current().enable_progress_bars = False
    # read once into the object store: epochs then stream from memory, not from parquet
    dataset = ray.data.read_parquet(shards).materialize()
    columns = ["part_id", "split", "category", "description", "descriptions"]
    meta = dataset.select_columns(columns).take_all()
    categories = sorted({str(r["category"]) for r in meta})
    train_rows = sum(r["split"] == "train" for r in meta)
    val_rows = len(meta) - train_rows
    if train_rows < train.batch_size:
        raise ValueError(f"{train_rows} training rows: fewer than one batch of {train.batch_size}")
    cache = text_cache(base, meta, run_dir / TEXT_CACHE)
    threads = train.torch_threads or min(4, os.cpu_count() or 1)
    # typed and checked here, handed to the workers as the plain dict Ray Train takes
    config = asdict(
        LoopConfig.from_dict(
            {
                **train.model_dump(),
                "torch_threads": threads,
                "init_bundle": str(base.path),
                "text_cache": str(cache),
                "categories": categories,
                "train_rows": train_rows,
            }
        )
    )
    datasets = {"train": dataset.filter(lambda r: r["split"] == "train").materialize()}
    if train.val_parts and val_rows:
        # the same held-out parts every epoch and every run (resumed or not): the first
        # val_parts by a hash of the part id, not whatever blocks come first
        chosen = set(
            validation_parts([r["part_id"] for r in meta if r["split"] != "train"], train.val_parts)
        )
        datasets["val"] = dataset.filter(lambda r: r["part_id"] in chosen).materialize()
    trainer = TorchTrainer(
        train_loop,
        train_loop_config=config,
        scaling_config=ScalingConfig(
            num_workers=train.num_workers,
            use_gpu=train.use_gpu,
            resources_per_worker={
                "CPU": train.cpus_per_worker,
                **({"GPU": 1} if train.use_gpu else {}),
            },
        ),
        run_config=RunConfig(
            name=run_name,
            storage_path=str(run_dir),
            checkpoint_config=CheckpointConfig(num_to_keep=train.checkpoints_to_keep),
        ),
        datasets=datasets,
        dataset_config=DataConfig(datasets_to_split=["train"]),
        resume_from_checkpoint=Checkpoint.from_directory(str(resume_from)) if resume_from else None,
    )
    result = trainer.fit()
    if result.checkpoint is None:
        raise RuntimeError(f"training reported no checkpoint: {result.error}")
    with result.checkpoint.as_directory() as folder:
        import torch

        state = torch.load(Path(folder) / CHECKPOINT_FILE, map_location="cpu", weights_only=False)
    bundle = write_bundle(base, state, out, name=name, mode=train.mode, overwrite=overwrite)
    summary = TrainResult(
        bundle_path=str(bundle.path),
        bundle_id=bundle.id,
        mode=train.mode,
        epochs=len(state["history"]),
        train_rows=train_rows,
        val_rows=val_rows,
        history=state["history"],
        wall_s=round(time.perf_counter() - t0, 1),
    )
    record = {
        **asdict(summary),
        "config": {k: v for k, v in config.items() if k != "categories"},
        "categories": categories,
        "data_dirs": [str(Path(folder).parent) for folder in shards],
        # what this run started from: a trained bundle makes this run one stage of a longer recipe
        "init_bundle_id": base.id,
        # (the text tower is pretrained MiniLM even in the untrained architecture)
        "init_trained": bool(base.trained["image_tower"] or base.trained["geometry_encoder"]),
    }
    (bundle.path / TRAINING_FILE).write_text(json.dumps(record, indent=2), encoding="utf-8")
    return summary


def write_bundle(
    base, state: dict[str, Any], out: str | Path, *, name: str, mode: str, overwrite: bool = False
):
    """A bundle from the base bundle with the checkpoint's trained weights."""
    from encoders.bundle import save_bundle

    clip = base.load_clip()
    clip.model.visual.load_state_dict(state["visual"])
    geometry = base.load_geometry_encoder()
    geometry.load_state_dict(state["geometry"])
    trained = dict(base.trained)
    trained["geometry_encoder"] = True
    if mode == "B":
        trained["image_tower"] = True
    return save_bundle(
        out,
        name=name,
        clip=clip,
        geometry=geometry.eval(),
        num_points=base.num_points,
        view_set=base.view_set,
        trained=trained,
        locked=base.clip.get("locked"),
        storage_dtype=base.storage_dtype,
        overwrite=overwrite,
    )
