"""Model bundles: save/load, hash and id verification, the shipped cad-mini, its reproducibility."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch

from encoders.bundle import (
    BUNDLE_FILE,
    CLIP_WEIGHTS,
    GEOMETRY_WEIGHTS,
    BundleError,
    BundleIntegrityError,
    BundleNotFoundError,
    compute_bundle_id,
    list_bundles,
    load_bundle,
    save_bundle,
)
from encoders.clip import ClipEncoder, TextTowerMismatchError, hf_folder_text_tower

# tiny open_clip models (as in test_clip.py): random weights, 32 px images, fast on CPU
TINY = {
    "embed_dim": 32,
    "vision_cfg": {"image_size": 32, "patch_size": 8, "width": 64, "layers": 2, "head_width": 32},
    "text_cfg": {"context_length": 16, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 2},
}
TINY_MINILM = {
    "embed_dim": 32,
    "custom_text": True,
    "vision_cfg": TINY["vision_cfg"],
    "text_cfg": {"context_length": 32, "hf_pooler_type": "mean_pooler", "hf_proj_type": "linear"},
}
TEXTS = ["hex head bolt M8 x 30", "flat washer 8.4 mm", "deep groove ball bearing 6204", "x"]
UNTRAINED = {"image_tower": False, "text_projection": False, "geometry_encoder": False}


def images(n: int, size: int = 40) -> list[np.ndarray]:
    """Grey boxes on white, one per index."""
    out = []
    for i in range(n):
        image = np.full((size, size, 3), 255, dtype=np.uint8)
        image[4 + i % 7 : size - 6, 6 : size - 3 - i % 5] = (90 + 10 * i, 110, 150)
        out.append(image)
    return out


def tiny_geometry(output_dim: int) -> torch.nn.Module:
    from encoders.point_encoders import build_geometry_encoder

    torch.manual_seed(1)
    return build_geometry_encoder("pointnet", output_dim, widths=(16, 32), head_width=32)


def write_tiny(directory, config=TINY, text_tower=None, seed=0, **kwargs):
    torch.manual_seed(seed)
    clip = ClipEncoder.from_config(config, text_tower=text_tower)
    bundle = save_bundle(
        directory,
        name="tiny",
        clip=clip,
        geometry=tiny_geometry(clip.embed_dim),
        num_points=64,
        trained=UNTRAINED,
        **kwargs,
    )
    return bundle, clip


def rewrite_config(bundle, **changes):
    """Edits bundle.json, recomputing the id, so only the edited value is wrong."""
    config = json.loads((bundle.path / BUNDLE_FILE).read_text())
    for key, value in changes.items():
        config[key] = value
    config["id"] = compute_bundle_id(config)
    (bundle.path / BUNDLE_FILE).write_text(json.dumps(config))


@pytest.fixture(scope="module")
def tiny_bundle(tmp_path_factory):
    return write_tiny(tmp_path_factory.mktemp("bundles") / "tiny")


def test_round_trip_by_path(tiny_bundle):
    bundle, clip = tiny_bundle
    loaded = load_bundle(str(bundle.path))
    assert loaded.id == bundle.id and loaded.id.startswith("tiny-") and len(loaded.id) == 17
    assert set(loaded.files) == {CLIP_WEIGHTS, GEOMETRY_WEIGHTS}
    assert load_bundle(bundle.path / BUNDLE_FILE).id == bundle.id
    again = loaded.load_clip()
    assert again.bundle_id == bundle.id
    np.testing.assert_allclose(again.encode_text(TEXTS), clip.encode_text(TEXTS), atol=1e-6)
    np.testing.assert_allclose(
        again.encode_images(images(3)), clip.encode_images(images(3)), atol=1e-6
    )
    geometry = loaded.load_geometry_encoder()
    assert not geometry.training
    from encoders.point_encoders import encode_points

    points = np.random.default_rng(0).normal(size=(3, 64, 3)).astype(np.float32)
    vectors = encode_points(geometry, points)
    assert vectors.shape == (3, 32)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_relative_path_loads_as_absolute(tiny_bundle, monkeypatch):
    # a bundle's path is handed to Ray Train workers and Serve replicas, which run elsewhere:
    # `cadsearch train --init encoders/bundles/cad-mini` once failed in the worker this way
    bundle, _ = tiny_bundle
    monkeypatch.chdir(bundle.path.parent.parent)
    relative = bundle.path.relative_to(bundle.path.parent.parent)
    for given in (str(relative), relative / BUNDLE_FILE):
        loaded = load_bundle(given)
        assert loaded.path.is_absolute() and loaded.path == bundle.path.resolve()


def test_id_stable_and_sensitive(tmp_path, tiny_bundle):
    bundle, _ = tiny_bundle
    same, _ = write_tiny(tmp_path / "same")
    assert same.id == bundle.id  # same config and weights, another directory
    other, _ = write_tiny(tmp_path / "other", seed=1)
    assert other.id != bundle.id  # other weights
    half, _ = write_tiny(tmp_path / "half", storage_dtype="float16")
    assert half.id != bundle.id
    clip = half.load_clip()
    assert all(p.dtype == torch.float32 for p in clip.model.parameters())  # upcast on load


def test_corrupt_byte_names_file_and_hashes(tmp_path, tiny_bundle):
    path = shutil.copytree(tiny_bundle[0].path, tmp_path / "b")
    weights = path / GEOMETRY_WEIGHTS
    data = bytearray(weights.read_bytes())
    data[-3] ^= 0x01
    weights.write_bytes(bytes(data))
    with pytest.raises(BundleIntegrityError) as info:
        load_bundle(path)
    message = str(info.value)
    assert GEOMETRY_WEIGHTS in message and tiny_bundle[0].files[GEOMETRY_WEIGHTS] in message
    assert "found" in message
    (path / CLIP_WEIGHTS).unlink()
    with pytest.raises(BundleIntegrityError, match=f"{CLIP_WEIGHTS}: weight file missing"):
        load_bundle(path)


def test_unlisted_weights_and_edited_config_refused(tmp_path, tiny_bundle):
    path = shutil.copytree(tiny_bundle[0].path, tmp_path / "b")
    (path / "extra.bin").write_bytes(b"\x80\x04")
    with pytest.raises(BundleIntegrityError, match="extra.bin"):
        load_bundle(path)
    (path / "extra.bin").unlink()
    config = json.loads((path / BUNDLE_FILE).read_text())
    config["num_points"] = 4096
    (path / BUNDLE_FILE).write_text(json.dumps(config))
    with pytest.raises(BundleIntegrityError, match="does not match its content"):
        load_bundle(path)


def test_loading_never_unpickles(monkeypatch, tiny_bundle):
    def no_torch_load(*args, **kwargs):
        raise AssertionError("torch.load called")

    monkeypatch.setattr(torch, "load", no_torch_load)
    bundle = load_bundle(tiny_bundle[0].path)
    bundle.load_clip()
    bundle.load_geometry_encoder()


def test_names_and_unknown_name(tiny_bundle):
    assert "cad-mini" in list_bundles()
    with pytest.raises(BundleNotFoundError, match="cad-mini"):
        load_bundle("no-such-bundle")
    with pytest.raises(BundleNotFoundError, match="no bundle at"):
        load_bundle("/nonexistent/bundle/dir")
    with pytest.raises(BundleError, match="already holds a bundle"):
        write_tiny(tiny_bundle[0].path)


def test_swapped_text_tower_hash_refused(tmp_path):
    bundle, _ = write_tiny(tmp_path / "m", TINY_MINILM, text_tower=hf_folder_text_tower())
    assert bundle.clip["weights"] == CLIP_WEIGHTS
    assert bundle.clip["text_tower"]["kind"] == "hf_folder"
    clip = dict(bundle.clip)
    clip["text_tower"] = {**clip["text_tower"], "sha256": "f" * 64}
    rewrite_config(bundle, clip=clip)
    reloaded = load_bundle(bundle.path)  # the bundle's own files are intact
    with pytest.raises(TextTowerMismatchError, match="f" * 64):
        reloaded.load_clip()


def test_cad_mini_by_name():
    bundle = load_bundle("cad-mini")
    assert bundle.embed_dim == 256 and bundle.image_size == 224 and bundle.view_set == "canonical10"
    assert bundle.geometry["arch"] == "dgcnn" and bundle.geometry["output_dim"] == 256
    assert bundle.trained["image_tower"] and bundle.trained["geometry_encoder"]
    assert bundle.trained["text_tower"]
    size = sum(p.stat().st_size for p in bundle.path.iterdir())
    assert size <= 30 * 1024 * 1024
    card = (bundle.path / "MODEL_CARD.md").read_text()
    assert bundle.id in card and "cadsearch train" in card and "mesh -> part mAP" in card
    clip = bundle.load_clip(text_only=True)
    assert clip.bundle_id == bundle.id and clip.model.visual is None
    vectors = clip.encode_text(["hex head bolt M8", "hexagon head screw M8 x 40", "ball bearing"])
    assert vectors.shape == (3, 256)
    # MiniLM through a random linear map still ranks a near paraphrase first
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]
    image = bundle.load_clip(image_only=True).encode_images(images(2, size=224))
    assert image.shape == (2, 256)
    geometry = bundle.load_geometry_encoder()
    assert not geometry.training


def test_bundle_owns_its_input_contract_and_collection_spec():
    from cadsearch.settings import Settings

    bundle = load_bundle("cad-mini")
    spec = bundle.collection_spec()
    assert (spec.bundle_id, spec.dim, spec.view_set) == (bundle.id, bundle.embed_dim, "canonical10")
    assert spec.view_count == 10
    settings = Settings(sampling={"num_points": 64}, render={"view_set": "iso4", "image_size": 32})
    used = bundle.effective_settings(settings)
    assert used.sampling.num_points == bundle.num_points
    assert (used.render.view_set, used.render.image_size) == (bundle.view_set, bundle.image_size)
    assert settings.render.view_set == "iso4"  # the given settings are left as they were


def test_similarity_table_of_a_bundle(tmp_path, tiny_bundle, caplog):
    """similarity.json: absent or of another bundle -> None (uncalibrated), malformed -> error."""
    bundle, _ = tiny_bundle
    copy = tmp_path / "tiny"
    shutil.copytree(bundle.path, copy)
    loaded = load_bundle(copy)
    assert loaded.similarity_table() is None
    table = {"bundle_id": bundle.id, "kinds": {"text": {"raw": [0.1, 0.5], "percent": [0, 80]}}}
    (copy / "similarity.json").write_text(json.dumps(table))
    scale = load_bundle(copy).similarity_table().scale("text")  # not part of the bundle's id
    assert scale.calibrated and scale.percent_of(0.3) == 40.0
    (copy / "similarity.json").write_text(json.dumps({**table, "bundle_id": "other-123"}))
    assert loaded.similarity_table() is None and "other-123" in caplog.text
    (copy / "similarity.json").write_text(json.dumps({**table, "kinds": {"text": {"raw": [1]}}}))
    with pytest.raises(BundleError, match="similarity.json: kinds.text"):
        loaded.similarity_table()


def test_cad_mini_ships_its_calibration():
    bundle = load_bundle("cad-mini")
    table = bundle.similarity_table()
    assert table is not None and table.bundle_id == bundle.id
    for kind in ("text", "image", "mesh", "like"):
        scale = table.scale(kind)
        assert scale.calibrated and scale.percent[-1] > 50 and table.info["pairs"][kind] > 1000


def test_cad_mini_architecture_rebuilds_byte_identical_and_is_the_shipped_ones(tmp_path):
    from encoders.make_bundle import architecture_differences, build_cad_mini

    first = build_cad_mini(tmp_path / "a")
    again = build_cad_mini(tmp_path / "b")
    assert first.id == again.id and not first.trained["geometry_encoder"]
    for name in first.files:
        assert (first.path / name).read_bytes() == (again.path / name).read_bytes()
    shipped = load_bundle("cad-mini")
    assert architecture_differences(shipped, first) == []
    assert shipped.id != first.id  # trained weights
