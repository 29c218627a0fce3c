"""Duplicate groups: the geometric check, the shape signature, union-find groups, and the job end
to end on a real local Ray and a real Qdrant Edge collection (``cadsearch dedup``)."""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

import numpy as np
import pytest
import trimesh
from scipy.spatial.transform import Rotation

from data_jobs.catalog.families import FAMILIES
from data_jobs.dedup.check import compare_meshes, shape_signature
from data_jobs.dedup.groups import duplicate_groups
from serve.duplicates import relation_to


def _rotated(mesh: trimesh.Trimesh, seed: int = 1) -> trimesh.Trimesh:
    out = mesh.copy()
    t = np.eye(4)
    t[:3, :3] = Rotation.random(random_state=seed).as_matrix()
    t[:3, 3] = (12.0, -30.0, 7.5)
    out.apply_transform(t)
    return out


def _mirrored(mesh: trimesh.Trimesh) -> trimesh.Trimesh:
    out = mesh.copy()
    out.apply_transform(np.diag([-1.0, 1.0, 1.0, 1.0]))
    return out


def _scaled(mesh: trimesh.Trimesh, factor: float) -> trimesh.Trimesh:
    out = mesh.copy()
    out.apply_scale(factor)
    return out


@pytest.fixture(scope="module")
def gear() -> trimesh.Trimesh:
    """A helical gear: turning teeth make it chiral, equal moments about its axis make its
    in-plane pose free (the hard case for aligning by principal axes)."""
    return FAMILIES["helical_gear"].generator(np.random.default_rng(3)).mesh


VARIANTS = {
    "copy": (lambda m: m.copy(), "identical"),
    "rotated": (_rotated, "identical"),
    "re-tessellated": (lambda m: m.subdivide(), "identical"),
    "mirrored": (_mirrored, "mirrored"),
    "scaled 1%": (lambda m: _scaled(m, 1.01), "identical_within_tolerance"),
    "scaled 50%": (lambda m: _rotated(_scaled(m, 0.5), seed=2), "scaled"),
    "another gear": (
        lambda m: FAMILIES["helical_gear"].generator(np.random.default_rng(4)).mesh,
        "different",
    ),
}


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_compare_meshes_labels_each_variant(gear, variant):
    make, relation = VARIANTS[variant]
    other = make(gear)
    found = compare_meshes(gear, other)
    assert found.relation == relation, found
    if relation != "different":
        assert found.distance is not None and found.distance < 0.005
        assert found.mirrored_fit == (relation == "mirrored")
        factor = {"scaled 1%": 1.01, "scaled 50%": 0.5}.get(variant, 1.0)
        assert found.scale == pytest.approx(factor, rel=1e-3)
        assert np.allclose(found.extents_b, np.asarray(found.extents_a) * factor, rtol=0.01)


def test_a_mirror_image_of_a_symmetric_part_is_identical():
    """A part with a plane of symmetry is its own mirror image: not labelled mirrored."""
    nut = FAMILIES["hex_nut"].generator(np.random.default_rng(0)).mesh
    assert compare_meshes(nut, _mirrored(_rotated(nut))).relation == "identical"


def test_a_symmetric_part_fitted_best_by_a_reflection_is_not_mirrored():
    """A finned heat sink re-tessellated, compared from the finer copy: its reflection fits
    a hair better than the rotation found (fins give ICP near-equal poses), but the part is
    its own mirror image, so the pair is the same part, not a mirrored one."""
    from data_jobs.catalog.generate import family_schedule, part_rng

    index, family = next(
        (i, f) for i, f in enumerate(family_schedule(48, 5)) if f.name == "heat_sink"
    )
    sink = family.generator(part_rng(5, index)).mesh
    found = compare_meshes(sink.subdivide(), sink)
    assert found.relation in ("identical", "identical_within_tolerance"), found
    assert not found.mirrored_fit


