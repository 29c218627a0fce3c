"""CLIP towers on ONNX Runtime (encoders/onnx_towers.py): the same vectors as torch on real
inputs, the runtime choice of the serving replicas, and refusals that leave torch in place."""

from __future__ import annotations

import numpy as np
import pytest

from encoders.onnx_towers import (
    OnnxTowerError,
    apply_runtime,
    available,
    onnx_forward,
    tower_runtime,
)
from tests.test_serve_text import DESCRIPTIONS, catalog_descriptions

pytestmark = pytest.mark.skipif(not available(), reason="onnxruntime is a dependency")


@pytest.fixture(scope="module")
def clip():
    from encoders.bundle import load_bundle

    return load_bundle("cad-mini").load_clip("cpu")


def _views(n: int = 6) -> list[np.ndarray]:
    """Real renders of generated parts: what the image tower sees."""
    from data_jobs.catalog.generate import family_schedule, part_rng
    from encoders.geometry.render import ViewRenderer

    renderer = ViewRenderer(image_size=224)
    try:
        out = []
        for index, family in enumerate(family_schedule(n, 5)):
            mesh = family.generator(part_rng(5, index)).mesh
            out.append(renderer.render(mesh)[index % 10].rgb)
        return out
    finally:
        renderer.close()


def test_onnx_text_tower_gives_torch_vectors(clip):
    texts = DESCRIPTIONS + catalog_descriptions(12)
    reference = clip.encode_text(texts)
    clip.use_runtime("text", "onnx")
    try:
        assert clip.runtime["text"] == "onnx"
        fast = clip.encode_text(texts)
        one = clip.encode_text(texts[:1])  # another batch shape and length: dynamic axes
    finally:
        clip.use_runtime("text", "torch")
    assert fast.shape == reference.shape and fast.dtype == np.float32
    assert float((fast * reference).sum(axis=1).min()) > 0.99999
    assert float(one[0] @ reference[0]) > 0.99999
    assert clip.runtime["text"] == "torch"
    np.testing.assert_allclose(clip.encode_text(texts[:2]), reference[:2], atol=1e-6)


def test_onnx_image_tower_gives_torch_vectors(clip):
    views = _views()
    reference = clip.encode_images(views)
    clip.use_runtime("image", "onnx")
    try:
        fast = clip.encode_images(views)
        single = clip.encode_images(views[:1])
    finally:
        clip.use_runtime("image", "torch")
    # renders differ from each other, so the check is not passed by constant vectors
    assert float((reference @ reference.T)[np.triu_indices(len(views), 1)].min()) < 0.999
    assert float((fast * reference).sum(axis=1).min()) > 0.9999
    assert float(single[0] @ reference[0]) > 0.9999


def test_runtime_choice():
    assert tower_runtime("torch", "cpu") == "torch"
    assert tower_runtime("onnx", "cpu") == "onnx"
    assert tower_runtime("auto", "cpu") == "onnx"  # fp32 on a CPU
    assert tower_runtime("auto", "cpu", "bf16") == "torch"  # bf16 is torch's
    assert tower_runtime("auto", "cuda") == "torch"
    with pytest.raises(ValueError, match="runtime"):
        tower_runtime("tensorrt", "cpu")


def test_refused_export_keeps_torch(clip, monkeypatch):
    import encoders.onnx_towers as towers

    monkeypatch.setattr(towers, "MIN_COSINE", 1.5)  # no export can pass this check
    with pytest.raises(OnnxTowerError, match="disagrees"):
        onnx_forward(clip, "text")
    # an explicit request fails loudly; auto falls back to torch, and torch still answers
    with pytest.raises(OnnxTowerError):
        apply_runtime(clip, "text", "onnx", "cpu", 1)
    assert apply_runtime(clip, "text", "auto", "cpu", 1) == "torch"
    assert clip.runtime["text"] == "torch"
    assert clip.encode_text(["hex nut M8"]).shape == (1, clip.embed_dim)


def test_tower_missing_is_refused():
    from encoders.bundle import load_bundle

    image_only = load_bundle("cad-mini").load_clip("cpu", image_only=True)
    with pytest.raises(OnnxTowerError, match="no text tower"):
        onnx_forward(image_only, "text")
