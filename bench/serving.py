"""Benchmark: the search service under load on loopback, against Ray Serve's own echo ceiling.

One run measures, at concurrency 1, 8 and 32, queries/s and p50/p99 latency of: a no-op echo
deployment (bench/helpers/echo.py, through the same proxy), search by part id ("more like this":
a store read and one fused query), text search (TextEncoder, batched) and mesh search with a
small STL (PartPreparer renders 10 views; ImageEncoder and GeometryEncoder encode them). No text is
sent twice in a run (warm-up included), so the ingress's cache of query vectors never answers one.
Then image-embed requests of one image each at concurrency 32 with batching (the ingress merges
concurrent requests' images into one call, the ImageEncoder's ``@serve.batch`` forms batches of
what reaches it) and with ``serve.image.max_batch_size: 1`` (both off): ``embed_batch_gain``.

Ray Serve has two ingress modes: the default proxy, and HAProxy in front of replicas that serve
HTTP themselves (``RAY_SERVE_ENABLE_HA_PROXY=1 RAY_SERVE_THROUGHPUT_OPTIMIZED=1``). The ceiling is
the faster of the two echoes (the full run measures both; ``--quick`` only HAProxy, the faster
one here), and the service ratios are taken in that mode.

Each mode runs in its own process (the modes are read from the environment when Ray starts), the
load generator in another one (httpx + asyncio, one keep-alive connection and client per
concurrent worker, opened before the runs), every run bounded in requests and seconds; each run
takes the requests of its target that follow the ones the run (or warm-up) before it took. The
catalog is synthetic (2,000 parts at cad-mini's dimension, planted structure;
bench/helpers/synthetic.py): search cost, not ranking quality, is measured here.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import io
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from serve.local import HAPROXY_ENV

MODES = {"default": {}, "haproxy": HAPROXY_ENV}  # the service's `serve.haproxy` sets the latter
CONCURRENCY = (1, 8, 32)
TARGETS = ("echo", "id_search", "text_search", "mesh_search")
CATALOG_PARTS = {False: 2000, True: 500}  # full / quick
# (max requests, max seconds) of one measured run: full / quick
BUDGET = {
    False: {"fast": {1: (300, 6), 8: (1500, 8), 32: (3000, 10)}, "mesh": (60, 12)},
    True: {"fast": {1: (30, 0.8), 8: (120, 0.8), 32: (240, 1.2)}, "mesh": (6, 1.5)},
}
KINDS = ["hex bolt", "socket head cap screw", "flat washer", "hex nut", "dowel pin",
         "ball bearing", "spur gear", "pipe elbow", "angle bracket", "shaft collar"]  # fmt: skip
MATERIALS = ["steel 8.8", "stainless A2", "brass", "aluminium 6061", "POM"]


# -- load generator (its own process) ---------------------------------------------------------


async def _measure(
    clients: list, requests: list, concurrency: int, total: int, seconds: float, start: int = 0
) -> dict:
    """At most ``total`` requests in ``seconds``, from ``requests[start]`` on (cycling); worker
    ``i`` sends on ``clients[i]``, its own connection."""
    import httpx

    latencies: list[float] = []
    statuses: dict[str, int] = {}
    next_index = start
    total += start
    cpu_started = time.process_time()
    started = time.perf_counter()
    deadline = started + seconds

    async def worker(client) -> None:
        nonlocal next_index
        while next_index < total and time.perf_counter() < deadline:
            method, path, headers, body = requests[next_index % len(requests)]
            next_index += 1
            t0 = time.perf_counter()
            try:
                response = await client.request(method, path, headers=headers, content=body)
                status = str(response.status_code)
            except httpx.HTTPError as e:
                status = type(e).__name__
            latencies.append(time.perf_counter() - t0)
            if status != "200":
                statuses[status] = statuses.get(status, 0) + 1

    await asyncio.gather(*(worker(client) for client in clients[:concurrency]))
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    ms = np.asarray(latencies) * 1000 if latencies else np.zeros(1)
    return {
        "concurrency": concurrency,
        "requests": len(latencies),
        "errors": sum(statuses.values()),
        "error_statuses": statuses,
        "seconds": round(elapsed, 3),
        "qps": round(len(latencies) / elapsed, 1),
        "p50_ms": round(float(np.percentile(ms, 50)), 2),
        "p99_ms": round(float(np.percentile(ms, 99)), 2),
        # the load generator's own CPU, as a share of one core: near 1 it shares the machine's
        # cores with Serve as an equal, and a leaner client would raise the queries/s
        "loadgen_cpu": round(cpu / elapsed, 2),
    }


async def _run_load(spec: dict) -> dict[str, list[dict]]:
    """One keep-alive connection per concurrent worker (an httpx client each), all opened
    before anything is measured; then each target of the spec in turn: a warm-up (its first 4
    requests: every replica on the path), then its runs (concurrency, max requests, max
    seconds), each on the requests after the ones taken before it.

    One client per connection, not one client with a pool of them: httpx's bookkeeping grows
    with the pool, and a pool of 32 connections capped the echo ceiling well below what Serve
    serves (docs/benchmarks.md#benchservingpy)."""
    import httpx

    top = max(run[0] for plan in spec["plans"].values() for run in plan["runs"])
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    clients = [
        httpx.AsyncClient(base_url=spec["url"], limits=limits, timeout=120) for _ in range(top)
    ]
    out = {}
    try:
        await asyncio.gather(*(client.get("/healthz") for client in clients))  # connections
        for name, plan in spec["plans"].items():
            requests = [
                (r["method"], r["path"], r["headers"], base64.b64decode(r["body"]))
                for r in plan["requests"]
            ]
            await _measure(clients, requests, 4, 4, 60)
            taken, out[name] = 4, []
            for run in plan["runs"]:
                out[name].append(await _measure(clients, requests, *run, start=taken))
                taken += out[name][-1]["requests"]
    finally:
        await asyncio.gather(*(client.aclose() for client in clients))
    return out


def load(spec_path: str) -> None:
    spec = json.loads(Path(spec_path).read_text())
    print(json.dumps(asyncio.run(_run_load(spec))), flush=True)


def run_load(port: int, plans: dict[str, tuple[list[dict], list[tuple]]]) -> dict[str, list]:
    """Bounded measurements of each target, ``{name: (requests, runs)}`` with runs of
    (concurrency, max requests, max seconds), in one separate load-generator process."""
    spec = {
        "url": f"http://127.0.0.1:{port}",
        "plans": {name: {"requests": r, "runs": runs} for name, (r, runs) in plans.items()},
    }
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(spec, f)
    try:
        out = subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), "--load", f.name],
            capture_output=True,
            text=True,
            timeout=sum(run[2] + 60 for _, runs in plans.values() for run in runs) + 120,
            check=True,
        )
    finally:
        os.unlink(f.name)
    return json.loads(out.stdout.strip().splitlines()[-1])


