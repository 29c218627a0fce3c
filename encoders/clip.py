"""CLIP towers over open_clip: load by name and tag, config or checkpoint; encode texts, images.

The offline hub (``encoders.clip_hub``), the pinned text tower (``encoders.text_tower``) and the
errors (``encoders.clip_errors``) live apart; their public names are importable from here too.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import io
import json
import os
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import open_clip
import torch
import torch.nn.functional as F
from open_clip.transform import PreprocessCfg, image_transform_v2
from PIL import Image

from encoders.clip_errors import (
    ClipLoadError,
    ImageDecodeError,
    ModelNotAvailableError,
    TextTowerMismatchError,
    UnsafeCheckpointError,
)
from encoders.clip_hub import env_offline, hub_offline, quiet_loading, resolve_tag
from encoders.text_tower import (
    DEFAULT_TEXT_PACKAGE,
    HF_FOLDER_AUX_FILES,
    file_sha256,
    hf_folder_text_tower,
    package_model_folder,
    resolve_text_tower,
)

PRECISIONS = ("auto", "fp32", "fp16", "bf16")
TEXT_TRANSFORMER_PREFIX = "text.transformer."  # an HF text tower's keys in an open_clip state dict
ImageInput = np.ndarray | Image.Image | bytes | bytearray | memoryview | os.PathLike


def register_model_config(config: Mapping[str, Any]) -> str:
    """Registers an open_clip model config dict under a name derived from its content; returns it.

    open_clip 3.3 builds models from registered names only; ``add_model_config`` reads a JSON file,
    so the dict is written to a temporary file (the registry keeps the parsed config).
    """
    _check_config(config)
    canonical = json.dumps(config, sort_keys=True, separators=(",", ":"))
    name = f"cadsearch-{hashlib.sha256(canonical.encode()).hexdigest()[:16]}"
    if name not in open_clip.list_models():
        with tempfile.TemporaryDirectory(prefix="cadsearch-clip-") as tmp:
            path = Path(tmp) / f"{name}.json"
            path.write_text(canonical, encoding="utf-8")
            open_clip.add_model_config(path)
    return name


def _check_config(config: Mapping[str, Any]) -> None:
    missing = [key for key in ("embed_dim", "vision_cfg", "text_cfg") if key not in config]
    if missing:
        raise ClipLoadError(f"open_clip model config lacks {missing} (has {sorted(config)})")


def _jsonable(value: Any) -> Any:
    """A deep copy with tuples as lists, as it reads back from JSON."""
    return json.loads(json.dumps(value))


def _check_checkpoint_path(path: str | Path, allow_pickle: bool) -> Path:
    path = Path(path)
    if not path.is_file():
        raise ClipLoadError(f"checkpoint file not found: {path}")
    if path.suffix != ".safetensors" and not allow_pickle:
        raise UnsafeCheckpointError(
            f"checkpoint {path} is not .safetensors; loading it would unpickle. Convert it "
            "(safetensors.torch.save_file(state_dict, 'x.safetensors')) or pass allow_pickle=True"
        )
    return path


def _safetensors_keys(path: Path) -> set[str]:
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as f:
        return set(f.keys())


def _load_state(model: torch.nn.Module, state: Mapping[str, torch.Tensor], pretrained: str) -> None:
    """Loads weights; keys under ``pretrained`` may be missing (they came with the text tower)."""
    try:
        missing, unexpected = model.load_state_dict(dict(state), strict=False)
    except RuntimeError as e:
        raise ClipLoadError(f"checkpoint does not fit the model: {e}") from e
    missing = [key for key in missing if not (pretrained and key.startswith(pretrained))]
    if missing or unexpected:
        raise ClipLoadError(
            f"checkpoint does not fit the model: missing {missing[:5]} ({len(missing)}), "
            f"unexpected {unexpected[:5]} ({len(unexpected)})"
        )


def _drop_tower(model: torch.nn.Module, tower: str) -> None:
    """Frees the weights of one tower ("image" or "text") of a CLIP or CustomTextCLIP model."""
    if tower == "image":
        model.visual = None
    elif hasattr(model, "text"):
        model.text = None
    else:  # CLIP keeps its text tower's parts as attributes
        for name in ("transformer", "token_embedding", "ln_final", "positional_embedding"):
            setattr(model, name, None)
        model.text_projection = None
        model.attn_mask = None


def _to_pil(item: Any, index: int) -> Image.Image:
    """One image input as an RGB PIL image: array (H, W[, 3|4]) uint8, PIL image, bytes or path."""
    if isinstance(item, Image.Image):
        image = item
    elif isinstance(item, np.ndarray):
        if item.dtype != np.uint8 or not (
            item.ndim == 2 or (item.ndim == 3 and item.shape[2] in (3, 4))
        ):
            raise ValueError(
                f"image {index}: arrays must be (H, W, 3) uint8, got {item.shape} {item.dtype}"
            )
        image = Image.fromarray(np.ascontiguousarray(item))
    elif isinstance(item, (bytes, bytearray, memoryview, os.PathLike)):
        try:
            data = Path(item).read_bytes() if isinstance(item, os.PathLike) else bytes(item)
            image = Image.open(io.BytesIO(data))
            image.load()
        except Exception as e:
            raise ImageDecodeError(f"image {index}: cannot decode as an image ({e})", index) from e
    else:
        hint = " (wrap a file path in pathlib.Path)" if isinstance(item, str) else ""
        raise TypeError(f"image {index}: unsupported input type {type(item).__name__}{hint}")
    return image if image.mode == "RGB" else image.convert("RGB")


class ClipEncoder:
    """An open_clip model, its tokenizer and preprocessing: texts and images in, unit vectors out.

    Build one with ``from_pretrained`` (model name + pretrained tag or checkpoint file) or
    ``from_config`` (config dict or name + weights + optional pinned HF text tower folder).
    """

    def __init__(
        self,
        model: torch.nn.Module,
        tokenizer: Any,
        preprocess_cfg: Mapping[str, Any],
        *,
        model_config: Mapping[str, Any],
        model_name: str | None = None,
        pretrained: str | None = None,
        text_tower: Mapping[str, Any] | None = None,
        device: str = "cpu",
        precision: str = "auto",
        torch_threads: int | None = None,
        text_only: bool = False,
        image_only: bool = False,
    ):
        if text_only and image_only:
            raise ValueError("text_only and image_only are exclusive; pass at most one")
        if precision not in PRECISIONS:
            raise ValueError(f"unknown precision {precision!r}; known: {PRECISIONS}")
        if torch_threads is not None:
            torch.set_num_threads(int(torch_threads))
        self.model_config = _jsonable(model_config)  # open_clip config (no host paths)
        self.model_name = model_name  # open_clip model name when loaded by name
        self.pretrained = pretrained  # open_clip pretrained tag when loaded by tag
        self.text_tower = dict(text_tower or {"kind": "open_clip"})
        self.preprocess_cfg = dict(preprocess_cfg)
        self.preprocess = image_transform_v2(PreprocessCfg(**self.preprocess_cfg), is_train=False)
        self.has_text, self.has_image = not image_only, not text_only
        if text_only:
            _drop_tower(model, "image")
        if image_only:
            _drop_tower(model, "text")
        self.tokenizer = None if image_only else tokenizer
        self.device = torch.device(device)
        self.model = model.to(self.device).eval()
        self.precision = precision
        self.bundle_id: str | None = None  # set by ModelBundle.load_clip
        text = getattr(model, "text", None)
        hf_config = getattr(text, "config", None)  # HFTextEncoder: trailing pads can be trimmed
        self._pad_id = getattr(hf_config, "pad_token_id", None) if hf_config is not None else None
        self.runtime = {"text": "torch", "image": "torch"}  # or "onnx": use_runtime()
        self._onnx: dict[str, Any] = {}

    def use_runtime(self, tower: str, runtime: str, threads: int = 1) -> None:
        """Run ``tower`` ("text", "image") on ``runtime`` from now on: "torch", or "onnx" (ONNX
        Runtime on the CPU, encoders/onnx_towers.py). Raises
        encoders.onnx_towers.OnnxTowerError when that is not possible; nothing changes then."""
        from encoders.onnx_towers import onnx_forward

        if runtime not in ("torch", "onnx"):
            raise ValueError(f"unknown runtime {runtime!r}; known: torch, onnx")
        if runtime == "onnx":
            self._onnx[tower] = onnx_forward(self, tower, threads)
        else:
            self._onnx.pop(tower, None)
        self.runtime[tower] = runtime

    # ---- loading ----------------------------------------------------------------------------

    @classmethod
    def from_pretrained(
        cls,
        model_name: str,
        pretrained: str | Path | None = None,
        *,
        pretrained_sha256: str | None = None,
        cache_dir: str | None = None,
        offline: bool | None = None,
        allow_pickle: bool = False,
        **runtime: Any,
    ) -> ClipEncoder:
        """An open_clip model by name, with a pretrained tag (HF cache) or a local checkpoint file.

        offline : True: the Hugging Face cache only; None: as HF_HUB_OFFLINE says at call time.
        runtime : device, precision, torch_threads, text_only, image_only.
        """
        offline = env_offline() if offline is None else offline
        known = open_clip.list_models()
        if model_name not in known:
            raise ClipLoadError(
                f"unknown open_clip model {model_name!r} ({len(known)} known, e.g. "
                f"{known[:3]}; see open_clip.list_models())"
            )
        checkpoint, overrides, tag = None, {}, None
        if pretrained is not None and Path(pretrained).is_file():
            checkpoint = _check_checkpoint_path(pretrained, allow_pickle)
        elif pretrained is not None:
            tag = str(pretrained)
            checkpoint, overrides = resolve_tag(model_name, tag, cache_dir, offline)
            checkpoint = _check_checkpoint_path(checkpoint, allow_pickle)
        if checkpoint is not None and pretrained_sha256:
            found = file_sha256(checkpoint)
            if found != pretrained_sha256:
                raise ClipLoadError(
                    f"checkpoint {checkpoint}: expected sha256 {pretrained_sha256}, found {found}"
                )
        try:
            with hub_offline(offline), quiet_loading():
                model = open_clip.create_model(
                    model_name,
                    pretrained=str(checkpoint) if checkpoint else None,
                    force_quick_gelu=bool(overrides.pop("quick_gelu", False)),
                    force_preprocess_cfg=overrides,
                    cache_dir=cache_dir,
                )
                tokenizer = open_clip.get_tokenizer(model_name, cache_dir=cache_dir)
        except OSError as e:  # an HF text tower's config or tokenizer not cached
            raise ModelNotAvailableError(
                f"open_clip model {model_name!r} needs Hugging Face files that are not cached: {e}"
            ) from e
        return cls(
            model,
            tokenizer,
            model.visual.preprocess_cfg,
            model_config=open_clip.get_model_config(model_name),
            model_name=model_name,
            pretrained=tag,
            **runtime,
        )

    @classmethod
    def from_config(
        cls,
        config: Mapping[str, Any] | str,
        checkpoint: str | Path | Mapping[str, torch.Tensor] | None = None,
        *,
        text_tower: Mapping[str, Any] | None = None,
        preprocess: Mapping[str, Any] | None = None,
        offline: bool | None = None,
        allow_pickle: bool = False,
        **runtime: Any,
    ) -> ClipEncoder:
        """A model from an open_clip config dict (or built-in name) and optional weights.

        checkpoint : a safetensors file or a state dict; without one the weights are random,
            except an HF text tower, which loads its own pretrained weights from its folder.
        text_tower : ``hf_folder_text_tower(...)`` spec: text_cfg's hf_model_name and
            hf_tokenizer_name become that folder, its files checked against the pinned sha256.
            A text_cfg whose hf_model_name is already a local folder is pinned as found.
        preprocess : overrides of open_clip's preprocess cfg (mean, std, size, interpolation, ...).
        runtime : device, precision, torch_threads, text_only, image_only.
        """
        offline = env_offline() if offline is None else offline
        model_name = config if isinstance(config, str) else None
        if model_name is not None:
            config = open_clip.get_model_config(model_name)
            if config is None:
                raise ClipLoadError(f"unknown open_clip model {model_name!r}")
        _check_config(config)
        stored = _jsonable(config)
        built = copy.deepcopy(stored)
        text_cfg = built["text_cfg"]
        image_only = bool(runtime.get("image_only"))
        hf_name = text_cfg.get("hf_model_name")
        if text_tower is None and hf_name and Path(hf_name).is_dir():
            text_tower = hf_folder_text_tower(path=hf_name)
        folder = resolve_text_tower(text_tower, verify=not image_only)
        if folder is not None:  # the folder is this host's: the stored config names none
            text_cfg.update(hf_model_name=str(folder), hf_tokenizer_name=str(folder))
            stored["text_cfg"].pop("hf_model_name", None)
            stored["text_cfg"].pop("hf_tokenizer_name", None)
        hf_text = bool(text_cfg.get("hf_model_name"))

        state, full_path = None, None
        if isinstance(checkpoint, Mapping):
            state = checkpoint
        elif checkpoint is not None:
            path = _check_checkpoint_path(checkpoint, allow_pickle)
            partial = (
                hf_text
                and path.suffix == ".safetensors"
                and not any(k.startswith(TEXT_TRANSFORMER_PREFIX) for k in _safetensors_keys(path))
            )
            if partial:  # the HF text tower's weights come from its folder
                from safetensors.torch import load_file

                state = load_file(str(path))
            else:
                full_path = path
        # an HF tower loads pretrained weights from its folder unless a full checkpoint has them
        load_hf = hf_text and full_path is None and not image_only
        name = register_model_config(built)
        try:
            with hub_offline(offline or folder is not None), quiet_loading():
                model = open_clip.create_model(
                    name,
                    pretrained=str(full_path) if full_path else None,
                    pretrained_text=load_hf,
                    force_preprocess_cfg=dict(preprocess or {}),
                )
                tokenizer = None if image_only else open_clip.get_tokenizer(name)
        except OSError as e:
            raise ModelNotAvailableError(
                f"text tower {text_cfg.get('hf_model_name')!r} is not available locally: {e}"
            ) from e
        if state is not None:
            _load_state(model, state, TEXT_TRANSFORMER_PREFIX if load_hf or image_only else "")
        return cls(
            model,
            tokenizer,
            model.visual.preprocess_cfg,
            model_config=stored,
            model_name=model_name,
            text_tower=text_tower,
            **runtime,
        )

    # ---- properties -------------------------------------------------------------------------

    @property
    def embed_dim(self) -> int:
        """Length of the vectors."""
        return int(self.model_config["embed_dim"])

    @property
    def image_size(self) -> int | tuple[int, int]:
        """Input size of the image tower (an int when square)."""
        size = self.preprocess_cfg["size"]
        if isinstance(size, int):
            return size
        height, width = size
        return int(height) if height == width else (int(height), int(width))

    def state_dict_to_save(self) -> dict[str, torch.Tensor]:
        """The weights a bundle stores: all, less an HF text tower that a pinned folder provides."""
        if not (self.has_text and self.has_image):
            raise ClipLoadError(
                "a text_only or image_only encoder cannot be saved; load both towers"
            )
        pinned = self.text_tower.get("kind") == "hf_folder"
        return {
            key: value
            for key, value in self.model.state_dict().items()
            if not (pinned and key.startswith(TEXT_TRANSFORMER_PREFIX))
        }

    def __repr__(self) -> str:
        source = self.model_name or self.text_tower.get("package") or "config"
        towers = "+".join(t for t, on in (("text", self.has_text), ("image", self.has_image)) if on)
        return (
            f"ClipEncoder({source}, embed_dim={self.embed_dim}, towers={towers}, "
            f"device={self.device}, bundle_id={self.bundle_id})"
        )

    # ---- encoding ---------------------------------------------------------------------------

    @contextlib.contextmanager
    def _inference(self) -> Iterator[None]:
        precision = self.precision
        if precision == "auto":
            if self.device.type != "cuda":
                precision = "fp32"
            else:
                precision = "bf16" if torch.cuda.is_bf16_supported() else "fp16"
        with torch.inference_mode():
            if precision == "fp32":
                yield
            else:
                dtype = torch.bfloat16 if precision == "bf16" else torch.float16
                with torch.autocast(device_type=self.device.type, dtype=dtype):
                    yield

    def encode_text(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """Unit vectors of texts: (n, embed_dim) float32."""
        if not self.has_text:
            raise RuntimeError("this encoder was loaded image_only; it has no text tower")
        if isinstance(texts, str):
            raise TypeError("encode_text takes a list of strings, got a single str")
        texts = list(texts)
        for index, text in enumerate(texts):
            if not isinstance(text, str):
                raise TypeError(f"text {index}: expected str, got {type(text).__name__}")
        out = np.empty((len(texts), self.embed_dim), dtype=np.float32)
        for start in range(0, len(texts), max(1, int(batch_size))):
            chunk = texts[start : start + max(1, int(batch_size))]
            tokens = self.tokenizer(chunk)
            if self._pad_id is not None:  # HF towers mask padding, so trailing pad columns go
                used = (tokens != self._pad_id).any(dim=0).nonzero()
                tokens = tokens[:, : int(used.max()) + 1 if len(used) else 1]
            if "text" in self._onnx:
                features = self._onnx["text"](tokens)
            else:
                with self._inference():
                    features = self.model.encode_text(tokens.to(self.device))
            out[start : start + len(chunk)] = F.normalize(features.float(), dim=-1).cpu().numpy()
        return out

    def encode_images(self, images: Sequence[ImageInput], batch_size: int = 32) -> np.ndarray:
        """Unit vectors of images: (n, embed_dim) float32.

        images : (H, W, 3) uint8 arrays, PIL images, encoded bytes (PNG, JPEG, ...) or paths
        """
        if not self.has_image:
            raise RuntimeError("this encoder was loaded text_only; it has no image tower")
        images = list(images)
        out = np.empty((len(images), self.embed_dim), dtype=np.float32)
        step = max(1, int(batch_size))
        for start in range(0, len(images), step):
            chunk = images[start : start + step]
            pixels = torch.stack(
                [self.preprocess(_to_pil(item, start + i)) for i, item in enumerate(chunk)]
            )
            if "image" in self._onnx:
                features = self._onnx["image"](pixels)
            else:
                with self._inference():
                    features = self.model.encode_image(pixels.to(self.device))
            out[start : start + len(chunk)] = F.normalize(features.float(), dim=-1).cpu().numpy()
        return out


__all__ = [
    "DEFAULT_TEXT_PACKAGE",
    "HF_FOLDER_AUX_FILES",
    "PRECISIONS",
    "ClipEncoder",
    "ClipLoadError",
    "ImageDecodeError",
    "ModelNotAvailableError",
    "TextTowerMismatchError",
    "UnsafeCheckpointError",
    "env_offline",
    "file_sha256",
    "hf_folder_text_tower",
    "hub_offline",
    "package_model_folder",
    "register_model_config",
    "resolve_text_tower",
]
