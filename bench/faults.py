"""Benchmark: faults under load (docs/benchmarks.md#benchfaultspy).

Replica losses: `cadsearch serve` runs in its own process (bench/helpers/local_service.py) over a
few parts indexed through the API; a load generator in another process sends a bounded, mixed
search load at concurrency 16 (part id, text, point cloud, image and mesh searches, no text twice).
One replica of each deployment in turn is killed with SIGKILL (as a crash or the OOM killer ends
it); ``recovery_s`` is the kill to the answer of the first request that needs the killed
deployment and was sent after it, and the next kill waits until /readyz answers 200 (the new
replica has loaded, ``whole_s``): one fault at a time.

A lost service: a batch index of a generated catalog (POST /v1/parts, two at a time, from another
process); half way through, the whole service (its process group: the driver and every Ray
process) is SIGKILLed and started again. Parts the service acknowledged must be stored; the parts
not stored are sent again; then the service is stopped and its store read by part id.

Final JSON line: ``errors_pct`` (search requests not answered 200, over the replica losses),
``recovery_s`` (the worst kill), ``lost_parts`` (acknowledged, or sent again, and not stored),
``duplicate_parts`` (stored more than once); exits 1 unless they are within issue 16's bars.
``--replicas 2``: two replicas of each encoder and of the PartPreparer (the ingress owns the Edge
shard: one), sharing the 2 CPUs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
from helpers import mixed_load

DEPLOYMENTS = ("TextEncoder", "ImageEncoder", "GeometryEncoder", "PartPreparer", "SearchIngress")
KINDS = mixed_load.SEARCH_KINDS
# what each kind of search needs besides the ingress
NEEDS = {
    "TextEncoder": {"text"},
    "ImageEncoder": {"image", "mesh"},
    "GeometryEncoder": {"points", "mesh"},
    "PartPreparer": {"mesh"},
    "SearchIngress": set(KINDS),
}
CONCURRENCY = 16
INDEX_CONCURRENCY = 2
SEED_FAMILIES = ("hex_bolt", "spur_gear", "l_bracket", "flat_washer", "hex_nut", "pipe_flange")
BATCH_FAMILIES = ("hex_bolt", "flat_washer", "hex_nut", "l_bracket", "o_ring", "keyed_shaft")
SIZES = {
    True: {"seed_parts": 6, "batch_parts": 16, "warm_s": 5, "gap_s": 3},
    False: {"seed_parts": 12, "batch_parts": 60, "warm_s": 20, "gap_s": 20},
}
MAX_WAIT_S = 120  # a kill not recovered from by then ends the run (recovery_s is then null)
MAX_LOAD_S = 1200  # the load generator stops by then whatever happens
MAX_REQUESTS = 200_000
BARS = {"errors_pct": 1.0, "recovery_s": 10.0, "lost_parts": 0, "duplicate_parts": 0}


def progress(message: str) -> None:
    print(f"[faults] {message}", file=sys.stderr, flush=True)


# -- the batch index's load generator (its own process) ----------------------------------------


async def _index_load(spec: dict) -> None:
    """POST /v1/parts of each part (``concurrency`` at a time) until done or the stop file; a
    line of ``out`` for each answer or failure."""
    import httpx

    stop = Path(spec["stop_file"])
    parts = iter(spec["parts"])
    headers = {"x-api-key": spec["key"]}
    with open(spec["out"], "a", buffering=1) as out:

        async def worker() -> None:
            timeout = mixed_load.TIMEOUT_S
            async with httpx.AsyncClient(base_url=spec["url"], timeout=timeout) as client:
                for part in parts:
                    if stop.exists():
                        return
                    data = Path(part["file"]).read_bytes()
                    form = {"metadata": json.dumps(part["metadata"]), "part_id": part["part_id"]}
                    t0 = time.monotonic()
                    try:
                        answer = await client.post(
                            "/v1/parts",
                            files={"file": (Path(part["file"]).name, data)},
                            data=form,
                            headers=headers,
                        )
                        status, code = answer.status_code, mixed_load.error_code(answer)
                    except httpx.HTTPError as e:
                        status, code = 0, type(e).__name__
                    line = {"part_id": part["part_id"], "t0": t0, "t1": time.monotonic()}
                    out.write(json.dumps({**line, "status": status, "code": code}) + "\n")

        await asyncio.gather(*(worker() for _ in range(spec["concurrency"])))


def load(spec_path: str) -> None:
    spec = json.loads(Path(spec_path).read_text())
    asyncio.run(_index_load(spec) if spec.get("mode") == "index" else mixed_load.run_load(spec))


def start_load(root: Path, name: str, spec: dict) -> subprocess.Popen:
    return mixed_load.start(str(Path(__file__).resolve()), root / f"{name}.json", spec)


records = mixed_load.read_lines

# -- replica losses -------------------------------------------------------------------------------


def index_parts(url: str, catalog: Path, records_: list[dict], key: str) -> list[str]:
    import httpx

    ids = []
    with httpx.Client(base_url=url, timeout=mixed_load.TIMEOUT_S) as client:
        for record in records_:
            meta = {k: record[k] for k in ("name", "category", "tags", "description")}
            answer = client.post(
                "/v1/parts",
                files={
                    "file": (Path(record["file"]).name, (catalog / record["file"]).read_bytes())
                },
                data={"metadata": json.dumps(meta), "part_id": record["part_id"]},
                headers={"x-api-key": key},
            )
            answer.raise_for_status()
            ids.append(record["part_id"])
    return ids


def first_answer(lines: list[dict], kinds: set[str], since: float) -> float | None:
    """When the first request of ``kinds`` sent at or after ``since`` was answered 200."""
    done = [
        r["t1"] for r in lines if r["kind"] in kinds and r["t0"] >= since and r["status"] == 200
    ]
    return min(done, default=None)


def kill_replica(service, deployment: str, out: Path) -> dict:
    """SIGKILL one replica of ``deployment``; wait until a request that needs it, sent after
    the kill, is answered (or MAX_WAIT_S)."""
    victims = service.replicas(deployment)
    if not victims:
        return {"deployment": deployment, "error": "no replica found"}
    victim = victims[0]
    # what it forked (the PartPreparer's workers) keeps its title until it exits
    old = {victim.pid, *(p.pid for p in victim.children(recursive=True))}
    killed = time.monotonic()
    victim.kill()
    progress(f"killed {deployment} (pid {victim.pid}), load {os.getloadavg()[0]:.1f}")
    replaced = recovered = None
    while time.monotonic() - killed < MAX_WAIT_S:
        if replaced is None and any(p.pid not in old for p in service.replicas(deployment)):
            replaced = time.monotonic() - killed
        answered = first_answer(records(out), NEEDS[deployment], killed)
        if answered is not None:
            recovered = answered - killed
            break
        time.sleep(0.25)
    progress(f"{deployment}: recovered in {recovered and round(recovered, 1)} s")
    return {
        "deployment": deployment,
        "pid": victim.pid,
        "at": killed,
        "recovery_s": recovered,
        "new_replica_process_s": replaced,
        "load_1m": round(os.getloadavg()[0], 1),
    }


def wait_whole(service, since: float) -> float | None:
    """Seconds from ``since`` until /readyz answers 200 (every deployment answers with the
    bundle: the killed one's new replica has loaded), or None after MAX_WAIT_S."""
    import httpx

    while time.monotonic() - since < MAX_WAIT_S:
        try:
            if httpx.get(f"{service.http_url}/readyz", timeout=10).status_code == 200:
                return round(time.monotonic() - since, 2)
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    return None


def summarize_load(lines: list[dict], kills: list[dict]) -> dict:
    """Errors and latency by kind, and each kill's failed requests and longest wait."""
    errors = [r for r in lines if r["status"] != 200]
    by_kind = {}
    for kind in KINDS:
        mine = [r for r in lines if r["kind"] == kind]
        ms = np.asarray([r["t1"] - r["t0"] for r in mine] or [0.0]) * 1000
        by_kind[kind] = {
            "requests": len(mine),
            "errors": sum(r["status"] != 200 for r in mine),
            "p50_ms": round(float(np.percentile(ms, 50)), 1),
            "p99_ms": round(float(np.percentile(ms, 99)), 1),
        }
    for kill in kills:
        if "at" not in kill:
            continue
        at, needs = kill["at"], NEEDS[kill["deployment"]]
        held = [r for r in lines if r["kind"] in needs and r["t0"] < at < r["t1"]]
        kill["in_flight"] = len(held)
        kill["in_flight_failed"] = sum(r["status"] != 200 for r in held)
        kill["longest_wait_s"] = round(max((r["t1"] - at for r in held), default=0.0), 2)
        if kill["recovery_s"] is not None:
            kill["recovery_s"] = round(kill["recovery_s"], 2)
        if kill["new_replica_process_s"] is not None:
            kill["new_replica_process_s"] = round(kill["new_replica_process_s"], 2)
    statuses = Counter(f"{r['status']} {r['code']}".strip() for r in errors)
    return {
        "requests": len(lines),
        "errors": len(errors),
        "errors_pct": round(100 * len(errors) / max(1, len(lines)), 3),
        "errors_by_status": dict(statuses.most_common()),
        "by_kind": by_kind,
        "load_s": round(
            max((r["t1"] for r in lines), default=0) - min((r["t0"] for r in lines), default=0), 1
        ),
    }


def replica_losses(service, root: Path, part_ids: list[str], sizes: dict) -> dict:
    out, stop = root / "search.jsonl", root / "search.stop"
    spec = {
        "url": service.http_url,
        "requests": mixed_load.search_requests(part_ids, texts=30_000),
        "mix": mixed_load.SEARCH_MIX,
        "concurrency": CONCURRENCY,
        "stop_file": str(stop),
        "out": str(out),
        "max_s": MAX_LOAD_S,
        "max_requests": MAX_REQUESTS,
    }
    loader = start_load(root, "search", spec)
    kills = []
    try:
        started = time.monotonic()  # the load generator answers first (it starts slowly)
        while len(records(out)) < CONCURRENCY and time.monotonic() - started < MAX_WAIT_S:
            time.sleep(0.2)
        time.sleep(sizes["warm_s"])
        for deployment in DEPLOYMENTS:
            kills.append(kill_replica(service, deployment, out))
            if kills[-1].get("recovery_s") is None:
                break
            # one fault at a time: the next kill waits for this one's new replica to load
            kills[-1]["whole_s"] = wait_whole(service, kills[-1]["at"])
            time.sleep(sizes["gap_s"])
    finally:
        stop.touch()
        loader.wait(timeout=mixed_load.TIMEOUT_S + 30)
    summary = summarize_load(records(out), kills)
    for kill in kills:
        kill.pop("at", None)
    return {**summary, "kills": kills}


# -- a lost service during a batch index ----------------------------------------------------------


def batch_parts(root: Path, n: int) -> list[dict]:
    from data_jobs.catalog.generate import generate_catalog

    catalog = root / "batch"
    found = generate_catalog(catalog, n=n, seed=11, families=BATCH_FAMILIES)
    return [
        {
            "part_id": r["part_id"],
            "file": str(catalog / r["file"]),
            "metadata": {k: r[k] for k in ("name", "category", "tags", "description")},
        }
        for r in found
    ]


def _ok(line: dict) -> bool:
    return 200 <= line["status"] < 300


def index_spec(service, parts: list[dict], out: Path, stop: Path) -> dict:
    from helpers.local_service import API_KEY

    return {
        "mode": "index",
        "url": service.http_url,
        "key": API_KEY,
        "parts": parts,
        "concurrency": INDEX_CONCURRENCY,
        "stop_file": str(stop),
        "out": str(out),
    }


def stored(url: str, part_ids: list[str]) -> set[str]:
    """The part ids the running service holds (GET /v1/parts/{id})."""
    from urllib.parse import quote

    import httpx

    found = set()
    with httpx.Client(base_url=url, timeout=mixed_load.TIMEOUT_S) as client:
        for part_id in part_ids:
            if client.get(f"/v1/parts/{quote(part_id, safe='')}").status_code == 200:
                found.add(part_id)
    return found


def read_store(root: Path) -> tuple[Counter, int]:
    """Part ids over the stopped service's store (points by part id), and the view folders
    that belong to no stored part."""
    from cadsearch.settings import load_settings
    from store.factory import open_store
    from store.schema import point_id

    settings = load_settings("local", store={"backend": "edge", "path": str(root / "qdrant")})
    with open_store(settings.store) as store:
        counts = Counter(entry.part_id for entry in store.iter_ids())
    points = {point_id(p) for p in counts}
    views = root / "views"
    orphans = (
        [d for d in views.iterdir() if d.is_dir() and d.name not in points]
        if views.exists()
        else []
    )
    return counts, len(orphans)


def service_loss(service, root: Path, expected_before: list[str], sizes: dict) -> dict:
    """Batch index, SIGKILL of the whole service half way, restart, resend, count."""
    from helpers.local_service import Service

    parts = batch_parts(root, sizes["batch_parts"])
    out, stop = root / "index.jsonl", root / "index.stop"
    loader = start_load(root, "index", index_spec(service, parts, out, stop))
    half = len(parts) // 2
    started = time.monotonic()
    while sum(_ok(r) for r in records(out)) < half:
        if loader.poll() is not None or time.monotonic() - started > 600:
            raise RuntimeError(f"the batch index ended before {half} parts: {records(out)[-3:]}")
        time.sleep(0.05)
    stop.touch()  # no part is sent after the kill; the ones in flight meet it
    left_behind = service.kill_all()
    progress(f"SIGKILLed the whole service after {half} parts; left running: {left_behind}")
    loader.wait(timeout=mixed_load.TIMEOUT_S + 30)
    sent = records(out)
    acked = {r["part_id"] for r in sent if _ok(r)}
    restarted = Service(service.env, service.log_path)
    restart_s = restarted.start()
    progress(f"restarted in {restart_s:.0f} s")
    ids = [p["part_id"] for p in parts]
    after_restart = stored(restarted.http_url, ids)
    # the parts not stored, and one that is (sent twice must stay one part)
    again = [p for p in parts if p["part_id"] not in after_restart]
    again += [p for p in parts if p["part_id"] in after_restart][:1]
    out2 = root / "index-again.jsonl"
    loader = start_load(root, "index-again", index_spec(restarted, again, out2, root / "never"))
    loader.wait(timeout=mixed_load.TIMEOUT_S * len(again) + 60)
    resent = records(out2)
    stop_code = restarted.stop()
    counts, orphan_views = read_store(root)
    expected = set(ids) | set(expected_before)
    missing = sorted(expected - set(counts))
    lost_acked = sorted(acked - after_restart)
    duplicates = {p: n for p, n in counts.items() if n > 1}
    return {
        "parts": len(parts),
        "sent_before_kill": len(sent),
        "acked_before_kill": len(acked),
        "stored_after_restart": len(after_restart),
        "stored_unacked": len(after_restart - acked),
        "lost_acked": lost_acked,
        "resent": len(resent),
        "resent_failed": sum(not _ok(r) for r in resent),
        "missing_at_end": missing,
        "stored_at_end": sum(counts.values()),
        "duplicates": duplicates,
        "orphan_view_folders": orphan_views,
        "left_behind_after_kill": len(left_behind),
        "restart_s": round(restart_s, 1),
        "stop_exit_code": stop_code,
        "lost_parts": len(set(lost_acked) | set(missing)),
        "duplicate_parts": len(duplicates),
    }


# -- the run --------------------------------------------------------------------------------------


def replicas_env(replicas: int, cpus: float = 2.0) -> dict[str, str]:
    """Settings (by environment) for ``replicas`` replicas of each encoder and the PartPreparer,
    sharing ``cpus`` cores; the ingress keeps its one (it owns the Edge shard)."""
    share = round(cpus / (4 * replicas), 3)
    return {
        f"CADSEARCH_SERVE__{section}__{key}": str(value)
        for section in ("TEXT", "IMAGE", "GEOMETRY", "PREPARER")
        for key, value in (
            ("MIN_REPLICAS", replicas),
            ("MAX_REPLICAS", replicas),
            ("NUM_CPUS", share),
        )
    }


def run(quick: bool, root: Path, replicas: int = 1) -> dict:
    from helpers.local_service import API_KEY, Service, free_port, service_env

    from data_jobs.catalog.generate import generate_catalog

    sizes = SIZES[quick]
    load_start = os.getloadavg()[0]
    extra = replicas_env(replicas) if replicas > 1 else {}
    env = service_env(root, free_port(), free_port(), extra)
    service = Service(env, root / "service.log")
    startup_s = service.start()
    progress(f"service ready in {startup_s:.0f} s (log {service.log_path})")
    seed = generate_catalog(root / "seed", n=sizes["seed_parts"], seed=7, families=SEED_FAMILIES)
    part_ids = index_parts(service.http_url, root / "seed", seed, API_KEY)
    progress(f"{len(part_ids)} parts indexed; mixed load at c={CONCURRENCY}")
    try:
        losses = replica_losses(service, root, part_ids, sizes)
        progress(f"replica losses: {losses['errors']} of {losses['requests']} requests failed")
        batch = service_loss(service, root, part_ids, sizes)
    finally:
        if service.process and service.process.poll() is None:
            service.kill_all()
    recoveries = [k.get("recovery_s") for k in losses["kills"]]
    worst = None if None in recoveries or len(recoveries) < len(DEPLOYMENTS) else max(recoveries)
    return {
        "errors_pct": losses["errors_pct"],
        "recovery_s": worst,
        "lost_parts": batch.pop("lost_parts"),
        "duplicate_parts": batch.pop("duplicate_parts"),
        "concurrency": CONCURRENCY,
        "replicas": replicas,
        "replica_losses": losses,
        "batch_index": batch,
        "startup_s": round(startup_s, 1),
        "load_1m": {"start": round(load_start, 1), "end": round(os.getloadavg()[0], 1)},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short gaps, a 16-part batch")
    parser.add_argument("--keep", action="store_true", help="keep the run's folder (logs, store)")
    parser.add_argument(
        "--replicas", type=int, default=1, help="replicas of each encoder and the PartPreparer"
    )
    parser.add_argument("--load", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.load:
        return load(args.load)
    from helpers.local_service import run_folder

    started = time.perf_counter()
    with run_folder("faults", args.keep, progress) as root:
        result = {"bench": "faults", "quick": args.quick, **run(args.quick, root, args.replicas)}
    result["total_s"] = round(time.perf_counter() - started, 1)
    result["pass"] = all(
        result[key] is not None and result[key] <= bar for key, bar in BARS.items()
    )
    print(json.dumps(result))
    sys.exit(0 if result["pass"] else 1)


if __name__ == "__main__":
    main()
