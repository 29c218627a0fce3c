"""Benchmark: the search service under load on loopback, against Ray Serve's own echo ceiling.

One run measures, at concurrency 1, 8 and 32, queries/s and p50/p99 latency of: a no-op echo
deployment (bench/helpers/echo.py, through the same proxy), search by part id ("more like this":
a store read and one fused query), text search (TextEncoder, batched) and mesh search with a
small STL (PartPreparer renders 10 views; ImageEncoder and GeometryEncoder encode them). No text is
sent twice in a run (warm-up included), so the ingress's cache of query vectors never answers one.
Then image-embed requests of one image each at concurrency 32 with batching (the ingress merges
concurrent requests' images into one call, the ImageEncoder's ``@serve.batch`` forms batches of
what reaches it) and with ``serve.image.max_batch_size: 1`` (both off): ``embed_batch_gain``, the
service's CPU an image unbatched over batched (``embed_batch_qps_gain``: the same by queries/s).

The cost of a search (issue 16's ``bench/serve.py``: a script of that name would hide the
``serve`` package from itself): every run also reads the CPU time of all the service's processes
(the driver and its process tree: GCS, raylet, agents, Serve's controller, proxies, HAProxy,
replicas and the processes they start; bench/helpers/process_cpu.py), the load generator
excluded. Their idle background is measured in two quiet windows (``idle_cpu_ms_per_s``) and
subtracted over each run's seconds; divided by the run's requests, at c=8, that is a search's
CPU, set against the same queries run one at a time in one process on the same shard after the
service has stopped (``SearchService`` with the towers called directly:
bench/helpers/in_process.py): ``{id,text,mesh}_search_cpu_ratio``; p50 at c=1 against the
in-process p50: ``{id,text,mesh}_search_p50_ratio``. ``--variant`` measures the id and text
searches again in the same run under other user_configs or settings (side by side).

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
# (max requests, max seconds) of one measured run by concurrency: full / quick; c=8 is the run
# whose CPU a request is taken from, c=1 the one whose p50
BUDGET = {
    False: {
        "fast": {1: (300, 6), 8: (1500, 8), 32: (3000, 10)},
        "mesh": {1: (30, 8), 8: (60, 12), 32: (60, 12)},
        "embed": (3000, 10),
    },
    True: {
        "fast": {1: (60, 1.5), 8: (400, 3.0), 32: (240, 1.2)},
        "mesh": {1: (4, 1.5), 8: (24, 4.0), 32: (6, 1.5)},
        "embed": (400, 3.0),
    },
}
CPU_CONCURRENCY = 8  # the runs whose service CPU a request is taken from
IDLE_S = {False: 10.0, True: 3.0}  # each of the two quiet windows: full / quick
VARIANT_SETTLE_S = 5.0  # after a variant's start: restarted replicas finish their start-up
# queries of each kind the in-process reference times (after 3 of warm-up): full / quick
REFERENCE_QUERIES = {
    False: {"id_search": 500, "text_search": 300, "mesh_search": 30},
    True: {"id_search": 150, "text_search": 100, "mesh_search": 10},
}
KINDS = ["hex bolt", "socket head cap screw", "flat washer", "hex nut", "dowel pin",
         "ball bearing", "spur gear", "pipe elbow", "angle bracket", "shaft collar"]  # fmt: skip
MATERIALS = ["steel 8.8", "stainless A2", "brass", "aluminium 6061", "POM"]


# -- load generator (its own process) ---------------------------------------------------------


async def _measure(
    clients: list,
    requests: list,
    concurrency: int,
    total: int,
    seconds: float,
    start: int = 0,
    service=None,
) -> dict:
    """At most ``total`` requests in ``seconds``, from ``requests[start]`` on (cycling); worker
    ``i`` sends on ``clients[i]``, its own connection. With ``service`` (a ServiceCpu), the CPU
    seconds its processes spent meanwhile, by role."""
    import httpx
    from helpers.process_cpu import cpu_between

    latencies: list[float] = []
    statuses: dict[str, int] = {}
    next_index = start
    total += start
    service_before = service.snapshot() if service is not None else None
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
    out = {}
    if service is not None:
        by_role = cpu_between(service_before, service.snapshot())
        out["service_cpu_s"] = round(sum(by_role.values()), 4)
        out["service_cpu_s_by_role"] = {k: round(v, 4) for k, v in sorted(by_role.items())}
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
        **out,
    }


async def _idle(service, seconds: float) -> dict:
    """The service's CPU while nothing is sent for ``seconds``: its background."""
    from helpers.process_cpu import cpu_between

    before = service.snapshot()
    started = time.perf_counter()
    await asyncio.sleep(seconds)
    by_role = cpu_between(before, service.snapshot())
    elapsed = time.perf_counter() - started
    return {
        "seconds": round(elapsed, 3),
        "cpu_ms_per_s": round(sum(by_role.values()) * 1000 / elapsed, 2),
        "cpu_ms_per_s_by_role": {
            k: round(v * 1000 / elapsed, 2) for k, v in sorted(by_role.items())
        },
    }