def requests_needed(runs: list[tuple]) -> int:
    """Requests that a target's warm-up and runs take at most."""
    return 4 + sum(run[1] for run in runs)


# -- requests -------------------------------------------------------------------------------------


def http_request(method: str, path: str, body: bytes = b"", ctype: str = "") -> dict:
    headers = {"content-type": ctype} if ctype else {}
    return {
        "method": method,
        "path": path,
        "headers": headers,
        "body": base64.b64encode(body).decode(),
    }


def json_request(path: str, payload: dict) -> dict:
    return http_request("POST", path, json.dumps(payload).encode(), "application/json")


def mesh_request(stl: bytes) -> dict:
    boundary = "cadsearchbench"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="top_k"\r\n\r\n10\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="mesh"; filename="q.stl"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    body += stl + f"\r\n--{boundary}--\r\n".encode()
    return http_request("POST", "/v1/search", body, f"multipart/form-data; boundary={boundary}")


def texts(n: int) -> list[str]:
    """n distinct part descriptions."""
    return [
        f"{KINDS[i % len(KINDS)]} M{3 + i % 17} x {8 + 2 * (i // 50)} mm, "
        f"{MATERIALS[(i // len(KINDS)) % len(MATERIALS)]}, variant {i}"
        for i in range(n)
    ]


def small_stl() -> bytes:
    """A flat washer, 64 faces (binary STL)."""
    import trimesh

    mesh = trimesh.creation.annulus(r_min=4.2, r_max=8.0, height=1.6, sections=16)
    return mesh.export(file_type="stl")


def query_png(size: int = 224) -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (size, size), "white")
    draw = ImageDraw.Draw(image)
    draw.ellipse((40, 40, size - 40, size - 40), fill=(150, 160, 200), outline="black")
    draw.ellipse((90, 90, size - 90, size - 90), fill="white", outline="black")
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


