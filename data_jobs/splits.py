"""Train / held-out split of a catalog's parts, stable by part id (shared by train and eval)."""

from __future__ import annotations

import hashlib
from typing import Literal

Split = Literal["train", "heldout"]
DEFAULT_HOLDOUT = 0.2
SALT = "cadsearch-split-v1"


def split_of(part_id: str, holdout: float = DEFAULT_HOLDOUT, salt: str = SALT) -> Split:
    """``"heldout"`` for about ``holdout`` of all part ids, ``"train"`` for the rest.

    The split depends only on the part id (and the salt), so a part keeps its side when a catalog
    grows, and training and evaluation agree without sharing a file.
    """
    if not 0.0 <= holdout <= 1.0:
        raise ValueError(f"holdout must be in [0, 1], got {holdout}")
    digest = hashlib.sha256(f"{salt}:{part_id}".encode()).digest()
    fraction = int.from_bytes(digest[:8], "big") / 2**64
    return "heldout" if fraction < holdout else "train"
