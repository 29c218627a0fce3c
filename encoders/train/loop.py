"""The Ray Train worker loop: contrastive alignment of the geometry encoder (and image tower).

Mode A (the sketch's recipe): CLIP frozen; the geometry encoder learns the symmetric contrastive
loss against the text and image embeddings of its part. Mode B (the offline default, whose image
tower starts random): the image tower is trained too, against the locked text tower, and the
geometry encoder against both. Text embeddings come precomputed (the text tower is locked in both
modes), keyed by text in ``text_cache``.
"""

from __future__ import annotations

import functools
import math
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, fields
from dataclasses import field as dc_field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from encoders.train.augment import PointAugment, ViewAugment
from encoders.train.losses import ContrastiveLoss

CHECKPOINT_FILE = "state.pt"
BN_BATCHES = 16  # training batches the geometry encoder's BatchNorm statistics are averaged over
BN_IMAGE_BATCHES = 6  # the image tower's (a ResNet)
PAIRS = {
    "A": ("geometry-text", "geometry-image"),
    "B": ("image-text", "geometry-text", "geometry-image"),
}


class AlignModel(nn.Module):
    """The trained parts: the geometry encoder, the image tower (mode B) and the temperature."""

    def __init__(
        self, geometry: nn.Module, visual: nn.Module, loss: ContrastiveLoss, train_image: bool
    ):
        super().__init__()
        self.geometry = geometry
        self.visual = visual
        self.loss = loss
        self.train_image = train_image
        for p in self.visual.parameters():
            p.requires_grad_(train_image)

    def forward(
        self, points: torch.Tensor, pixels: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, N, 3) points and (B, 3, H, W) pixels -> unit geometry and image vectors."""
        return self.encode_geometry(points), self.encode_image(pixels)

    def encode_geometry(self, points: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.geometry(points).float(), dim=-1)

    def encode_image(self, pixels: torch.Tensor) -> torch.Tensor:
        if self.train_image:
            return F.normalize(self.visual(pixels).float(), dim=-1)
        with torch.no_grad():
            return F.normalize(self.visual(pixels).float(), dim=-1)


def recalibrate_batchnorm(module: nn.Module, inputs: list[torch.Tensor]) -> None:
    """Reset BatchNorm running statistics to their exact average over ``inputs`` (train-mode
    forward passes, no gradients; dropout off), as inference in eval mode will see them.

    The running averages a short run leaves (momentum 0.1 from the initial 0 / 1) can be far
    from the trained weights' statistics; a recalibration pass makes eval mode match.
    """
    norms = [m for m in module.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not norms or not inputs:
        return
    momenta = [m.momentum for m in norms]
    was_training = module.training
    module.train()
    for m in module.modules():
        if isinstance(m, nn.Dropout):
            m.eval()
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative average
    with torch.no_grad():
        for x in inputs:
            module(x)
    for m, momentum in zip(norms, momenta, strict=True):
        m.momentum = momentum
    module.train(was_training)


def cosine_schedule(step: int, total: int, warmup: int) -> float:
    """LR factor: linear warm-up, then cosine down to 5%."""
    if warmup and step < warmup:
        return (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * progress))


def load_text_cache(path: str) -> tuple[dict[str, int], np.ndarray]:
    data = np.load(path, allow_pickle=False)
    texts = [str(t) for t in data["texts"]]
    return {t: i for i, t in enumerate(texts)}, data["vectors"].astype(np.float32)


def texts_of(row_description: str, variants: Any) -> list[str]:
    """A row's texts: its indexed description first, then its non-empty variants."""
    texts = [str(row_description)]
    if variants is not None:
        texts += [str(t) for t in list(variants) if str(t)]
    return texts


