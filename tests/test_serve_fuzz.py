"""Generated requests against the running service (the session's ``served``), with hypothesis
and the cases of bench/helpers/fuzz_cases.py: JSON and multipart searches over HTTP never answer
a 5xx, and every refusal is a typed error; gRPC searches and embedding reads never end INTERNAL,
UNKNOWN or UNAVAILABLE (docs/security.md#fuzzing). The in-process counterpart is
tests/test_fuzz.py; bench/fuzz.py runs the same cases with a large budget."""

from __future__ import annotations

import grpc
import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.helpers import fuzz_cases as fc
from serve.proto import cad_retrieval_pb2 as pb

pytestmark = pytest.mark.integration

# small and reproducible; each example is a real request (a mesh one renders its views)
SERVED = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
MESH_SEEDS = fc.mesh_seeds()
IMAGE_SEEDS = fc.image_seeds()
SERVER_FAULTS = (grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN, grpc.StatusCode.UNAVAILABLE)


def _ids(served) -> list[str]:
    return [record["part_id"] for record in served.catalog]


def _key_header(served, data) -> dict[str, str]:
    key = data.draw(st.sampled_from([served.key, None, "not-a-key"]), label="key")
    return {"x-api-key": key} if key else {}


def assert_typed(answer: httpx.Response) -> None:
    """Not a server error, and a refusal is ``{"error": {status, code, field, message}}``."""
    assert answer.status_code < 500, answer.text[:500]
    if answer.status_code >= 400:
        error = answer.json()["error"]
        assert error["status"] == answer.status_code and error["code"], error
        assert isinstance(error["field"], str) and error["message"], error


@SERVED
@given(data=st.data())
def test_generated_json_searches_never_5xx(served, http, data):
    bodies = fc.search_bodies(IMAGE_SEEDS, _ids(served)).map(fc.encode_json)
    body = data.draw(bodies | fc.search_body_bytes(IMAGE_SEEDS), label="body")
    headers = {"content-type": "application/json", **_key_header(served, data)}
    assert_typed(http.post("/v1/search", content=body, headers=headers))


@SERVED
@given(data=st.data())
def test_generated_multipart_searches_never_5xx(served, http, data):
    fields, files = data.draw(
        fc.multipart_searches(MESH_SEEDS, IMAGE_SEEDS, _ids(served)), label="form"
    )
    body, content_type = fc.multipart_body(fields, files)
    headers = {"content-type": content_type, **_key_header(served, data)}
    assert_typed(http.post("/v1/search", content=body, headers=headers))


@SERVED
@given(data=st.data())
def test_generated_grpc_requests_never_internal(served, stub, data):
    request = data.draw(fc.grpc_searches(MESH_SEEDS, IMAGE_SEEDS, _ids(served)), label="request")
    part_id = data.draw(fc.part_ids(_ids(served)).filter(fc.encodable), label="genome_id")
    metadata = tuple(_key_header(served, data).items())
    calls = [
        (stub.FindSimilarModels, request),
        (stub.GetModelEmbeddings, pb.GetEmbeddingsRequest(genome_id=part_id)),
    ]
    for call, message in calls:
        try:
            call(message, timeout=120, metadata=metadata)
        except grpc.RpcError as e:
            assert e.code() not in SERVER_FAULTS, f"{e.code()}: {e.details()}"
