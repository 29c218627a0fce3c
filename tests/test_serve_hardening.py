"""Hostile requests to the real service (HTTP and gRPC): bounded, typed 4xx, nothing left behind.
The pure checks behind them are in test_hardening.py."""

from __future__ import annotations

import ipaddress
import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import grpc
import httpx
import numpy as np
import pytest
from test_hardening import zip_bomb_3mf

from serve.proto import cad_retrieval_pb2 as pb
from serve.proto import cad_retrieval_pb2_grpc as pb_grpc
from store.schema import point_id

pytestmark = pytest.mark.integration


def _error(answer: httpx.Response) -> dict:
    return answer.json()["error"]


def _listening(port: int) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """The local addresses that listen on a TCP port (Linux /proc/net)."""
    found = []
    for table, width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            address, hex_port = fields[1].split(":")
            if fields[3] != "0A" or int(hex_port, 16) != port:  # 0A: LISTEN
                continue
            # each 32-bit word of the address is in host (little-endian) order
            words = [bytes.fromhex(address[i : i + 8])[::-1] for i in range(0, width, 8)]
            found.append(ipaddress.ip_address(b"".join(words)))
    return found


def _is_loopback(address) -> bool:
    mapped = getattr(address, "ipv4_mapped", None)
    return (mapped or address).is_loopback


# -- gRPC: one byte limit, loopback only ----------------------------------------------------------


def test_http_and_grpc_listen_on_loopback_by_default(served):
    for url in (served.http_url, served.grpc_target):
        port = int(url.rsplit(":", 1)[1])
        addresses = _listening(port)
        assert addresses, f"nothing listens on {port}"
        assert all(_is_loopback(a) for a in addresses), (url, addresses)


def test_ray_listens_on_loopback_only(served):
    # the harness starts Ray as `cadsearch serve` does (serve.local.init_ray): every server of
    # Ray's own (GCS, raylets, workers, agents) and Serve's proxies are children of this driver
    import psutil

    found = []
    me = psutil.Process()
    for process in (me, *me.children(recursive=True)):
        try:
            connections = process.net_connections(kind="tcp")
        except psutil.Error:
            continue  # a worker that exited meanwhile
        found += [
            (c.laddr.ip, c.laddr.port, process.name())
            for c in connections
            if c.status == psutil.CONN_LISTEN
        ]
    names = {name for _, _, name in found}
    assert {"gcs_server", "raylet"} <= names, found
    exposed = [f for f in found if not _is_loopback(ipaddress.ip_address(f[0]))]
    assert not exposed, exposed


# -- secure by default ----------------------------------------------------------------------------


def test_keys_reach_replicas_from_the_driver(served, http):
    import os

    import ray

    # the harness started Ray without CADSEARCH_API_KEYS: no Ray worker has it ...
    seen = ray.get(ray.remote(num_cpus=0)(lambda: os.environ.get("CADSEARCH_API_KEYS")).remote())
    assert seen is None
    # ... and the ingress holds the driver's keys all the same
    assert http.delete("/v1/parts/no-such-part").status_code == 401
    answer = http.delete("/v1/parts/no-such-part", headers={"X-API-Key": served.key})
    assert answer.status_code == 404, answer.text


def test_embed_needs_a_key_by_default(served, http):
    # the harness leaves serve.protect_embed at its default
    assert "protect_embed" not in served.overrides["serve"]
    answer = http.post("/v1/embed/text", json={"texts": ["hex nut"]})
    assert answer.status_code == 401, answer.text
    assert _error(answer)["field"] == "X-API-Key"


def test_view_urls_never_come_from_the_host_header(served, http):
    part_id = served.catalog[0]["part_id"]
    answer = http.get(f"/v1/parts/{part_id}", headers={"Host": "evil.example.com"})
    assert answer.status_code == 200, answer.text
    part = answer.json()
    assert "evil" not in answer.text
    # no serve.public_url: paths, fetched from wherever the client reached the service
    assert part["view_urls"] and all(u.startswith("/views/") for u in part["view_urls"])
    assert http.get(part["view_urls"][0]).headers["content-type"] == "image/png"


