"""``serve.haproxy``: the service started by ``start_service`` behind Ray Serve's HAProxy ingress,
for real, in a process of its own (Ray reads the ingress mode from the environment it starts in)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from serve.local import HAPROXY_ENV

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[1]

SCRIPT = r"""
import json, os, sys
sys.path.insert(0, os.getcwd())
from pathlib import Path

import grpc
import httpx

root = Path(sys.argv[1])
import socket


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


from cadsearch.settings import load_settings
from encoders.bundle import load_bundle
from serve.local import HAPROXY_ENV, start_service
from serve.proto import cad_retrieval_pb2 as pb
from serve.proto import cad_retrieval_pb2_grpc as pb_grpc
from store.factory import open_store
from bench.helpers.synthetic import SyntheticCatalog

stats = free_port()
os.environ["RAY_SERVE_HAPROXY_STATS_PORT"] = str(stats)  # not 8404: other runs may hold it
os.environ["RAY_SERVE_HAPROXY_METRICS_PORT"] = str(free_port())
before = {name: os.environ.get(name) for name in HAPROXY_ENV}
overrides = {
    "store": {"backend": "edge", "path": str(root / "qdrant")},
    "views": {"kind": "local", "path": str(root / "views")},
    "serve": {"haproxy": True},
}
settings = load_settings("local", **overrides)
spec = load_bundle(settings.model.bundle).collection_spec()
records = SyntheticCatalog(spec, seed=3).records(0, 40)
with open_store(settings.store, spec) as store:
    store.upsert(records)
http_port, grpc_port = free_port(), free_port()
start_service("local", overrides, http_port=http_port, grpc_port=grpc_port, num_cpus=2)
after = {name: os.environ.get(name) for name in HAPROXY_ENV}
out = {"like": None, "env_before": before, "env_after": after}
like = out["like"] = records[5].part_id
search = httpx.post(
    f"http://127.0.0.1:{http_port}/v1/search", json={"part_id": like, "top_k": 5}, timeout=120
)
out["http"] = [search.status_code, [hit["part_id"] for hit in search.json().get("results", [])]]
bad = httpx.post(f"http://127.0.0.1:{http_port}/v1/search", json={"top_k": 5}, timeout=120)
out["http_empty"] = [bad.status_code, bad.json()["error"]["code"]]
out["stats"] = httpx.get(f"http://127.0.0.1:{stats}/stats", timeout=30).status_code
with grpc.insecure_channel(f"127.0.0.1:{grpc_port}") as channel:
    grpc.channel_ready_future(channel).result(timeout=60)
    stub = pb_grpc.CADRetrievalServiceStub(channel)
    answer = stub.FindSimilarModels(pb.SimilarModelsRequest(part_id=like, top_k=5), timeout=120)
    out["grpc"] = [hit.genome_id for hit in answer.results]
print("RESULT " + json.dumps(out), flush=True)
import ray
ray.shutdown()
"""


def test_service_behind_haproxy(tmp_path):
    run = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=540,
    )
    lines = [line for line in run.stdout.splitlines() if line.startswith("RESULT ")]
    assert run.returncode == 0 and lines, run.stderr[-3000:]
    out = json.loads(lines[-1][len("RESULT ") :])
    assert set(out["env_before"].values()) == {None}  # the setting, not the test, asked for it
    assert out["env_after"] == HAPROXY_ENV
    assert out["stats"] == 200  # HAProxy answers on its stats port
    status, ids = out["http"]
    assert status == 200 and len(ids) == 5 and out["like"] not in ids
    assert out["http_empty"] == [422, "empty_query"]
    assert out["grpc"] == ids  # the gRPC proxy answers in this mode too, the same