def test_a_different_part_of_the_same_size_is_different(gear):
    """Past the extents gate: a gear with a notch cut into its rim keeps the gear's box and
    nearly its volume; the notch's walls are the points that lie off the other surface."""
    notch = trimesh.creation.box((gear.extents[0] / 4, 2.0, gear.extents[2] * 1.2))
    notch.apply_translation(gear.bounds.mean(axis=0) + (gear.extents[0] * 3 / 8, 0.0, 0.0))
    found = compare_meshes(gear, gear.difference(notch))
    assert found.relation == "different", found
    assert found.extents_a == found.extents_b and found.outliers > 0.01
    assert found.distance is not None and found.distance < 0.005  # the mean alone misses it


def test_shape_signature_is_free_of_pose_scale_and_handedness(gear):
    base = shape_signature(gear)
    assert base.shape == (35,) and np.linalg.norm(base) == pytest.approx(1.0, abs=1e-5)
    same = [_rotated(gear), _scaled(gear, 0.25), _mirrored(gear), gear.subdivide()]
    cosines = [float(base @ shape_signature(m)) for m in same]
    assert min(cosines) > 0.995, cosines
    bolt = FAMILIES["hex_bolt"].generator(np.random.default_rng(0)).mesh
    assert float(base @ shape_signature(bolt)) < min(cosines) - 0.02


def _pair(a, b, relation, scale=1.0):
    return {"a": a, "b": b, "relation": relation, "scale": scale, "distance": 0.0}


class _Part:
    def __init__(self, part_id):
        self.part_id = part_id


def test_duplicate_groups_union_find_is_deterministic():
    records = [
        _pair("p3", "p4", "identical"),
        _pair("p1", "p2", "mirrored"),
        _pair("p4", "p5", "scaled", 0.5),
        _pair("p2", "p9", "different"),
        _pair("p6", "p7", "error"),
        _pair("p3", "p5", "identical_within_tolerance", 0.5),
    ]
    facts = [_Part(f"p{n}") for n in range(1, 10)]
    groups = duplicate_groups(facts, records)
    assert [g["parts"] for g in groups] == [["p3", "p4", "p5"], ["p1", "p2"]]
    assert [g["group"] for g in groups] == [0, 1]
    assert len(groups[0]["pairs"]) == 3 and groups[1]["pairs"][0]["relation"] == "mirrored"
    shuffled = records[:]
    for seed in range(5):
        random.Random(seed).shuffle(shuffled)
        again = duplicate_groups(facts, shuffled)
        assert [g["parts"] for g in again] == [g["parts"] for g in groups]


def test_relation_of_each_member_to_a_part():
    """Checked pairs give the relation; unchecked members compose it along the chain."""
    group = {
        "parts": ["a", "b", "c", "d"],
        "pairs": [
            _pair("a", "b", "identical"),
            _pair("b", "c", "mirrored"),
            _pair("d", "c", "scaled", 2.0),  # d is twice c... so c is half of d
        ],
    }
    of_a = relation_to("a", group)
    assert of_a["b"] == {"relation": "identical", "scale": 1.0, "distance": 0.0, "via": []}
    assert of_a["c"]["relation"] == "mirrored" and of_a["c"]["via"] == ["b"]
    assert of_a["d"]["relation"] == "mirrored" and of_a["d"]["scale"] == pytest.approx(0.5)
    of_c = relation_to("c", group)
    assert of_c["d"]["relation"] == "scaled" and of_c["d"]["scale"] == pytest.approx(0.5)
    assert of_c["a"]["relation"] == "mirrored"
    assert relation_to("d", group)["c"]["scale"] == pytest.approx(2.0)


# -- the job end to end ---------------------------------------------------------------------------


def _write_part(catalog: Path, manifest: list, part_id: str, mesh, fmt: str, category: str):
    file = f"parts/{part_id}.{fmt}"
    data = mesh.export(file_type=fmt)
    (catalog / file).write_bytes(data.encode() if isinstance(data, str) else data)
    manifest.append({"part_id": part_id, "file": file, "name": part_id, "category": category})
    with open(catalog / "manifest.jsonl", "w", encoding="utf-8") as f:
        f.writelines(json.dumps(r) + "\n" for r in manifest)


