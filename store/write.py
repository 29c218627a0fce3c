"""Writing encoded parts (store/rows.py): view PNGs and the light GLB to the view store, then
one batched upsert into the collection; a part the store refuses becomes an error record, and
leaves no views behind. The reindex job's write stage and the service's index-one both write here.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .rows import exception_record, vector_of

log = logging.getLogger(__name__)
UNCATEGORIZED = "uncategorized"


@dataclass
class WriteResult:
    """What one write call did."""

    indexed: list[str] = field(default_factory=list)  # part ids now in the collection
    errors: list[dict[str, Any]] = field(default_factory=list)  # error report rows
    nodes: dict[str, dict[str, int]] = field(default_factory=dict)  # stage -> node id -> parts

    def merge(self, other: WriteResult) -> None:
        self.indexed.extend(other.indexed)
        self.errors.extend(other.errors)
        for stage, counts in other.nodes.items():
            mine = self.nodes.setdefault(stage, {})
            for node, count in counts.items():
                mine[node] = mine.get(node, 0) + count

    def count_node(self, stage: str, node: str) -> None:
        if node:
            counts = self.nodes.setdefault(stage, {})
            counts[node] = counts.get(node, 0) + 1


def _record(row: dict[str, Any], spec, view_urls: list[str], mesh_url: str = ""):
    from .schema import PartRecord

    payload = json.loads(row["payload_json"])
    views = vector_of(row["views"], spec.dim)
    return PartRecord(
        part_id=row["part_id"],
        vectors={
            "text": vector_of(row["text"], spec.dim),
            "image": vector_of(row["image"], spec.dim),
            "geometry": vector_of(row["geometry"], spec.dim),
            "views": views.reshape(-1, spec.dim),
        },
        category=payload["category"] or UNCATEGORIZED,
        content_sha256=payload["content_sha256"],
        fingerprint=payload["fingerprint"],
        bbox_min=payload["bbox_min"],
        bbox_max=payload["bbox_max"],
        name=payload["name"],
        tags=payload["tags"],
        description=payload["description"],
        source_uri=payload["source_uri"],
        face_count=int(payload["face_count"]),
        view_urls=view_urls,
        mesh_url=mesh_url,
        meta={**payload["meta"], "through_holes": payload["through_holes"]},
        bundle_id=row["bundle_id"],
        predicted_category=payload.get("predicted_category", ""),
        predicted_score=payload.get("predicted_score"),
    )


def _error(row: dict[str, Any], stage: str, e: Exception) -> dict[str, str]:
    return exception_record(row["part_id"], row.get("uri", ""), stage, e)


def write_rows(rows: Iterable[dict[str, Any]], store, view_store) -> WriteResult:
    """Write encoded rows: views first, then one batched upsert; error rows go to the report.

    A batch the store refuses is retried part by part, so one bad record never costs the others.
    """
    result = WriteResult()
    records, written_views = [], []
    for row in rows:
        result.count_node("prepare", row.get("prepared_on", ""))
        result.count_node("encode", row.get("encoded_on", ""))
        if row["error"]:
            result.errors.append(json.loads(row["error"]))
            continue
        try:
            from .schema import prepare_record

            # the record is checked before its views are stored: a refused part leaves no views
            prepare_record(_record(row, store.spec, []), store.spec)
            pairs = list(zip(row["view_names"], row["views_png"], strict=True))
            urls = view_store.put_views(row["part_id"], pairs)
            mesh_url = _put_mesh(row, view_store)
            records.append((row, _record(row, store.spec, urls, mesh_url)))
            written_views.append(row["part_id"])
        except Exception as e:
            result.errors.append(_error(row, "write", e))
    if not records:
        return result
    try:
        store.upsert([record for _, record in records])
        result.indexed.extend(record.part_id for _, record in records)
    except Exception:
        for row, record in records:
            try:
                store.upsert([record])
                result.indexed.append(record.part_id)
            except Exception as e:
                result.errors.append(_error(row, "write", e))
    return result


def _put_mesh(row: dict[str, Any], view_store) -> str:
    """The URL of the part's light GLB once stored, or "" (none made, or the store refused it:
    the part is indexed without a 3D view all the same)."""
    data = row.get("mesh_glb") or b""
    if not data:
        return ""
    try:
        return view_store.put_mesh(row["part_id"], data)
    except Exception as e:
        log.warning("part %r: light GLB not stored (%s: %s)", row["part_id"], type(e).__name__, e)
        return ""