# -- one ingress mode (its own process: Ray reads the mode from the environment) ------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_running(app: str, timeout_s: float = 300) -> None:
    from ray import serve
    from ray.serve.schema import ApplicationStatus

    deadline = time.monotonic() + timeout_s
    while True:
        found = serve.status().applications.get(app)
        if found is not None and found.status == ApplicationStatus.RUNNING:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"application {app!r} is not running after {timeout_s} s: {found}")
        time.sleep(0.2)


def child(mode: str, root: str, quick: bool, out_path: str, run_service: bool) -> None:
    import ray
    from helpers.echo import Echo
    from ray import serve

    from cadsearch.settings import load_settings
    from serve.local import http_options, start_service

    budget = BUDGET[quick]
    overrides = {
        "store": {"backend": "edge", "path": str(Path(root) / "qdrant")},
        "views": {"kind": "local", "path": str(Path(root) / "views")},
        "serve": {"grpc_port": None, "protect_embed": False},
    }
    port = _free_port()
    result: dict = {"mode": mode, "targets": {}}
    started = time.perf_counter()
    # Serve's proxy and the echo app first: the echo replica starts while the service's do
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    serve.start(http_options=http_options(load_settings("local", **overrides), port))
    echo_app = serve.RunTarget(Echo.bind(), name="echo", route_prefix="/echo")
    serve.run_many([echo_app], wait_for_applications_running=False)
    wait_catalog(Path(root))  # made by the parent meanwhile
    start_service("local", overrides, http_port=port, num_cpus=2)
    wait_running("echo")
    result["startup_s"] = round(time.perf_counter() - started, 1)
    part_ids = json.loads((Path(root) / "part_ids.json").read_text())

    def runs(name: str) -> list[tuple]:
        return [
            (c, *(budget["mesh"] if name == "mesh_search" else budget["fast"][c]))
            for c in CONCURRENCY
        ]

    plans = {"echo": ([http_request("GET", "/echo")], runs("echo"))}
    if run_service:
        plans["id_search"] = (
            [json_request("/v1/search", {"part_id": pid, "top_k": 10}) for pid in part_ids],
            runs("id_search"),
        )
        distinct = texts(requests_needed(runs("text_search")))  # no text twice
        plans["text_search"] = (
            [json_request("/v1/search", {"text": t, "top_k": 10}) for t in distinct],
            runs("text_search"),
        )
        plans["mesh_search"] = ([mesh_request(small_stl())], runs("mesh_search"))
        png = base64.b64encode(query_png()).decode()
        embed = ([json_request("/v1/embed/image", {"images": [png]})], [(32, *budget["fast"][32])])
        plans["embed"] = embed
    measured = run_load(port, plans)
    for name in TARGETS:
        if name in measured:
            result["targets"][name] = {
                str(c): run for c, run in zip(CONCURRENCY, measured[name], strict=True)
            }
    if run_service:
        (batched,) = measured["embed"]
        # serve.image.max_batch_size 1: the ImageEncoder's @serve.batch (a user_config change,
        # applied live) and the ingress's merged image calls (a new ingress replica) both off
        unbatched = {**overrides, "serve": {**overrides["serve"], "image": {"max_batch_size": 1}}}
        start_service("local", unbatched, http_port=port)
        (single,) = run_load(port, {"embed": embed})["embed"]
        result["embed_image_c32"] = {"batched": batched, "max_batch_size_1": single}
    Path(out_path).write_text(json.dumps(result))
    ray.shutdown()  # the whole local cluster goes; serve.shutdown() first waits up to 30 s


def run_child(mode: str, root: Path, quick: bool, run_service: bool) -> dict:
    out = root / f"result-{mode}.json"
    env = {**os.environ, **MODES[mode]}
    # run as a script: Ray's workers get bench/ on their path, so they import helpers/echo.py
    argv = [str(Path(__file__).resolve()), "--child", mode, "--root", str(root), "--out", str(out)]
    argv += ["--quick"] * quick + ["--no-service"] * (not run_service)
    repo = Path(__file__).resolve().parents[1]
    subprocess.run([sys.executable, *argv], cwd=repo, env=env, check=True, timeout=1200)
    return json.loads(out.read_text())


