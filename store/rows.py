"""Row layout between the pipeline's stages: plain strings and bytes, so Arrow blocks stay simple.

A discovered part: ``PartSource.to_row()`` (part_id, uri, file_type, metadata_json, fingerprint,
size), plus ``data`` (the file's bytes, or empty when the worker reads the uri itself).
A prepared (and then encoded) part adds: error ("" or an error JSON), payload_json, description,
points (float32 bytes), view_names (list[str]), views_png (list[bytes]), mesh_glb (the light GLB
of the page's 3D viewer, or empty: making it failed or is off); encoding adds
text, image, geometry (float32 bytes, (D,)) and views (float32 bytes, (K, D)).
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

PREPARED_COLUMNS = (
    "part_id",
    "uri",
    "fingerprint",
    "error",
    "payload_json",
    "description",
    "points",
    "view_names",
    "views_png",
    "mesh_glb",
    "prepared_on",  # Ray node id that ran the prepare stage
)
ENCODED_COLUMNS = (
    *PREPARED_COLUMNS,
    "text",
    "image",
    "geometry",
    "views",
    "bundle_id",
    "encoded_on",  # Ray node id of the encoder actor
)
# what the write stage reads of an encoded row (a search service that writes for the job gets
# these: serve/writer_api.py's EncodedRow)
NOT_WRITTEN = ("fingerprint", "description", "points")  # in the payload, or not stored
WRITE_COLUMNS = tuple(c for c in ENCODED_COLUMNS if c not in NOT_WRITTEN)
# bytes, or lists of bytes
BYTES_COLUMNS = ("views_png", "mesh_glb", "text", "image", "geometry", "views")


def node_id() -> str:
    """This process's Ray node id ("" outside Ray)."""
    try:
        import ray

        return ray.get_runtime_context().get_node_id() if ray.is_initialized() else ""
    except Exception:
        return ""


def error_record(
    part_id: str, uri: str, stage: str, error_type: str, code: str, message: str
) -> dict[str, str]:
    """One row of errors.jsonl: which part, at which stage, what kind of error, and why."""
    return {
        "part_id": part_id,
        "uri": uri,
        "stage": stage,
        "error_type": error_type,
        "code": code,
        "message": message[:2000],
    }


def exception_record(part_id: str, uri: str, stage: str, e: BaseException) -> dict[str, str]:
    """The errors.jsonl row of an exception (its ``code`` when it has one, else "internal")."""
    code = getattr(e, "code", None) or "internal"
    return error_record(part_id, uri, stage, type(e).__name__, code, str(e))


def error_row(row: dict[str, Any], stage: str, error_type: str, code: str, message: str) -> dict:
    """A prepared-shaped row that carries an error instead of data."""
    error = error_record(row["part_id"], row.get("uri", ""), stage, error_type, code, message)
    return {
        "part_id": row["part_id"],
        "uri": row.get("uri", ""),
        "fingerprint": row.get("fingerprint", ""),
        "error": json.dumps(error),
        "payload_json": "",
        "description": "",
        "points": b"",
        "view_names": [],
        "views_png": [],
        "mesh_glb": b"",
        "prepared_on": node_id(),
    }


def batch_to_rows(batch: dict[str, Any]) -> list[dict[str, Any]]:
    """A columnar Ray Data batch (dict of arrays) as a list of row dicts of Python values."""
    columns = list(batch)
    if not columns:
        return []
    count = len(batch[columns[0]])
    rows = []
    for i in range(count):
        row = {}
        for name in columns:
            value = batch[name][i]
            if isinstance(value, np.ndarray) and value.dtype == object:
                value = list(value)
            elif isinstance(value, np.generic):
                value = value.item()
            row[name] = value
        rows.append(row)
    return rows


def rows_to_batch(rows: list[dict[str, Any]], columns=None) -> dict[str, list]:
    """Row dicts back to a columnar batch (lists; Ray Data converts them)."""
    if not rows:
        return {name: [] for name in (columns or ())}
    columns = columns or list(rows[0])
    return {name: [row[name] for row in rows] for name in columns}


def points_of(row: dict[str, Any]) -> np.ndarray:
    """points : (N, 3) float32 of a prepared row."""
    return np.frombuffer(row["points"], dtype=np.float32).reshape(-1, 3)


def vector_bytes(vector: np.ndarray) -> bytes:
    return np.ascontiguousarray(vector, dtype=np.float32).tobytes()


def vector_of(data: bytes, dim: int) -> np.ndarray:
    """A (D,) or (K, D) float32 vector from bytes."""
    array = np.frombuffer(data, dtype=np.float32)
    return array if array.size == dim else array.reshape(-1, dim)
