"""Geometry-only training packed into one small folder, for a GPU lent for minutes.

``pack_shards`` (here, with the bundle's towers) turns training shards into ``pack.npz``: each
part's points (fp16), the locked text tower's vectors of its descriptions and the image tower's
vector of its views (fp16, the targets), its category; and ``geometry-init.pt``, the geometry
encoder to start from. ``train_pack`` is a plain PyTorch loop over that folder that needs torch
and numpy alone (no Ray, no network): the geometry encoder learns the contrastive loss against
the fixed text and image vectors, checkpointing every epoch. ``merge_geometry`` puts the result
back into a bundle. The recipe: docs/training.md#a-gpu-for-a-few-minutes.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

PACK_FILE = "pack.npz"
INIT_FILE = "geometry-init.pt"
STATE_FILE = "state.pt"  # the loop's checkpoint, in its run folder
RESULT_FILE = "geometry.pt"  # the trained geometry encoder's state dict
HISTORY_FILE = "history.json"
PAIRS = ("geometry-text", "geometry-image")


def _hash_order(part_ids: Sequence[str]) -> list[int]:
    """Row indices in a fixed order by a hash of the part id (a cut keeps the same parts)."""
    import hashlib

    return sorted(
        range(len(part_ids)), key=lambda i: hashlib.sha1(part_ids[i].encode()).hexdigest()
    )


def pack_shards(
    shard_files: Sequence[str | Path],
    bundle,
    out: str | Path,
    *,
    texts_per_part: int = 6,
    max_mb: float = 64.0,
    with_image: bool = True,
    say: Callable[[str], None] = lambda message: None,
) -> dict[str, Any]:
    """Write ``out``/pack.npz and ``out``/geometry-init.pt from the training shards' parquet
    files and ``bundle`` (a loaded ``ModelBundle``: its text and image towers make the targets,
    its geometry encoder the start); at most ``max_mb`` MiB in all, parts cut by a fixed hash
    order when over. Returns a summary (parts, cut, bytes, seconds)."""
    import pyarrow.parquet as pq

    from encoders.train.loop import texts_of
    from store.vectors import mean_direction

    started = time.perf_counter()
    columns = ["part_id", "source", "split", "category", "points", "description", "descriptions"]
    if with_image:
        columns.append("views_png")
    table = pq.read_table([str(f) for f in shard_files], columns=columns) if shard_files else None
    if table is None or table.num_rows == 0:
        raise ValueError("no training rows in the shards")
    rows = table.to_pylist()
    num_points = int(bundle.num_points)
    dim = int(bundle.embed_dim)
    # the budget: fixed bytes a part (points, image vector, text ids, label, split), its texts
    per_part = num_points * 3 * 2 + (dim * 2 if with_image else 0) + texts_per_part * 4 + 5
    per_text = dim * 2
    init = {k: v.cpu() for k, v in bundle.load_geometry_encoder().state_dict().items()}
    # the init weights, and 64 KiB for the metadata's fixed part and the files' headers
    budget = int(max_mb * 2**20) - sum(t.nbytes for t in init.values()) - 2**16
    order = _hash_order([str(r["part_id"]) for r in rows])
    # each part's first distinct texts (its description, then its variants), budgeted and packed
    own = [
        list(dict.fromkeys(texts_of(r["description"], r["descriptions"])))[:texts_per_part]
        for r in rows
    ]
    kept, texts, used = [], {}, 0
    for i in order:
        new = [t for t in own[i] if t not in texts]
        cost = per_part + per_text * len(new) + len(str(rows[i]["part_id"]).encode()) + 8
        if used + cost > budget:
            continue
        used += cost
        kept.append(i)
        for t in new:
            texts[t] = len(texts)
    if not kept:
        raise ValueError(f"not one part fits in {max_mb} MiB")
    kept.sort()
    rows, own = [rows[i] for i in kept], [own[i] for i in kept]
    say(f"packing {len(rows)} parts ({len(order) - len(rows)} cut), {len(texts)} texts")
    rng = np.random.default_rng(0)
    points = np.empty((len(rows), num_points, 3), dtype=np.float16)
    text_ids = np.full((len(rows), texts_per_part), -1, dtype=np.int32)
    for n, row in enumerate(rows):
        stored = np.frombuffer(row["points"], dtype=np.float32).reshape(-1, 3)
        pick = rng.choice(len(stored), num_points, replace=len(stored) < num_points)
        points[n] = stored[pick]
        text_ids[n, : len(own[n])] = [texts[text] for text in own[n]]
    from encoders.onnx_towers import apply_runtime

    threads = max(1, torch.get_num_threads())
    clip = bundle.load_clip(text_only=not with_image, torch_threads=threads)
    for tower in ("text", "image") if with_image else ("text",):
        apply_runtime(clip, tower, "auto", "cpu", threads)  # as the index encodes on a CPU
    text_vectors = clip.encode_text(list(texts), batch_size=128).astype(np.float16)
    arrays: dict[str, np.ndarray] = {}
    if with_image:
        image = np.empty((len(rows), dim), dtype=np.float16)
        for n, row in enumerate(rows):
            image[n] = mean_direction(clip.encode_images(list(row["views_png"])))
            if n % 500 == 499:
                say(f"image vectors: {n + 1} of {len(rows)} parts")
        arrays["image"] = image
    categories = sorted({str(r["category"]) for r in rows})
    index = {c: i for i, c in enumerate(categories)}
    meta = {
        "bundle_id": bundle.id,
        "geometry": dict(bundle.geometry),
        "num_points": int(bundle.num_points),
        "embed_dim": dim,
        "categories": categories,
        "part_ids": [str(r["part_id"]) for r in rows],
        "sources": sorted({str(r["source"]) for r in rows}),  # the catalogs' names
        # the training data folders (a shard file's folder is <data>/shards)
        "data_dirs": sorted({str(Path(f).resolve().parent.parent) for f in shard_files}),
    }
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    np.savez(
        out / PACK_FILE,
        points=points,
        text_ids=text_ids,
        text_vectors=text_vectors,
        labels=np.asarray([index[str(r["category"])] for r in rows], dtype=np.int32),
        train=np.asarray([r["split"] == "train" for r in rows], dtype=bool),
        meta=np.asarray(json.dumps(meta)),
        **arrays,
    )
    torch.save(init, out / INIT_FILE)
    size = sum(f.stat().st_size for f in out.iterdir() if f.is_file())
    return {
        "parts": len(rows),
        "cut": len(order) - len(rows),
        "texts": len(texts),
        "categories": len(categories),
        "with_image": with_image,
        "mb": round(size / 2**20, 2),
        "wall_s": round(time.perf_counter() - started, 1),
    }


def load_pack(folder: str | Path) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """The pack's arrays and its metadata."""
    with np.load(Path(folder) / PACK_FILE, allow_pickle=False) as data:
        arrays = {key: data[key] for key in data.files}
    return arrays, json.loads(str(arrays.pop("meta")))


