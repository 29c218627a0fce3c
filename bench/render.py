"""Benchmark: canonical views with one reused plotter against a new plotter for every view."""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np
import trimesh

from encoders.geometry.render import VIEW_SETS, ViewRenderer, ViewSpec


def make_parts(n: int) -> list[tuple[str, trimesh.Trimesh]]:
    """``n`` CAD-like test parts (a 9k-face sphere/torus/cylinder mix first), built with trimesh."""
    c = trimesh.creation

    def moved(mesh: trimesh.Trimesh, offset) -> trimesh.Trimesh:
        mesh.apply_translation(offset)
        return mesh

    builders = [
        (
            "knob_9k",  # torus grip around a hub with a domed cap: the 9k-face reference part
            lambda: trimesh.util.concatenate(
                [
                    c.torus(1.0, 0.25, major_sections=72, minor_sections=32),
                    c.cylinder(0.45, 0.8, sections=72),
                    moved(c.uv_sphere(0.45, count=[24, 48]), (0.0, 0.0, 0.4)),
                ]
            ),
        ),
        (
            "bracket",
            lambda: trimesh.util.concatenate(
                [
                    c.box((2.0, 0.6, 0.4)),
                    moved(c.box((0.4, 0.6, 1.4)), (-0.8, 0.0, 0.9)),
                    moved(c.cylinder(0.18, 0.8, sections=64), (0.55, 0.12, 0.6)),
                    moved(c.annulus(0.1, 0.25, 0.5, sections=64), (0.5, -0.2, 0.0)),
                ]
            ),
        ),
        (
            "shaft",
            lambda: trimesh.util.concatenate(
                [
                    c.cylinder(0.15, 3.0, sections=128),
                    moved(c.cylinder(0.3, 0.4, sections=128), (0.0, 0.0, 0.6)),
                    moved(c.torus(0.3, 0.05, major_sections=64, minor_sections=24), (0, 0, -0.8)),
                    moved(c.annulus(0.15, 0.35, 0.1, sections=128), (0.0, 0.0, 1.2)),
                ]
            ),
        ),
        ("torus", lambda: c.torus(1.0, 0.3, major_sections=64, minor_sections=32)),
        ("plate", lambda: c.box((3.0, 2.0, 0.1)).subdivide_to_size(0.2)),
        ("sphere_20k", lambda: c.icosphere(5)),
    ]
    return [(name, build()) for name, build in builders[: max(1, n)]]


def render_sketch_way(
    mesh: trimesh.Trimesh, views: tuple[ViewSpec, ...], size: int, distance: float
) -> list[np.ndarray]:
    """The original sketch: a new off-screen plotter per view (add, aim, screenshot, close)."""
    import pyvista as pv

    poly = pv.wrap(mesh)
    images = []
    for spec in views:
        plotter = pv.Plotter(off_screen=True, window_size=(size, size))
        plotter.add_mesh(poly, color="lightsteelblue")
        plotter.camera_position = [
            tuple(distance * spec.direction()),
            (0.0, 0.0, 0.0),
            tuple(spec.view_up()),
        ]
        images.append(plotter.screenshot(return_img=True))
        plotter.close()
    return images


def render_fresh_way(mesh: trimesh.Trimesh, views: tuple[ViewSpec, ...], size: int) -> None:
    """This module's renderer and settings, but a new one (a new plotter) for every view."""
    for spec in views:
        with ViewRenderer(image_size=size, views=[spec]) as renderer:
            renderer.render(mesh)


def _ms(fn, mesh) -> float:
    t0 = time.perf_counter()
    fn(mesh)
    return (time.perf_counter() - t0) * 1e3


