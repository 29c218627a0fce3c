"""The Ray Train worker loop: contrastive alignment of the geometry encoder (and image tower).

Mode A (the sketch's recipe): CLIP frozen; the geometry encoder learns the symmetric contrastive
loss against the text and image embeddings of its part. Mode B (the offline default, whose image
tower starts random): the image tower is trained too, against the locked text tower, and the
geometry encoder against both. Text embeddings come precomputed (the text tower is locked in both
modes), keyed by text in ``text_cache``.
"""

from __future__ import annotations

import math
import os
import tempfile
import time
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


def train_loop(config: dict[str, Any]) -> None:
    """``train_loop_per_worker`` of the TorchTrainer (see ``encoders.train.job``)."""
    import ray.train
    import ray.train.torch

    from encoders.bundle import load_bundle

    threads = int(config["torch_threads"])
    torch.set_num_threads(threads)
    context = ray.train.get_context()
    rank, world = context.get_world_rank(), context.get_world_size()
    device = ray.train.torch.get_device()
    seed = int(config["seed"])
    torch.manual_seed(seed + rank)

    bundle = load_bundle(config["init_bundle"])
    clip = bundle.load_clip()
    geometry = bundle.load_geometry_encoder()
    mode = config["mode"]
    loss = ContrastiveLoss(PAIRS[mode], config["temperature"], config["category_weight"])
    model = AlignModel(geometry, clip.model.visual, loss, train_image=(mode == "B"))
    model.train()
    if mode == "A":
        model.visual.eval()
    text_index, text_vectors = load_text_cache(config["text_cache"])
    categories = {c: i for i, c in enumerate(config["categories"])}
    point_aug = PointAugment() if config["points_augment"] else None
    view_aug = ViewAugment(clip.preprocess_cfg, 1.0 if config["views_augment"] else 0.0)
    num_points = int(bundle.num_points)

    groups = [
        {"params": list(model.geometry.parameters()) + [model.loss.logit_scale], "lr": config["lr"]}
    ]
    if mode == "B":
        groups.append({"params": list(model.visual.parameters()), "lr": config["image_lr"]})
    optimizer = torch.optim.AdamW(groups, weight_decay=config["weight_decay"])
    base_lrs = [g["lr"] for g in optimizer.param_groups]
    steps_per_epoch = max(1, int(config["train_rows"]) // (int(config["batch_size"]) * world))
    total_steps = steps_per_epoch * int(config["epochs"])
    warmup = int(config["warmup_epochs"] * steps_per_epoch)

    start_epoch, step, history = 0, 0, []
    checkpoint = ray.train.get_checkpoint()
    if checkpoint is not None:
        with checkpoint.as_directory() as folder:
            state = torch.load(
                os.path.join(folder, CHECKPOINT_FILE), map_location="cpu", weights_only=False
            )
        model.geometry.load_state_dict(state["geometry"])
        model.visual.load_state_dict(state["visual"])
        model.loss.load_state_dict(state["loss"])
        optimizer.load_state_dict(state["optimizer"])
        start_epoch, step, history = state["epoch"] + 1, state["step"], state["history"]

    model.to(device)
    wrapped = ray.train.torch.prepare_model(model) if world > 1 else model
    use_amp = bool(config["mixed_precision"]) and device.type == "cuda"
    amp_dtype = torch.bfloat16 if use_amp and torch.cuda.is_bf16_supported() else torch.float16

    val_batches: list = []
    val_shard = ray.train.get_dataset_shard("val") if config["val_parts"] else None
    if val_shard is not None and rank == 0:
        rng_val = np.random.default_rng(seed)
        for raw in val_shard.iter_batches(batch_size=64, batch_format="numpy"):
            val_batches.append(
                make_batch(
                    raw,
                    rng=rng_val,
                    text_index=text_index,
                    text_vectors=text_vectors,
                    categories=categories,
                    num_points=num_points,
                    point_aug=None,
                    view_aug=ViewAugment(clip.preprocess_cfg, 0.0),
                    train=False,
                )
            )
            if sum(len(b["labels"]) for b in val_batches) >= config["val_parts"]:
                break

    shard = ray.train.get_dataset_shard("train")
    for epoch in range(start_epoch, int(config["epochs"])):
        rng = np.random.default_rng([seed, rank, epoch])
        t0, seen, sums = time.perf_counter(), 0, {}
        recent: list[torch.Tensor] = []  # the epoch's last point batches, for BatchNorm
        recent_pixels: list[torch.Tensor] = []  # and view batches (fewer: they are large)
        batches = shard.iter_batches(
            batch_size=int(config["batch_size"]),
            batch_format="numpy",
            drop_last=True,
            local_shuffle_buffer_size=int(config["batch_size"]) * 8,
            local_shuffle_seed=seed * 1000 + epoch,
        )
        for raw in batches:
            if step >= total_steps:
                break
            factor = cosine_schedule(step, total_steps, warmup)
            for group, base in zip(optimizer.param_groups, base_lrs, strict=True):
                group["lr"] = base * factor
            b = make_batch(
                raw,
                rng=rng,
                text_index=text_index,
                text_vectors=text_vectors,
                categories=categories,
                num_points=num_points,
                point_aug=point_aug,
                view_aug=view_aug,
                train=True,
            )
            with torch.autocast(device.type, dtype=amp_dtype, enabled=use_amp):
                geometry_vectors, image_vectors = wrapped(
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
            step += 1
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
        metrics: dict[str, Any] = {
            "epoch": epoch,
            "step": step,
            "samples": seen,
            "samples_per_s": round(seen * world / wall, 2) if wall > 0 else 0.0,
            "epoch_s": round(wall, 1),
            "temperature": float(1.0 / model.loss.scale().detach()),
            **{key: value / max(1, seen) for key, value in sums.items()},
        }
        if rank == 0:
            metrics.update(validate(model, val_batches, device))
            history.append(metrics)
            with tempfile.TemporaryDirectory() as folder:
                torch.save(
                    {
                        "geometry": model.geometry.state_dict(),
                        "visual": model.visual.state_dict(),
                        "loss": model.loss.state_dict(),
                        "optimizer": optimizer.state_dict(),
                        "epoch": epoch,
                        "step": step,
                        "history": history,
                        "mode": mode,
                        "init_bundle_id": bundle.id,
                    },
                    os.path.join(folder, CHECKPOINT_FILE),
                )
                ray.train.report(metrics, checkpoint=ray.train.Checkpoint.from_directory(folder))
        else:
            ray.train.report(metrics)
