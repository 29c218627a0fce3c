"""Library families and KiCad folders that no shipped bundle trains on: the generalization test.

The lists are fixed (see docs/unseen.md for each entry and why it is a fair test): the training
data job refuses parts from them, ``cadsearch catalog generate --exclude-unseen`` leaves them out,
and ``cadsearch eval`` scores them apart (the ``unseen_*`` metrics). Tune nothing on them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import PurePosixPath
from typing import Any

# library family -> the broader kind it belongs to (the registry's parent wins once registered)
UNSEEN_FAMILIES: dict[str, str] = {
    "shoulder_screw": "screw",
    "wing_nut": "nut",
    "clevis_pin": "pin",
    "bevel_gear": "gear",
    "timing_pulley": "pulley",
    "thrust_ball_bearing": "bearing",
    "pillow_block": "bearing_unit",
    "blind_flange": "flange",
    "pipe_cap": "pipe_fitting",
    "hose_barb": "hose_fitting",
    "gusset_plate": "plate",
    "cable_gland": "electrical_fitting",
    "heat_sink": "thermal",
    "torsion_spring": "spring",
}
# KiCad folder (without ".3dshapes") -> what its models are; every folder of the package with
# at least 8 models was trained on, so these are taken from the smaller ones
UNSEEN_KICAD_FOLDERS: dict[str, str] = {
    "Connector_USB": "USB connector",
    "Connector_Coaxial": "coaxial RF connector",
    "Connector_BarrelJack": "DC barrel jack",
    "Sensor_Current": "current transducer",
    "Sensor_Audio": "SMD microphone",
    "Heatsink": "heat sink",
    "Transistor_Power_Module": "power transistor module",
    "RF_Antenna": "chip antenna",
    "Potentiometer_SMD": "SMD trimmer potentiometer",
}


class UnseenPartsError(ValueError):
    """Parts of unseen families or KiCad folders were handed to a training step."""

    def __init__(self, where: str, names: Mapping[str, int]):
        self.names = dict(sorted(names.items()))
        self.count = sum(self.names.values())
        listed = ", ".join(f"{name} ({n})" for name, n in self.names.items())
        super().__init__(
            f"{where}: {self.count} parts of unseen families or KiCad folders, which no shipped "
            f"bundle may train on: {listed}; see docs/unseen.md (generate training catalogs "
            "with --exclude-unseen)"
        )


def kicad_folder(metadata: Mapping[str, Any]) -> str:
    """The KiCad folder of a part's manifest metadata, "" when it is not a KiCad model.

    The KiCad catalog writes the folder as ``category`` and ``family`` and names the model in
    ``source_file`` (``Connector_USB.3dshapes/USB_A_....wrl``).
    """
    source_file = str(metadata.get("source_file") or "")
    parent = PurePosixPath(source_file).parent.name
    if parent.endswith(".3dshapes"):
        return parent.removesuffix(".3dshapes")
    if metadata.get("source") == "kicad-packages3d":
        return str(metadata.get("category") or metadata.get("family") or "")
    return ""


def unseen_name(metadata: Mapping[str, Any]) -> str:
    """The unseen family or KiCad folder a part comes from, "" when it is a part to train on.

    metadata : a manifest record (``family``, ``category``, ``source``, ``source_file``)
    A category equal to an unseen KiCad folder counts too, for manifests written without the
    KiCad provenance keys.
    """
    family = str(metadata.get("family") or "")
    if family in UNSEEN_FAMILIES:
        return family
    for folder in (kicad_folder(metadata), str(metadata.get("category") or ""), family):
        if folder in UNSEEN_KICAD_FOLDERS:
            return folder
    return ""


def is_unseen(metadata: Mapping[str, Any]) -> bool:
    """Whether a part comes from an unseen library family or KiCad folder (``unseen_name``)."""
    return bool(unseen_name(metadata))


def family_of_part_id(part_id: str) -> str:
    """The family of a generated part's id (``"wing_nut-7-00012"`` -> ``"wing_nut"``), else ""."""
    family, sep, rest = part_id.partition("-")
    seed, sep2, index = rest.rpartition("-")
    return family if sep and sep2 and index.isdigit() and seed.lstrip("-").isdigit() else ""


def unseen_kinds() -> frozenset[str]:
    """Kinds (categories) that only unseen library families make: a row of such a kind is unseen
    even when its family is not recorded (training shards keep the category, not the family)."""
    from data_jobs.catalog.families import FAMILIES

    unseen = {f.category for name, f in FAMILIES.items() if name in UNSEEN_FAMILIES}
    seen = {f.category for name, f in FAMILIES.items() if name not in UNSEEN_FAMILIES}
    return frozenset(unseen - seen)


def unseen_rows(rows: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """Unseen family / folder / kind -> rows, over rows with ``part_id`` and ``category`` (a
    training shard's columns) and optionally the manifest's keys."""
    kinds = unseen_kinds()
    found: dict[str, int] = {}
    for row in rows:
        name = unseen_name(row) or family_of_part_id(str(row.get("part_id") or ""))
        if name not in UNSEEN_FAMILIES and name not in UNSEEN_KICAD_FOLDERS:
            category = str(row.get("category") or "")
            name = category if category in kinds else ""
        if name:
            found[name] = found.get(name, 0) + 1
    return found


def refuse_unseen(rows: Iterable[Mapping[str, Any]], where: str) -> None:
    """Raise UnseenPartsError naming every unseen family / folder among ``rows`` and a count."""
    found = unseen_rows(rows)
    if found:
        raise UnseenPartsError(where, found)