@pytest.mark.parametrize("host", ["evil.example.com/x", "a b", "h:99999", '"><script>'])
def test_a_malformed_host_header_is_400(http, host):
    answer = http.get("/healthz", headers={"Host": host})
    assert answer.status_code == 400, answer.text
    assert (_error(answer)["code"], _error(answer)["field"]) == ("bad_host", "Host")
    assert host not in answer.text


def test_grpc_refuses_a_message_over_the_body_limit_at_the_proxy(served):
    # the harness's limit is 2 MB: a 3 MB mesh is refused on arrival, never sent to a replica
    channel = grpc.insecure_channel(
        served.grpc_target, options=[("grpc.max_send_message_length", 64 * 2**20)]
    )
    stub = pb_grpc.CADRetrievalServiceStub(channel)
    request = pb.SimilarModelsRequest(mesh_data=bytes(3 * 2**20), mesh_format="stl")
    started = time.perf_counter()
    with pytest.raises(grpc.RpcError) as caught:
        stub.FindSimilarModels(request, timeout=60)
    assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert time.perf_counter() - started < 10
    channel.close()


# -- bounded before expanded ----------------------------------------------------------------------


def test_3mf_zip_bomb_search_is_413(http):
    answer = http.post("/v1/search", files={"mesh": ("bomb.3mf", zip_bomb_3mf())})
    assert answer.status_code == 413, answer.text
    error = _error(answer)
    assert (error["code"], error["field"]) == ("archive_too_large", "mesh")


# -- 4xx where a 500 was --------------------------------------------------------------------------


def test_empty_ascii_stl_search_is_400(http):
    answer = http.post("/v1/search", files={"mesh": ("empty.stl", b"solid x\nendsolid x\n")})
    assert answer.status_code == 400, answer.text
    error = _error(answer)
    assert (error["code"], error["field"]) == ("empty_mesh", "mesh")


def test_deeply_nested_json_is_422(http):
    body = '{"text": "bolt", "filters": ' + "[" * 1000 + "]" * 1000 + "}"
    answer = http.post("/v1/search", content=body, headers={"content-type": "application/json"})
    assert answer.status_code == 422, answer.text
    assert (_error(answer)["code"], _error(answer)["field"]) == ("too_deep", "body")


def test_weighted_sum_with_a_huge_weight_is_422(http):
    query = {"text": "bolt", "fusion": "weighted_sum", "weights": {"text->text": 1e39}}
    answer = http.post("/v1/search", json=query)
    assert answer.status_code == 422, answer.text
    assert _error(answer)["field"] == "weights"


def test_bidi_part_id_is_422(http):
    answer = http.get("/v1/parts/bolt\u202etxt")
    assert answer.status_code == 422, answer.text
    assert _error(answer)["field"] == "part_id"


def test_failed_index_leaves_no_views(served, http):
    part_id = "hardening-nan-metadata"
    answer = http.post(
        "/v1/parts",
        headers={"X-API-Key": served.key},
        files={"file": ("part.stl", served.file(served.catalog[0]).read_bytes())},
        data={"part_id": part_id, "metadata": '{"x": NaN}'},
    )
    assert answer.status_code == 422, answer.text
    assert _error(answer)["field"] == "metadata"
    assert "/tmp" not in _error(answer)["message"]
    views_root = served.root / "views"
    assert not [p for p in views_root.rglob(point_id(part_id)) if p.is_dir()]
    assert http.get(f"/v1/parts/{part_id}").status_code == 404


