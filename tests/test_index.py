"""The reindex job end to end on a real local Ray: sources, bad files, incremental, resume."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import trimesh

from cadsearch.settings import load_settings
from data_jobs.catalog.families import CATEGORIES
from data_jobs.catalog.generate import generate_catalog
from data_jobs.index.pipeline import SystemicError, run_index
from encoders.parts.encode import kind_options
from encoders.zero_shot import with_predicted_kind
from store import Filters

pytestmark = pytest.mark.integration


def job_settings(tmp_path: Path, **index):
    return load_settings(
        "local",
        store={"backend": "edge", "path": str(tmp_path / "qdrant")},
        views={"kind": "local", "path": str(tmp_path / "views")},
        index={"reports_dir": str(tmp_path / "runs"), "prepare_batch_size": 2, **index},
    )


def open_collection(settings):
    from encoders.bundle import load_bundle
    from store.factory import open_store

    return open_store(settings.store, load_bundle(settings.model.bundle).collection_spec())


def mesh_file(store, part_id: str, root: Path) -> Path:
    """The light GLB of an indexed part in the local view folder under root."""
    return root / "views" / store.get(part_id).payload["mesh_url"].split("/views/", 1)[1]


def assert_mesh_matches(path: Path, payload: dict) -> None:
    """The GLB is within the 200 kB budget and has the part's sorted extents in mm."""
    data = path.read_bytes()
    assert len(data) <= 200_000, len(data)
    back = trimesh.load(io.BytesIO(data), file_type="glb", force="mesh")
    extents = sorted(back.extents, reverse=True)
    np.testing.assert_allclose(extents, payload["extents"], rtol=0.01, atol=0.01)


@pytest.fixture(scope="module")
def catalog(tmp_path_factory):
    out = tmp_path_factory.mktemp("catalog")
    generate_catalog(out, n=8, seed=5)
    return out


def test_folder_with_manifest_then_incremental_then_prune(ray_local, catalog, tmp_path):
    source = tmp_path / "cat"
    shutil.copytree(catalog, source)
    settings = job_settings(tmp_path)
    first = run_index(str(source), settings)
    assert (first.indexed, first.failed, first.skipped) == (8, 0, 0)
    manifest = [json.loads(line) for line in (source / "manifest.jsonl").read_text().splitlines()]
    store = open_collection(settings)
    try:
        assert store.count() == 8
        part = store.get(manifest[0]["part_id"], with_vectors=True)
        assert part.payload["category"] == manifest[0]["category"]
        first_extents = store.get(manifest[1]["part_id"]).payload["extents"]
        assert part.payload["name"] == manifest[0]["name"]
        assert len(part.payload["view_urls"]) == 10
        assert part.vectors["views"].shape == (10, store.spec.dim)
        np.testing.assert_allclose(np.linalg.norm(part.vectors["image"]), 1, atol=1e-5)
        view_file = tmp_path / "views" / part.payload["view_urls"][0].split("/views/", 1)[1]
        assert view_file.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        # the light GLB of the page's 3D viewer: beside the views, in budget, the part's real size
        meshes = {row["part_id"]: mesh_file(store, row["part_id"], tmp_path) for row in manifest}
        assert meshes[manifest[0]["part_id"]].parent == view_file.parent
        for row in manifest:
            assert_mesh_matches(meshes[row["part_id"]], store.get(row["part_id"]).payload)
    finally:
        store.close()

    # unchanged rerun: nothing rendered again
    again = run_index(str(source), settings)
    assert (again.indexed, again.skipped) == (0, 8)

    # one file changed, one part gone from the catalog, one file missing though still listed
    changed = source / manifest[1]["file"]
    mesh = trimesh.load(changed)
    mesh.apply_scale(2.0)
    mesh.export(changed)
    (source / manifest[2]["file"]).unlink()
    (source / manifest[3]["file"]).unlink()
    kept = [row for i, row in enumerate(manifest) if i != 2]
    (source / "manifest.jsonl").write_text("".join(json.dumps(r) + "\n" for r in kept))
    third = run_index(str(source), settings, prune=True)
    assert (third.indexed, third.skipped, third.pruned, third.failed) == (1, 5, 1, 1)
    errors = [json.loads(line) for line in open(third.errors_path)]
    assert errors[0]["part_id"] == manifest[3]["part_id"] and errors[0]["code"] == "unreadable"
    store = open_collection(settings)
    try:
        assert store.count() == 7
        assert store.get(manifest[2]["part_id"]) is None
        old = np.array(first_extents)
        assert np.allclose(store.get(manifest[1]["part_id"]).payload["extents"], old * 2)
        assert not meshes[manifest[2]["part_id"]].exists()  # pruned with its views
        assert_mesh_matches(
            meshes[manifest[1]["part_id"]], store.get(manifest[1]["part_id"]).payload
        )
    finally:
        store.close()

    full = run_index(str(source), settings, full=True)
    assert full.indexed == 6 and full.skipped == 0 and full.failed == 1


