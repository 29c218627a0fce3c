"""Benchmark: a soak of the service under a bounded, mixed valid and malformed load
(docs/benchmarks.md#benchsoakpy).

`cadsearch serve` runs in its own process (bench/helpers/local_service.py) over a few parts
indexed through the API; a load generator in another process (bench/helpers/mixed_load.py) sends
searches by part id, text, point cloud, image and mesh, and malformed requests (the fuzz cases of
bench/helpers/fuzz_cases.py: JSON and multipart searches, embeds, part uploads with a wrong key),
8 at a time, for 10 minutes (``--quick``: 45 s). Every second the resident memory of each of the
service's processes is sampled; each replica's Serve access log gives the latency of every call
it served.

Final JSON line: by deployment, ``rss_growth_mb`` (the median of the last tenth of the run less
that of the first tenth) and ``p99_drift`` (p99 latency of the last third over the first third),
with the worst of each; ``server_errors`` (5xx or no answer) and ``replicas_restarted`` (a replica
that died). Exits 1 on a server error or a lost replica.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import threading
import time
from collections import Counter, defaultdict
from datetime import datetime
from pathlib import Path

import numpy as np

DEPLOYMENTS = ("TextEncoder", "ImageEncoder", "GeometryEncoder", "PartPreparer", "SearchIngress")
# roles whose memory is reported besides the deployments
OTHER_ROLES = ("ProxyActor", "ServeController", "raylet", "gcs_server", "cadsearch")
# four malformed requests in fourteen, between the valid searches
MIX = ("id", "malformed", "text", "points", "malformed", "id", "text", "image", "malformed",
       "id", "text", "points", "malformed", "mesh")  # fmt: skip
CONCURRENCY = 8
SIZES = {
    True: {"duration_s": 45, "warm_s": 10, "malformed": 300},
    False: {"duration_s": 600, "warm_s": 30, "malformed": 2000},
}
SEED_FAMILIES = ("hex_bolt", "spur_gear", "l_bracket", "flat_washer", "hex_nut", "pipe_flange")
SAMPLE_S = 1.0
# a Serve access-log line: time, then after " -- " a call (CALL <method> OK|ERROR) or an HTTP
# request (<METHOD> <path> <status>), and its latency
ACCESS = re.compile(
    r"^\w+ (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) .* -- (?:CALL (\S+) \S+|\S+ \S+ \d{3}) "
    r"([\d.]+)ms$"
)


def progress(message: str) -> None:
    print(f"[soak] {message}", file=sys.stderr, flush=True)


# -- requests -------------------------------------------------------------------------------------


def malformed_requests(part_ids: list[str], n: int, key: str, seed: int = 0) -> list[dict]:
    """n requests drawn from the fuzz strategies: JSON searches 4 in 10, multipart searches 3,
    embeds (with the key) 2, part uploads (with a wrong key: the store does not grow) 1."""
    from helpers import fuzz_cases as fc
    from helpers.mixed_load import http_request

    meshes, pictures = fc.mesh_seeds(), fc.image_seeds()
    bodies = fc.search_bodies(pictures, part_ids).map(fc.encode_json) | fc.search_body_bytes(
        pictures, part_ids
    )
    out = []
    for body in fc.examples(bodies, 4 * n // 10, seed):
        out.append(http_request("POST", "/v1/search", body, "application/json"))
    forms = fc.multipart_searches(meshes, pictures, part_ids)
    for fields, files in fc.examples(forms, 3 * n // 10, seed + 1):
        body, content_type = fc.multipart_body(fields, files)
        out.append(http_request("POST", "/v1/search", body, content_type))
    for path, body in fc.examples(fc.embed_requests(pictures), 2 * n // 10, seed + 2):
        out.append(http_request("POST", path, body, "application/json", **{"x-api-key": key}))
    for fields, files in fc.examples(fc.index_forms(meshes), n // 10, seed + 3):
        body, content_type = fc.multipart_body(fields, files)
        out.append(http_request("POST", "/v1/parts", body, content_type, **{"x-api-key": "no"}))
    order = np.random.default_rng(seed).permutation(len(out))
    return [out[i] for i in order]


# -- memory and latency ---------------------------------------------------------------------------


class MemorySampler(threading.Thread):
    """RSS summed by role (a replica with the processes it forked) every SAMPLE_S seconds, and
    the replica pids seen by deployment."""

    def __init__(self, service):
        super().__init__(daemon=True)
        self.service = service
        self.samples: list[tuple[float, dict[str, float]]] = []
        self.replica_pids: dict[str, set[int]] = defaultdict(set)
        self.stop = threading.Event()

    def run(self) -> None:
        from helpers.local_service import role

        while not self.stop.wait(SAMPLE_S):
            by_role: dict[str, float] = defaultdict(float)
            for process in self.service.processes():
                try:
                    name, rss = role(process), process.memory_info().rss
                except Exception:  # gone meanwhile
                    continue
                by_role[name] += rss / 2**20
            for deployment in DEPLOYMENTS:
                self.replica_pids[deployment].update(
                    p.pid for p in self.service.replicas(deployment)
                )
            self.samples.append((time.time(), dict(by_role)))

    def report(self, start: float, end: float) -> dict:
        """By role: MB at the start (median of the first tenth of [start, end]), at the end (the
        last tenth), their difference, the peak, and the slope of a line fitted through all."""
        tenth = (end - start) / 10
        out = {}
        for name in (*DEPLOYMENTS, *OTHER_ROLES):
            series = [(t, s[name]) for t, s in self.samples if start <= t <= end and name in s]
            if not series:
                continue
            times, mb = np.asarray(series).T
            first = mb[times <= start + tenth]
            last = mb[times >= end - tenth]
            if not len(first) or not len(last):  # started or ended during the run
                continue
            slope = np.polyfit((times - start) / 60, mb, 1)[0] if len(series) > 2 else 0.0
            out[name] = {
                "start_mb": round(float(np.median(first)), 1),
                "end_mb": round(float(np.median(last)), 1),
                "growth_mb": round(float(np.median(last) - np.median(first)), 1),
                "peak_mb": round(float(mb.max()), 1),
                "slope_mb_per_min": round(float(slope), 2),
            }
        return out


def access_latencies(session: Path) -> dict[str, list[tuple[float, float]]]:
    """(time, ms) of every call each deployment's replicas logged (Serve's access log), by
    deployment; the encoders' ``info`` (readiness) calls left out."""
    found: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for path in (session / "logs" / "serve").glob("replica_*.log"):
        deployment = next((d for d in DEPLOYMENTS if f"_{d}_" in path.name), None)
        if deployment is None:
            continue
        for line in path.read_text(errors="replace").splitlines():
            match = ACCESS.match(line)
            if match and match.group(2) != "info":
                when = datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S,%f").timestamp()
                found[deployment].append((when, float(match.group(3))))
    return found


