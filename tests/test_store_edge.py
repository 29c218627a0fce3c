"""Qdrant Edge backend specifics: reopen from disk, one writer, the sidecar spec, options."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from bench.helpers.synthetic import SyntheticCatalog
from store import (
    CollectionNotFoundError,
    CollectionSpec,
    FusedQuery,
    StoreConfig,
    StoreOptions,
    WriterLockedError,
)
from store.edge import EdgeStore
from store.factory import open_store

SPEC = CollectionSpec(bundle_id="edge-bundle", dim=24, view_count=3, view_set="tiny3")


@pytest.fixture
def records():
    return SyntheticCatalog(SPEC, categories=4, seed=5).records(0, 40)


def test_reopen_from_disk(tmp_path, records):
    path = tmp_path / "parts"
    with EdgeStore(path, SPEC) as store:
        store.upsert(records)
        store.optimize()
        q = FusedQuery(text=records[6].vectors["text"], geometry=records[6].vectors["geometry"])
        before = [(h.part_id, h.score) for h in store.search(q)]
    assert (path / "collection.json").is_file() and (path / "shard").is_dir()
    with EdgeStore(path) as reopened:  # no spec: the stored one
        assert reopened.spec == SPEC and reopened.count() == len(records)
        assert [(h.part_id, h.score) for h in reopened.search(q)] == before
    with EdgeStore(path, SPEC) as again:
        assert again.get(records[0].part_id).payload["name"] == records[0].name


def test_second_writer_is_refused(tmp_path, records):
    path = tmp_path / "parts"
    store = EdgeStore(path, SPEC)
    store.upsert(records[:5])
    with pytest.raises(WriterLockedError, match=str(path)):
        EdgeStore(path, SPEC)
    code = (
        "import sys; sys.path.insert(0, '.');"
        "from store.edge import EdgeStore; from store.errors import WriterLockedError\n"
        f"try:\n    EdgeStore({str(path)!r})\n"
        "except WriterLockedError as e:\n    print('refused', e)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.startswith("refused") and "pid" in out.stdout
    assert store.count() == 5  # the refused opener did no harm
    store.close()
    with EdgeStore(path) as next_writer:  # the lock goes with close
        assert next_writer.count() == 5


def test_open_without_spec_needs_a_collection(tmp_path):
    with pytest.raises(CollectionNotFoundError, match="CollectionSpec"):
        EdgeStore(tmp_path / "nothing")


def test_sidecar_and_creation_options(tmp_path, records):
    path = tmp_path / "parts"
    options = StoreOptions(quantization="int8", views_on_disk=True, hnsw_m=8, search_ef=64)
    with EdgeStore(path, SPEC, options) as store:
        store.upsert(records)
        store.optimize()
        q = FusedQuery(views=records[2].vectors["views"], rerank=True)
        for native in (True, False):  # int8 vectors: MaxSim reranks on the original vectors
            hits = store.search(q, native=native)
            assert hits[0].part_id == records[2].part_id
            assert [h.score for h in hits] == pytest.approx([h.maxsim for h in hits], abs=1e-4)
    sidecar = json.loads((path / "collection.json").read_text())
    assert sidecar["metadata"]["cadsearch"]["bundle_id"] == "edge-bundle"
    assert sidecar["options"]["quantization"] == "int8" and sidecar["options"]["hnsw_m"] == 8
    with EdgeStore(path, SPEC, StoreOptions(search_ef=256)) as reopened:
        assert reopened.options.quantization == "int8"  # fixed at creation
        assert reopened.options.views_on_disk and reopened.options.search_ef == 256


def test_open_store_factory(tmp_path, records):
    settings = StoreConfig(backend="edge", path=str(tmp_path / "qdrant"), collection="c1")
    with open_store(settings, SPEC) as store:
        assert isinstance(store, EdgeStore) and store.path == tmp_path / "qdrant" / "c1"
        store.upsert(records[:3])
    server = StoreConfig(backend="server", url=":memory:", quantization="int8", hnsw_m=12)
    with open_store(server, SPEC) as store:
        assert store.backend == "server" and store.options.hnsw_m == 12
        assert store.options.quantization == "int8"
        assert store.upsert(records[:3]) == 3
    with pytest.raises(ValueError, match="store.url"):
        open_store(StoreConfig(backend="server"), SPEC)


def test_store_settings_are_the_store_config():
    """Every store tunable is settable from a profile and reaches the backend unchanged."""
    from cadsearch.settings import Settings

    section = Settings(store={"quantile": 0.95, "upsert_batch": 7, "search_threads": 2}).store
    assert isinstance(section, StoreConfig)
    options = section.options(search_threads=1)
    assert type(options) is StoreOptions and "backend" not in options.model_dump()
    assert (options.quantile, options.upsert_batch, options.search_threads) == (0.95, 7, 1)
    with pytest.raises(ValueError, match="hnsw_m"):
        StoreConfig(hnsw_m=2)


def _engine_search_threads(path) -> int | None:
    return json.loads((path / "shard" / "edge_config.json").read_text()).get("max_search_threads")


@pytest.mark.parametrize("creation", [{}, {"quantization": "int8", "views_on_disk": True}])
def test_search_threads_reach_the_engine_per_open(tmp_path, records, creation):
    """search_threads is a per-open setting: given, the engine's pool takes it (the shard's own
    config says so) and answers stay the same; not given, the shard keeps what it had."""
    path = tmp_path / "parts"
    q = FusedQuery(image=records[3].vectors["image"], geometry=records[3].vectors["geometry"])
    with EdgeStore(path, SPEC, StoreOptions(**creation)) as store:
        store.upsert(records)
        store.optimize()
        default = [(h.part_id, h.score) for h in store.search(q)]
    assert _engine_search_threads(path) is None
    for threads in (1, 3):
        with EdgeStore(path, SPEC, StoreOptions(**creation, search_threads=threads)) as store:
            assert [(h.part_id, h.score) for h in store.search(q)] == default
        assert _engine_search_threads(path) == threads
    with EdgeStore(path) as store:  # not given: the shard's own (3)
        assert [(h.part_id, h.score) for h in store.search(q)] == default
    assert _engine_search_threads(path) == 3
    with pytest.raises(ValueError):
        StoreOptions(search_threads=0)
