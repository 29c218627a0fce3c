"""Part ids: the key of a part in its catalog and in the collection (a UUIDv5 of it is the point
id), so every way in (a folder, a manifest, an upload, a request) checks ids with one rule."""

from __future__ import annotations

import unicodedata
from typing import Any

MAX_PART_ID_CHARS = 512
_BAD_CATEGORIES = ("Cc", "Cs", "Zl", "Zp")  # control chars, lone surrogates, line separators
# bidirectional formatting: an id that displays as another (Trojan Source)
_BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)


def validate_part_id(part_id: Any, where: str = "") -> str:
    """part_id as a string, when it is a usable part id; else ValueError naming it (and where).

    A part id is kept as given in Unicode NFC (ids that differ only in normalization are one
    part), but must be non-blank, at most 512 characters, and free of control characters,
    bidirectional formatting characters, line separators and lone surrogates. Integers are taken
    as their text.
    """
    at = f"{where}: " if where else ""
    if isinstance(part_id, int) and not isinstance(part_id, bool):
        part_id = str(part_id)
    if not isinstance(part_id, str):
        raise ValueError(f"{at}part_id must be a string, got {type(part_id).__name__} {part_id!r}")
    if not part_id.strip():
        raise ValueError(f"{at}part_id must not be empty or blank, got {part_id!r}")
    if len(part_id) > MAX_PART_ID_CHARS:
        raise ValueError(
            f"{at}part_id is {len(part_id)} characters, over the limit of {MAX_PART_ID_CHARS}: "
            f"{part_id[:60]!r}..."
        )
    bad = sorted(
        {c for c in part_id if unicodedata.category(c) in _BAD_CATEGORIES or c in _BIDI_CONTROLS}
    )
    if bad:
        raise ValueError(
            f"{at}part_id {part_id!r} contains control characters "
            f"({', '.join(f'U+{ord(c):04X}' for c in bad)})"
        )
    return unicodedata.normalize("NFC", part_id)
