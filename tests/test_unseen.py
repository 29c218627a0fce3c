"""Families and KiCad folders no shipped bundle trains on: the list, and the jobs refusing it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cadsearch.settings import Settings
from data_jobs.catalog.families import FAMILIES, PARENTS
from data_jobs.catalog.generate import (
    MANIFEST_NAME,
    family_schedule,
    generate_catalog,
    training_families,
)
from data_jobs.catalog.kicad import KicadModel, model_record
from data_jobs.catalog.unseen import (
    UNSEEN_FAMILIES,
    UNSEEN_KICAD_FOLDERS,
    UnseenPartsError,
    family_of_part_id,
    is_unseen,
    unseen_rows,
)

BUNDLE_DIR = Path(__file__).resolve().parents[1] / "encoders" / "bundles" / "cad-mini"
SEEN_FAMILIES = ("hex_nut", "flat_washer")


def parent_of(family: str) -> str:
    """The registry's parent once the family is registered, else the one unseen.py documents."""
    if family in FAMILIES:
        return PARENTS[FAMILIES[family].category]
    return UNSEEN_FAMILIES[family]


def kicad_record(folder: str, name: str, part_id: str, file: str) -> dict:
    """A manifest record as the KiCad catalog writes it."""
    model = KicadModel(f"./usr/share/kicad/3dmodels/{folder}.3dshapes/{name}.wrl", folder, name)
    return model_record(model, part_id, file, "6.0.10-1")


def test_the_list_is_fixed_and_spread_over_the_library():
    assert sorted(UNSEEN_FAMILIES) == sorted(
        "shoulder_screw wing_nut clevis_pin bevel_gear timing_pulley thrust_ball_bearing "
        "pillow_block blind_flange pipe_cap hose_barb gusset_plate cable_gland heat_sink "
        "torsion_spring".split()
    )
    assert len({parent_of(f) for f in UNSEEN_FAMILIES}) >= 6
    # docs/unseen.md names the registry's parents
    assert all(parent_of(f) == parent for f, parent in UNSEEN_FAMILIES.items())
    # each unseen family is the only one of its kind, with seen relatives under its parent
    seen = [f for f in FAMILIES if f not in UNSEEN_FAMILIES]
    for family in (f for f in UNSEEN_FAMILIES if f in FAMILIES):
        kind = FAMILIES[family].category
        assert not [f for f in seen if FAMILIES[f].category == kind], family
        assert [f for f in seen if PARENTS[FAMILIES[f].category] == parent_of(family)], family
    assert len(UNSEEN_KICAD_FOLDERS) >= 6
    # spread over kinds of electronics: the folder's area (Connector, Sensor, ...) varies
    assert len({folder.split("_")[0] for folder in UNSEEN_KICAD_FOLDERS}) >= 5
    assert all(not folder.endswith(".3dshapes") for folder in UNSEEN_KICAD_FOLDERS)


def test_the_shipped_bundle_never_trained_on_them():
    trained = set(json.loads((BUNDLE_DIR / "training.json").read_text())["categories"])
    assert trained, "training.json lists no categories"
    assert not trained & set(UNSEEN_KICAD_FOLDERS)
    registered = [FAMILIES[f].category for f in UNSEEN_FAMILIES if f in FAMILIES]
    seen_kinds = {f.category for name, f in FAMILIES.items() if name not in UNSEEN_FAMILIES}
    # a kind that only unseen families make cannot have been trained on
    assert not (set(registered) - seen_kinds) & trained


def test_is_unseen_reads_library_and_kicad_records():
    assert is_unseen({"family": "wing_nut", "category": "wing_nut", "parent": "nut"})
    assert not is_unseen({"family": "hex_nut", "category": "nut", "parent": "nut"})
    assert not is_unseen({})
    usb = kicad_record("Connector_USB", "USB_A_Molex_105057_Vertical", "kicad-usb", "parts/u.ply")
    assert usb["category"] == "Connector_USB" and is_unseen(usb)
    dip = kicad_record("Package_DIP", "DIP-8_W7.62mm", "kicad-dip-8", "parts/d.ply")
    assert not is_unseen(dip)
    # the folder alone, as a manifest without the KiCad provenance keys writes it
    assert is_unseen({"category": "Heatsink"})
    assert family_of_part_id("wing_nut-777-00012") == "wing_nut"
    assert family_of_part_id("kicad-dip-14_w7-62mm") == ""


def test_unseen_rows_count_each_family_and_folder():
    rows = [
        {"part_id": "wing_nut-1-00000", "category": "nut"},  # a shard row: family from its id
        {"part_id": "wing_nut-1-00003", "category": "nut"},
        {"part_id": "kicad-usb-a", "category": "Connector_USB"},
        {"part_id": "hex_nut-1-00001", "category": "nut"},
        {"part_id": "kicad-dip-8", "category": "Package_DIP"},
    ]
    assert unseen_rows(rows) == {"wing_nut": 2, "Connector_USB": 1}


