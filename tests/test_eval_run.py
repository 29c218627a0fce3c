"""The eval job: its query inputs, and `cadsearch eval` end to end on a tiny catalog."""

from __future__ import annotations

import json
import math

import pytest

from cadsearch.cli import main
from data_jobs.catalog.generate import generate_catalog
from data_jobs.catalog.unseen import is_unseen
from data_jobs.evaluate.queries import (
    MIN_VIEW_SEPARATION,
    category_prompt,
    query_views,
    size_query,
    text_queries,
)
from data_jobs.splits import split_of

# eight categories, four parts each: every category has other members to find; the last two
# are unseen families (docs/unseen.md), scored apart
FAMILIES = (
    "hex_nut", "flat_washer", "spur_gear", "socket_head_cap_screw", "l_bracket", "dowel_pin",
    "wing_nut", "bevel_gear",
)  # fmt: skip
HEADLINE = ("mesh_map", "text_recall_at_5", "image_top1", "zero_shot_top1", "fused_gain")
RATES = (
    "mesh_map", "mesh_map_geometry", "mesh_map_image", "mesh_map_views", "text_recall_at_1",
    "text_recall_at_5", "text_recall_at_10", "text_map", "image_top1", "image_top1_excluding_self",
    "image_self_top1", "image_recall_at_5", "image_map", "zero_shot_top1", "zero_shot_top1_image",
)  # fmt: skip


def test_text_queries_are_the_unindexed_variants():
    record = {"description": "M8 hex nut", "descriptions": ["M8 hex nut", "hexagon nut M8", ""]}
    assert text_queries(record, {}) == ["hexagon nut M8"]
    payload = {"extents": [40.0, 20.0, 10.0], "meta": {"through_holes": 2}}
    assert size_query(payload) == "a part of 40 x 20 x 10 mm with 2 through holes"
    # no other variant: a query of the measured size, naming neither the part nor its category
    assert text_queries({"description": "M8 hex nut", "descriptions": ["M8 hex nut"]}, payload) == [
        size_query(payload)
    ]
    assert text_queries(None, {}) == ["a part"]


def test_category_prompts():
    assert category_prompt("hollow_section") == "a CAD model of a hollow section"
    assert category_prompt("angle") == "a CAD model of an angle"


def test_query_views_are_seeded_and_unlike_the_index_views():
    from encoders.geometry.render import get_view_set

    views = query_views(0, "hex_nut-5-00001", "canonical10", count=8)
    assert views == query_views(0, "hex_nut-5-00001", "canonical10", count=8)
    assert views != query_views(1, "hex_nut-5-00001", "canonical10", count=8)
    indexed = get_view_set("canonical10")
    for view in views:
        for other in indexed:
            cosine = float(view.direction() @ other.direction())
            assert math.degrees(math.acos(min(1.0, cosine))) >= MIN_VIEW_SEPARATION - 1e-6


