"""Tests of the parts library as a whole: its size, kinds and parents, shared shape vocabulary,
descriptions, and every family at its parameter extremes."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
import trimesh

from data_jobs.catalog.attributes import PROPORTIONS, ShapeAttributes, describe, proportions_of
from data_jobs.catalog.families import CATEGORIES, FAMILIES, PARENTS

EXTREMES = ("min", "max")


def genus(mesh: trimesh.Trimesh) -> int:
    return (2 - int(mesh.euler_number)) // 2


def takes_extreme(family: str) -> bool:
    return "extreme" in inspect.signature(FAMILIES[family].generator).parameters


def assert_closed_solid(part) -> None:
    mesh = part.mesh
    assert len(mesh.faces) >= 12 and len(mesh.faces) <= 20_000, len(mesh.faces)
    assert np.isfinite(mesh.vertices).all()
    assert 1.0 <= mesh.extents.max() <= 2000.0, mesh.extents
    assert mesh.area_faces.min() > 1e-9, "degenerate (zero-area) triangles"
    assert mesh.is_watertight and mesh.is_winding_consistent and mesh.volume > 0
    assert part.through_holes is not None and genus(mesh) == part.through_holes


def test_library_is_100_families_in_80_kinds_with_parents():
    assert len(FAMILIES) >= 100, len(FAMILIES)
    assert len(CATEGORIES) >= 80, len(CATEGORIES)
    assert set(PARENTS) == set(CATEGORIES)
    assert all(parent and parent.replace("_", "").isalnum() for parent in PARENTS.values())


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_descriptions_carry_the_shared_attributes(family):
    for seed in (0, 1):
        part = FAMILIES[family].generator(np.random.default_rng(seed))
        assert isinstance(part.attributes, ShapeAttributes), "no shape attributes"
        assert part.attributes.proportions in PROPORTIONS  # measured, not left open
        text = " | ".join(part.descriptions).lower()
        assert len(part.descriptions) >= 6 and len(set(part.descriptions)) == len(part.descriptions)
        for phrase in part.attributes.phrases():
            assert phrase.lower() in text, (phrase, part.descriptions)
        assert part.attributes.holes == part.through_holes


@pytest.mark.parametrize("extreme", EXTREMES)
@pytest.mark.parametrize("family", sorted(f for f in FAMILIES if takes_extreme(f)))
def test_family_builds_a_closed_solid_at_its_extremes(family, extreme):
    part = FAMILIES[family].generator(np.random.default_rng(3), extreme=extreme)
    assert_closed_solid(part)
    again = FAMILIES[family].generator(np.random.default_rng(3), extreme=extreme)
    assert np.array_equal(part.mesh.vertices, again.mesh.vertices)
    assert part.descriptions == again.descriptions


def test_extremes_span_the_family():
    """Families that take ``extreme`` give a smaller part at "min" than at "max"."""
    families = [f for f in FAMILIES if takes_extreme(f)]
    assert len(families) >= 60, len(families)  # every family added for the wider library
    for family in families:
        lo = FAMILIES[family].generator(np.random.default_rng(0), extreme="min")
        hi = FAMILIES[family].generator(np.random.default_rng(0), extreme="max")
        assert lo.mesh.extents.max() < hi.mesh.extents.max(), family


def test_proportions_are_measured_from_extents():
    assert proportions_of(trimesh.creation.box((100, 10, 10))) == "slender"
    assert proportions_of(trimesh.creation.box((50, 50, 5))) == "flat"
    assert proportions_of(trimesh.creation.box((20, 25, 30))) == "compact"


def test_describe_names_every_attribute_and_the_size():
    attributes = ShapeAttributes(
        form="ring",
        toothed_rim=True,
        teeth=24,
        holes=1,
        symmetry="axisymmetric",
        proportions="flat",
    )
    for seed in range(5):
        texts = describe(
            np.random.default_rng(seed),
            names=["spur gear", "straight-cut gear"],
            size="m2 z24",
            attributes=attributes,
            standard="DIN 867",
            material="steel",
        )
        assert len(texts) >= 6 and len(set(texts)) == len(texts)
        assert texts[0] == "spur gear m2 z24, DIN 867"
        joined = " | ".join(texts)
        assert all(p in joined for p in attributes.phrases())
        assert any("gear" not in t and "toothed rim with 24 teeth" in t for t in texts)
    single = describe(
        np.random.default_rng(0), names=["gusset"], size="60 x 60", attributes=attributes
    )
    assert len(single) >= 6 and len(set(single)) == len(single)


def test_attributes_refuse_words_outside_the_vocabulary():
    with pytest.raises(ValueError, match="form"):
        ShapeAttributes(form="blob")
    with pytest.raises(ValueError, match="head"):
        ShapeAttributes(form="shaft", head="dome")