@pytest.mark.integration
def test_dedup_job_end_to_end_then_incremental(ray_local, tmp_path, capsys):
    from cadsearch.cli import main
    from cadsearch.settings import load_settings
    from data_jobs.dedup.pipeline import run_dedup
    from data_jobs.index.pipeline import run_index
    from store.factory import open_store
    from store.views import open_view_store

    catalog = tmp_path / "catalog"
    (catalog / "parts").mkdir(parents=True)
    manifest: list = []
    families = ("hex_nut", "spur_gear", "flat_washer", "corner_bracket", "compression_spring")
    base = {}
    for n, name in enumerate(families):
        family = FAMILIES[name]
        base[name] = family.generator(np.random.default_rng(n)).mesh
        _write_part(catalog, manifest, name, base[name], "stl", family.category)
    spring = FAMILIES["compression_spring"].category
    _write_part(catalog, manifest, "nut-copy", base["hex_nut"], "obj", "nut")
    _write_part(catalog, manifest, "spring-rotated", _rotated(base["compression_spring"]), "stl",
                spring)  # fmt: skip
    _write_part(catalog, manifest, "spring-mirror", _mirrored(base["compression_spring"]), "stl",
                spring)  # fmt: skip

    profile = tmp_path / "profile.yaml"
    profile.write_text(
        f"data_dir: {tmp_path}\nstore: {{backend: edge, path: {tmp_path / 'qdrant'}}}\n"
        f"views: {{kind: local, path: {tmp_path / 'views'}}}\n"
        f"index: {{reports_dir: {tmp_path / 'runs'}, prepare_batch_size: 2}}\n",
        encoding="utf-8",
    )
    settings = load_settings(profile)
    assert run_index(str(catalog), settings).indexed == len(manifest)

    assert main(["dedup", "--config", str(profile), "--threshold", "image=0.95"]) == 0
    printed = capsys.readouterr().out
    out = tmp_path / "dedup"  # <data_dir>/dedup
    assert f"report: {out / 'report.html'}" in printed
    summary = json.loads((out / "summary.json").read_text())
    assert summary["parts"] == len(manifest) and summary["failed"] == 0
    assert summary["finished_at"].endswith("+00:00")
    assert summary["checked"] == summary["candidates"] and summary["reused"] == 0
    groups = [json.loads(line) for line in (out / "groups.jsonl").read_text().splitlines()]
    assert [g["parts"] for g in groups] == [
        ["compression_spring", "spring-mirror", "spring-rotated"],
        ["hex_nut", "nut-copy"],
    ]
    assert {m["part_id"] for m in groups[1]["members"]} == {"hex_nut", "nut-copy"}
    with open(out / "pairs.csv", encoding="utf-8") as f:
        pairs = {frozenset((r["a"], r["b"])): r for r in csv.DictReader(f)}

    def relation(a: str, b: str) -> str:
        return pairs[frozenset((a, b))]["relation"]

    assert relation("hex_nut", "nut-copy") == "identical"
    assert relation("compression_spring", "spring-rotated") == "identical"
    assert relation("compression_spring", "spring-mirror") == "mirrored"
    assert relation("spring-mirror", "spring-rotated") == "mirrored"
    duplicates = sum(r["relation"] not in ("different", "error") for r in pairs.values())
    assert summary["duplicate_pairs"] == duplicates == 4
    report = (out / "report.html").read_text()
    assert report.count("<section") == 2 and report.count("data:image/png;base64,") == 5

    # one new part: only the pairs that touch it are checked, the rest reused
    _write_part(catalog, manifest, "gear-half", _scaled(base["spur_gear"], 0.5), "ply", "gear")
    assert run_index(str(catalog), settings).indexed == 1
    with open_store(settings.store) as store:
        again = run_dedup(
            store, out, thresholds={"geometry": 0.9, "image": 0.95, "shape": 0.98},
            view_store=open_view_store(settings.views),
        )  # fmt: skip
    with open(out / "pairs.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    touching = [r for r in rows if "gear-half" in (r["a"], r["b"])]
    assert again.parts == len(manifest) and touching
    assert again.checked == len(touching) and again.reused == len(rows) - len(touching)
    assert again.reused >= duplicates
    gear_pair = next(r for r in touching if {r["a"], r["b"]} == {"spur_gear", "gear-half"})
    assert gear_pair["relation"] == "scaled"
    assert min(float(gear_pair["scale"]), 1 / float(gear_pair["scale"])) == pytest.approx(0.5)
