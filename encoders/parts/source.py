"""A part's source: where its file is and what its catalog says of it (``PartSource``), and its
bytes (``read_part_bytes``). Discovery of whole catalogs is the job's (data_jobs/sources.py)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from encoders.geometry.errors import MeshError, UnreadableMeshError, UnsupportedFormatError
from encoders.geometry.loaders import SUPPORTED_EXTENSIONS
from store.b2 import download_bytes, get_bucket, is_b2_uri, parse_b2_uri, resolve_b2_api

MISSING_SIZE = -1  # size of a part whose file does not exist


@dataclass(frozen=True)
class PartSource:
    """One input of a catalog: where its file is, what the catalog says about it.

    part_id : the part's stable key in its catalog (a user string, kept as given)
    uri : absolute local path, or ``b2://bucket/key``
    file_type : lower-case extension without the dot ("" when the file has none)
    metadata : JSON-serializable facts from the manifest (name, category, tags, description, ...)
    fingerprint : ``sha256:<hex>``, ``sha1:<hex>`` or ``b2id:<id>`` (see the module docstring);
        "" when the file does not exist
    size : bytes, or -1 when the file does not exist
    """

    part_id: str
    uri: str
    file_type: str
    metadata: dict[str, Any] = field(default_factory=dict)
    fingerprint: str = ""
    size: int = MISSING_SIZE

    @property
    def supported(self) -> bool:
        """Whether cadsearch reads this file type."""
        return self.file_type in SUPPORTED_EXTENSIONS

    @property
    def exists(self) -> bool:
        """Whether the file was found at discovery."""
        return self.size >= 0

    @property
    def content_sha256(self) -> str | None:
        """The hex SHA-256 of the bytes when the fingerprint is one, else None."""
        scheme, _, digest = self.fingerprint.partition(":")
        return digest if scheme == "sha256" else None

    def problem(self) -> MeshError | None:
        """Why this part cannot be indexed, known without reading it; None when nothing is."""
        if not self.exists:
            return UnreadableMeshError("no such file", source=self.uri)
        if not self.supported:
            kind = f"file type {self.file_type!r}" if self.file_type else "a file without extension"
            return UnsupportedFormatError(
                f"unsupported: {kind} (supported: {', '.join(SUPPORTED_EXTENSIONS)})",
                source=self.uri,
            )
        return None

    def to_row(self) -> dict[str, Any]:
        """A flat dict for a Ray Data row; metadata travels as JSON text (``metadata_json``).

        Arrow would otherwise merge the differing metadata dicts of a batch into one struct type
        and hand back every key of every part, filled with nulls.
        """
        return {
            "part_id": self.part_id,
            "uri": self.uri,
            "file_type": self.file_type,
            "metadata_json": json.dumps(self.metadata, ensure_ascii=False, sort_keys=True),
            "fingerprint": self.fingerprint,
            "size": int(self.size),
        }

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> PartSource:
        """The inverse of ``to_row`` (also takes a ``metadata`` dict instead of the JSON text)."""
        metadata = row.get("metadata")
        if metadata is None:
            metadata = json.loads(row.get("metadata_json") or "{}")
        return cls(
            part_id=str(row["part_id"]),
            uri=str(row["uri"]),
            file_type=str(row["file_type"]),
            metadata=dict(metadata),
            fingerprint=str(row.get("fingerprint") or ""),
            size=int(row.get("size", MISSING_SIZE)),
        )


def read_part_bytes(uri: str, b2_api: Any = None) -> bytes:
    """The bytes of a part's file: a local path, or a ``b2://`` object read into memory.

    b2_api : an authorized B2Api; None: one authorized from the environment, once per process
    """
    if is_b2_uri(uri):
        bucket_name, key = parse_b2_uri(uri)
        return download_bytes(get_bucket(resolve_b2_api(b2_api), bucket_name), key)
    return Path(uri).read_bytes()