def test_bad_files_are_reported_and_the_rest_indexed(ray_local, catalog, tmp_path):
    source = tmp_path / "mixed"
    source.mkdir()
    good = sorted((catalog / "parts").iterdir())[:3]
    for path in good:
        shutil.copy(path, source / path.name)
    (source / "corrupt.stl").write_bytes(os.urandom(500))
    (source / "empty.obj").write_bytes(b"")
    box = trimesh.creation.box()
    vertices = box.vertices.copy()
    vertices[0] = np.nan
    (source / "nan.stl").write_bytes(
        trimesh.exchange.stl.export_stl(trimesh.Trimesh(vertices, box.faces, process=False))
    )
    (source / "drawing.dwg").write_bytes(b"AC1032")
    settings = job_settings(tmp_path, extra_kinds=["cam follower"])
    summary = run_index(str(source), settings)
    assert summary.indexed == 3
    errors = {row["part_id"]: row for row in map(json.loads, open(summary.errors_path))}
    assert set(errors) == {"corrupt", "empty", "nan", "drawing"}
    assert errors["corrupt"]["code"] == "unreadable" and errors["corrupt"]["stage"] == "prepare"
    assert errors["empty"]["code"] == "empty_mesh"
    assert errors["nan"]["code"] == "non_finite" and "NaN" in errors["nan"]["message"]
    assert errors["drawing"]["code"] == "unsupported_format"
    assert summary.failed == 4 and not summary.systemic
    # a folder gives no categories: each part gets a predicted kind that shows and filters
    kinds = kind_options(settings.index, CATEGORIES)["kinds"]
    assert "cam follower" in kinds and len(kinds) > 20
    store = open_collection(settings)
    try:
        payloads = [store.get(path.stem).payload for path in good]
        predicted = [p["predicted_category"] for p in payloads]
        assert set(predicted) <= set(kinds)
        for payload in payloads:
            assert payload["category"] == "uncategorized" and 0 < payload["predicted_score"] <= 1
            said = with_predicted_kind("", payload["predicted_category"])
            assert payload["description"].endswith(f". {said}")
        kind = predicted[0]
        assert store.count(Filters(predicted_categories=[kind])) == predicted.count(kind)
        assert store.count(Filters(categories=[kind])) == 0
    finally:
        store.close()


def test_csv_manifest_source(ray_local, catalog, tmp_path):
    rows = [json.loads(line) for line in (catalog / "manifest.jsonl").read_text().splitlines()][:3]
    manifest = tmp_path / "parts.csv"
    with open(manifest, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["part_id", "file", "name", "category", "tags", "units"])
        for row in rows:
            path = (catalog / row["file"]).resolve()
            writer.writerow([row["part_id"], path, row["name"], row["category"], "steel;iso", "mm"])
    settings = job_settings(tmp_path)
    assert run_index(str(manifest), settings).indexed == 3
    store = open_collection(settings)
    try:
        payload = store.get(rows[0]["part_id"]).payload
        assert payload["tags"] == ["steel", "iso"]
        assert "predicted_category" not in payload  # its source gave a category
        assert store.facets()["category"] == {r["category"]: 1 for r in rows}
    finally:
        store.close()


