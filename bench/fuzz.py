"""Benchmark: fuzzing with a large budget (docs/security.md#fuzzing).

The hypothesis strategies of bench/helpers/fuzz_cases.py (mutated files of every mesh and image
format, generated JSON and multipart searches, embeds, part uploads and gRPC requests) run first
against the in-process parsers and checks (bench/helpers/fuzz_targets.py), then against a real
local service (Ray Serve, HTTP and gRPC, API keys set) that indexed a few generated parts.
Final JSON line: ``cases``; ``unhandled``: exceptions that are not the project's typed errors
(in process), and refusals without the typed error body (served); ``server_errors``: 5xx, gRPC
INTERNAL / UNKNOWN / UNAVAILABLE / DEADLINE_EXCEEDED, or no answer; ``max_rss_growth_mb``: the
largest growth of one of the service's processes over the run. ``--quick``: a small budget
(cases >= 1000); the service's start takes most of its time.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

# examples by target: in process, then against the service
BUDGET = {
    True: {
        "mesh": 40,  # each seed format
        "mismatch": 60,
        "image": 150,
        "json": 200,
        "multipart": 100,
        "grpc_search": 100,
        "grpc_index": 60,
        "http_search": 90,
        "http_multipart": 70,
        "http_embed": 40,
        "http_index": 15,
        "grpc_served": 60,
        "grpc_served_index": 15,
    },
    False: {
        "mesh": 400,
        "mismatch": 600,
        "image": 1500,
        "json": 2000,
        "multipart": 1000,
        "grpc_search": 1000,
        "grpc_index": 600,
        "http_search": 900,
        "http_multipart": 700,
        "http_embed": 400,
        "http_index": 100,
        "grpc_served": 600,
        "grpc_served_index": 100,
    },
}
CATALOG_FAMILIES = ("hex_bolt", "spur_gear", "l_bracket", "flat_washer")
API_KEY = "fuzz-bench-key"
WORKERS = 4  # concurrent requests against the service
TIMEOUT_S = 120.0  # a request without an answer by then is a server error
EXAMPLES = 10  # unhandled and server errors kept in the JSON line, each


def progress(message: str) -> None:
    print(f"[fuzz] {message}", file=sys.stderr, flush=True)


class Tally:
    """Outcomes by target, and the first few findings with their case."""

    def __init__(self):
        self.outcomes: dict[str, Counter] = defaultdict(Counter)
        self.unhandled: list[dict] = []
        self.server_errors: list[dict] = []
        self.counts = Counter()
        self.lock = threading.Lock()

    def add(self, target: str, outcome: str, finding: str | None = None, detail="", case=None):
        with self.lock:
            self.counts["cases"] += 1
            self.outcomes[target][outcome] += 1
            if finding:
                self.counts[finding] += 1
                found = getattr(self, finding)
                if len(found) < EXAMPLES:
                    found.append(
                        {"target": target, "error": detail[:300], "case": repr(case)[:300]}
                    )


# -- in process -----------------------------------------------------------------------------------


def run_in_process(tally: Tally, budget: dict, seed: int) -> None:
    from helpers import fuzz_cases as fc
    from helpers import fuzz_targets as ft
    from hypothesis import strategies as st

    from cadsearch.settings import ServeLimits, Settings

    limits, settings = ServeLimits(), Settings()
    meshes, pictures = fc.mesh_seeds(), fc.image_seeds()

    def mesh(case) -> str:
        return ft.prepare_mesh_case(case[1], case[0])

    content_types = st.sampled_from(["application/json", "", "text/plain"])
    # (target, cases, check); a target's budget is its name's before ":"
    plans = [(f"mesh:{name}", fc.mesh_files(meshes, name), mesh) for name in sorted(meshes)]
    plans += [
        ("mismatch", fc.mismatched_files(meshes), mesh),
        (
            "image",
            fc.images(pictures),
            lambda data: ft.check_image_case(data, limits.max_image_pixels),
        ),
        (
            "json",
            st.tuples(fc.search_body_bytes(pictures), content_types),
            lambda case: ft.search_body_case(case[0], case[1], limits),
        ),
        (
            "multipart",
            fc.multipart_searches(meshes, pictures),
            lambda form: ft.search_body_case(*fc.multipart_body(*form), limits),
        ),
        (
            "grpc_search",
            fc.grpc_searches(meshes, pictures),
            lambda request: ft.grpc_search_case(request, limits),
        ),
        (
            "grpc_index",
            fc.grpc_index_requests(meshes),
            lambda request: ft.grpc_index_case(request, settings),
        ),
    ]
    for offset, (target, strategy, check) in enumerate(plans):
        started = time.perf_counter()
        for case in fc.examples(strategy, budget[target.split(":")[0]], seed + offset):
            try:
                tally.add(target, check(case))
            except Exception as e:
                tally.add(target, "unhandled", "unhandled", f"{type(e).__name__}: {e}", case)
        took = time.perf_counter() - started
        progress(f"{target}: {sum(tally.outcomes[target].values())} cases, {took:.1f} s")


# -- against the service --------------------------------------------------------------------------


class Sampler(threading.Thread):
    """Peak RSS of each process under this one (Ray's: proxies, replicas, raylet), sampled."""

    def __init__(self, period_s: float = 0.5):
        super().__init__(daemon=True)
        import psutil

        self.psutil = psutil
        self.period_s = period_s
        self.baseline: dict[int, tuple[str, int]] = {}
        self.peak: dict[int, int] = {}
        self.end: dict[int, int] = {}
        self.stop = threading.Event()

    def sample(self) -> dict[int, tuple[str, int]]:
        out = {}
        for process in self.psutil.Process().children(recursive=True):
            try:
                out[process.pid] = (process.name(), process.memory_info().rss)
            except self.psutil.Error:
                continue
        return out

    def run(self) -> None:
        self.baseline = self.sample()
        while not self.stop.wait(self.period_s):
            for pid, (_, rss) in self.sample().items():
                if pid in self.baseline:
                    self.peak[pid] = max(self.peak.get(pid, 0), rss)
        self.end = {pid: rss for pid, (_, rss) in self.sample().items()}

    def report(self) -> dict:
        mb = 2**20
        rows = {}
        for pid, (name, rss) in self.baseline.items():
            peak = max(self.peak.get(pid, rss), rss)
            rows[f"{name}:{pid}"] = {
                "baseline": round(rss / mb, 1),
                "peak": round(peak / mb, 1),
                "end": round(self.end[pid] / mb, 1) if pid in self.end else None,
            }
        replicas = [pid for pid, (name, _) in self.baseline.items() if "ServeReplica" in name]
        growth = [row["peak"] - row["baseline"] for row in rows.values()]
        return {
            "max_rss_growth_mb": round(max(growth, default=0.0), 1),
            "rss_mb": dict(sorted(rows.items(), key=lambda kv: -kv[1]["peak"])[:12]),
            "replicas_lost": sum(pid not in self.end for pid in replicas),
        }


def start_service(root: Path) -> tuple[str, str]:
    """Ray with 2 CPUs and the service (HTTP and gRPC on free loopback ports, API keys set)."""
    import socket

    import ray

    from serve.local import start_service as start

    def free_port() -> int:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return s.getsockname()[1]

    overrides = {
        "store": {"backend": "edge", "path": str(root / "qdrant")},
        "views": {"kind": "local", "path": str(root / "views")},
    }
    os.environ["CADSEARCH_API_KEYS"] = API_KEY  # replicas inherit Ray's environment
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    http_port, grpc_port = free_port(), free_port()
    start("local", overrides, http_port=http_port, grpc_port=grpc_port)
    return f"http://127.0.0.1:{http_port}", f"127.0.0.1:{grpc_port}"


def index_catalog(root: Path, http) -> list[str]:
    """A few generated parts indexed through the API; their part ids."""
    from data_jobs.catalog.generate import generate_catalog

    records = generate_catalog(
        root / "catalog", n=len(CATALOG_FAMILIES), seed=7, families=CATALOG_FAMILIES
    )
    for record in records:
        meta = {k: record[k] for k in ("name", "category", "tags", "description")}
        data = (root / "catalog" / record["file"]).read_bytes()
        answer = http.post(
            "/v1/parts",
            files={"file": (Path(record["file"]).name, data)},
            data={"metadata": json.dumps(meta), "part_id": record["part_id"]},
            headers={"x-api-key": API_KEY},
        )
        answer.raise_for_status()
    return [record["part_id"] for record in records]


def http_outcome(answer) -> tuple[str, str | None, str]:
    """(outcome, finding, detail) of an HTTP answer."""
    status = answer.status_code
    if status >= 500:
        return str(status), "server_errors", answer.text
    if status >= 400:
        try:
            error = answer.json()["error"]
            typed = error["status"] == status and error["code"] and error["message"]
        except Exception:
            typed = False
        if not typed:
            return str(status), "unhandled", f"untyped {status}: {answer.text}"
        return f"{status} {error['code']}", None, ""
    return str(status), None, ""


def run_served(tally: Tally, budget: dict, seed: int, root: Path) -> dict:
    import grpc
    import httpx
    from helpers import fuzz_cases as fc
    from hypothesis import strategies as st

    from serve.proto import cad_retrieval_pb2 as pb
    from serve.proto import cad_retrieval_pb2_grpc as pb_grpc

    started = time.perf_counter()
    http_url, grpc_target = start_service(root)
    client = httpx.Client(base_url=http_url, timeout=TIMEOUT_S)
    ids = index_catalog(root, client)
    startup_s = time.perf_counter() - started
    progress(f"service up and {len(ids)} parts indexed in {startup_s:.0f} s")
    meshes, pictures = fc.mesh_seeds(), fc.image_seeds()
    keys = st.sampled_from([API_KEY, API_KEY, None, "not-a-key"])
    json_bodies = fc.search_bodies(pictures, ids).map(fc.encode_json) | fc.search_body_bytes(
        pictures, ids
    )
    searches = st.tuples(json_bodies, keys)
    forms = st.tuples(fc.multipart_searches(meshes, pictures, ids), keys)
    embeds = st.tuples(fc.embed_requests(pictures), keys)
    uploads = st.tuples(fc.index_forms(meshes), keys)
    grpc_reads = st.tuples(
        fc.grpc_searches(meshes, pictures, ids),
        fc.part_ids(ids).filter(fc.encodable),
        keys,
    )
    grpc_writes = st.tuples(fc.grpc_index_requests(meshes), keys)
    channel = grpc.insecure_channel(grpc_target)
    grpc.channel_ready_future(channel).result(timeout=60)
    stub = pb_grpc.CADRetrievalServiceStub(channel)
    local = threading.local()

    def http():
        if not hasattr(local, "client"):
            local.client = httpx.Client(base_url=http_url, timeout=TIMEOUT_S)
        return local.client

    def headers(key, content_type=None) -> dict:
        out = {"x-api-key": key} if key else {}
        return {**out, "content-type": content_type} if content_type else out

    def post(path, body, content_type, key):
        return http_outcome(http().post(path, content=body, headers=headers(key, content_type)))

    def call(method, message, key) -> tuple[str, str | None, str]:
        metadata = (("x-api-key", key),) if key else ()
        try:
            method(message, timeout=TIMEOUT_S, metadata=metadata)
        except grpc.RpcError as e:
            code = e.code()
            faults = ("INTERNAL", "UNKNOWN", "UNAVAILABLE", "DEADLINE_EXCEEDED")
            finding = "server_errors" if code.name in faults else None
            return code.name, finding, f"{code.name}: {e.details()}"
        return "OK", None, ""

    def grpc_read(case):
        request, genome_id, key = case
        first = call(stub.FindSimilarModels, request, key)
        second = call(stub.GetModelEmbeddings, pb.GetEmbeddingsRequest(genome_id=genome_id), key)
        return second if second[1] and not first[1] else first

    def multipart(case, path):
        (fields, files), key = case
        body, content_type = fc.multipart_body(fields, files)
        return post(path, body, content_type, key)

    plans = [
        ("http_search", searches, lambda c: post("/v1/search", c[0], "application/json", c[1])),
        ("http_multipart", forms, lambda c: multipart(c, "/v1/search")),
        ("http_embed", embeds, lambda c: post(c[0][0], c[0][1], "application/json", c[1])),
        ("http_index", uploads, lambda c: multipart(c, "/v1/parts")),
        ("grpc_served", grpc_reads, grpc_read),
        ("grpc_served_index", grpc_writes, lambda c: call(stub.IndexModel, c[0], c[1])),
    ]
    # warm every path once, so the baseline holds what a replica loads on its first requests
    warm = json.dumps({"text": "hex bolt", "points": [[i, i % 3, i % 5] for i in range(32)]})
    client.post("/v1/search", content=warm, headers=headers(API_KEY, "application/json"))
    body, content_type = fc.multipart_body({}, {"mesh": ("part.stl", meshes["stl_binary"][1])})
    client.post("/v1/search", content=body, headers=headers(API_KEY, content_type))
    sampler = Sampler()
    sampler.start()
    time.sleep(1.0)  # the baseline sample
    for offset, (target, strategy, send) in enumerate(plans):
        begun = time.perf_counter()
        cases = fc.examples(strategy, budget[target], seed + 100 + offset)

        def one(case, target=target, send=send):
            try:
                outcome, finding, detail = send(case)
            except Exception as e:  # no answer: a timeout or a dropped connection
                outcome, finding, detail = "no_answer", "server_errors", f"{type(e).__name__}: {e}"
            tally.add(target, outcome, finding, detail, case)

        with ThreadPoolExecutor(WORKERS) as pool:
            list(pool.map(one, cases))
        took = time.perf_counter() - begun
        progress(f"{target}: {len(cases)} cases, {took:.1f} s")
    sampler.stop.set()
    sampler.join()
    channel.close()
    client.close()
    return {**sampler.report(), "startup_s": round(startup_s, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small budget (cases >= 1000)")
    parser.add_argument("--seed", type=int, default=0, help="hypothesis seed")
    parser.add_argument("--no-service", action="store_true", help="in-process targets only")
    args = parser.parse_args()
    # Open CASCADE writes its parse errors to stdout: the final JSON line keeps it to itself
    stdout = os.dup(1)
    os.dup2(2, 1)
    budget = BUDGET[args.quick]
    tally = Tally()
    started = time.perf_counter()
    run_in_process(tally, budget, args.seed)
    in_process_s = time.perf_counter() - started
    served: dict = {"max_rss_growth_mb": None}
    if not args.no_service:
        with tempfile.TemporaryDirectory(prefix="fuzz-") as root:
            try:
                served = run_served(tally, budget, args.seed, Path(root))
            finally:
                import ray

                ray.shutdown()
    result = {
        "bench": "fuzz",
        "quick": args.quick,
        "seed": args.seed,
        "cases": tally.counts["cases"],
        "unhandled": tally.counts["unhandled"],
        "server_errors": tally.counts["server_errors"],
        "max_rss_growth_mb": served.pop("max_rss_growth_mb"),
        "cases_by_target": {t: sum(c.values()) for t, c in tally.outcomes.items()},
        "outcomes": {t: dict(c.most_common(8)) for t, c in tally.outcomes.items()},
        "unhandled_examples": tally.unhandled,
        "server_error_examples": tally.server_errors,
        **served,
        "in_process_s": round(in_process_s, 1),
        "total_s": round(time.perf_counter() - started, 1),
    }
    result["pass"] = (
        result["cases"] >= 1000 and result["unhandled"] == 0 and result["server_errors"] == 0
    )
    os.write(stdout, (json.dumps(result) + "\n").encode())
    sys.exit(0 if result["pass"] else 1)


if __name__ == "__main__":
    main()
