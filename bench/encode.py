"""Benchmark: items per second of text, image and geometry encoding at batch 1 and 32."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence

import numpy as np
import torch

from encoders.bundle import load_bundle

KINDS = [
    "hex head bolt",
    "socket head cap screw",
    "flat washer",
    "hex nut",
    "dowel pin",
    "deep groove ball bearing",
    "spur gear",
    "pipe elbow",
    "angle bracket",
    "shaft collar",
]
MATERIALS = ["steel 8.8", "stainless A2", "brass", "aluminium 6061", "POM"]


def part_descriptions(n: int, offset: int = 0) -> list[str]:
    """n distinct short part descriptions."""
    out = []
    for i in range(offset, offset + n):
        kind, material = KINDS[i % len(KINDS)], MATERIALS[(i // len(KINDS)) % len(MATERIALS)]
        out.append(f"{kind} M{3 + i % 17} x {8 + 2 * (i // 50)} mm, {material}")
    return out


def rendered_views(n: int, size: int = 224, seed: int = 0) -> list[np.ndarray]:
    """n rendered-looking (size, size, 3) uint8 views: a shaded box or disc on white."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size] / size
    out = []
    for _ in range(n):
        cx, cy, rx, ry = rng.uniform(0.35, 0.65, 2).tolist() + rng.uniform(0.15, 0.35, 2).tolist()
        if rng.random() < 0.5:
            inside = (np.abs(xx - cx) < rx) & (np.abs(yy - cy) < ry)
        else:
            inside = ((xx - cx) / rx) ** 2 + ((yy - cy) / ry) ** 2 < 1
        shade = 0.55 + 0.4 * (1 - yy) * (0.5 + 0.5 * xx)  # light from the top left
        color = np.array([176, 196, 222]) * shade[..., None]  # lightsteelblue, shaded
        image = np.where(inside[..., None], color, 255.0)
        out.append(image.clip(0, 255).astype(np.uint8))
    return out


def part_point_clouds(n: int, num_points: int, seed: int = 0) -> np.ndarray:
    """(n, num_points, 3) float32 points on the surfaces of random boxes, in the unit sphere."""
    rng = np.random.default_rng(seed)
    extents = rng.uniform(0.2, 1.0, (n, 1, 3))
    points = rng.uniform(-0.5, 0.5, (n, num_points, 3))
    axis = rng.integers(0, 3, (n, num_points))
    side = np.where(rng.random((n, num_points)) < 0.5, -0.5, 0.5)
    np.put_along_axis(points, axis[..., None], side[..., None], axis=2)
    points *= extents
    points /= np.linalg.norm(extents, axis=2, keepdims=True) / 2
    return points.astype(np.float32)


def throughput(
    encode: Callable[[Sequence, int], object], items: Sequence, batch: int, repeats: int
) -> float:
    """Items per second of the fastest call: ``repeats`` passes over ``items``, one call per batch.

    The fastest call, not the mean: on a shared CPU other processes only ever add time.
    """
    encode(items[:batch], batch)  # warm-up
    best = float("inf")
    for _ in range(repeats):
        for start in range(0, len(items) - batch + 1, batch):
            chunk = items[start : start + batch]
            began = time.perf_counter()
            encode(chunk, batch)
            best = min(best, time.perf_counter() - began)
    return batch / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer items and repeats (< 1 min)")
    parser.add_argument("--bundle", default="cad-mini", help="shipped bundle name or directory")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    from encoders.point_encoders import encode_points

    start = time.perf_counter()
    bundle = load_bundle(args.bundle)
    clip = bundle.load_clip()
    geometry = bundle.load_geometry_encoder()
    load_s = time.perf_counter() - start
    repeats = 2 if args.quick else 3
    # items per measurement: (batch 1, batch 32) for text, image, geometry
    sizes = {"text": (16, 64), "image": (8, 64), "geometry": (2, 32)}
    if not args.quick:
        sizes = {"text": (128, 512), "image": (64, 256), "geometry": (16, 64)}

    def geometry_encode(points, batch):
        return encode_points(geometry, np.asarray(points), batch_size=batch)

    encoders = {
        "text": (clip.encode_text, lambda n, k: part_descriptions(n, offset=1000 * k)),
        "image": (clip.encode_images, lambda n, k: rendered_views(n, bundle.image_size, seed=k)),
        "geometry": (geometry_encode, lambda n, k: part_point_clouds(n, bundle.num_points, k)),
    }
    result: dict[str, object] = {
        "bundle": bundle.id,
        "threads": torch.get_num_threads(),
        "quick": args.quick,
        "load_s": round(load_s, 2),
    }
    for name, (encode, make) in encoders.items():
        for k, batch in enumerate((1, 32)):
            items = make(sizes[name][k], k)
            rate = throughput(encode, items, batch, repeats)
            result[f"{name}_b{batch}_per_s"] = round(rate, 1)
            print(f"{name:8s} batch {batch:2d}: {rate:8.1f} items/s", file=sys.stderr)
        result[f"{name}_batch_gain"] = round(
            result[f"{name}_b32_per_s"] / result[f"{name}_b1_per_s"], 2
        )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