def make_batch(
    batch: dict[str, Any],
    *,
    rng: np.random.Generator,
    text_index: dict[str, int],
    text_vectors: np.ndarray,
    categories: dict[str, int],
    num_points: int,
    point_aug: PointAugment | None,
    view_aug: ViewAugment,
    train: bool,
    with_images: bool = True,
) -> dict[str, torch.Tensor]:
    """A Ray Data numpy batch -> tensors: points (B, N, 3), pixels (B, 3, H, W), text (B, D),
    labels (B,). Training draws a random description variant, points and view per part."""
    n = len(batch["part_id"])
    points, pixels, text, labels = [], [], [], []
    for i in range(n):
        stored = np.frombuffer(batch["points"][i], dtype=np.float32).reshape(-1, 3)
        if train and point_aug is not None:
            points.append(point_aug(stored.copy(), num_points, rng))
        elif train:
            points.append(stored[rng.choice(len(stored), num_points, replace=False)])
        else:
            points.append(np.ascontiguousarray(stored[:num_points]))
        texts = texts_of(batch["description"][i], batch["descriptions"][i])
        chosen = texts[int(rng.integers(len(texts)))] if train else texts[0]
        text.append(text_vectors[text_index[chosen]])
        labels.append(categories.get(str(batch["category"][i]), -1))
        if with_images:
            views = list(batch["views_png"][i])
            if train:
                views += list(
                    batch["extra_views_png"][i] if batch["extra_views_png"][i] is not None else []
                )
                png = views[int(rng.integers(len(views)))]
            else:
                png = views[0]
            pixels.append(view_aug(png, train=train))
    out = {
        "points": torch.from_numpy(np.stack(points)),
        "text": torch.from_numpy(np.stack(text)),
        "labels": torch.tensor(labels),
    }
    if with_images:
        out["pixels"] = torch.stack(pixels)
    return out


def _category_top1(
    query: torch.Tensor, keys: torch.Tensor, labels: torch.Tensor, exclude_self: bool
) -> float:
    sims = query @ keys.t()
    if exclude_self:
        sims.fill_diagonal_(-2.0)
    return float((labels[sims.argmax(dim=1)] == labels).float().mean())


def validate(model: AlignModel, batches: list[dict[str, torch.Tensor]], device) -> dict[str, float]:
    """Category accuracy of nearest neighbours on held-out parts (no augmentation)."""
    model.eval()
    geo, img, txt, lab = [], [], [], []
    with torch.no_grad():
        for b in batches:
            geo.append(model.encode_geometry(b["points"].to(device)).cpu())
            img.append(model.encode_image(b["pixels"].to(device)).cpu())
            txt.append(F.normalize(b["text"].float(), dim=-1))
            lab.append(b["labels"])
    model.train()
    if not geo:
        return {}
    g, i, t, y = torch.cat(geo), torch.cat(img), torch.cat(txt), torch.cat(lab)
    return {
        "val_geometry_nn_top1": _category_top1(g, g, y, exclude_self=True),
        "val_image_nn_top1": _category_top1(i, i, y, exclude_self=True),
        "val_image_to_geometry_top1": _category_top1(i, g, y, exclude_self=False),
        "val_text_to_geometry_top1": _category_top1(t, g, y, exclude_self=False),
        "val_text_to_image_top1": _category_top1(t, i, y, exclude_self=False),
        "val_geometry_to_text_top1": _category_top1(g, t, y, exclude_self=False),
        "val_parts": float(len(y)),
    }


@dataclass(frozen=True)
class LoopConfig:
    """What each training worker needs. Ray Train hands it over as a dict (``from_dict``)."""

    init_bundle: str  # bundle directory the encoders start from
    text_cache: str  # .npz of precomputed text embeddings, keyed by text
    categories: list[str]  # category vocabulary; a row's label is its index here
    train_rows: int  # training rows in all (steps per epoch follow from it)
    mode: str  # "A": CLIP frozen; "B": the image tower trains too
    epochs: int
    batch_size: int  # per worker
    lr: float  # geometry encoder and temperature
    image_lr: float  # image tower (mode B)
    weight_decay: float
    warmup_epochs: float
    temperature: float  # initial contrastive temperature
    category_weight: float  # weight of the same-category positives in the loss
    points_augment: bool
    views_augment: bool
    mixed_precision: bool  # autocast on CUDA only
    val_parts: int  # held-out parts validated on rank 0 after each epoch (0: none)
    seed: int
    torch_threads: int

    @classmethod
    def from_dict(cls, config: dict[str, Any]) -> LoopConfig:
        """The loop's fields of a config dict (the train settings carry more, e.g. workers)."""
        return cls(**{f.name: config[f.name] for f in fields(cls)})


@dataclass
class LoopState:
    """Where training stands: restored from a checkpoint, saved with each epoch's report."""

    epoch: int = 0  # the next epoch to run
    step: int = 0
    history: list[dict[str, Any]] = dc_field(default_factory=list)


