"""GET /v1/parts/{id}/duplicates and the duplicates count of search results, on the session's
running service (``served``): groups written by the dedup job's own writer into its out_dir."""

from __future__ import annotations

import shutil

import pytest

from data_jobs.dedup.groups import duplicate_groups, write_outputs
from data_jobs.dedup.pipeline import PartFacts

pytestmark = pytest.mark.integration


def _facts(record: dict) -> PartFacts:
    return PartFacts(
        part_id=record["part_id"], uri="", sha256="", name=record.get("name", ""),
        category=record["category"], extents=[10.0, 5.0, 2.0], units={},
        view_urls=[f"/views/{record['part_id']}/iso.png"],
    )  # fmt: skip


def test_duplicates_endpoint_before_and_after_a_dedup_run(served, http):
    a, b, c, lone = (r["part_id"] for r in served.catalog[:4])
    out = served.root / "dedup"
    shutil.rmtree(out, ignore_errors=True)

    before = http.get(f"/v1/parts/{a}/duplicates")
    assert before.status_code == 200, before.text
    assert before.json()["dedup_ran"] is False and before.json()["duplicates"] == []
    assert "cadsearch dedup" in before.json()["message"]
    missing = http.get("/v1/parts/no-such-part/duplicates")
    assert missing.status_code == 404 and missing.json()["error"]["field"] == "part_id"

    records = [
        {"a": a, "b": b, "relation": "identical", "scale": 1.0, "distance": 0.0},
        {"a": b, "b": c, "relation": "mirrored", "scale": 1.0, "distance": 0.0001},
        {"a": a, "b": lone, "relation": "different", "scale": 1.3, "distance": 0.2},
    ]
    facts = [_facts(r) for r in served.catalog]
    out.mkdir(parents=True)
    try:
        write_outputs(out, facts, duplicate_groups(facts, records), records)
        answer = http.get(f"/v1/parts/{a}/duplicates").json()
        assert answer["dedup_ran"] is True and answer["count"] == 2 and answer["group"] == 0
        by_id = {d["part_id"]: d for d in answer["duplicates"]}
        assert by_id[b]["relation"] == "identical" and by_id[b]["via"] == []
        assert by_id[c]["relation"] == "mirrored" and by_id[c]["via"] == [b]
        view = by_id[b]["view_urls"][0]  # the group file's view, as a path on the service
        assert view.startswith("/views/")
        alone = http.get(f"/v1/parts/{lone}/duplicates").json()
        assert alone["dedup_ran"] is True and alone["duplicates"] == [] and alone["count"] == 0

        found = http.post("/v1/search", json={"part_id": b, "top_k": 12}).json()["results"]
        counts = {hit["part_id"]: hit["duplicates"] for hit in found}
        assert counts[a] == 2 and counts[c] == 2 and counts[lone] == 0
    finally:
        shutil.rmtree(out, ignore_errors=True)