def make_catalog(root: Path, parts: int) -> None:
    """A synthetic collection at cad-mini's spec in root/qdrant; its part ids in part_ids.json."""
    from helpers.synthetic import SyntheticCatalog

    from cadsearch.settings import load_settings
    from encoders.bundle import load_bundle
    from store.factory import open_store

    settings = load_settings("local", store={"backend": "edge", "path": str(root / "qdrant")})
    spec = load_bundle(settings.model.bundle).collection_spec()
    catalog = SyntheticCatalog(spec, seed=3)
    ids = []
    with open_store(settings.store, spec) as store:
        for start in range(0, parts, 500):
            records = catalog.records(start, min(500, parts - start))
            store.upsert(records)
            ids += [r.part_id for r in records]
        store.optimize()
    rng = np.random.default_rng(0)
    shuffled = json.dumps([ids[i] for i in rng.permutation(len(ids))])
    (root / "part_ids.json.tmp").write_text(shuffled)
    os.replace(root / "part_ids.json.tmp", root / "part_ids.json")  # the sign the catalog is done


def wait_catalog(root: Path, timeout_s: float = 600) -> None:
    """Until make_catalog (in the parent process) is done: part_ids.json, or its error."""
    deadline = time.monotonic() + timeout_s
    while not (root / "part_ids.json").exists():
        if (root / "catalog.failed").exists():
            raise RuntimeError(f"the catalog failed: {(root / 'catalog.failed').read_text()}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"no catalog in {root} after {timeout_s} s")
        time.sleep(0.1)


def start_catalog(root: Path, parts: int) -> threading.Thread:
    """make_catalog in a thread of this process, while the first mode's process starts Ray (it
    waits for the catalog before it starts the service: wait_catalog)."""

    def run() -> None:
        try:
            make_catalog(root, parts)
        except BaseException as e:
            (root / "catalog.failed").write_text(f"{type(e).__name__}: {e}")
            raise

    thread = threading.Thread(target=run, name="make_catalog", daemon=True)
    thread.start()
    return thread


def summary(results: dict[str, dict], quick: bool) -> dict:
    echo = {mode: r["targets"]["echo"]["32"]["qps"] for mode, r in results.items()}
    ceiling_mode = max(echo, key=echo.get)
    ceiling = echo[ceiling_mode]
    service_mode = next(m for m, r in results.items() if "id_search" in r["targets"])
    service = results[service_mode]
    table = {
        f"{mode}:{name}:c{c}": {
            k: run[k] for k in ("qps", "p50_ms", "p99_ms", "errors", "loadgen_cpu")
        }
        for mode, r in results.items()
        for name, runs in r["targets"].items()
        for c, run in runs.items()
    }
    embed = service["embed_image_c32"]
    errors = sum(v["errors"] for v in table.values())
    errors += embed["batched"]["errors"] + embed["max_batch_size_1"]["errors"]
    return {
        "quick": quick,
        "echo_qps_c32": echo,
        "ceiling_mode": ceiling_mode,
        "ceiling_qps": ceiling,
        # near 1.0, the load generator's own cost is part of what bounds the ceiling
        "ceiling_loadgen_cpu": results[ceiling_mode]["targets"]["echo"]["32"]["loadgen_cpu"],
        "service_mode": service_mode,
        "runs": table,
        "id_search_vs_echo": round(service["targets"]["id_search"]["32"]["qps"] / ceiling, 3),
        "text_search_vs_echo": round(service["targets"]["text_search"]["32"]["qps"] / ceiling, 3),
        "mesh_search_qps_c32": service["targets"]["mesh_search"]["32"]["qps"],
        "embed_image_qps_c32": {
            "batched": embed["batched"]["qps"],
            "max_batch_size_1": embed["max_batch_size_1"]["qps"],
        },
        "embed_batch_gain": round(embed["batched"]["qps"] / embed["max_batch_size_1"]["qps"], 3),
        "errors": errors,
        "startup_s": {mode: r["startup_s"] for mode, r in results.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="HAProxy mode only, short runs")
    parser.add_argument("--load", help=argparse.SUPPRESS)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--root", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--no-service", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.load:
        return load(args.load)
    if args.child:
        return child(args.child, args.root, args.quick, args.out, not args.no_service)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-serve-") as tmp:
        root = Path(tmp)
        catalog = start_catalog(root, CATALOG_PARTS[args.quick])
        results = {}
        if not args.quick:  # the default proxy: echo only (its ceiling), then the service's mode
            results["default"] = run_child("default", root, args.quick, run_service=False)
            print(f"default proxy: {json.dumps(results['default'])}", file=sys.stderr)
        results["haproxy"] = run_child("haproxy", root, args.quick, run_service=True)
        catalog.join()
    out = summary(results, args.quick)
    out["total_s"] = round(time.perf_counter() - started, 1)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