def test_index_metadata_json_is_checked_on_grpc(served):
    channel = grpc.insecure_channel(served.grpc_target)
    stub = pb_grpc.CADRetrievalServiceStub(channel)
    deep = json.dumps({"a": json.loads("[" * 40 + "]" * 40)})
    request = pb.IndexModelRequest(
        model_data=b"solid x\nendsolid x\n", genome_id="deep", file_type="stl", metadata_json=deep
    )
    with pytest.raises(grpc.RpcError) as caught:
        stub.IndexModel(request, metadata=(("x-api-key", served.key),), timeout=60)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert caught.value.details().startswith("metadata_json: is nested over")
    channel.close()


# -- costly meshes, several preparers, request timeouts ------------------------------------------


def _random_triangles_stl(count: int, seed: int = 0) -> bytes:
    """A binary STL of ``count`` random triangles across a cube: small and legal, but each view
    is covered many times over (rendering costs about a second per 2,500 of them here)."""
    rng = np.random.default_rng(seed)
    record = np.dtype([("normal", "<f4", 3), ("vertices", "<f4", (3, 3)), ("attribute", "<u2")])
    records = np.zeros(count, dtype=record)
    records["vertices"] = rng.random((count, 3, 3), dtype=np.float32) * 100
    return bytes(80) + np.uint32(count).tobytes() + records.tobytes()


def test_a_costly_mesh_is_refused_within_the_budget_while_others_answer(served, http):
    budget = served.overrides["serve"]["limits"]["mesh_budget_s"]
    costly = _random_triangles_stl(40_000)  # 2.0 MB (the harness's body limit is 2 MiB)
    normal = served.file(served.part("hex_nut")).read_bytes()

    def search_costly():
        started = time.perf_counter()
        answer = httpx.post(
            f"{served.http_url}/v1/search", files={"mesh": ("costly.stl", costly)}, timeout=120
        )
        return answer, time.perf_counter() - started

    with ThreadPoolExecutor(1) as pool:
        costly_search = pool.submit(search_costly)
        time.sleep(1.0)  # it holds a preparer worker by now
        started = time.perf_counter()
        answer = http.post("/v1/search", files={"mesh": ("nut.stl", normal)})
        normal_s = time.perf_counter() - started
        refused, costly_s = costly_search.result()
    assert answer.status_code == 200, answer.text
    assert answer.json()["results"]
    assert normal_s < budget / 2, f"a normal mesh search took {normal_s:.1f} s beside a costly one"
    assert refused.status_code == 413, refused.text
    assert (_error(refused)["code"], _error(refused)["field"]) == ("too_costly", "mesh")
    assert costly_s < budget + 4, f"refused after {costly_s:.1f} s (budget {budget} s)"


def test_a_query_mesh_over_the_query_face_limit_is_413_from_its_header(http):
    # far under the index's mesh.max_faces (5M), over serve.limits.max_query_faces (500k)
    header = b"ply\nformat binary_little_endian 1.0\nelement vertex 3\nproperty float x\n"
    header += b"property float y\nproperty float z\nelement face 600000\n"
    header += b"property list uchar int vertex_indices\nend_header\n"
    answer = http.post("/v1/search", files={"mesh": ("big.ply", header + bytes(36))})
    assert answer.status_code == 413, answer.text
    assert (_error(answer)["code"], _error(answer)["field"]) == ("too_many_faces", "mesh")
    assert "600,000" in _error(answer)["message"]


def test_the_request_timeout_reaches_serves_proxies(served):
    from ray.serve.context import _get_global_client

    from cadsearch.settings import load_settings
    from serve.local import PROXY_TIMEOUT_MARGIN_S

    timeout_s = load_settings("local", **served.overrides).serve.limits.request_timeout_s
    details = _get_global_client().get_serve_details()
    # HTTP: the ingress answers a typed 504 at timeout_s, the proxy stops the rest a bit later
    assert details["http_options"]["request_timeout_s"] == timeout_s + PROXY_TIMEOUT_MARGIN_S
    assert details["grpc_options"]["request_timeout_s"] == timeout_s