def augment(
    points: torch.Tensor,
    generator: torch.Generator,
    tilt_deg: float = 15.0,
    scale: float = 0.1,
    jitter: float = 0.005,
) -> torch.Tensor:
    """A batch of normalized clouds (B, N, 3), each turned about +Z, tilted, scaled per axis and
    jittered (encoders.train.augment.PointAugment's changes, done on the batch's device)."""
    b, device = points.shape[0], points.device

    def uniform(*shape: int) -> torch.Tensor:
        return torch.rand(*shape, generator=generator, device=device)

    a = uniform(b) * 2 * math.pi
    cos, sin, zero, one = a.cos(), a.sin(), torch.zeros_like(a), torch.ones_like(a)
    turn = torch.stack([cos, -sin, zero, sin, cos, zero, zero, zero, one], 1).view(b, 3, 3)
    axis_angle = uniform(b) * 2 * math.pi
    axis = torch.stack([axis_angle.cos(), axis_angle.sin(), zero], 1)
    angle = (uniform(b) * 2 - 1) * math.radians(tilt_deg)
    k = torch.zeros(b, 3, 3, device=device)
    k[:, 0, 1], k[:, 0, 2], k[:, 1, 2] = -axis[:, 2], axis[:, 1], -axis[:, 0]
    k = k - k.transpose(1, 2)
    eye = torch.eye(3, device=device).expand(b, 3, 3)
    tilt = eye + angle.sin()[:, None, None] * k + (1 - angle.cos())[:, None, None] * (k @ k)
    out = points @ (tilt @ turn).transpose(1, 2)
    out = out * (1 - scale + 2 * scale * uniform(b, 1, 3))
    noise = torch.randn(out.shape, generator=generator, device=device) * jitter
    return out + noise.clamp(-3 * jitter, 3 * jitter)


@torch.no_grad()
def _validate(model, points, text, image, labels, batch_size: int) -> dict[str, float]:
    """Geometry -> text top-1 over the validation parts (their first text), and category top-1
    of the nearest text."""
    model.eval()
    out = [
        F.normalize(model(points[i : i + batch_size]).float(), dim=-1)
        for i in range(0, len(points), batch_size)
    ]
    geometry = torch.cat(out)
    nearest = (geometry @ text.t()).argmax(dim=1)
    own = torch.arange(len(points), device=points.device)
    result = {
        "val_geometry_text_top1": float((nearest == own).float().mean()),
        "val_category_top1": float((labels[nearest] == labels).float().mean()),
    }
    if image is not None:
        nearest = (geometry @ image.t()).argmax(dim=1)
        result["val_geometry_image_top1"] = float((nearest == own).float().mean())
    model.train()
    return result