async def _run_load(spec: dict) -> dict[str, list[dict]]:
    """One keep-alive connection per concurrent worker (an httpx client each), all opened
    before anything is measured; then a warm-up of each target of the spec (its first 4
    requests: every replica on the path), a quiet window (the service's idle CPU), each target's
    runs (concurrency, max requests, max seconds) on the requests after the ones taken before,
    and a second quiet window. With ``spec["service"]`` (the driver's pid, the Ray session's
    name) every run and window reads the CPU of the service's processes, this one excluded.

    One client per connection, not one client with a pool of them: httpx's bookkeeping grows
    with the pool, and a pool of 32 connections capped the echo ceiling well below what Serve
    serves (docs/benchmarks.md#benchservingpy)."""
    import httpx
    from helpers.process_cpu import ServiceCpu

    found = spec.get("service")
    service = None
    if found:
        service = ServiceCpu(found["root_pid"], found.get("session"), exclude=[os.getpid()])
    top = max(run[0] for plan in spec["plans"].values() for run in plan["runs"])
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    clients = [
        httpx.AsyncClient(base_url=spec["url"], limits=limits, timeout=120) for _ in range(top)
    ]
    out: dict = {}
    try:
        await asyncio.gather(*(client.get("/healthz") for client in clients))  # connections
        plans = {
            name: [
                (r["method"], r["path"], r["headers"], base64.b64decode(r["body"]))
                for r in plan["requests"]
            ]
            for name, plan in spec["plans"].items()
        }
        for requests in plans.values():
            await _measure(clients, requests, 4, 4, 60)
        idle = []
        if service is not None and spec.get("idle_s"):
            idle.append(await _idle(service, spec["idle_s"]))
        for name, plan in spec["plans"].items():
            taken, out[name] = 4, []
            for run in plan["runs"]:
                measured = await _measure(clients, plans[name], *run, start=taken, service=service)
                out[name].append(measured)
                taken += measured["requests"]
        if idle:
            idle.append(await _idle(service, spec["idle_s"]))
            out["_idle"] = idle
    finally:
        await asyncio.gather(*(client.aclose() for client in clients))
    return out


def load(spec_path: str) -> None:
    spec = json.loads(Path(spec_path).read_text())
    print(json.dumps(asyncio.run(_run_load(spec))), flush=True)


def run_load(
    port: int, plans: dict[str, tuple[list[dict], list[tuple]]], service: dict | None = None
) -> dict[str, list]:
    """Bounded measurements of each target, ``{name: (requests, runs)}`` with runs of
    (concurrency, max requests, max seconds), in one separate load-generator process; with
    ``service`` (``root_pid``, ``session``, ``idle_s``) the service's CPU too (``_run_load``)."""
    spec = {
        "url": f"http://127.0.0.1:{port}",
        "plans": {name: {"requests": r, "runs": runs} for name, (r, runs) in plans.items()},
    }
    if service is not None:
        spec["service"] = service
        spec["idle_s"] = service.get("idle_s", 0)
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(spec, f)
    try:
        out = subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), "--load", f.name],
            capture_output=True,
            text=True,
            timeout=sum(run[2] + 60 for _, runs in plans.values() for run in runs)
            + 2 * spec.get("idle_s", 0)
            + 120,
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


