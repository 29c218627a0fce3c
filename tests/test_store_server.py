"""Server backend specifics: collection metadata, batched writes, retries, argument checks."""

from __future__ import annotations

import httpx
import pytest
from qdrant_client import QdrantClient
from qdrant_client import models as m
from qdrant_client.http.exceptions import ResponseHandlingException, UnexpectedResponse

from bench.helpers.synthetic import SyntheticCatalog
from store import CollectionSpec, StoreError, StoreOptions
from store.server import ServerStore, collection_config, is_transient

SPEC = CollectionSpec(bundle_id="server-bundle", dim=16, view_count=2, view_set="tiny2")


def http_error(status: int) -> UnexpectedResponse:
    return UnexpectedResponse(status, "error", b"{}", httpx.Headers())


class FlakyClient:
    """A qdrant-client that fails its first ``failures`` upserts with ``error``."""

    def __init__(self, client: QdrantClient, failures: int, error: Exception):
        self.client, self.failures, self.error = client, failures, error
        self.upserts: list[tuple[int, bool]] = []

    def upsert(self, collection_name, points, wait=False, **kwargs):
        if self.failures:
            self.failures -= 1
            raise self.error
        self.upserts.append((len(points), wait))
        return self.client.upsert(collection_name, points, wait=wait, **kwargs)

    def __getattr__(self, name):
        return getattr(self.client, name)


@pytest.fixture
def records():
    return SyntheticCatalog(SPEC, categories=3, seed=9).records(0, 20)


def test_spec_is_collection_metadata(records):
    client = QdrantClient(":memory:")
    ServerStore(SPEC, collection="parts", client=client).upsert(records)
    meta = client.get_collection("parts").config.metadata
    assert meta["cadsearch"]["bundle_id"] == "server-bundle" and meta["cadsearch"]["dim"] == 16
    assert ServerStore(collection="parts", client=client).spec == SPEC
    client.create_collection("foreign", vectors_config=m.VectorParams(size=4, distance="Cosine"))
    with pytest.raises(StoreError, match="not a cadsearch collection"):
        ServerStore(SPEC, collection="foreign", client=client)


def test_batched_upserts_wait_and_retry(records):
    flaky = FlakyClient(QdrantClient(":memory:"), failures=2, error=http_error(503))
    options = StoreOptions(upsert_batch=8, backoff_s=0.0)
    store = ServerStore(SPEC, client=flaky, options=options)
    assert store.upsert(records) == 20
    assert flaky.upserts == [(8, True), (8, True), (4, True)]
    assert store.count() == 20


@pytest.mark.parametrize(
    "error, transient",
    [
        (http_error(503), True),
        (http_error(429), True),
        (http_error(400), False),
        (ResponseHandlingException(ConnectionError("refused")), True),
        (ValueError("bad"), False),
    ],
)
def test_transient_errors(records, error, transient):
    assert is_transient(error) is transient
    flaky = FlakyClient(QdrantClient(":memory:"), failures=10, error=error)
    store = ServerStore(SPEC, client=flaky, options=StoreOptions(retries=2, backoff_s=0.0))
    with pytest.raises(type(error)):
        store.upsert(records)
    assert flaky.failures == (7 if transient else 9)  # 1 try + 2 retries, or 1 try
    assert store.count() == 0


def test_cluster_options_pass_through():
    options = StoreOptions(
        shard_number=4, replication_factor=2, write_consistency_factor=2, quantization="int8"
    )
    config = collection_config(SPEC, options)
    assert (config["shard_number"], config["replication_factor"]) == (4, 2)
    assert config["write_consistency_factor"] == 2
    assert config["quantization_config"].scalar.type == m.ScalarType.INT8
    assert config["vectors_config"]["views"].hnsw_config.m == 0
    assert config["vectors_config"]["views"].multivector_config.comparator == "max_sim"


def test_argument_conflicts():
    with pytest.raises(ValueError, match="exactly one"):
        ServerStore(SPEC, url="http://localhost:6333", location=":memory:")
    with pytest.raises(ValueError, match="exactly one"):
        ServerStore(SPEC)
    with pytest.raises(ValueError, match="api_key"):
        ServerStore(SPEC, client=QdrantClient(":memory:"), api_key="secret")
