"""Tests of the MCAD catalog: part table, scad text, manifest and error rows, one real render."""

from __future__ import annotations

import json
import re
import shutil
from collections import Counter

import numpy as np
import pytest

from data_jobs.catalog import mcad
from data_jobs.catalog.generate import MANIFEST_KEYS, load_manifest
from data_jobs.catalog.mcad import McadPart, error_row, mcad_parts, part_record, scad_text

PART_ID = re.compile(r"^mcad-[a-z0-9-]+$")
needs_openscad = pytest.mark.skipif(
    shutil.which("openscad") is None or not mcad.DEFAULT_LIBRARY.is_dir(),
    reason="openscad and openscad-mcad are not installed (make test installs them)",
)


def test_part_table_is_wide_unique_and_deterministic():
    parts = mcad_parts()
    assert len(parts) >= 60
    assert [p.part_id for p in parts] == [p.part_id for p in mcad_parts()]
    assert len({p.part_id for p in parts}) == len(parts)
    assert all(PART_ID.match(p.part_id) for p in parts)
    kinds = Counter(p.category for p in parts)
    for kind in ("spur_gear", "helical_gear", "bevel_gear", "ball_bearing", "hex_nut", "hex_bolt"):
        assert kinds[kind] >= 4, kind
    assert {"countersunk_screw", "flat_washer", "stepper_motor", "servo_motor"} <= set(kinds)
    for part in parts:
        assert part.module_file in mcad.LICENSES, part.module_file
        assert len(part.descriptions) >= 3 and len(set(part.descriptions)) == len(part.descriptions)
        assert part.parent and part.category.replace("_", "").isalpha()


def test_parameter_sets_become_scad_calls():
    gears = {p.key: p for p in mcad.spur_gears()}
    gear = gears["spur-gear-z30-m1-5"]
    assert gear.parameters == dict(teeth=30, module=1.5, bore=8, face_width=9.0, holes=4)
    # MCAD's circular pitch is 180 x the module; pressure angle 20, bore and web holes as given
    assert "number_of_teeth=30, circular_pitch=270," in gear.call
    assert "pressure_angle=20" in gear.call and "bore_diameter=8" in gear.call
    assert "circles=4" in gear.call and "twist=0" in gear.call
    assert scad_text(gear) == f"use <MCAD/involute_gears.scad>\n$fn = 48;\n{gear.call}\n"

    helical = next(p for p in mcad.helical_gears() if p.parameters["helix_angle"] == 30)
    twist = float(re.search(r"twist=([0-9.]+)", helical.call)[1])
    face, radius = helical.parameters["face_width"], 20.0  # 40 teeth x module 1 / 2
    assert twist == pytest.approx(np.degrees(face * np.tan(np.radians(30)) / radius), abs=1e-3)

    bearing = next(p for p in mcad.ball_bearings() if p.key == "ball-bearing-608")
    assert scad_text(bearing).startswith("include <MCAD/bearing.scad>\n")  # needs its tables
    assert bearing.parameters["bore"] == 8 and "skate bearing" in bearing.descriptions[0]
    nut = next(p for p in mcad.fasteners() if p.key == "hex-nut-m8")
    assert nut.call == "flat_nut(8);" and nut.descriptions[0] == "M8 hex nut"
    steppers = [p for p in mcad.steppers() if p.parameters["frame"] == "NEMA 8"]
    assert [p.parameters["body_length"] for p in steppers] == [33, 43]  # equal lengths once


