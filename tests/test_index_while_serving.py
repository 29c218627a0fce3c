"""`cadsearch index` while `cadsearch serve` runs on the same Qdrant Edge collection: the job sends
its writes through the service that holds the shard (one writer), searches keep answering, every
part is found afterwards; a shard held by anything else gets a clear error
(docs/operations.md#indexing-while-serving). The service is then stopped as systemd or Kubernetes
stop it, with SIGTERM, and no process of its Ray session may stay behind
(docs/operations.md#stopping-the-service).

The service and the jobs run as the commands a user types, each in a process with its own Ray, so
this module does not touch the session's search service (``served``) or its Ray.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import pytest
import yaml
from processes import alive, descendants, holding, name
from serve_harness import free_port

REPO = Path(__file__).resolve().parents[1]
KEY = "reindex-test-key"
N_PARTS = 200  # issue 15's figure
N_PRUNED = 20
# quick to generate and render: the job's time goes to rendering views
FAMILIES = ("flat_washer", "hex_nut", "l_bracket", "o_ring", "keyed_shaft", "c_channel")
READY_S = 420  # Ray, Serve and five deployments on a shared 2-core machine
JOB_S = 900  # one indexing run of N_PARTS there
STOP_S = 60  # from SIGTERM to the last process of the service's Ray session gone
QUERIES = ("hex nut", "flat washer", "bracket", "o-ring", "shaft with a keyway", "channel")


class SearchLoad:
    """A few threads that search over HTTP in a loop (bounded by a pause), counting failures."""

    def __init__(self, url: str, threads: int = 3, pause_s: float = 0.25):
        self.url, self.pause_s = url, pause_s
        self.done = threading.Event()
        self.ok = 0
        self.failures: list[str] = []
        self.hits = 0  # searches that found something
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, args=(i,)) for i in range(threads)]

    def __enter__(self) -> SearchLoad:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.done.set()
        for thread in self._threads:
            thread.join(timeout=180)

    def _run(self, index: int) -> None:
        with httpx.Client(base_url=self.url, timeout=120) as client:
            n = index
            while not self.done.is_set():
                query = {"text": QUERIES[n % len(QUERIES)], "top_k": 5}
                n += 1
                try:
                    response = client.post("/v1/search", json=query)
                    problem = None if response.status_code == 200 else response.text[:300]
                except httpx.HTTPError as e:
                    problem, response = f"{type(e).__name__}: {e}", None
                with self._lock:
                    if problem is None:
                        self.ok += 1
                        self.hits += bool(response.json()["results"])
                    else:
                        self.failures.append(problem)
                self.done.wait(self.pause_s)


def _write_config(root: Path, http_port: int) -> Path:
    config = yaml.safe_load((REPO / "configs" / "local.yaml").read_text())
    config["store"].update(path=str(root / "qdrant"))
    config["views"].update(path=str(root / "views"))
    config["dedup"]["out_dir"] = str(root / "dedup")
    # several write requests per run, so searches run between them
    config["index"] = {"reports_dir": str(root / "runs"), "write_batch_size": 25}
    config["serve"] = {"http_port": http_port, "grpc_port": None}
    path = root / "cadsearch.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def _cli(config: Path, *args: str, timeout: float) -> subprocess.CompletedProcess:
    env = {**os.environ, "CADSEARCH_API_KEYS": KEY}
    return subprocess.run(
        [sys.executable, "-m", "cadsearch.cli", "--config", str(config), *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _summary(root: Path, completed: subprocess.CompletedProcess) -> dict:
    """The run's summary.json, once the command's own output is checked: quiet without -v (no
    Ray INFO lines, no actor ERROR), a summary table, then the summary line."""
    assert completed.returncode == 0, completed.stdout[-2000:] + completed.stderr[-4000:]
    noisy = [
        line
        for line in completed.stderr.splitlines()
        if " INFO " in line or "constructor arguments in the object store" in line
    ]
    assert not noisy, noisy[:5]
    lines = completed.stdout.strip().splitlines()
    assert lines[-1].startswith("indexed ") and lines[-2].startswith("---"), lines[-3:]
    assert "discovered" in completed.stdout and "parts/s" in completed.stdout
    runs = sorted((root / "runs").glob("*/summary.json"), key=lambda p: p.stat().st_mtime)
    return json.loads(runs[-1].read_text())


def _start_service(config: Path, url: str, log: Path, ray_tmp: str) -> subprocess.Popen:
    # Ray's own temp folder: the processes of the service's Ray session are found by it
    env = {**os.environ, "CADSEARCH_API_KEYS": KEY, "RAY_TMPDIR": ray_tmp}
    with open(log, "w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "cadsearch.cli", "--config", str(config), "serve"],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + READY_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"cadsearch serve exited ({process.returncode}): {log.read_text()[-3000:]}")
        try:
            if httpx.get(url + "/readyz", timeout=10).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        time.sleep(2)
    _stop_service(process)
    pytest.fail(f"cadsearch serve not ready in {READY_S} s: {log.read_text()[-3000:]}")


def _stop_service(process: subprocess.Popen) -> None:
    """Stop a service that failed its test: SIGINT, then SIGKILL of its process group."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGINT)  # as Ctrl-C: Serve, then the Ray it started, shut down
    try:
        process.wait(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # its own session: only what it started
        process.wait(timeout=30)


def _sigterm_leaves_nothing(
    process: subprocess.Popen, session: dict[int, str], ray_tmp: str, log: Path
) -> None:
    """SIGTERM stops the service like Ctrl-C: exit 0, and every process of its Ray session
    (DashboardAgent, RuntimeEnvAgent, raylet, replicas) gone within STOP_S."""
    process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_S
    process.wait(timeout=STOP_S)
    while time.monotonic() < deadline and any(alive(pid, t) for pid, t in session.items()):
        time.sleep(0.5)
    left = [name(pid) for pid, t in (session | holding(ray_tmp)).items() if alive(pid, t)]
    assert not left, f"left behind after SIGTERM: {left}"
    assert process.returncode == 0, log.read_text()[-3000:]
    assert "shutting down" in log.read_text()


def _wait_for_lock_holder_to_exit(shard: Path, timeout_s: float = 90.0) -> None:
    """Until the process whose pid the shard's writer lock names is gone (or the timeout passes)."""
    from store.holder import lock_pid

    pid = lock_pid(shard)
    deadline = time.monotonic() + timeout_s
    while pid is not None and Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.5)


