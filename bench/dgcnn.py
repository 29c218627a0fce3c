"""Benchmark: the fast DGCNN against the sketch's edge-materializing reference (CPU, eval mode).

Both variants run the same weights ("trained-like": random BatchNorm statistics and affines, about
half of the scales negative, so the fast path's min branch is used) on the same random clouds,
with torch threads set to the core count. Time per batch is the median of the timed repeats after
one warm-up forward.

Peak memory is measured per variant in a fresh subprocess, from the kernel's resident-set
high-water mark: after the model and input are loaded and one tiny forward (a single 64-point
cloud) has initialised the libraries' thread pools and kernels, the process resets its high-water
mark (``/proc/self/clear_refs``, falling back to ``ru_maxrss`` when that is not writable) and
reads its current RSS; the figure reported is the high-water mark over the warm-up and timed
forwards minus that baseline, i.e. the extra resident memory the forward passes needed, whatever
allocated it (torch tensors, oneDNN/MKL workspaces, the allocator's slack).

Equality: ``max_abs_diff`` is over all clouds. The warm-up forward of each variant records its
k-NN graphs; where a near tie made a graph differ between the two (see ``encoders/dgcnn.py``),
the cloud is listed under ``knn_flips`` and the reference is re-run on it with the fast path's
graphs. ``max_abs_diff_same_graphs`` is the largest difference under identical graphs, and the
run exits 1 if it exceeds 1e-4.

Prints progress lines, then one JSON line with ``speedup`` (reference time / fast time),
``peak_mem_ratio`` (reference peak / fast peak), ``fast_ms``, ``reference_ms``, the differences
and the shapes. ``--quick`` halves the batch and times fewer repeats: about 15 s on 2 idle cores,
the full run about 40 s (several times that on a busy machine).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from encoders.dgcnn import DGCNN, DGCNNConfig, DGCNNReference

VARIANTS = {"reference": DGCNNReference, "fast": DGCNN}
TOLERANCE = 1e-4


def trained_like(model: torch.nn.Module, seed: int = 0) -> None:
    """Random BatchNorm running statistics, weights (negative ones included) and biases."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for bn in model.modules():
            if isinstance(bn, torch.nn.modules.batchnorm._BatchNorm):
                c = bn.num_features
                bn.running_mean.copy_(torch.randn(c, generator=g) * 0.5)
                bn.running_var.copy_(torch.rand(c, generator=g) * 2.0 + 0.05)
                bn.weight.copy_(torch.randn(c, generator=g))
                bn.bias.copy_(torch.randn(c, generator=g) * 0.5)