def test_manifest_and_error_rows():
    part = next(p for p in mcad.fasteners() if p.key == "countersunk-screw-m5x20")
    record = part_record(part, "parts/mcad-countersunk-screw-m5x20.stl", "2019.05-1", "slender")
    assert list(record)[: len(MANIFEST_KEYS)] == list(MANIFEST_KEYS)
    assert record["part_id"] == "mcad-countersunk-screw-m5x20" and record["units"] == "mm"
    assert (record["category"], record["parent"]) == ("countersunk_screw", "screw")
    assert record["description"] == record["descriptions"][0] == "M5 x 20 countersunk screw"
    assert record["source"] == "openscad-mcad" and record["source_version"] == "2019.05-1"
    assert record["source_uri"].endswith("/MCAD/blob/master/metric_fastners.scad")
    assert record["license"] == "GPL-3 or LGPL-2.1" and record["scad"] == part.call
    json.dumps(record)  # a manifest line
    # the library's shared shape words, proportions as measured, said in one description
    attributes = record["attributes"]
    assert (attributes["form"], attributes["head"]) == ("shaft", "countersunk")
    assert attributes["threaded"] is False and attributes["proportions"] == "slender"
    assert record["descriptions"][-1] == (
        "shaft-like part with countersunk head, rotationally symmetric and slender"
    )
    gear = next(p for p in mcad.spur_gears() if p.parameters["holes"] == 6)
    shape = part_record(gear, "g.stl")["attributes"]
    assert shape["toothed_rim"] and shape["teeth"] == gear.parameters["teeth"]
    assert shape["holes"] == 7 and shape["proportions"] is None  # the bore and 6 in the web

    row = error_row(part, "render", "openscad failed\n  (exit 1):   boom")
    assert row == {
        "part_id": "mcad-countersunk-screw-m5x20",
        "file": "metric_fastners.scad",
        "call": "csk_bolt(5, 20);",
        "stage": "render",
        "message": "openscad failed (exit 1): boom",
    }


@needs_openscad
def test_catalog_mcad_renders_real_parts_and_keeps_going_past_errors(tmp_path, capsys):
    from cadsearch.cli import main
    from data_jobs.sources import discover
    from encoders.geometry.loaders import load_mesh

    nut = next(p for p in mcad.fasteners() if p.key == "hex-nut-m8")
    washer = next(p for p in mcad.fasteners() if p.key == "flat-washer-m10")
    broken = McadPart(
        "broken", "Broken", "metric_fastners.scad", "flat_nut(;", "hex_nut", "nut", {}, ("x",)
    )
    missing = McadPart("gone", "Gone", "no_such.scad", "cube(1);", "block", "block", {}, ("y",))
    out = tmp_path / "mcad"
    summary = mcad.build_mcad_catalog(out, parts=[nut, broken, washer, missing], log=lambda s: 0)
    assert (summary.parts, summary.errors) == (2, 2)

    records = load_manifest(out)
    assert [r["part_id"] for r in records] == ["mcad-hex-nut-m8", "mcad-flat-washer-m10"]
    assert [r["attributes"]["proportions"] for r in records] == ["compact", "flat"]
    mesh = load_mesh(out / records[0]["file"])
    # MCAD's flat_nut: 1.8 d across corners, 0.8 d thick, a d hole through
    assert np.allclose(mesh.extents, [14.4, 14.4 * np.cos(np.pi / 6), 6.4], atol=0.05)
    radial = np.linalg.norm(mesh.vertices[:, :2] - mesh.bounds.mean(axis=0)[:2], axis=1)
    assert radial.min() == pytest.approx(4.0, abs=0.05)  # the M8 hole, no thread modelled
    assert radial.max() == pytest.approx(7.2, abs=0.05)
    washer_mesh = load_mesh(out / records[1]["file"])
    assert np.allclose(washer_mesh.extents, [20, 20, 1], atol=0.1)

    errors = [json.loads(line) for line in (out / "errors.jsonl").read_text().splitlines()]
    assert [(e["part_id"], e["stage"]) for e in errors] == [
        ("mcad-broken", "render"),
        ("mcad-gone", "render"),
    ]
    assert "no_such.scad" in errors[1]["message"]
    assert sorted(p.part_id for p in discover(out)) == sorted(r["part_id"] for r in records)

    # the command: a missing library is an error message, not a traceback
    argv = ["catalog", "mcad", "--out", str(tmp_path / "o"), "--library", str(tmp_path / "no")]
    assert main(argv) == 1
    assert "no MCAD library" in capsys.readouterr().err