def train_pack(
    pack: str | Path,
    run_dir: str | Path,
    *,
    epochs: int = 10,
    batch_size: int = 256,
    lr: float = 5e-4,
    weight_decay: float = 0.05,
    temperature: float = 0.07,
    category_weight: float = 0.3,
    warmup_epochs: float = 0.5,
    device: str = "cuda" if torch.cuda.is_available() else "cpu",
    seed: int = 0,
    max_minutes: float | None = None,
    say: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Train the pack's geometry encoder for ``epochs`` epochs (resuming ``run_dir``'s
    checkpoint, written after every epoch, and stopping after the epoch that passes
    ``max_minutes``); writes ``run_dir``/geometry.pt and history.json, returns the last epoch."""
    from encoders.train.losses import ContrastiveLoss

    started = time.perf_counter()
    arrays, meta = load_pack(pack)
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    dev = torch.device(device)
    points = torch.from_numpy(arrays["points"]).to(dev)
    text_ids = torch.from_numpy(arrays["text_ids"]).long().to(dev)
    text_vectors = torch.from_numpy(arrays["text_vectors"]).to(dev)
    image = torch.from_numpy(arrays["image"]).to(dev) if "image" in arrays else None
    labels = torch.from_numpy(arrays["labels"]).long().to(dev)
    train_rows = torch.from_numpy(np.flatnonzero(arrays["train"])).to(dev)
    val_rows = torch.from_numpy(np.flatnonzero(~arrays["train"])).to(dev)
    if len(train_rows) < 2:
        raise ValueError(f"{len(train_rows)} training parts in the pack: fewer than two")
    batch_size = min(batch_size, len(train_rows))

    from encoders.point_encoders import build_geometry_encoder

    model = build_geometry_encoder(**meta["geometry"]).to(dev)  # the bundle's architecture
    model.load_state_dict(torch.load(Path(pack) / INIT_FILE, map_location=dev))
    loss_fn = ContrastiveLoss(
        PAIRS if image is not None else PAIRS[:1], temperature, category_weight
    ).to(dev)
    params = list(model.parameters()) + list(loss_fn.parameters())
    optimizer = torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    steps_per_epoch = len(train_rows) // batch_size
    total, warmup = epochs * steps_per_epoch, int(warmup_epochs * steps_per_epoch)
    history: list[dict[str, Any]] = []
    first = 0
    if (run_dir / STATE_FILE).exists():
        state = torch.load(run_dir / STATE_FILE, map_location=dev, weights_only=False)
        model.load_state_dict(state["geometry"])
        loss_fn.load_state_dict(state["loss"])
        optimizer.load_state_dict(state["optimizer"])
        history, first = state["history"], state["epoch"] + 1
        say(f"resumed after epoch {first}")
    generator = torch.Generator(device=dev)
    amp = dev.type == "cuda"

    def targets(rows: torch.Tensor, train: bool) -> torch.Tensor:
        ids = text_ids[rows]
        valid = ids >= 0
        if train:  # one of the part's descriptions at random
            pick = torch.multinomial(valid.float(), 1, generator=generator).squeeze(1)
        else:
            pick = torch.zeros(len(rows), dtype=torch.long, device=dev)
        return text_vectors[ids[torch.arange(len(rows), device=dev), pick]].float()

    model.train()
    for epoch in range(first, epochs):
        generator.manual_seed(seed * 1000 + epoch)
        t0, seen, losses = time.perf_counter(), 0, []
        order = train_rows[torch.randperm(len(train_rows), generator=generator, device=dev)]
        for step in range(steps_per_epoch):
            done = epoch * steps_per_epoch + step
            factor = (
                (done + 1) / max(1, warmup)
                if done < warmup
                else 0.5 * (1 + math.cos(math.pi * (done - warmup) / max(1, total - warmup)))
            )
            for group in optimizer.param_groups:
                group["lr"] = lr * factor
            rows = order[step * batch_size : (step + 1) * batch_size]
            clouds = augment(points[rows].float(), generator)
            with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=amp):
                geometry = model(clouds)
            embeddings = {
                "geometry": F.normalize(geometry.float(), dim=-1),
                "text": targets(rows, True),
            }
            if image is not None:
                embeddings["image"] = image[rows].float()
            loss, _ = loss_fn(embeddings, labels[rows])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            losses.append(float(loss.detach()))
            seen += len(rows)
        record: dict[str, Any] = {
            "epoch": epoch,
            "loss": round(float(np.mean(losses)), 4) if losses else None,
            "samples_per_s": round(seen / max(1e-9, time.perf_counter() - t0), 1),
            "wall_s": round(time.perf_counter() - t0, 1),
            "temperature": round(float(1 / loss_fn.scale().detach()), 4),
        }
        if len(val_rows):
            val_text = targets(val_rows, False)
            val_image = image[val_rows].float() if image is not None else None
            record |= _validate(
                model,
                points[val_rows].float(),
                val_text,
                val_image,
                labels[val_rows],
                batch_size,
            )
        history.append(record)
        say(json.dumps(record))
        state = {
            "geometry": model.state_dict(),
            "loss": loss_fn.state_dict(),
            "optimizer": optimizer.state_dict(),
            "epoch": epoch,
            "history": history,
        }
        torch.save(state, run_dir / (STATE_FILE + ".tmp"))
        os.replace(run_dir / (STATE_FILE + ".tmp"), run_dir / STATE_FILE)
        if max_minutes is not None and time.perf_counter() - started > 60 * max_minutes:
            say(f"stopping after epoch {epoch}: past {max_minutes} minutes")
            break
    torch.save({k: v.cpu() for k, v in model.state_dict().items()}, run_dir / RESULT_FILE)
    config = {
        "epochs": epochs,
        "batch_size": batch_size,
        "lr": lr,
        "weight_decay": weight_decay,
        "temperature": temperature,
        "category_weight": category_weight,
        "warmup_epochs": warmup_epochs,
        "device": str(dev),
        "seed": seed,
    }
    record = {"bundle_id": meta["bundle_id"], "config": config, "history": history}
    (run_dir / HISTORY_FILE).write_text(json.dumps(record, indent=2))
    return history[-1] if history else {}


def merge_geometry(
    base,
    run_dir: str | Path,
    out: str | Path,
    *,
    name: str,
    pack: str | Path | None = None,
    overwrite: bool = False,
):
    """A bundle: ``base`` (a loaded ``ModelBundle``, the one the pack was made from) with the
    geometry encoder ``train_pack`` wrote into ``run_dir``, and its ``training.json`` (the run's
    config and history; with ``pack``, its parts, categories and data folders)."""
    from encoders.train.job import TRAINING_FILE, write_bundle

    history = json.loads((Path(run_dir) / HISTORY_FILE).read_text())
    if history["bundle_id"] != base.id:
        raise ValueError(f"{run_dir} was trained from bundle {history['bundle_id']}, not {base.id}")
    geometry = torch.load(Path(run_dir) / RESULT_FILE, map_location="cpu")
    visual = base.load_clip().model.visual.state_dict()
    state = {"geometry": geometry, "visual": visual}
    bundle = write_bundle(base, state, out, name=name, mode="A", overwrite=overwrite)
    arrays, meta = load_pack(pack) if pack is not None else ({}, {})
    train = arrays.get("train")
    epochs = history["history"]
    record = {
        "bundle_id": bundle.id,
        "recipe": "pack",  # encoders/train/pack.py: geometry only, the towers' vectors fixed
        "mode": "A",
        "epochs": len(epochs),
        "train_rows": int(train.sum()) if train is not None else None,
        "val_rows": int((~train).sum()) if train is not None else None,
        "history": epochs,
        "wall_s": round(sum(e.get("wall_s") or 0 for e in epochs), 1) or None,
        "config": history.get("config", {}),
        "categories": meta.get("categories", []),
        "data_dirs": meta.get("data_dirs", []),
        "sources": meta.get("sources", []),
        "init_bundle_id": base.id,
        "init_trained": bool(base.trained["image_tower"] or base.trained["geometry_encoder"]),
    }
    (bundle.path / TRAINING_FILE).write_text(json.dumps(record, indent=2), encoding="utf-8")
    return bundle


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m encoders.train.pack PACK RUN_DIR --epochs N``: the loop alone (torch, numpy)."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("pack", help="a folder written by `cadsearch train --pack`")
    parser.add_argument("run_dir", help="checkpoints and the result; the same folder resumes")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--lr", type=float, default=5e-4)
    parser.add_argument("--device", default=None, help="cuda or cpu (default: cuda if present)")
    parser.add_argument("--max-minutes", type=float, default=None, help="stop after this epoch")
    args = parser.parse_args(argv)
    kwargs = {"device": args.device} if args.device else {}
    last = train_pack(
        args.pack,
        args.run_dir,
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        max_minutes=args.max_minutes,
        **kwargs,
    )
    print(json.dumps({"last_epoch": last}))


if __name__ == "__main__":
    main()