def _stored_ids(http: httpx.Client, part_ids: list[str]) -> set[str]:
    found = set()
    for part_id in part_ids:
        response = http.get(f"/v1/parts/{part_id}")
        assert response.status_code in (200, 404), response.text
        if response.status_code == 200:
            assert response.json()["part_id"] == part_id
            found.add(part_id)
    return found


@pytest.mark.integration
@pytest.mark.slow
def test_index_and_prune_while_serving_then_sigterm(tmp_path):
    from data_jobs.catalog.generate import generate_catalog
    from store.holder import read_holder

    records = generate_catalog(tmp_path / "catalog", n=N_PARTS, seed=15, families=FAMILIES)
    part_ids = [r["part_id"] for r in records]
    http_port = free_port()
    url = f"http://127.0.0.1:{http_port}"
    config = _write_config(tmp_path, http_port)
    started = time.monotonic()
    # short: Ray's socket paths must stay under the 107-byte limit
    ray_tmp = tempfile.mkdtemp(prefix="csr-", dir="/tmp")
    log = tmp_path / "serve.log"
    service = _start_service(config, url, log, ray_tmp)
    timings = {"service_ready_s": round(time.monotonic() - started, 1)}
    session: dict[int, str] = {}
    try:
        session = descendants(service.pid) | holding(ray_tmp)
        names = " ".join(name(pid) for pid in session)
        assert "DashboardAgent" in names and "ServeReplica" in names, names
        holder = read_holder(tmp_path / "qdrant" / "parts")
        assert holder is not None and holder.url == url, holder
        with httpx.Client(base_url=url, timeout=60) as http:
            # the writer API is an indexing endpoint: the key, and checked rows
            assert http.get("/v1/writer").status_code == 401
            bad = http.post(
                "/v1/writer/rows",
                json={"rows": [{"part_id": "x", "error": "[1]"}]},
                headers={"X-API-Key": KEY},
            )
            assert bad.status_code == 422 and bad.json()["error"]["field"] == "rows.0.error"

            with SearchLoad(url) as load:
                began = time.monotonic()
                first = _summary(
                    tmp_path, _cli(config, "index", str(tmp_path / "catalog"), timeout=JOB_S)
                )
                timings["index_s"] = round(time.monotonic() - began, 1)
            assert (first["indexed"], first["failed"]) == (N_PARTS, 0), first
            assert load.failures == [], load.failures[:5]
            assert load.ok >= 10 and load.hits > 0, (load.ok, load.hits)
            timings["searches_during_index"] = load.ok
            # every part is found, once: the count is the number of distinct parts
            assert http.get("/v1/facets").json()["total"] == N_PARTS
            assert _stored_ids(http, part_ids) == set(part_ids)

            # parts whose files are gone from the catalog are pruned through the service too
            gone = part_ids[:N_PRUNED]
            gone_views = http.get(f"/v1/parts/{gone[0]}").json()["view_urls"]
            assert gone_views and http.get(gone_views[0]).status_code == 200
            kept = [r for r in records if r["part_id"] not in gone]
            for record in records[:N_PRUNED]:
                (tmp_path / "catalog" / record["file"]).unlink()
            manifest = "".join(json.dumps(r) + "\n" for r in kept)
            (tmp_path / "catalog" / "manifest.jsonl").write_text(manifest)
            with SearchLoad(url) as load:
                began = time.monotonic()
                pruned = _summary(
                    tmp_path,
                    _cli(config, "index", str(tmp_path / "catalog"), "--prune", timeout=JOB_S),
                )
                timings["prune_s"] = round(time.monotonic() - began, 1)
            assert (pruned["pruned"], pruned["skipped"], pruned["indexed"]) == (
                N_PRUNED,
                N_PARTS - N_PRUNED,
                0,
            ), pruned
            assert load.failures == [], load.failures[:5]
            assert http.get("/v1/facets").json()["total"] == N_PARTS - N_PRUNED
            assert _stored_ids(http, part_ids) == set(part_ids[N_PRUNED:])
            assert all(http.get(view).status_code == 404 for view in gone_views)
        _sigterm_leaves_nothing(service, session, ray_tmp, log)
    finally:
        _stop_service(service)
        for pid, began in session.items():  # only this test's own processes
            if alive(pid, began):
                os.kill(pid, signal.SIGKILL)
        shutil.rmtree(ray_tmp, ignore_errors=True)
    print("timings", timings)
    # Ray ends the replica that held the shard after the driver exits: wait for it
    _wait_for_lock_holder_to_exit(tmp_path / "qdrant" / "parts")
    # the service let go of the shard: it opens here, with each kept part once
    from store.edge import EdgeStore

    with EdgeStore(tmp_path / "qdrant" / "parts") as store:
        ids = [entry.part_id for entry in store.iter_ids()]
    assert sorted(ids) == sorted(part_ids[N_PRUNED:])
    # a replica Ray ends without its shutdown leaves holder.json behind: stale, since its
    # process is gone, and the job ignores a holder whose pid does not hold the lock
    holder = read_holder(tmp_path / "qdrant" / "parts")
    assert holder is None or not Path(f"/proc/{holder.pid}").exists(), holder