def _summary(times: dict[str, list[float]]) -> float:
    """Mean over parts of each part's median ms (robust to load spikes on a shared machine)."""
    return float(np.mean([np.median(t) for t in times.values()]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="3 parts, few repeats (< 1 minute)")
    parser.add_argument("--parts", type=int, help="number of test parts (max 6)")
    parser.add_argument("--repeats", type=int, help="reused-plotter renders of each part")
    parser.add_argument("--rounds", type=int, help="new-plotter-per-view renders of each part")
    parser.add_argument("--image-size", type=int, default=224)
    args = parser.parse_args(argv)
    n_parts = args.parts or (3 if args.quick else 6)
    rounds = args.rounds or (2 if args.quick else 6)
    repeats = args.repeats or (6 if args.quick else 60)
    views = VIEW_SETS["canonical10"]
    size = args.image_size

    parts = make_parts(n_parts)
    for name, mesh in parts:
        mesh.apply_translation(-mesh.bounding_box.centroid)  # the sketch assumed normalized parts
        mesh.apply_scale(1.0 / np.linalg.norm(mesh.vertices, axis=1).max())
        print(f"part {name}: {len(mesh.faces)} faces", flush=True)

    renderer = ViewRenderer(image_size=size, views=views)
    t0 = time.perf_counter()
    renderer.render(parts[0][1])  # creates the plotter
    first_ms = (time.perf_counter() - t0) * 1e3
    print(f"reused: first part (creates the plotter) {first_ms:.0f} ms", flush=True)
    distance = renderer.distance
    warm = render_sketch_way(parts[0][1], views[:1], size, distance)[0]  # warm-up, and a check
    assert warm.shape[:2] == (size, size) and (warm != 255).any(), "the sketch way rendered nothing"
    methods = {
        "reused": renderer.render,
        "sketch": lambda m: render_sketch_way(m, views, size, distance),
        "fresh": lambda m: render_fresh_way(m, views, size),
    }
    # interleaved, so that load from other processes hits every method alike
    times = {method: {name: [] for name, _ in parts} for method in methods}
    per_round = max(1, repeats // rounds)
    for r in range(rounds):
        for name, mesh in parts:
            times["reused"][name] += [_ms(renderer.render, mesh) for _ in range(per_round)]
            times["sketch"][name].append(_ms(methods["sketch"], mesh))
            times["fresh"][name].append(_ms(methods["fresh"], mesh))
        line = ", ".join(
            f"{name} {np.median(times['reused'][name]):.0f}/{times['sketch'][name][-1]:.0f}"
            for name, _ in parts
        )
        print(f"round {r + 1}/{rounds} reused/sketch ms per part: {line}", flush=True)
    renderer.close()

    reused, sketch, fresh = times["reused"], times["sketch"], times["fresh"]
    reused_ms, sketch_ms, fresh_ms = _summary(reused), _summary(sketch), _summary(fresh)
    result = {
        "bench": "render",
        "mode": "quick" if args.quick else "full",
        "parts": len(parts),
        "faces": {name: len(mesh.faces) for name, mesh in parts},
        "views": len(views),
        "image_size": size,
        "reused_renders_per_part": per_round * rounds,
        "sketch_renders_per_part": rounds,
        "ms_per_part": round(reused_ms, 2),
        "ms_per_view": round(reused_ms / len(views), 3),
        "median_ms_per_part": {k: round(float(np.median(t)), 2) for k, t in reused.items()},
        "first_part_ms": round(first_ms, 1),
        "sketch_ms_per_part": round(sketch_ms, 1),
        "speedup_by_part": {
            k: round(float(np.median(sketch[k]) / np.median(reused[k])), 1) for k in reused
        },
        # same renderer settings, new plotter per view: the gain due to reuse alone
        "fresh_ms_per_part": round(fresh_ms, 1),
        "speedup_vs_fresh": round(fresh_ms / reused_ms, 1),
        "speedup": round(sketch_ms / reused_ms, 1),
    }
    print(json.dumps(result), flush=True)
    return 0 if result["speedup"] >= 10 else 1


if __name__ == "__main__":
    sys.exit(main())
