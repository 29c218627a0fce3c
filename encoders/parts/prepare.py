"""Prepare one part: read it, load, validate, normalize, sample points, render views, describe,
and keep a light GLB of it for the page's 3D viewer; a part that fails becomes an error row
(the job never stops for one file)."""

from __future__ import annotations

import hashlib
import json
import logging
import traceback
from typing import TYPE_CHECKING, Any

import numpy as np

from store.rows import error_row, node_id

if TYPE_CHECKING:
    from cadsearch.settings import Settings
    from encoders.geometry.prepare import PreparedPart

log = logging.getLogger(__name__)
PAYLOAD_METADATA = ("name", "category", "tags", "description")


def light_mesh(prepared: PreparedPart, settings: Settings, part_id: str) -> bytes:
    """The part's light GLB for the page's 3D viewer, or b"" when it is off or fails: the page
    then offers no 3D view, and the part is indexed all the same."""
    from encoders.geometry.light_mesh import light_mesh_glb

    max_kb = settings.render.glb_max_kb
    if max_kb <= 0:
        return b""
    try:
        return light_mesh_glb(prepared.part, int(max_kb * 1000))
    except Exception as e:
        log.warning(
            "part %r: no light GLB for the 3D viewer (%s: %s)", part_id, type(e).__name__, e
        )
        return b""


def prepare_row(row: dict[str, Any], settings: Settings, b2_api=None) -> dict[str, Any]:
    """One discovered part to a prepared row, or an error row (the job never stops for one file)."""
    from encoders.geometry.errors import MeshError
    from encoders.geometry.prepare import prepare_part
    from encoders.parts.source import PartSource, read_part_bytes

    stage = "read"
    try:
        source = PartSource.from_row(row)
        problem = source.problem()
        if problem is not None:
            raise problem
        metadata = source.metadata
        data = row.get("data") or read_part_bytes(row["uri"], b2_api=b2_api)
        stage = "prepare"
        prepared = prepare_part(
            data, row["part_id"], metadata, settings, file_type=row["file_type"], render=True
        )
    except MeshError as e:
        return error_row(row, stage, type(e).__name__, e.code, str(e))
    except Exception as e:
        detail = traceback.format_exception_only(type(e), e)[-1].strip()
        return error_row(row, stage, type(e).__name__, "internal", detail)

    tags = metadata.get("tags") or []
    payload = {
        "part_id": row["part_id"],
        "name": str(metadata.get("name") or row["part_id"].rsplit("/", 1)[-1]),
        "category": str(metadata.get("category") or ""),
        "tags": [str(t) for t in (tags if isinstance(tags, list) else [tags])],
        "description": prepared.description,
        "source_uri": row["uri"],
        "content_sha256": hashlib.sha256(data).hexdigest(),
        "fingerprint": row["fingerprint"],
        "bbox_min": list(prepared.part.bbox.min),
        "bbox_max": list(prepared.part.bbox.max),
        "face_count": prepared.facts.faces,
        "through_holes": prepared.facts.through_holes,
        "meta": {k: v for k, v in metadata.items() if k not in PAYLOAD_METADATA},
    }
    return {
        "part_id": row["part_id"],
        "uri": row["uri"],
        "fingerprint": row["fingerprint"],
        "error": "",
        "payload_json": json.dumps(payload, default=str),
        "description": prepared.description,
        "points": np.ascontiguousarray(prepared.points, dtype=np.float32).tobytes(),
        "view_names": [view.name for view in prepared.views],
        "views_png": [view.png() for view in prepared.views],
        "mesh_glb": light_mesh(prepared, settings, row["part_id"]),
        "prepared_on": node_id(),
    }
