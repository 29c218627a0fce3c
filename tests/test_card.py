"""Tests of the model card: every data source with its licence, no machine paths."""

from __future__ import annotations

import json
import re

from encoders.bundle import load_bundle
from encoders.train.card import SOURCES, data_section, model_card, without_machine_paths

ABSOLUTE = re.compile(r"(?<![\w.:/])/(?:work|home|tmp|root|usr|var|mnt)\b")


def test_data_section_names_every_source_with_its_licence():
    training = dict(
        data_dirs=["/work/data/train-sample", "/home/me/data/train-kicad-all/"],
        train_rows=900,
        val_rows=100,
        categories=["spur_gear", "Package_DIP"],
    )
    text = "\n".join(data_section(training))
    assert "`train-sample`, `train-kicad-all`" in text and not ABSOLUTE.search(text)
    for licence in ("Apache-2.0", "CC-BY-SA-4.0 with the KiCad libraries exception", "LGPL-2.1"):
        assert licence in text
    rows = {line.split(" | ")[0]: line for line in text.splitlines() if line.startswith("| ")}
    trained = {key: rows[f"| {what}"].endswith("| yes |") for key, what, _ in SOURCES}
    assert trained == {"sample": True, "kicad": True, "mcad": False}

    training["data_dirs"] = ["relative/train-mcad"]
    text = "\n".join(data_section(training))
    assert "(`cadsearch catalog mcad`) | LGPL-2.1" in text and "`train-mcad`" in text


def test_commands_lose_machine_paths_but_keep_urls():
    command = (
        "cadsearch train --data /work/data/train-kicad --catalog kicad=/work/data/kicad-all/ "
        "--out ~/bundles/cad-mini  # https://github.com/openscad/MCAD/blob/master/bearing.scad"
    )
    assert without_machine_paths(command) == (
        "cadsearch train --data train-kicad --catalog kicad=kicad-all "
        "--out cad-mini  # https://github.com/openscad/MCAD/blob/master/bearing.scad"
    )


def test_shipped_bundle_card_lists_sources_without_machine_paths():
    bundle = load_bundle("cad-mini")
    training = json.loads((bundle.path / "training.json").read_text(encoding="utf-8"))
    commands = ["cadsearch catalog kicad --all --out /work/data/kicad-all"]
    card = model_card(bundle, training, {"sample": {"mesh_map": 0.8}}, commands)
    assert not ABSOLUTE.search(card), ABSOLUTE.search(card)
    assert "cadsearch catalog kicad --all --out kicad-all" in card
    for _, what, licence in SOURCES:
        assert f"| {what} | {licence} |" in card