@dataclass
class WorkerRun:
    """A worker's fixed parts of the run, built once before the first epoch."""

    config: LoopConfig
    model: AlignModel
    wrapped: nn.Module  # the model as trained (DDP-wrapped with several workers)
    optimizer: torch.optim.Optimizer
    base_lrs: list[float]  # each parameter group's peak learning rate
    batch_of: Callable[..., dict[str, torch.Tensor]]  # (raw, rng=, train=) -> tensors
    device: torch.device
    use_amp: bool
    amp_dtype: torch.dtype
    rank: int
    world: int
    steps_per_epoch: int
    val_batches: list[dict[str, torch.Tensor]]


def build_model(config: LoopConfig):
    """``(bundle, clip, model)``: the start bundle's towers wrapped for training."""
    from encoders.bundle import load_bundle

    bundle = load_bundle(config.init_bundle)
    clip = bundle.load_clip()
    loss = ContrastiveLoss(PAIRS[config.mode], config.temperature, config.category_weight)
    model = AlignModel(
        bundle.load_geometry_encoder(), clip.model.visual, loss, train_image=config.mode == "B"
    )
    model.train()
    if config.mode == "A":
        model.visual.eval()
    return bundle, clip, model


def build_optimizer(model: AlignModel, config: LoopConfig) -> torch.optim.Optimizer:
    """AdamW over the geometry encoder and temperature, plus the image tower in mode B."""
    params = list(model.geometry.parameters()) + [model.loss.logit_scale]
    groups = [{"params": params, "lr": config.lr}]
    if config.mode == "B":
        groups.append({"params": list(model.visual.parameters()), "lr": config.image_lr})
    return torch.optim.AdamW(groups, weight_decay=config.weight_decay)


def restore(model: AlignModel, optimizer: torch.optim.Optimizer) -> LoopState:
    """The state of Ray Train's latest checkpoint loaded into model and optimizer, if any."""
    import ray.train

    checkpoint = ray.train.get_checkpoint()
    if checkpoint is None:
        return LoopState()
    with checkpoint.as_directory() as folder:
        path = os.path.join(folder, CHECKPOINT_FILE)
        state = torch.load(path, map_location="cpu", weights_only=False)
    model.geometry.load_state_dict(state["geometry"])
    model.visual.load_state_dict(state["visual"])
    model.loss.load_state_dict(state["loss"])
    optimizer.load_state_dict(state["optimizer"])
    return LoopState(state["epoch"] + 1, state["step"], state["history"])


def validation_batches(config: LoopConfig, batch_of) -> list[dict[str, torch.Tensor]]:
    """The first ``val_parts`` held-out parts as un-augmented batches (rank 0 only)."""
    import ray.train

    if not config.val_parts or ray.train.get_context().get_world_rank() != 0:
        return []
    out: list = []
    rng = np.random.default_rng(config.seed)
    shard = ray.train.get_dataset_shard("val")
    for raw in shard.iter_batches(batch_size=64, batch_format="numpy"):
        out.append(batch_of(raw, rng=rng, train=False))
        if sum(len(b["labels"]) for b in out) >= config.val_parts:
            break
    return out


def train_epoch(epoch: int, state: LoopState, run: WorkerRun) -> dict[str, Any]:
    """One pass over this worker's shard; returns the epoch's metrics (state.step advances)."""
    import ray.train

    config, model, optimizer, device = run.config, run.model, run.optimizer, run.device
    total_steps = run.steps_per_epoch * config.epochs
    warmup = int(config.warmup_epochs * run.steps_per_epoch)
    rng = np.random.default_rng([config.seed, run.rank, epoch])
    t0, seen, sums = time.perf_counter(), 0, {}
    recent: list[torch.Tensor] = []  # the epoch's last point batches, for BatchNorm
    recent_pixels: list[torch.Tensor] = []  # and view batches (fewer: they are large)
    batches = ray.train.get_dataset_shard("train").iter_batches(
        batch_size=config.batch_size,
        batch_format="numpy",
        drop_last=True,
        local_shuffle_buffer_size=config.batch_size * 8,
        local_shuffle_seed=config.seed * 1000 + epoch,
    )
    for raw in batches:
        if state.step >= total_steps:
            break
        factor = cosine_schedule(state.step, total_steps, warmup)
        for group, base in zip(optimizer.param_groups, run.base_lrs, strict=True):
            group["lr"] = base * factor
        b = run.batch_of(raw, rng=rng, train=True)
        with torch.autocast(device.type, dtype=run.amp_dtype, enabled=run.use_amp):
            geometry_vectors, image_vectors = run.wrapped(
                b["points"].to(device), b["pixels"].to(device)
            )
            embeddings = {
                "geometry": geometry_vectors,
                "image": image_vectors,
                "text": F.normalize(b["text"].to(device).float(), dim=-1),
            }
            total, parts = model.loss(embeddings, b["labels"].to(device))
        optimizer.zero_grad(set_to_none=True)
        total.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        optimizer.step()
        state.step += 1
        recent = [*recent[-(BN_BATCHES - 1) :], b["points"]]
        recent_pixels = [*recent_pixels[-(BN_IMAGE_BATCHES - 1) :], b["pixels"]]
        n = len(b["labels"])
        seen += n
        sums["loss"] = sums.get("loss", 0.0) + float(total.detach()) * n
        for key, value in parts.items():
            sums[key] = sums.get(key, 0.0) + value * n
    recalibrate_batchnorm(model.geometry, [x.to(device) for x in recent])
    if model.train_image:
        recalibrate_batchnorm(model.visual, [x.to(device) for x in recent_pixels])
    wall = time.perf_counter() - t0
    return {
        "epoch": epoch,
        "step": state.step,
        "samples": seen,
        "samples_per_s": round(seen * run.world / wall, 2) if wall > 0 else 0.0,
        "epoch_s": round(wall, 1),
        "temperature": float(1.0 / model.loss.scale().detach()),
        **{key: value / max(1, seen) for key, value in sums.items()},
    }


