"""open_clip weights from the Hugging Face Hub or its cache: offline mode, pretrained tags, quiet
loading."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import open_clip

from encoders.clip_errors import ClipLoadError, ModelNotAvailableError


def env_offline() -> bool:
    """Whether the environment asks for offline mode now (HF_HUB_OFFLINE, TRANSFORMERS_OFFLINE)."""
    values = (os.environ.get("HF_HUB_OFFLINE"), os.environ.get("TRANSFORMERS_OFFLINE"))
    return any((value or "").strip().lower() in ("1", "true", "yes", "on") for value in values)


@contextlib.contextmanager
def hub_offline(enabled: bool = True) -> Iterator[None]:
    """Within the block, Hugging Face Hub calls use the local cache only (HF_HUB_OFFLINE=1).

    huggingface_hub reads HF_HUB_OFFLINE once at import, so the module flag is switched as well.
    """
    if not enabled:
        yield
        return
    import huggingface_hub.constants as hf_constants

    saved_env = {key: os.environ.get(key) for key in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    saved_flag = hf_constants.HF_HUB_OFFLINE
    os.environ.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    hf_constants.HF_HUB_OFFLINE = True
    try:
        yield
    finally:
        hf_constants.HF_HUB_OFFLINE = saved_flag
        for key, value in saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


class _DropInitWarnings(logging.Filter):
    """Drops open_clip's 'initialized partially/randomly' warnings: the weights are loaded after."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not (
            record.pathname.endswith(os.path.join("open_clip", "factory.py"))
            and ("initialized partially" in message or "No pretrained weights" in message)
        )


@contextlib.contextmanager
def quiet_loading() -> Iterator[None]:
    """Silences transformers' load report and progress bar, and open_clip's init warnings."""
    from transformers.utils import logging as hf_logging

    verbosity, bars = hf_logging.get_verbosity(), hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    init_filter = _DropInitWarnings()
    logging.getLogger().addFilter(init_filter)
    try:
        yield
    finally:
        logging.getLogger().removeFilter(init_filter)
        hf_logging.set_verbosity(verbosity)
        if bars:
            hf_logging.enable_progress_bar()


def resolve_tag(
    model_name: str, tag: str, cache_dir: str | None, offline: bool
) -> tuple[Path, dict[str, Any]]:
    """The local checkpoint file of a pretrained tag (from the cache, or downloaded) and the
    preprocessing and quick_gelu flag that belong to it."""
    from open_clip.pretrained import download_pretrained

    cfg = open_clip.get_pretrained_cfg(model_name, tag)
    if not cfg:
        tags = open_clip.list_pretrained_tags_by_model(model_name)
        raise ClipLoadError(
            f"{tag!r} is neither a pretrained tag of {model_name!r} (known: {tags}) nor a file"
        )
    source = cfg.get("hf_hub") or cfg.get("url")
    fix = (
        f'fetch it once where the hub is reachable (python -c "import open_clip; '
        f"open_clip.create_model('{model_name}', pretrained='{tag}')\") and copy the Hugging Face "
        f"cache (HF_HOME) here, or pass a local checkpoint file: pretrained='/path/to/"
        f"open_clip_model.safetensors'"
    )
    if offline and not cfg.get("hf_hub"):  # URL-only tags are fetched with urllib: check the cache
        cached = Path(cache_dir or os.path.expanduser("~/.cache/clip")) / os.path.basename(source)
        if not cached.is_file():
            raise ModelNotAvailableError(
                f"weights of open_clip model {model_name!r} tag {tag!r} ({source}) are not cached "
                f"and offline mode is on; {fix}"
            )
    try:
        with hub_offline(offline):
            path = download_pretrained(cfg, cache_dir=cache_dir)
    except Exception as e:
        raise ModelNotAvailableError(
            f"weights of open_clip model {model_name!r} tag {tag!r} ({source}) are not cached and "
            f"could not be fetched; {fix}"
        ) from e
    if not path:
        raise ModelNotAvailableError(f"open_clip tag {tag!r} of {model_name!r} names no weights")
    overrides = {
        key: cfg[key] for key in ("mean", "std", "interpolation", "resize_mode") if key in cfg
    }
    overrides["quick_gelu"] = cfg.get("quick_gelu", False)
    return Path(path), overrides