@pytest.mark.integration
def test_cli_eval_quick_end_to_end(tmp_path, capsys):
    records = generate_catalog(tmp_path / "catalog", n=32, seed=5, families=FAMILIES)
    heldout = sorted(r["part_id"] for r in records if split_of(r["part_id"]) == "heldout")
    unseen = [r["part_id"] for r in records if is_unseen(r)]
    unseen_heldout = sorted(set(unseen) & set(heldout))
    out = tmp_path / "report"
    argv = ["eval", "--bundle", "cad-mini", "--catalog", str(tmp_path / "catalog")]
    assert main([*argv, "--quick", "--json", "--out", str(out), "--seed", "3"]) == 0

    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    for key in HEADLINE:
        assert key in line
    for key in RATES:
        assert 0.0 <= line[key] <= 1.0, key
    assert -1.0 <= line["fused_gain"] <= 1.0
    assert line["mesh_self_hits"] == 0
    assert line["bundle"] == "cad-mini" and line["bundle_id"].startswith("cad-mini-")
    assert line["trained"]["geometry_encoder"] is True
    # the trained cad-mini on 6 categories of 4 parts: well above chance (mesh AP ~0.2 at random)
    assert line["mesh_map"] > 0.4 and line["text_recall_at_5"] > 0.6, line
    counts = line["counts"]
    assert (counts["parts"], counts["categories"], counts["parts_failed"]) == (32, 8, 0)
    assert counts["query_parts"] == len(heldout) > 0
    assert counts["image_queries"] == 2 * len(heldout)
    assert set(line["per_category"]) == {r["category"] for r in records}
    assert "queries" not in line

    assert (out / "eval.md").read_text().startswith(f"# Eval of {line['bundle_id']}")
    assert (out / "eval.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    report = json.loads((out / "eval.json").read_text())
    assert report["mesh_map"] == line["mesh_map"]
    by_id = {r["part_id"]: r for r in records}
    assert sorted(q["part_id"] for q in report["queries"]["mesh"]) == heldout
    for query in report["queries"]["mesh"]:
        assert query["part_id"] not in query["top"]
    for query in report["queries"]["text"]:
        assert query["text"] in by_id[query["part_id"]]["descriptions"][1:]
    assert {q["size"] for q in report["queries"]["image"]} == {160, 320}

    # unseen families: the same tasks' own per-query values on the unseen held-out parts
    assert counts["unseen_indexed"] == len(unseen) == 8
    assert line["unseen_parts"] == len(unseen_heldout) > 0
    queries = report["queries"]
    assert sorted(q["part_id"] for q in queries["unseen_mesh"]) == unseen_heldout
    assert {q["part_id"] for q in queries["unseen_text"]} == set(unseen_heldout)
    mesh = [q["ap"] for q in queries["mesh"] if q["part_id"] in unseen_heldout]
    assert line["unseen_mesh_map"] == pytest.approx(sum(mesh) / len(mesh), abs=2e-4)
    text = [q["ap"] for q in queries["text"] if q["part_id"] in unseen_heldout]
    assert line["unseen_text_map"] == pytest.approx(sum(text) / len(text), abs=2e-4)
    category = {r["part_id"]: r["category"] for r in records}
    hits = [
        q["predicted_geometry"] == category[q["part_id"]]
        for q in queries["zero_shot"]
        if q["part_id"] in unseen_heldout
    ]
    assert line["unseen_zero_shot_top1"] == pytest.approx(sum(hits) / len(hits), abs=2e-4)
    assert 0.0 <= line["unseen_text_recall_at_5"] <= 1.0
    assert set(line["unseen_per_category"]) == {category[p] for p in unseen_heldout}
    assert "| `unseen_mesh_map` |" in (out / "eval.md").read_text()

    # predicted kind: every held-out part, the unseen families' parts scored apart
    predicted = queries["predicted"]
    assert sorted(q["part_id"] for q in predicted) == heldout
    for unseen_too, key in ((False, "predicted_top1"), (True, "unseen_predicted_top1")):
        hits = [q["predicted"] == q["category"] for q in predicted if q["unseen"] == unseen_too]
        assert line[key] == pytest.approx(sum(hits) / len(hits), abs=2e-4)
    assert {q["part_id"] for q in predicted if q["unseen"]} == set(unseen_heldout)
    assert all(0 < q["score"] <= 1 for q in predicted)


def test_cli_eval_prints_a_table_and_writes_the_report(tmp_path, capsys, monkeypatch):
    """Without --json: the headline table; undefined metrics (nan) show as '-' and JSON null."""
    import data_jobs.evaluate.run as run

    def fake_run_eval(bundle, catalog, **options):
        assert (bundle, options["split"], options["quick"]) == ("cad-mini", "all", False)
        return {
            "bundle": "cad-mini",
            "bundle_id": "cad-mini-000000000000",
            "trained": {"image_tower": False, "text_tower": True},
            "split": "all",
            "quick": False,
            "seed": 0,
            "catalog": str(catalog),
            "mesh_map": math.nan,
            "text_recall_at_5": 0.5,
            "image_top1": 0.25,
            "counts": {
                "parts": 2,
                "categories": 2,
                "query_parts": 2,
                "text_queries": 2,
                "image_queries": 4,
                "mesh_queries": 2,
                "parts_failed": 0,
            },  # fmt: skip
            "per_category": {
                "nut": {"parts": 1, "queries": 1, "text_recall_at_5": 1.0, "mesh_map": math.nan},
                "bolt": {"parts": 1, "queries": 1, "text_recall_at_5": 0.0},
            },
            "timings": {"index_s": 1.25, "total_s": 2.5},
            "queries": {"text": [{"part_id": "nut-1", "ap": math.nan}]},
        }

    monkeypatch.setattr(run, "run_eval", fake_run_eval)
    argv = ["eval", "--bundle", "cad-mini", "--catalog", "cat", "--split", "all"]
    assert main([*argv, "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "cad-mini-000000000000: 2 all query parts against 2 parts" in out
    assert "  text_recall_at_5             0.500" in out
    assert "  mesh_map                     -" in out
    report = json.loads((tmp_path / "eval.json").read_text())
    assert report["mesh_map"] is None and report["queries"]["text"][0]["ap"] is None
    page = (tmp_path / "eval.md").read_text()
    assert "| `text_recall_at_5` | 0.500 |" in page and "| nut | 1 | 1 | 1.000 |" in page
    assert (tmp_path / "eval.png").stat().st_size > 1000


def test_tune_rerank_candidates_are_valid_search_settings():
    from cadsearch.settings import SearchSettings
    from data_jobs.evaluate.tune import candidate_searches

    searches = [SearchSettings(**candidate) for candidate in candidate_searches()]
    assert not searches[0].reranks(["image"]) and not searches[0].reranks(["mesh"])
    assert all(s.reranks(["image"]) and s.reranks(["mesh"]) for s in searches[1:])
    assert [s.rerank_weights(["geometry"]) for s in searches[1:3]] == [
        {},
        {"geometry->geometry": 0.2},
    ]


def test_eval_without_unseen_parts_leaves_the_unseen_metrics_null():
    from data_jobs.evaluate.report import markdown, summary
    from data_jobs.evaluate.run import UNSEEN_METRICS, eval_unseen

    headline, table, details = eval_unseen(None, None, [])
    assert headline == {"unseen_parts": 0, **dict.fromkeys(UNSEEN_METRICS)}
    assert (table, details) == ({}, {})
    result = {
        **headline,
        "bundle_id": "cad-mini-000000000000",
        "trained": {"geometry_encoder": True},
        "split": "heldout",
        "quick": True,
        "seed": 0,
        "catalog": "cat",
        "counts": {
            "parts": 1,
            "categories": 1,
            "query_parts": 1,
            "text_queries": 1,
            "image_queries": 2,
            "mesh_queries": 1,
            "unseen_indexed": 0,
        },  # fmt: skip
        "per_category": {},
        "timings": {"total_s": 1.0},
    }
    assert summary(result)["unseen_text_recall_at_5"] is None
    page = markdown(result)
    assert "No query part of an unseen family or KiCad folder (0 indexed)." in page
    assert "| `unseen_mesh_map` |" not in page