def test_exclude_unseen_leaves_every_unseen_family_out():
    kept = training_families()
    assert kept == sorted(set(FAMILIES) - set(UNSEEN_FAMILIES)) and kept
    kinds = {FAMILIES[f].category for f in kept}
    schedule = family_schedule(len(kinds), 7, kept)  # enough parts to visit every kind
    assert {f.category for f in schedule} == kinds
    assert not {f.name for f in schedule} & set(UNSEEN_FAMILIES)
    with pytest.raises(ValueError, match="wing_nut"):
        training_families(["hex_nut", "wing_nut"])


def test_cli_catalog_generate_exclude_unseen(tmp_path, capsys):
    from cadsearch.cli import main

    out = tmp_path / "catalog"
    assert main(["catalog", "generate", "--out", str(out), "--n", "6", "--exclude-unseen"]) == 0
    records = [json.loads(line) for line in (out / MANIFEST_NAME).read_text().splitlines()]
    assert len(records) == 6 and not any(is_unseen(r) for r in records)
    assert "wrote 6 parts" in capsys.readouterr().out


def _catalog_with_unseen(root: Path, kind: str) -> tuple[Path, str]:
    """A real small catalog of seen parts plus one unseen part; returns it and the unseen name."""
    catalog = root / "catalog"
    if kind == "library":
        unseen = [f for f in UNSEEN_FAMILIES if f in FAMILIES]
        if not unseen:
            pytest.skip("no unseen library family is registered yet")
        generate_catalog(catalog, n=3, seed=4, families=[*SEEN_FAMILIES, unseen[0]])
        return catalog, unseen[0]
    records = generate_catalog(catalog, n=2, seed=4, families=SEEN_FAMILIES)
    shutil.copy(catalog / records[0]["file"], catalog / "parts" / "usb.stl")
    name = "USB_Micro-B_Molex-105017-0001"
    record = kicad_record("Connector_USB", name, "kicad-usb", "parts/usb.stl")
    with open(catalog / MANIFEST_NAME, "a", encoding="utf-8") as f:
        f.write(json.dumps(record) + "\n")
    return catalog, "Connector_USB"


@pytest.mark.parametrize("kind", ["library", "kicad"])
def test_training_data_job_refuses_a_catalog_with_unseen_parts(tmp_path, kind):
    from data_jobs.training_data import build_training_data

    catalog, name = _catalog_with_unseen(tmp_path, kind)
    out = tmp_path / "data"
    with pytest.raises(UnseenPartsError, match=name) as refused:
        build_training_data([f"mixed={catalog}"], out, bundle=str(BUNDLE_DIR), settings=Settings())
    assert refused.value.names == {name: 1} and refused.value.count == 1
    assert "1 parts of unseen" in str(refused.value)
    assert not out.exists()  # refused before any work
    # the same catalog without the unseen part would have been taken
    seen = [
        line
        for line in (catalog / MANIFEST_NAME).read_text().splitlines()
        if not is_unseen(json.loads(line))
    ]
    assert len(seen) == 2


def test_training_job_refuses_shards_with_unseen_parts(tmp_path):
    from data_jobs.training_data import SHARDS_DIR, check_shards, training_shards

    shards = tmp_path / "data" / SHARDS_DIR
    shards.mkdir(parents=True)
    rows = {
        "part_id": ["hex_nut-1-00000", "kicad-coax-1", "kicad-coax-2", "bevel_gear-1-00002"],
        "category": ["nut", "Connector_Coaxial", "Connector_Coaxial", "gear"],
        "split": ["train"] * 4,
    }
    pq.write_table(pa.table(rows), shards / "0.parquet")
    with pytest.raises(UnseenPartsError) as refused:
        training_shards([tmp_path / "data"])  # what `cadsearch train` hands the trainer
    assert refused.value.names == {"Connector_Coaxial": 2, "bevel_gear": 1}
    pq.write_table(pa.table({k: v[:1] for k, v in rows.items()}), shards / "0.parquet")
    check_shards([shards])  # seen parts only: taken


def test_tuning_refuses_a_catalog_with_unseen_parts(tmp_path):
    from data_jobs.evaluate.tune import tune

    catalog, name = _catalog_with_unseen(tmp_path, "kicad")
    with pytest.raises(UnseenPartsError, match=name):
        tune(str(BUNDLE_DIR), str(catalog), workdir=str(tmp_path / "work"), settings=Settings())
    assert not (tmp_path / "work").exists()  # refused before indexing