def save_and_report(metrics: dict[str, Any], state: LoopState, run: WorkerRun, bundle_id: str):
    """Report an epoch; rank 0 adds validation and a checkpoint of model, optimizer and state."""
    import ray.train

    if run.rank != 0:
        ray.train.report(metrics)
        return
    model = run.model
    metrics.update(validate(model, run.val_batches, run.device))
    state.history.append(metrics)
    with tempfile.TemporaryDirectory() as folder:
        torch.save(
            {
                "geometry": model.geometry.state_dict(),
                "visual": model.visual.state_dict(),
                "loss": model.loss.state_dict(),
                "optimizer": run.optimizer.state_dict(),
                "epoch": metrics["epoch"],
                "step": state.step,
                "history": state.history,
                "mode": run.config.mode,
                "init_bundle_id": bundle_id,
            },
            os.path.join(folder, CHECKPOINT_FILE),
        )
        ray.train.report(metrics, checkpoint=ray.train.Checkpoint.from_directory(folder))


def train_loop(config: dict[str, Any]) -> None:
    """``train_loop_per_worker`` of the TorchTrainer (see ``encoders.train.job``): build, restore,
    then one epoch, validation and checkpoint after another."""
    import ray.train
    import ray.train.torch

    config = LoopConfig.from_dict(config)
    torch.set_num_threads(config.torch_threads)
    context = ray.train.get_context()
    rank, world = context.get_world_rank(), context.get_world_size()
    device = ray.train.torch.get_device()
    torch.manual_seed(config.seed + rank)

    bundle, clip, model = build_model(config)
    text_index, text_vectors = load_text_cache(config.text_cache)
    batch_of = functools.partial(
        make_batch,
        text_index=text_index,
        text_vectors=text_vectors,
        categories={c: i for i, c in enumerate(config.categories)},
        num_points=int(bundle.num_points),
    )
    point_aug = PointAugment() if config.points_augment else None
    view_aug = ViewAugment(clip.preprocess_cfg, 1.0 if config.views_augment else 0.0)
    plain_views = ViewAugment(clip.preprocess_cfg, 0.0)

    def batch_for(raw, *, rng, train: bool):
        if train:
            return batch_of(raw, rng=rng, train=True, point_aug=point_aug, view_aug=view_aug)
        return batch_of(raw, rng=rng, train=False, point_aug=None, view_aug=plain_views)

    optimizer = build_optimizer(model, config)
    state = restore(model, optimizer)
    model.to(device)
    use_amp = config.mixed_precision and device.type == "cuda"
    run = WorkerRun(
        config=config,
        model=model,
        wrapped=ray.train.torch.prepare_model(model) if world > 1 else model,
        optimizer=optimizer,
        base_lrs=[g["lr"] for g in optimizer.param_groups],
        batch_of=batch_for,
        device=device,
        use_amp=use_amp,
        amp_dtype=torch.bfloat16 if use_amp and torch.cuda.is_bf16_supported() else torch.float16,
        rank=rank,
        world=world,
        steps_per_epoch=max(1, config.train_rows // (config.batch_size * world)),
        val_batches=validation_batches(config, batch_for),
    )
    for epoch in range(state.epoch, config.epochs):
        save_and_report(train_epoch(epoch, state, run), state, run, bundle.id)