def texts(n: int, start: int = 0) -> list[str]:
    """n distinct part descriptions (the ``start``-th on)."""
    return [
        f"{KINDS[i % len(KINDS)]} M{3 + i % 17} x {8 + 2 * (i // 50)} mm, "
        f"{MATERIALS[(i // len(KINDS)) % len(MATERIALS)]}, variant {i}"
        for i in range(start, start + n)
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


def deployment_info(name: str, app: str = "cadsearch") -> dict:
    from ray import serve

    from serve.local import driver_handle

    return driver_handle(serve.get_deployment_handle(name, app)).info.remote().result()


def child(
    mode: str,
    root: str,
    quick: bool,
    out_path: str,
    run_service: bool,
    variants: dict[str, dict] | None = None,
) -> None:
    import ray
    from helpers.echo import Echo
    from helpers.mixed_load import mesh_search
    from ray import serve

    from cadsearch.settings import deep_merge, load_settings
    from serve.local import http_options, start_service

    budget = BUDGET[quick]
    overrides = service_overrides(Path(root))
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
    if run_service:  # its batching, as measured on this device when it started
        image = deployment_info("ImageEncoder")
        result["image_encoder"] = {k: image.get(k) for k in ("batch_gain", "max_batch_size")}
    part_ids = json.loads((Path(root) / "part_ids.json").read_text())

    def runs(name: str) -> list[tuple]:
        return [
            (c, *(budget["mesh"][c] if name == "mesh_search" else budget["fast"][c]))
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
        plans["mesh_search"] = ([mesh_search(small_stl())], runs("mesh_search"))
        png = base64.b64encode(query_png()).decode()
        embed = ([json_request("/v1/embed/image", {"images": [png]})], [(32, *budget["embed"])])
        plans["embed"] = embed
    service = None
    if run_service:  # the service's CPU: this process's tree, its Ray session
        from ray._private import worker

        session = worker.global_worker.node.session_name
        service = {"root_pid": os.getpid(), "session": session, "idle_s": IDLE_S[quick]}
    measured = run_load(port, plans, service)
    if "_idle" in measured:
        result["idle"] = measured.pop("_idle")
    for name in TARGETS:
        if name in measured:
            result["targets"][name] = {
                str(c): run for c, run in zip(CONCURRENCY, measured[name], strict=True)
            }
    result["variants"] = {}
    taken_texts = len(distinct) if run_service else 0
    for name, variant in (variants or {}).items() if run_service else ():
        # the same id and text searches with the variant's user_configs (applied live:
        # reconfigure) and settings (a changed ingress restarts), the service's idle CPU as
        # measured above
        user_configs = variant.get("user_configs", {})
        changed = deep_merge(overrides, variant.get("settings", {}))
        start_service("local", changed, http_port=port, user_configs=user_configs)
        time.sleep(VARIANT_SETTLE_S)  # replicas that restarted finish starting (their workers)
        cost_runs = {
            target: [run for run in runs(target) if run[0] in (1, CPU_CONCURRENCY)]
            for target in ("id_search", "text_search")
        }
        fresh = texts(requests_needed(cost_runs["text_search"]), start=taken_texts)
        taken_texts += len(fresh)
        found = run_load(
            port,
            {
                "id_search": (plans["id_search"][0], cost_runs["id_search"]),
                "text_search": (
                    [json_request("/v1/search", {"text": t, "top_k": 10}) for t in fresh],
                    cost_runs["text_search"],
                ),
            },
            service,
        )
        result["variants"][name] = {
            **variant,
            "idle": found.pop("_idle"),
            "targets": {
                target: {
                    str(run[0]): m for run, m in zip(cost_runs[target], found[target], strict=True)
                }
                for target in cost_runs
            },
        }
        print(f"variant {name}: done", file=sys.stderr, flush=True)
    if run_service:
        (batched,) = measured["embed"]
        # serve.image.max_batch_size 1: the ImageEncoder's @serve.batch (a user_config change,
        # applied live) and the ingress's merged image calls (a new ingress replica) both off
        unbatched = {**overrides, "serve": {**overrides["serve"], "image": {"max_batch_size": 1}}}
        start_service("local", unbatched, http_port=port)
        time.sleep(VARIANT_SETTLE_S)  # the restarted PartPreparer's workers (its settings changed)
        (single,) = run_load(port, {"embed": embed}, {**service, "idle_s": 0})["embed"]
        result["embed_image_c32"] = {"batched": batched, "max_batch_size_1": single}
    Path(out_path).write_text(json.dumps(result))
    ray.shutdown()  # the whole local cluster goes; serve.shutdown() first waits up to 30 s


def run_child(
    mode: str, root: Path, quick: bool, run_service: bool, variants: dict | None = None
) -> dict:
    out = root / f"result-{mode}.json"
    env = {**os.environ, **MODES[mode]}
    if mode == "haproxy":  # free ports: HAProxy's fixed ones may be another service's here
        for name in ("RAY_SERVE_HAPROXY_STATS_PORT", "RAY_SERVE_HAPROXY_METRICS_PORT"):
            env.setdefault(name, str(_free_port()))
    # run as a script: Ray's workers get bench/ on their path, so they import helpers/echo.py
    argv = [str(Path(__file__).resolve()), "--child", mode, "--root", str(root), "--out", str(out)]
    argv += ["--quick"] * quick + ["--no-service"] * (not run_service)
    if variants:
        argv += ["--variants", json.dumps(variants)]
    repo = Path(__file__).resolve().parents[1]
    subprocess.run([sys.executable, *argv], cwd=repo, env=env, check=True, timeout=1200)
    return json.loads(out.read_text())


def service_overrides(root: Path) -> dict:
    """The settings overrides of the bench's service (and of the in-process reference)."""
    return {
        "store": {"backend": "edge", "path": str(root / "qdrant")},
        "views": {"kind": "local", "path": str(root / "views")},
        "serve": {"grpc_port": None, "protect_embed": False},
    }


def reference(root: str, quick: bool, out_path: str) -> None:
    """The service's id, text and mesh searches in this process (bench/helpers/in_process.py),
    over the catalog the service searched (its shard free again): CPU and wall time a query."""
    from helpers.in_process import open_reference, run_reference

    from cadsearch.settings import load_settings

    counts = REFERENCE_QUERIES[quick]
    part_ids = json.loads((Path(root) / "part_ids.json").read_text())
    stl = small_stl()
    plans = {
        "id_search": [{"part_id": pid, "top_k": 10} for pid in part_ids[: counts["id_search"]]],
        "text_search": [{"text": t, "top_k": 10} for t in texts(counts["text_search"])],
        "mesh_search": [
            {"mesh": stl, "mesh_filename": "q.stl", "top_k": 10}
            for _ in range(counts["mesh_search"])
        ],
    }
    service = open_reference(load_settings("local", **service_overrides(Path(root))))
    try:
        Path(out_path).write_text(json.dumps(run_reference(service, plans)))
    finally:
        service.close()


def run_reference_process(root: Path, quick: bool) -> dict:
    out = root / "reference.json"
    argv = [str(Path(__file__).resolve()), "--reference", "--root", str(root), "--out", str(out)]
    repo = Path(__file__).resolve().parents[1]
    argv += ["--quick"] * quick
    subprocess.run([sys.executable, *argv], cwd=repo, check=True, timeout=600)
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
    idle_by_role = _idle_by_role(service)
    cpu = {name: _per_request_ms(run, idle_by_role) for name, run in embed.items()}
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
        "embed_cpu_ms_per_image": cpu,
        # the service's CPU an image, unbatched over batched: what the batching saves whatever
        # else runs on the machine (on shared cores the q/s follow the scheduler's share)
        "embed_batch_gain": round(cpu["max_batch_size_1"] / cpu["batched"], 3),
        "embed_batch_qps_gain": round(
            embed["batched"]["qps"] / embed["max_batch_size_1"]["qps"], 3
        ),
        "image_encoder": service.get("image_encoder"),
        "errors": errors,
        "startup_s": {mode: r["startup_s"] for mode, r in results.items()},
    }


NOT_SERVICE = ("Echo",)  # the bench's own replica in the service's Ray session
COST_TARGETS = ("id_search", "text_search", "mesh_search")


def _service_roles(by_role: dict[str, float]) -> dict[str, float]:
    return {role: v for role, v in by_role.items() if role not in NOT_SERVICE}


def _idle_by_role(service: dict) -> dict[str, float]:
    """The service's idle CPU ms a second by role: the mean of its quiet windows."""
    windows = [_service_roles(w["cpu_ms_per_s_by_role"]) for w in service["idle"]]
    roles = sorted({role for window in windows for role in window})
    return {r: sum(w.get(r, 0.0) for w in windows) / len(windows) for r in roles}


def _per_request_ms(run: dict, idle_by_role: dict) -> float:
    """The service's CPU ms a request of a run, less each role's idle rate over its seconds."""
    spent = _service_roles(run["service_cpu_s_by_role"])
    n, seconds = max(1, run["requests"]), run["seconds"]
    net = sum(v * 1000 - idle_by_role.get(r, 0.0) * seconds for r, v in spent.items())
    return round(net / n, 2)


def _costs(targets: dict, idle_by_role: dict, in_process: dict, names: tuple) -> dict:
    """CPU ms a request at c=CPU_CONCURRENCY (by role, and in total) and at c=1, less each
    role's idle rate over the run's seconds; p50 at c=1; their ratios to the in-process query."""

    def net_ms(run: dict) -> dict[str, float]:
        spent = _service_roles(run["service_cpu_s_by_role"])
        n, seconds = max(1, run["requests"]), run["seconds"]
        return {r: (v * 1000 - idle_by_role.get(r, 0.0) * seconds) / n for r, v in spent.items()}

    out: dict = {
        "cpu_ms_per_request": {},
        "cpu_ms_per_request_by_role": {},
        "cpu_ms_per_request_c1": {},
        "p50_ms_c1": {},
    }
    for name in names:
        net = net_ms(targets[name][str(CPU_CONCURRENCY)])
        out["cpu_ms_per_request"][name] = round(sum(net.values()), 2)
        out["cpu_ms_per_request_by_role"][name] = {
            r: round(v, 2) for r, v in sorted(net.items(), key=lambda kv: -kv[1])
        }
        out["cpu_ms_per_request_c1"][name] = round(sum(net_ms(targets[name]["1"]).values()), 2)
        out["p50_ms_c1"][name] = targets[name]["1"]["p50_ms"]
    for name in names:
        reference = in_process[name]["cpu_ms_per_query"]
        out[f"{name}_cpu_ratio"] = round(out["cpu_ms_per_request"][name] / reference, 3)
    for name in names:
        reference = in_process[name]["p50_ms"]
        out[f"{name}_p50_ratio"] = round(out["p50_ms_c1"][name] / reference, 3)
    return out


def cost_summary(service: dict, in_process: dict) -> dict:
    """CPU a request of the service's processes at c=CPU_CONCURRENCY, less their idle background
    over the run's seconds, against the same query in one process; p50 at c=1 against it."""
    idle_by_role = _idle_by_role(service)
    windows = [_service_roles(w["cpu_ms_per_s_by_role"]) for w in service["idle"]]
    return {
        "idle_cpu_ms_per_s": round(sum(idle_by_role.values()), 1),
        "idle_cpu_ms_per_s_windows": [round(sum(w.values()), 1) for w in windows],
        "idle_cpu_ms_per_s_by_role": {
            r: round(v, 1) for r, v in sorted(idle_by_role.items(), key=lambda kv: -kv[1])
        },
        "cpu_concurrency": CPU_CONCURRENCY,
        "in_process": {name: in_process[name] for name in COST_TARGETS},
        **_costs(service["targets"], idle_by_role, in_process, COST_TARGETS),
    }


def variant_summary(variant: dict, in_process: dict) -> dict:
    """``cost_summary``'s figures of the id and text searches under a variant (its own quiet
    windows: a settings change restarts replicas)."""
    names = tuple(variant["targets"])
    idle_by_role = _idle_by_role(variant)
    costs = _costs(variant["targets"], idle_by_role, in_process, names)
    given = {k: v for k, v in variant.items() if k not in ("targets", "idle")}
    return {**given, "idle_cpu_ms_per_s": round(sum(idle_by_role.values()), 1), **costs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="HAProxy mode only, short runs")
    parser.add_argument("--load", help=argparse.SUPPRESS)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--root", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--no-service", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--reference", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="NAME=JSON",
        help="also measure the id and text searches' cost under a variant: user_configs by "
        "deployment (applied live) and settings overrides, e.g. "
        'text_bf16=\'{"user_configs": {"TextEncoder": {"precision": "bf16"}}}\' or '
        'no_inline=\'{"settings": {"serve": {"inline_text_items": 0}}}\'',
    )
    parser.add_argument("--variants", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.load:
        return load(args.load)
    if args.child:
        variants = json.loads(args.variants) if args.variants else None
        return child(args.child, args.root, args.quick, args.out, not args.no_service, variants)
    if args.reference:
        return reference(args.root, args.quick, args.out)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-serve-") as tmp:
        root = Path(tmp)
        catalog = start_catalog(root, CATALOG_PARTS[args.quick])
        results = {}
        if not args.quick:  # the default proxy: echo only (its ceiling), then the service's mode
            results["default"] = run_child("default", root, args.quick, run_service=False)
            print(f"default proxy: {json.dumps(results['default'])}", file=sys.stderr)
        variants = {}
        for given in args.variant:
            name, _, config = given.partition("=")
            variants[name] = json.loads(config)
        results["haproxy"] = run_child(
            "haproxy", root, args.quick, run_service=True, variants=variants
        )
        catalog.join()
        # after the service is gone: its shard is free, and nothing else runs meanwhile
        in_process = run_reference_process(root, args.quick)
        print(f"in process: {json.dumps(in_process)}", file=sys.stderr)
    out = summary(results, args.quick)
    out.update(cost_summary(results["haproxy"], in_process))
    for name, variant in results["haproxy"].get("variants", {}).items():
        out.setdefault("variants", {})[name] = variant_summary(variant, in_process)
    out["total_s"] = round(time.perf_counter() - started, 1)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