def test_b2_source_and_view_store_through_raw_simulator(ray_local, catalog, tmp_path):
    from b2_simulator import simulated_b2_api

    api = simulated_b2_api("cad-catalog")
    bucket = api.get_bucket_by_name("cad-catalog")
    rows = [json.loads(line) for line in (catalog / "manifest.jsonl").read_text().splitlines()][:3]
    for row in rows:
        bucket.upload_bytes((catalog / row["file"]).read_bytes(), f"parts/{row['file']}")
    manifest = "".join(json.dumps(r) + "\n" for r in rows)
    bucket.upload_bytes(manifest.encode(), "parts/manifest.jsonl")
    api.create_bucket("cad-views", "allPublic")
    settings = job_settings(tmp_path)
    settings.views.kind, settings.views.bucket = "b2", "cad-views"
    summary = run_index("b2://cad-catalog/parts", settings, b2_api=api)
    assert summary.indexed == 3 and summary.failed == 0
    views = api.get_bucket_by_name("cad-views")
    keys = [info.file_name for info, _ in views.ls(recursive=True)]
    assert all(k.startswith("views/") for k in keys)
    # 10 views and the light mesh of each part, in the bucket
    assert sum(k.endswith(".png") for k in keys) == 30
    assert sum(k.endswith("/mesh.glb") for k in keys) == 3 and len(keys) == 33
    assert not any(row["part_id"] in k for row in rows for k in keys)  # keys from ids, not names


def test_resume_after_killed_run(catalog, tmp_path):
    """SIGKILL the job mid-run; a rerun finishes it without duplicates or redone parts."""
    big, parts = tmp_path / "big", 16
    generate_catalog(big, n=parts, seed=9)
    config = tmp_path / "job.yaml"
    config.write_text(
        json.dumps(
            {
                "store": {"backend": "edge", "path": str(tmp_path / "qdrant")},
                "views": {"kind": "local", "path": str(tmp_path / "views")},
                "index": {
                    "reports_dir": str(tmp_path / "runs"),
                    "prepare_batch_size": 2,
                    "encode_batch_size": 2,
                    "write_batch_size": 2,
                },
            }
        )
    )
    cmd = [sys.executable, "-m", "cadsearch.cli", "index", str(big), "--config", str(config)]
    job = subprocess.Popen(
        cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    views = tmp_path / "views"
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and job.poll() is None:
        done = len(list(views.iterdir())) if views.is_dir() else 0
        if done >= 4:
            break
        time.sleep(0.2)
    assert job.poll() is None, "the job finished before it could be killed"
    os.killpg(job.pid, signal.SIGKILL)
    job.wait()
    time.sleep(1)

    settings = load_settings(config)
    store = open_collection(settings)
    stored_before = store.count()
    store.close()
    assert 0 < stored_before < parts
    import ray

    ray.shutdown()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        rerun = run_index(str(big), settings)
    finally:
        ray.shutdown()
    assert rerun.skipped == stored_before and rerun.indexed == parts - stored_before
    store = open_collection(settings)
    try:
        assert store.count() == parts
        assert len({entry.part_id for entry in store.iter_ids()}) == parts
    finally:
        store.close()


def test_bundle_mismatch_is_systemic(ray_local, catalog, tmp_path):
    from store.factory import open_store
    from store.schema import CollectionSpec

    settings = job_settings(tmp_path)
    other = open_store(settings.store, CollectionSpec("other-bundle-000000000000", 256, 10))
    other.close()
    with pytest.raises(SystemicError, match="other-bundle"):
        run_index(str(catalog), settings)


def test_two_node_cluster_steers_stages_by_resource(catalog, tmp_path):
    """Rendering lands only on the render node, encoding only on the encode node."""
    import ray
    from ray.cluster_utils import Cluster

    ray.shutdown()
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    render_node = cluster.add_node(num_cpus=1, resources={"render": 2})
    encode_node = cluster.add_node(num_cpus=1, resources={"encode": 1})
    cluster.wait_for_nodes()
    try:
        ray.init(address=cluster.address, log_to_driver=False)
        settings = job_settings(
            tmp_path, prepare_resources={"render": 1}, encode_resources={"encode": 1}
        )
        summary = run_index(str(catalog), settings)
        assert summary.indexed == 8
        assert set(summary.nodes["prepare"]) == {render_node.node_id}
        assert set(summary.nodes["encode"]) == {encode_node.node_id}
    finally:
        ray.shutdown()
        cluster.shutdown()
