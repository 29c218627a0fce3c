"""Tests of the KiCad catalog: name parser, VRML conversion, subset choice, the whole command."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from data_jobs.catalog import kicad
from data_jobs.catalog.generate import MANIFEST_KEYS, load_manifest
from data_jobs.catalog.kicad import KicadModel, convert_wrl, list_models, select_models
from data_jobs.catalog.kicad_names import describe_model, model_tags, parse_model_name

MODELS_DIR = "usr/share/kicad/3dmodels"
PART_ID = re.compile(r"^[a-z0-9_-]+$")
TH, SMD = "through-hole", "surface-mount"

# Hand-read from the names (KiCad's naming convention), not from the code under test.
NAMES = [
    (
        "DIP-8_W7.62mm",
        "Package_DIP",
        dict(package="DIP", pins=8, pitch=2.54, row_spacing=7.62, mounting=TH),
    ),
    (
        "R_0805_2012Metric",
        "Resistor_SMD",
        dict(size_code="0805", metric_code="2012", body=[2.0, 1.2], mounting=SMD),
    ),
    (
        "PinHeader_2x20_P2.54mm_Vertical",
        "Connector_PinHeader_2.54mm",
        dict(pins=40, rows=2, pins_per_row=20, pitch=2.54, orientation="vertical", mounting=TH),
    ),
    (
        "SOIC-8_3.9x4.9mm_P1.27mm",
        "Package_SO",
        dict(package="SOIC", pins=8, pitch=1.27, body=[3.9, 4.9], mounting=SMD),
    ),
    (
        "QFN-20-1EP_4x4mm_P0.5mm_EP2.5x2.5mm",
        "Package_DFN_QFN",
        dict(
            package="QFN",
            pins=20,
            pitch=0.5,
            body=[4, 4],
            exposed_pad=True,
            exposed_pad_size=[2.5, 2.5],
            mounting=SMD,
        ),
    ),
    (
        "BGA-256_11.0x11.0mm_Layout20x20_P0.5mm_Ball0.3mm_Pad0.25mm_NSMD",
        "Package_BGA",
        dict(
            package="BGA",
            pins=256,
            pitch=0.5,
            body=[11.0, 11.0],
            ball=0.3,
            ball_grid=[20, 20],
            mounting=SMD,
        ),
    ),
    (
        "TO-220-3_Vertical",
        "Package_TO_SOT_THT",
        dict(package="TO-220", pins=3, orientation="vertical", mounting=TH),
    ),
    (
        "C_Rect_L18.0mm_W8.0mm_P15.00mm_FKS3_FKP3",
        "Capacitor_THT",
        dict(pitch=15.0, length=18.0, width=8.0, mounting=TH),
    ),
    (
        "TE_1-84953-3_1x13-1MP_P1.0mm_Horizontal",
        "Connector_FFC-FPC",
        dict(
            pins=13,
            rows=1,
            pins_per_row=13,
            mounting_pads=1,
            pitch=1.0,
            orientation="horizontal",
            manufacturer="TE Connectivity",
        ),
    ),
    (
        "DSUB-9_Male_Vertical_P2.77x2.84mm",
        "Connector_Dsub",
        dict(
            package="DSUB",
            pins=9,
            pitch_x=2.77,
            pitch_y=2.84,
            gender="male",
            orientation="vertical",
        ),
    ),
    ("CP_Elec_8x10.5", "Capacitor_SMD", dict(body=[8, 10.5], mounting=SMD)),
    (
        "R_Array_Convex_4x0402",
        "Resistor_SMD",
        dict(size_code="0402", array_count=4, mounting=SMD),
    ),
    (
        "D_SOD-323",
        "Diode_SMD",
        dict(package="SOD-323", mounting=SMD),
    ),
    ("ESP-12E", "RF_Module", {}),  # nothing to read: no error either
]


@pytest.mark.parametrize("name, category, expected", NAMES, ids=[n for n, _, _ in NAMES])
def test_parse_model_name(name, category, expected):
    assert parse_model_name(name, category) == expected


def test_descriptions_and_tags_read_as_plain_english():
    params = parse_model_name("DIP-8_W7.62mm", "Package_DIP")
    texts = describe_model("DIP-8_W7.62mm", "Package_DIP", params)
    assert texts[0] == "8-pin DIP through-hole package, 7.62 mm row spacing, 2.54 mm pitch"
    resistor = parse_model_name("R_0805_2012Metric", "Resistor_SMD")
    assert describe_model("R_0805_2012Metric", "Resistor_SMD", resistor)[0] == (
        "0805 (2012 metric) surface-mount chip resistor, body 2 x 1.2 mm"
    )
    for name, category, _ in NAMES:
        texts = describe_model(name, category, parse_model_name(name, category))
        assert 3 <= len(texts) <= 4 and len(set(texts)) == len(texts), texts
        assert all(t and t == t.strip() for t in texts)
    tags = model_tags("DIP-8_W7.62mm", "Package_DIP", params)
    assert {"DIP", "through-hole", "THT", "package"} <= set(tags)
    assert len({t.lower() for t in tags}) == len(tags)


# ---------------------------------------------------------------- VRML files in KiCad's style


def vrml_box(lo, hi, material: str = "PIN-01") -> str:
    """One KiCad-style Shape: a box from corner lo to corner hi (VRML units), 12 triangles."""
    (x0, y0, z0), (x1, y1, z1) = lo, hi
    corners = [(x, y, z) for z in (z0, z1) for y in (y0, y1) for x in (x0, x1)]
    quads = [(0, 2, 3, 1), (4, 5, 7, 6), (0, 1, 5, 4), (2, 6, 7, 3), (0, 4, 6, 2), (1, 3, 7, 5)]
    index = ",".join(f"{a},{b},{c},-1,{a},{c},{d},-1" for a, b, c, d in quads)
    points = ", ".join(f"{x:.6f} {y:.6f} {z:.6f}" for x, y, z in corners)
    return (
        "Shape {\n"
        f"\tappearance Appearance {{material DEF {material} Material {{\n"
        "\t\tambientIntensity 0.271\n\t\tdiffuseColor 0.824 0.82 0.781\n"
        "\t\tspecularColor 0.328 0.258 0.172\n\t\tshininess 0.7\n\t\ttransparency 0.0\n\t\t}}\n"
        "\tgeometry IndexedFaceSet {\n\t\tcreaseAngle 0.50\n"
        f"\t\tcoordIndex [{index}]\n"
        f"\t\tcoord Coordinate {{ point [{points}]\n\t\t}}}}\n"
        "}\n"
    )


def kicad_wrl(*shapes: str) -> str:
    return "#VRML V2.0 utf8\n#kicad StepUp wrl exported\n\n" + "".join(shapes)


# an 0805 chip: 2.0 x 1.25 x 0.5 mm body, written in KiCad's 0.1 inch units
R0805_MM = np.array([2.0, 1.25, 0.5])
R0805 = kicad_wrl(vrml_box((0, 0, 0), R0805_MM / 2.54))
# a DIP-8-like part: body 0.25 x 0.37 x 0.13 in, and a pin shape under it
DIP8 = kicad_wrl(
    vrml_box((0.0, 0.0, 0.02), (2.5, 3.7, 1.3), "IC-BODY-EPOXY-04"),
    vrml_box((-0.1, 0.2, -1.0), (0.1, 0.4, 0.02), "PIN-01"),
)
BROKEN = "#VRML V2.0 utf8\nShape { geometry IndexedFaceSet { coordIndex [0,1,"
NO_GEOMETRY = "#VRML V2.0 utf8\n#kicad StepUp wrl exported\n"


@pytest.mark.parametrize("fmt", ["ply", "stl"])
def test_convert_wrl_scales_to_mm(tmp_path, fmt):
    pytest.importorskip("pymeshlab")
    from encoders.geometry.loaders import load_mesh

    source = tmp_path / "DIP-8.wrl"
    source.write_text(DIP8)
    facts = convert_wrl(source, tmp_path / f"dip8.{fmt}")
    mesh = load_mesh(tmp_path / f"dip8.{fmt}")
    # x: pin from -0.1 to body end 2.5; y: body 0 .. 3.7; z: pin bottom -1.0 .. body top 1.3
    expected = np.array([2.6, 3.7, 2.3]) * 2.54
    assert np.allclose(mesh.extents, expected, atol=1e-4)
    assert np.allclose(mesh.bounds[0], np.array([-0.1, 0.0, -1.0]) * 2.54, atol=1e-4)
    assert np.allclose(facts["extents_mm"], expected, atol=1e-4)
    assert len(mesh.faces) == facts["faces"] == 24
    assert not list(tmp_path.glob(".*partial"))


@pytest.mark.parametrize("text", [BROKEN, NO_GEOMETRY, ""], ids=["broken", "no-geometry", "empty"])
def test_convert_wrl_refuses_bad_files(tmp_path, text):
    pytest.importorskip("pymeshlab")
    from encoders.geometry.errors import MeshError

    source = tmp_path / "bad.wrl"
    source.write_text(text)
    with pytest.raises(MeshError):
        convert_wrl(source, tmp_path / "bad.ply")
    assert not list(tmp_path.glob("*.ply")) and not list(tmp_path.glob(".*"))


def test_convert_in_workers_keeps_order_over_fresh_pools(tmp_path):
    pytest.importorskip("pymeshlab")
    jobs = []
    for i, text in enumerate([DIP8, BROKEN, R0805]):
        (tmp_path / f"{i}.wrl").write_text(text)
        jobs.append((f"part-{i}", str(tmp_path / f"{i}.wrl"), str(tmp_path / f"{i}.stl")))
    # one model per process, two processes: three pools in turn
    results = kicad.convert_in_workers(jobs, workers=2, tasks_per_child=1)
    assert [pid for pid, _, _ in results] == ["part-0", "part-1", "part-2"]
    assert results[0][1]["faces"] == 24 and results[2][1]["faces"] == 12
    assert results[1][1] is None and "UnreadableMeshError" in results[1][2]
    assert sorted(p.name for p in tmp_path.glob("*.stl")) == ["0.stl", "2.stl"]


# ---------------------------------------------------------------- choosing a subset


def fake_models(counts: dict[str, int]) -> list[KicadModel]:
    return [
        KicadModel(f"./{MODELS_DIR}/{c}.3dshapes/{c}_{i:03d}.wrl", c, f"{c}_{i:03d}")
        for c, n in counts.items()
        for i in range(n)
    ]


COUNTS = {"Alpha": 50, "Beta": 10, "Gamma": 5, "Delta": 8}


def test_select_models_by_category_counts():
    models = fake_models(COUNTS)
    chosen, skipped = select_models(models, per_category=40, min_per_category=8, seed=0)
    got = {c: sum(m.category == c for m in chosen) for c in COUNTS}
    assert got == {"Alpha": 40, "Beta": 10, "Gamma": 0, "Delta": 8}
    assert skipped == {"Gamma": 5}
    assert chosen == sorted(chosen, key=lambda m: (m.category, m.name))
    assert len(set(chosen)) == len(chosen)
    assert select_models(models[::-1], 40, 8, seed=0)[0] == chosen  # input order is irrelevant


def test_select_models_is_seeded_and_per_category_independent():
    models = fake_models(COUNTS)
    first, _ = select_models(models, per_category=5, min_per_category=8, seed=1)
    assert select_models(models, per_category=5, min_per_category=8, seed=1)[0] == first
    other, _ = select_models(models, per_category=5, min_per_category=8, seed=2)

    def alpha(chosen):
        return [m for m in chosen if m.category == "Alpha"]

    assert alpha(other) != alpha(first)
    assert alpha(select_models(models, 5, 8, categories=["Alpha"], seed=1)[0]) == alpha(first)


def test_select_models_limit_is_round_robin():
    chosen, _ = select_models(fake_models(COUNTS), per_category=40, limit=12, seed=0)
    assert {c: sum(m.category == c for m in chosen) for c in COUNTS} == dict(
        Alpha=4, Beta=4, Gamma=0, Delta=4
    )


def test_select_models_takes_every_model_without_a_cap():
    models = fake_models(COUNTS)
    chosen, skipped = select_models(models, per_category=None, min_per_category=1, seed=3)
    assert chosen == sorted(models, key=lambda m: (m.category, m.name)) and skipped == {}
    chosen, _ = select_models(models, per_category=None, min_per_category=8, limit=10, seed=3)
    assert len(chosen) == 10 and {m.category for m in chosen} == {"Alpha", "Beta", "Delta"}


def test_select_models_refuses_unknown_or_thin_categories():
    models = fake_models(COUNTS)
    with pytest.raises(ValueError, match="Nope"):
        select_models(models, categories=["Nope"])
    with pytest.raises(ValueError, match="Gamma"):
        select_models(models, min_per_category=8, categories=["Gamma"])
    chosen, _ = select_models(models, min_per_category=5, categories=["Gamma"])
    assert len(chosen) == 5


# ---------------------------------------------------------------- the whole command on a .deb


@pytest.fixture
def fake_deb(tmp_path) -> Path:
    """A tiny kicad-packages3d .deb (xz): two good models, a broken and an empty one, a STEP."""
    if shutil.which("dpkg-deb") is None:
        pytest.skip("dpkg-deb is not installed")
    root = tmp_path / "pkg"
    files = {
        "Package_DIP.3dshapes/DIP-8_W7.62mm.wrl": DIP8,
        "Package_DIP.3dshapes/DIP-14_W7.62mm.wrl": BROKEN,
        "Package_DIP.3dshapes/DIP-8_W7.62mm.step": "ISO-10303-21;",
        "Resistor_SMD.3dshapes/R_0805_2012Metric.wrl": R0805,
        "Resistor_SMD.3dshapes/R_0603_1608Metric.wrl": NO_GEOMETRY,
    }
    for rel, text in files.items():
        path = root / MODELS_DIR / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (root / "DEBIAN").mkdir()
    (root / "DEBIAN" / "control").write_text(
        "Package: kicad-packages3d\nVersion: 0.1-1\nArchitecture: all\n"
        "Maintainer: Test <test@example.com>\nDescription: fake KiCad 3D models\n"
    )
    deb = tmp_path / "kicad-packages3d_0.1-1_all.deb"
    subprocess.run(
        ["dpkg-deb", "--root-owner-group", "-Zxz", "--build", str(root), str(deb)],
        check=True,
        capture_output=True,
    )
    return deb


def test_list_models_reads_the_deb_with_and_without_dpkg_deb(fake_deb, monkeypatch):
    models = list_models(fake_deb)
    assert [(m.category, m.name) for m in models] == [
        ("Package_DIP", "DIP-14_W7.62mm"),
        ("Package_DIP", "DIP-8_W7.62mm"),
        ("Resistor_SMD", "R_0603_1608Metric"),
        ("Resistor_SMD", "R_0805_2012Metric"),
    ]
    monkeypatch.setattr(kicad.shutil, "which", lambda name: None)  # the pure-Python reader
    assert list_models(fake_deb) == models


def test_catalog_kicad_command_on_a_deb(fake_deb, tmp_path, capsys):
    pytest.importorskip("pymeshlab")
    from cadsearch.cli import main
    from data_jobs.sources import discover
    from encoders.geometry.loaders import load_mesh

    out = tmp_path / "kicad"
    argv = ["catalog", "kicad", "--out", str(out), "--deb", str(fake_deb)]
    assert main([*argv, "--min-per-category", "2"]) == 0
    report = capsys.readouterr().out
    assert "wrote 2 KiCad models in 2 categories" in report and "2 models failed" in report

    records = load_manifest(out)
    assert [r["part_id"] for r in records] == ["kicad-dip-8_w7-62mm", "kicad-r_0805_2012metric"]
    for record in records:
        assert list(record)[: len(MANIFEST_KEYS)] == list(MANIFEST_KEYS)
        assert PART_ID.match(record["part_id"]) and record["units"] == "mm"
        assert record["source"] == "kicad-packages3d" and record["source_version"] == "0.1-1"
        assert record["family"] == record["category"] and 3 <= len(record["descriptions"]) <= 4
    assert records[0]["parameters"]["row_spacing"] == 7.62
    assert records[0]["description"].startswith("8-pin DIP through-hole package")

    errors = [json.loads(line) for line in (out / "errors.jsonl").read_text().splitlines()]
    assert {(e["part_id"], e["file"]) for e in errors} == {
        ("kicad-dip-14_w7-62mm", "Package_DIP.3dshapes/DIP-14_W7.62mm.wrl"),
        ("kicad-r_0603_1608metric", "Resistor_SMD.3dshapes/R_0603_1608Metric.wrl"),
    }
    assert all(e["message"] for e in errors)
    assert sorted(p.name for p in (out / "parts").iterdir()) == [
        "kicad-dip-8_w7-62mm.ply",
        "kicad-r_0805_2012metric.ply",
    ]
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # scratch folder removed

    # the reindex job's discovery reads the folder through its sidecar manifest
    parts = {p.part_id: p for p in discover(out)}
    assert sorted(parts) == [r["part_id"] for r in records]
    resistor = parts["kicad-r_0805_2012metric"]
    assert resistor.problem() is None and resistor.file_type == "ply"
    assert resistor.metadata["category"] == "Resistor_SMD"
    assert resistor.metadata["parameters"]["size_code"] == "0805"
    mesh = load_mesh(resistor.uri)
    assert np.allclose(mesh.extents, R0805_MM, atol=1e-4)

    # a second run with another choice leaves no stale part files behind
    assert main([*argv, "--min-per-category", "1", "--categories", "Resistor_SMD"]) == 0
    assert [p.name for p in (out / "parts").iterdir()] == ["kicad-r_0805_2012metric.ply"]
    assert [r["part_id"] for r in load_manifest(out)] == ["kicad-r_0805_2012metric"]


def test_extract_in_batches_is_one_pass_in_bounded_batches(fake_deb, tmp_path):
    models = list_models(fake_deb)
    batches = []
    for batch in kicad.extract_in_batches(fake_deb, models, tmp_path / "x", batch_size=3):
        batches.append(sorted(Path(m).name for m in batch))
        assert all(p.is_file() for p in batch.values())
        for path in batch.values():
            path.unlink()  # as the catalog job does before the next batch is extracted
    assert [len(b) for b in batches] == [3, 1]
    assert sorted(n for b in batches for n in b) == sorted(Path(m.member).name for m in models)
    assert list((tmp_path / "x").iterdir()) == []


def test_catalog_kicad_all_takes_every_model_of_every_category(fake_deb, tmp_path, capsys):
    pytest.importorskip("pymeshlab")
    from cadsearch.cli import main

    out = tmp_path / "all"
    argv = ["catalog", "kicad", "--out", str(out), "--deb", str(fake_deb), "--all"]
    assert main(argv) == 0
    report = capsys.readouterr().out
    assert "converting 4 of 2 categories" in report and "4/4 done, 2 failed" in report
    assert [r["part_id"] for r in load_manifest(out)] == [
        "kicad-dip-8_w7-62mm",
        "kicad-r_0805_2012metric",
    ]
    assert main([*argv, "--per-category", "3"]) == 1
    assert "--all takes every model" in capsys.readouterr().err

    # a run cut off goes on: kept part files are not converted again, the rest are
    kept = out / "parts" / "kicad-r_0805_2012metric.ply"
    kept_bytes, kept_mtime = kept.read_bytes(), kept.stat().st_mtime_ns
    (out / "parts" / "kicad-dip-8_w7-62mm.ply").unlink()
    (out / "manifest.jsonl").unlink()
    assert main([*argv, "--resume"]) == 0
    report = capsys.readouterr().out
    assert "kept 1 part files of an earlier run" in report and "wrote 2 KiCad models" in report
    assert [r["part_id"] for r in load_manifest(out)] == [
        "kicad-dip-8_w7-62mm",
        "kicad-r_0805_2012metric",
    ]
    assert kept.stat().st_mtime_ns == kept_mtime and kept.read_bytes() == kept_bytes
    assert (out / "parts" / "kicad-dip-8_w7-62mm.ply").is_file()


def test_catalog_kicad_command_reports_a_missing_deb(tmp_path, capsys):
    pytest.importorskip("pymeshlab")
    from cadsearch.cli import main

    missing = tmp_path / "nope.deb"
    assert main(["catalog", "kicad", "--out", str(tmp_path / "o"), "--deb", str(missing)]) == 1
    assert "nope.deb" in capsys.readouterr().err