def latency_drift(latencies: dict[str, list], start: float, end: float) -> dict:
    """By deployment: calls, p50 and p99 ms of the first and the last third, p99 last / first."""
    third = (end - start) / 3
    out = {}
    for deployment in DEPLOYMENTS:
        calls = [(t, ms) for t, ms in latencies.get(deployment, []) if start <= t <= end]
        first = [ms for t, ms in calls if t < start + third]
        last = [ms for t, ms in calls if t >= end - third]
        if len(first) < 5 or len(last) < 5:
            out[deployment] = {"calls": len(calls), "p99_drift": None}
            continue
        p99_first, p99_last = np.percentile(first, 99), np.percentile(last, 99)
        out[deployment] = {
            "calls": len(calls),
            "p50_ms": [round(float(np.percentile(w, 50)), 1) for w in (first, last)],
            "p99_ms": [round(float(p99_first), 1), round(float(p99_last), 1)],
            "p99_drift": round(float(p99_last / p99_first), 3),
        }
    return out


def client_summary(lines: list[dict]) -> dict:
    """By request kind: requests, statuses, p50 and p99 ms (the client's view)."""
    out = {}
    for kind in sorted({r["kind"] for r in lines}):
        mine = [r for r in lines if r["kind"] == kind]
        ms = np.asarray([r["t1"] - r["t0"] for r in mine]) * 1000
        statuses = Counter(f"{r['status']} {r['code']}".strip() for r in mine)
        out[kind] = {
            "requests": len(mine),
            "p50_ms": round(float(np.percentile(ms, 50)), 1),
            "p99_ms": round(float(np.percentile(ms, 99)), 1),
            "statuses": dict(statuses.most_common(6)),
        }
    return out


# -- the run --------------------------------------------------------------------------------------


