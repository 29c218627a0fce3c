"""Benchmark: training samples per second of cad-mini's recipe, on this machine's CPU (and GPU).

One run times full training steps (forward, symmetric contrastive loss, backward, AdamW step) of
the real modules at cad-mini's sizes, on synthetic batches shaped like the training data
(points (B, N, 3), one 224 px view (B, 3, 224, 224), a text vector (B, D)):

- ``mode_b``: image tower + geometry encoder (the offline default's recipe);
- ``mode_a``: geometry encoder only, CLIP frozen (image features computed without gradients);
- ``geometry_fast`` against ``geometry_reference``: the geometry encoder alone with the fast DGCNN
  and with the sketch's edge-materializing formulation (same weights): ``fast_train_speedup``.

Data decoding (PNG, augmentation) is not included in the steps: ``make_batch`` is timed separately
as ``batch_prep_ms_per_sample`` on real rendered views (figures: docs/benchmarks.md#benchtrainpy).
Final JSON line: samples/s of each, the speedup, device and threads. ``--quick``: fewer steps.
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np
import torch
import torch.nn.functional as F


def time_steps(step, batches: int, warmup: int = 1) -> float:
    """Median seconds of one step over ``batches`` timed steps."""
    for _ in range(warmup):
        step()
    times = []
    for _ in range(batches):
        t = time.perf_counter()
        step()
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t)
    return float(np.median(times))


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer steps (under a minute)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: cores)")
    args = parser.parse_args(argv)
    threads = args.threads or min(4, os.cpu_count() or 1)
    torch.set_num_threads(threads)
    torch.manual_seed(0)

    from encoders.dgcnn import DGCNNReference
    from encoders.make_bundle import EMBED_DIM, GEOMETRY, NUM_POINTS, clip_config
    from encoders.point_encoders import build_geometry_encoder
    from encoders.train.loop import PAIRS, AlignModel
    from encoders.train.losses import ContrastiveLoss

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    amp = device.type == "cuda"
    amp_dtype = torch.bfloat16 if amp and torch.cuda.is_bf16_supported() else torch.float16
    import open_clip

    vision = clip_config()["vision_cfg"]
    visual = open_clip.model._build_vision_tower(EMBED_DIM, open_clip.model.CLIPVisionCfg(**vision))
    hparams = {k: v for k, v in GEOMETRY.items() if k != "arch"}
    batch = args.batch_size
    steps = 3 if args.quick else 10
    points = torch.randn(batch, NUM_POINTS, 3, device=device)
    pixels = torch.randn(batch, 3, vision["image_size"], vision["image_size"], device=device)
    text = F.normalize(torch.randn(batch, EMBED_DIM, device=device), dim=-1)
    labels = torch.randint(0, 8, (batch,), device=device)

    def trainer(mode: str, geometry: torch.nn.Module):
        loss = ContrastiveLoss(PAIRS[mode], category_weight=0.3)
        model = AlignModel(geometry, visual, loss, train_image=(mode == "B")).to(device).train()
        params = [p for p in model.parameters() if p.requires_grad]
        optimizer = torch.optim.AdamW(params, lr=1e-4)

        def step():
            with torch.autocast(device.type, dtype=amp_dtype, enabled=amp):
                g, i = model(points, pixels)
                total, _ = loss({"geometry": g, "image": i, "text": text}, labels)
            optimizer.zero_grad(set_to_none=True)
            total.backward()
            optimizer.step()

        return step

    def geometry_only(geometry: torch.nn.Module):
        loss = ContrastiveLoss(("geometry-text",))
        geometry = geometry.to(device).train()
        optimizer = torch.optim.AdamW([*geometry.parameters(), loss.logit_scale], lr=1e-4)

        def step():
            with torch.autocast(device.type, dtype=amp_dtype, enabled=amp):
                g = F.normalize(geometry(points).float(), dim=-1)
                total, _ = loss({"geometry": g, "text": text}, labels)
            optimizer.zero_grad(set_to_none=True)
            total.backward()
            optimizer.step()

        return step

    fast = build_geometry_encoder("dgcnn", EMBED_DIM, **hparams)
    reference = DGCNNReference(EMBED_DIM, fast.config)
    reference.load_state_dict(fast.state_dict())
    seconds = {
        "mode_b": time_steps(
            trainer("B", build_geometry_encoder("dgcnn", EMBED_DIM, **hparams)), steps
        ),
        "mode_a": time_steps(
            trainer("A", build_geometry_encoder("dgcnn", EMBED_DIM, **hparams)), steps
        ),
        "geometry_fast": time_steps(geometry_only(fast), steps),
        "geometry_reference": time_steps(geometry_only(reference), steps),
    }
    for name, value in seconds.items():
        print(f"{name}: {batch / value:.1f} samples/s ({value * 1000:.0f} ms a step)", flush=True)

    prep_ms = batch_prep_ms()
    result = {
        "bench": "train",
        "mode": "quick" if args.quick else "full",
        "device": torch.cuda.get_device_name(0) if device.type == "cuda" else "cpu",
        "threads": threads,
        "batch_size": batch,
        "num_points": NUM_POINTS,
        "geometry": GEOMETRY,
        "samples_per_s": {name: round(batch / value, 2) for name, value in seconds.items()},
        "fast_train_speedup": round(seconds["geometry_reference"] / seconds["geometry_fast"], 2),
        "batch_prep_ms_per_sample": prep_ms,
        "mixed_precision": str(amp_dtype).replace("torch.", "") if amp else None,
    }
    print(json.dumps(result), flush=True)
    return result


def batch_prep_ms() -> float:
    """Milliseconds a sample to turn a training row (PNG view, stored points) into tensors."""
    import trimesh

    from encoders.geometry.render import ViewRenderer
    from encoders.train.augment import PointAugment, ViewAugment
    from encoders.train.loop import make_batch

    mesh = trimesh.creation.annulus(r_min=0.5, r_max=1.0, height=0.4)
    with ViewRenderer(image_size=224, views="iso4") as renderer:
        views = [view.png() for view in renderer.render(mesh)]
    n = 16
    batch = {
        "part_id": np.array([f"p{i}" for i in range(n)]),
        "points": np.array(
            [
                np.random.default_rng(i).normal(size=(1024, 3)).astype(np.float32).tobytes()
                for i in range(n)
            ],
            dtype=object,
        ),
        "description": np.array(["a washer"] * n),
        "descriptions": np.array([["a ring", "flat washer"]] * n, dtype=object),
        "category": np.array(["washer"] * n),
        "views_png": np.array([views[:2]] * n, dtype=object),
        "extra_views_png": np.array([views[2:]] * n, dtype=object),
    }
    texts = {"a washer": 0, "a ring": 1, "flat washer": 2}
    preprocess = {"size": 224, "mean": [0.48, 0.46, 0.41], "std": [0.27, 0.26, 0.28]}
    kwargs = dict(
        rng=np.random.default_rng(0),
        text_index=texts,
        text_vectors=np.zeros((3, 8), np.float32),
        categories={"washer": 0},
        num_points=512,
        point_aug=PointAugment(),
        view_aug=ViewAugment(preprocess),
        train=True,
    )
    make_batch(batch, **kwargs)
    t = time.perf_counter()
    make_batch(batch, **kwargs)
    return round((time.perf_counter() - t) * 1000 / n, 2)


if __name__ == "__main__":
    main()
