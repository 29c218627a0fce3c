"""Benchmark: the vectorized binary-STL reader against the sketch's per-triangle loop."""

from __future__ import annotations

import argparse
import json
import struct
import time

import numpy as np
import trimesh

from encoders.geometry.stl import read_binary_stl, triangles_to_indexed


def read_loop(data: bytes) -> np.ndarray:
    """The sketch's `from_creo_tessellation` parse: struct.unpack per vertex, skipping the rest."""
    count = struct.unpack("<I", data[80:84])[0]
    offset, vertices = 84, []
    for _ in range(count):
        offset += 12  # normal
        for _ in range(3):
            vertices.append(struct.unpack("<fff", data[offset : offset + 12]))
            offset += 12
        offset += 2  # attribute byte count
    return np.array(vertices, dtype=np.float32).reshape(count, 3, 3)


def best_of(fn, data: bytes, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn(data)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer repeats (under a minute)")
    parser.add_argument("--triangles", type=int, default=100_000)
    args = parser.parse_args()
    repeats = 2 if args.quick else 7

    # a ~100k-triangle part: a subdivided torus
    mesh = trimesh.creation.torus(
        major_radius=20, minor_radius=6, major_sections=250, minor_sections=args.triangles // 500
    )
    data = trimesh.exchange.stl.export_stl(mesh)
    count = len(mesh.faces)
    fast = read_binary_stl(data)
    assert np.array_equal(fast, read_loop(data)), "readers disagree"

    loop_s = best_of(read_loop, data, repeats)
    # same output as the loop: an owned (count, 3, 3) float32 array, not a view into the bytes
    fast_s = best_of(lambda d: np.array(read_binary_stl(d)), data, repeats)
    indexed_s = best_of(lambda d: triangles_to_indexed(read_binary_stl(d)), data, repeats)
    trimesh_s = best_of(
        lambda d: trimesh.load_mesh(trimesh.util.wrap_as_stream(d), "stl"), data, repeats
    )
    print(
        f"{count} triangles, {len(data) / 1e6:.1f} MB: loop {loop_s * 1e3:.1f} ms, "
        f"vectorized {fast_s * 1e3:.3f} ms, +merge {indexed_s * 1e3:.1f} ms, "
        f"trimesh.load {trimesh_s * 1e3:.1f} ms"
    )
    print(
        json.dumps(
            {
                "bench": "stl_read",
                "triangles": count,
                "loop_ms": round(loop_s * 1e3, 2),
                "vectorized_ms": round(fast_s * 1e3, 3),
                "vectorized_with_vertex_merge_ms": round(indexed_s * 1e3, 2),
                "trimesh_load_ms": round(trimesh_s * 1e3, 2),
                "speedup": round(loop_s / fast_s, 1),
                "speedup_with_vertex_merge": round(loop_s / indexed_s, 1),
                "quick": args.quick,
            }
        )
    )


if __name__ == "__main__":
    main()