def _status_kb(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def _reset_peak() -> bool:
    """Resets the RSS high-water mark (VmHWM); False where the kernel does not allow it."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def worker(args: argparse.Namespace) -> None:
    """One variant in this fresh process: times, peak memory, output (saved next to the input)."""
    torch.set_num_threads(args.threads)
    directory = Path(args.dir)
    spec = json.loads((directory / "spec.json").read_text())
    model = VARIANTS[args.worker](spec["output_dim"], DGCNNConfig(**spec["config"]))
    model.load_state_dict(torch.load(directory / "weights.pt"))
    model.eval()
    points = torch.load(directory / "points.pt")
    repeats = spec["repeats"][args.worker]
    # the warm-up records its k-NN graphs into this buffer, allocated before the baseline
    graphs = torch.zeros(
        len(model.edge_convs), *points.shape[:2], model.config.k, dtype=torch.int32
    )
    build, layer = model._knn, iter(graphs)

    def record(rows: torch.Tensor) -> torch.Tensor:
        idx = build(rows)
        next(layer).copy_(idx)
        return idx

    with torch.inference_mode():
        model(points[:1, : max(64, model.config.k)])  # library init, outside the measurement
        model._knn = record
        resettable = _reset_peak()
        base_kb = _status_kb("VmRSS") if resettable else _max_rss_kb()
        times, output = [], None
        for i in range(repeats + 1):
            start = time.perf_counter()
            out = model(points)
            elapsed = time.perf_counter() - start
            if output is None:
                output = out
                del model._knn  # recorded; the timed runs build their graphs as usual
            label = "warm-up" if i == 0 else f"run {i}/{repeats}"
            print(f"  {args.worker}: {label} {elapsed * 1000:.0f} ms", file=sys.stderr, flush=True)
            if i:
                times.append(elapsed)
        peak_kb = (_status_kb("VmHWM") if resettable else _max_rss_kb()) - base_kb
    torch.save(output, directory / f"out_{args.worker}.pt")
    torch.save(graphs, directory / f"graphs_{args.worker}.pt")
    method = "VmHWM after clear_refs" if resettable else "ru_maxrss delta"
    print(
        json.dumps(
            {
                "median_ms": statistics.median(times) * 1000,
                "min_ms": min(times) * 1000,
                "peak_mb": peak_kb / 1024,
                "memory_method": method,
            }
        )
    )


def _max_rss_kb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="batch 16, fewer repeats (< 1 min)")
    parser.add_argument("--batch", type=int, default=None, help="clouds per batch (default 32)")
    parser.add_argument("--points", type=int, default=1024)
    parser.add_argument("--k", type=int, default=20)
    parser.add_argument("--output-dim", type=int, default=512)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--worker", choices=sorted(VARIANTS), help=argparse.SUPPRESS)
    parser.add_argument("--dir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return

    batch = args.batch or (16 if args.quick else 32)
    repeats = {"reference": 2, "fast": 5} if args.quick else {"reference": 5, "fast": 15}
    torch.manual_seed(0)
    config = DGCNNConfig(k=args.k)
    model = DGCNN(args.output_dim, config)
    trained_like(model)
    points = torch.randn(batch, args.points, 3, generator=torch.Generator().manual_seed(1))
    print(
        f"DGCNN eval, batch {batch} x {args.points} points, k={args.k}, "
        f"output_dim {args.output_dim}, {args.threads} threads, torch {torch.__version__}",
        flush=True,
    )
    results = {}
    with tempfile.TemporaryDirectory(prefix="bench_dgcnn_") as tmp:
        directory = Path(tmp)
        torch.save(model.state_dict(), directory / "weights.pt")
        torch.save(points, directory / "points.pt")
        spec = {"output_dim": args.output_dim, "config": config.to_dict(), "repeats": repeats}
        (directory / "spec.json").write_text(json.dumps(spec))
        for variant in ("reference", "fast"):
            print(f"{variant}: fresh process, 1 warm-up + {repeats[variant]} runs", flush=True)
            command = [sys.executable, __file__, "--worker", variant, "--dir", tmp]
            command += ["--threads", str(args.threads)]
            done = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=True)
            results[variant] = json.loads(done.stdout.strip().splitlines()[-1])
            r = results[variant]
            print(
                f"{variant}: median {r['median_ms']:.0f} ms, min {r['min_ms']:.0f} ms, "
                f"peak +{r['peak_mb']:.0f} MB",
                flush=True,
            )
        outputs = {v: torch.load(directory / f"out_{v}.pt") for v in VARIANTS}
        graphs = {v: torch.load(directory / f"graphs_{v}.pt") for v in VARIANTS}
    per_cloud = (outputs["fast"] - outputs["reference"]).abs().amax(dim=1)
    max_abs_diff = per_cloud.max().item()
    # rows whose neighbour sets differ, per cloud and layer: (B, layers)
    flips = (graphs["fast"].sort(-1).values != graphs["reference"].sort(-1).values).any(-1)
    flips = flips.sum(-1).t()
    flipped = [int(b) for b in torch.nonzero(flips.any(1)).flatten()]
    same_graph_diff = max([0.0] + [per_cloud[b].item() for b in range(batch) if b not in flipped])
    replayed = {}
    if flipped:
        print(f"k-NN graphs differ in clouds {flipped} (a near tie); replaying the fast graphs")
        reference = DGCNNReference(args.output_dim, config)
        reference.load_state_dict(model.state_dict())
        reference.eval()
        for b in flipped:
            layers = iter(graphs["fast"][:, b : b + 1].long())
            reference._knn = lambda rows, layers=layers: next(layers)
            with torch.inference_mode():
                again = reference(points[b : b + 1])
            replayed[b] = (outputs["fast"][b] - again[0]).abs().max().item()
    max_same_graphs = max([same_graph_diff, *replayed.values()])
    fast, reference = results["fast"], results["reference"]
    summary = {
        "speedup": round(reference["median_ms"] / fast["median_ms"], 2),
        "peak_mem_ratio": round(reference["peak_mb"] / max(fast["peak_mb"], 1e-3), 2),
        "fast_ms": round(fast["median_ms"], 1),
        "reference_ms": round(reference["median_ms"], 1),
        "fast_min_ms": round(fast["min_ms"], 1),
        "reference_min_ms": round(reference["min_ms"], 1),
        "fast_peak_mb": round(fast["peak_mb"], 1),
        "reference_peak_mb": round(reference["peak_mb"], 1),
        "max_abs_diff": max_abs_diff,
        "max_abs_diff_same_graphs": max_same_graphs,
        "knn_flips": {
            str(b): {
                "abs_diff": per_cloud[b].item(),
                "rows_per_layer": flips[b].tolist(),
                "abs_diff_replayed": replayed[b],
            }
            for b in flipped
        },
        "batch": batch,
        "points": args.points,
        "k": args.k,
        "output_dim": args.output_dim,
        "threads": args.threads,
        "repeats": repeats,
        "memory_method": fast["memory_method"],
        "quick": args.quick,
    }
    print(json.dumps(summary))
    if not max_same_graphs <= TOLERANCE:
        sys.exit(
            f"with the same k-NN graphs, outputs differ by {max_same_graphs:.3g} > {TOLERANCE}"
        )


if __name__ == "__main__":
    main()