def index_seed_parts(url: str, root: Path, key: str) -> list[str]:
    import httpx

    from data_jobs.catalog.generate import generate_catalog

    catalog = root / "seed"
    records = generate_catalog(catalog, n=len(SEED_FAMILIES), seed=7, families=SEED_FAMILIES)
    with httpx.Client(base_url=url, timeout=120) as client:
        for record in records:
            meta = {k: record[k] for k in ("name", "category", "tags", "description")}
            data = (catalog / record["file"]).read_bytes()
            client.post(
                "/v1/parts",
                files={"file": (Path(record["file"]).name, data)},
                data={"metadata": json.dumps(meta), "part_id": record["part_id"]},
                headers={"x-api-key": key},
            ).raise_for_status()
    return [r["part_id"] for r in records]


def run(quick: bool, root: Path) -> dict:
    from helpers import mixed_load
    from helpers.local_service import API_KEY, Service, free_port, service_env

    sizes = SIZES[quick]
    service = Service(service_env(root, free_port(), free_port()), root / "service.log")
    startup_s = service.start()
    progress(f"service ready in {startup_s:.0f} s")
    try:
        part_ids = index_seed_parts(service.http_url, root, API_KEY)
        requests = mixed_load.search_requests(part_ids, texts=50_000)
        requests["malformed"] = malformed_requests(part_ids, sizes["malformed"], API_KEY)
        out, stop = root / "soak.jsonl", root / "soak.stop"
        spec = {
            "url": service.http_url,
            "requests": requests,
            "mix": MIX,
            "concurrency": CONCURRENCY,
            "stop_file": str(stop),
            "out": str(out),
            "max_s": sizes["warm_s"] + sizes["duration_s"] + 60,
            "max_requests": 10**7,
        }
        sampler = MemorySampler(service)
        sampler.start()
        loader = mixed_load.start(str(Path(__file__).resolve()), root / "soak.json", spec)
        time.sleep(sizes["warm_s"])  # every path warm: the baseline holds what first calls load
        start = time.time()
        loads = [os.getloadavg()[0]]
        progress(f"soaking {sizes['duration_s']} s at c={CONCURRENCY}")
        while time.time() - start < sizes["duration_s"]:
            time.sleep(min(10.0, sizes["duration_s"] - (time.time() - start)))
            loads.append(os.getloadavg()[0])
        end = time.time()
        stop.touch()
        loader.wait(timeout=mixed_load.TIMEOUT_S + 30)
        sampler.stop.set()
        sampler.join()
        session = service.session_dir()
        lines = mixed_load.read_lines(out)
    finally:
        service.stop()
    memory = sampler.report(start, end)
    drift = latency_drift(access_latencies(session), start, end) if session else {}
    server_errors = [r for r in lines if r["status"] >= 500 or r["status"] == 0]
    growth = {d: memory[d]["growth_mb"] for d in DEPLOYMENTS if d in memory}
    drifts = {d: v["p99_drift"] for d, v in drift.items()}
    restarted = {d: len(p) - 1 for d, p in sampler.replica_pids.items() if len(p) > 1}
    return {
        "duration_s": round(end - start, 1),
        "concurrency": CONCURRENCY,
        "requests": len(lines),
        "malformed_share": round(sum(r["kind"] == "malformed" for r in lines) / len(lines), 3),
        "server_errors": len(server_errors),
        "server_error_examples": server_errors[:5],
        "replicas_restarted": restarted,
        "rss_growth_mb": growth,
        "max_rss_growth_mb": max(growth.values(), default=None),
        "p99_drift": drifts,
        "max_p99_drift": max((v for v in drifts.values() if v is not None), default=None),
        "memory": memory,
        "latency_by_deployment": drift,
        "client": client_summary(lines),
        "startup_s": round(startup_s, 1),
        "load_1m": {"min": round(min(loads), 1), "max": round(max(loads), 1)},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="45 s instead of 10 minutes")
    parser.add_argument("--keep", action="store_true", help="keep the run's folder (logs, store)")
    parser.add_argument("--load", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.load:
        import asyncio

        from helpers.mixed_load import run_load

        return asyncio.run(run_load(json.loads(Path(args.load).read_text())))
    # Open CASCADE (the STEP fuzz seeds) writes to stdout: the final JSON line keeps it to itself
    stdout = os.dup(1)
    os.dup2(2, 1)
    from helpers.local_service import run_folder

    started = time.perf_counter()
    with run_folder("soak", args.keep, progress) as root:
        result = {"bench": "soak", "quick": args.quick, **run(args.quick, root)}
    result["total_s"] = round(time.perf_counter() - started, 1)
    result["pass"] = result["server_errors"] == 0 and not result["replicas_restarted"]
    os.write(stdout, (json.dumps(result) + "\n").encode())
    sys.exit(0 if result["pass"] else 1)


if __name__ == "__main__":
    main()