def test_a_shard_held_by_another_process_is_a_clear_error(tmp_path, capsys):
    """No service announced (or a holder file naming another process): the job says what to do."""
    from cadsearch.cli import main
    from data_jobs.catalog.generate import generate_catalog
    from encoders.bundle import load_bundle
    from store.edge import EdgeStore
    from store.holder import ShardHolder, announce

    generate_catalog(tmp_path / "catalog", n=1, seed=1, families=("hex_nut",))
    config = _write_config(tmp_path, free_port())
    spec = load_bundle("cad-mini").collection_spec()
    with EdgeStore(tmp_path / "qdrant" / "parts", spec) as store:
        announce(store.path, ShardHolder(pid=1, url="http://127.0.0.1:9"))  # a stale holder
        assert main(["--config", str(config), "index", str(tmp_path / "catalog")]) == 1
    error = capsys.readouterr().err
    assert f"held by process {os.getpid()}" in error
    assert "not a running search service" in error and "indexing-while-serving" in error


def test_write_requests_stay_under_the_service_limits():
    from data_jobs.index.service_writer import request_batches
    from store.write import WriteResult

    def row(part_id: str, png_bytes: int) -> dict:
        return {
            "part_id": part_id,
            "uri": "",
            "views_png": [b"x" * png_bytes],
            "text": b"",
            "image": b"",
            "geometry": b"",
            "views": b"",
        }

    rows = [row(f"p{i}", 30_000) for i in range(10)] + [row("huge", 10_000_000)] + [row("last", 10)]
    result = WriteResult()
    batches = list(request_batches(rows, max_bytes=100_000, max_rows=4, result=result))
    assert [[r["part_id"] for r in b] for b in batches] == [
        ["p0", "p1"],
        ["p2", "p3"],
        ["p4", "p5"],
        ["p6", "p7"],
        ["p8", "p9", "last"],  # "huge" left out, "last" fits beside them
    ]
    assert [(e["part_id"], e["code"]) for e in result.errors] == [("huge", "too_large")]
    small = list(request_batches([row(f"s{i}", 10) for i in range(9)], 100_000, 4, WriteResult()))
    assert [len(b) for b in small] == [4, 4, 1]


def test_the_writer_api_takes_what_the_write_stage_reads():
    """The service's row model and the job's row contract name the same fields."""
    from serve.writer_api import EncodedRow
    from store.rows import WRITE_COLUMNS

    assert set(EncodedRow.model_fields) == set(WRITE_COLUMNS)


def test_the_writer_api_refuses_malformed_rows_as_validation_errors():
    import pydantic

    from serve.writer_api import WriteRowsRequest

    deep = "[" * 100_000 + "]" * 100_000
    for error, text_b64 in (("[1]", ""), (deep, ""), ("", "not base64!")):
        body = json.dumps({"rows": [{"part_id": "p", "error": error, "text": text_b64}]})
        with pytest.raises(pydantic.ValidationError):
            WriteRowsRequest.model_validate_json(body)
    ok = json.dumps(
        {"rows": [{"part_id": "p", "error": json.dumps({"code": "x"}), "text": "AAAA"}]}
    )
    assert WriteRowsRequest.model_validate_json(ok).rows[0].row()["text"] == b"\0\0\0"
