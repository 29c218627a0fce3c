"""The store contract: the same suite on Qdrant Edge and on the server API (qdrant-client).

Small synthetic catalogs with planted structure (bench/helpers/synthetic.py): a query made of
one part's vectors finds that part first, so rankings are predictable.
"""

from __future__ import annotations

import re
import uuid

import numpy as np
import pytest

from bench.helpers.synthetic import SyntheticCatalog
from store import (
    BundleMismatchError,
    CollectionSpec,
    Filters,
    FusedQuery,
    InvalidQueryError,
    InvalidRecordError,
    PartRecord,
    Range,
    point_id,
)
from store.edge import EdgeStore
from store.fusion import rank_key
from store.query import DEFAULT_WEIGHTS, plan_search, same_size_filters
from store.schema import PART_NAMESPACE
from store.server import ServerStore
from store.similarity import SimilarityScale, match_score

SPEC = CollectionSpec(bundle_id="test-bundle-1", dim=32, view_count=4, view_set="tiny4")
N = 60
FUSIONS = ("rrf", "dbsf", "weighted_sum")


@pytest.fixture(scope="module")
def catalog() -> SyntheticCatalog:
    return SyntheticCatalog(SPEC, categories=6, seed=3)


@pytest.fixture(scope="module")
def records(catalog):
    recs = catalog.records(0, N)
    for rec in recs[::10]:  # some parts lost their views (their render stage failed)
        rec.vectors = {k: v for k, v in rec.vectors.items() if k != "views"}
    return recs


def open_backend(kind: str, tmp_path, spec=SPEC, client=None):
    if kind == "edge":
        return EdgeStore(tmp_path / "edge", spec)
    return ServerStore(
        spec, collection="parts", client=client, location=None if client else ":memory:"
    )


@pytest.fixture(params=["edge", "server"])
def store(request, tmp_path, records):
    s = open_backend(request.param, tmp_path)
    s.upsert(records)
    s.optimize()
    yield s
    s.close()


def query_of(rec: PartRecord, **kwargs) -> FusedQuery:
    v = rec.vectors
    return FusedQuery(text=v["text"], image=v["image"], geometry=v["geometry"], **kwargs)


def ids(hits):
    return [h.part_id for h in hits]


def fused_order(hits):
    """The hits as the fusion (or the rerank) ranked them: by score, ties by point id."""
    return sorted(hits, key=lambda h: rank_key((h.id, h.score)))


def similarity_order(hits):
    """A page as the store returns it: by percentage, equal ones in the fused order."""
    fused = fused_order(hits)
    return sorted(fused, key=lambda h: -h.similarity_percent)


def never_rises(hits) -> bool:
    percents = [h.similarity_percent for h in hits]
    return all(b <= a for a, b in zip(percents, percents[1:], strict=False))


# -- writes and reads ---------------------------------------------------------------------------


def test_upsert_count_get(store, records):
    store.flush()
    assert store.count() == N
    rec = records[7]
    part = store.get(rec.part_id)
    assert part.id == point_id(rec.part_id) == str(uuid.uuid5(PART_NAMESPACE, rec.part_id))
    assert part.vectors is None
    p = part.payload
    assert p["part_id"] == rec.part_id and p["category"] == rec.category
    assert p["tags"] == list(rec.tags) and p["bundle_id"] == SPEC.bundle_id
    sizes = np.subtract(rec.bbox_max, rec.bbox_min)
    assert np.allclose([p["size_x"], p["size_y"], p["size_z"]], sizes)
    assert np.allclose(p["extents"], sorted(sizes, reverse=True))
    assert p["extent_max"] == p["extents"][0] and p["extent_min"] == p["extents"][2]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", p["indexed_at"])
    assert p["meta"] == {"index": 7} and p["view_urls"] == list(rec.view_urls)
    full = store.get(rec.part_id, with_vectors=True)
    assert set(full.vectors) == {"text", "image", "geometry", "views"}
    assert full.vectors["views"].shape == (SPEC.view_count, SPEC.dim)
    for name in ("text", "image", "geometry"):
        want = rec.vectors[name] / np.linalg.norm(rec.vectors[name])
        assert np.allclose(full.vectors[name], want, atol=1e-5)
    assert set(store.get(records[10].part_id, with_vectors=True).vectors) == {
        "text",
        "image",
        "geometry",
    }
    assert store.get("no-such-part") is None
    got = store.get_many([records[3].part_id, "missing", records[1].part_id])
    assert [g.part_id for g in got] == [records[3].part_id, records[1].part_id]


def test_reupsert_is_idempotent(store, records):
    rec = records[5]
    changed = PartRecord(**{**rec.__dict__, "name": "renamed", "tags": ["new-tag"]})
    store.upsert([changed])
    store.upsert([changed])
    assert store.count() == N
    assert store.get(rec.part_id).payload["name"] == "renamed"
    assert store.facet("tags")["new-tag"] == 1
    assert [e.part_id for e in store.iter_ids()].count(rec.part_id) == 1


def test_delete(store, records):
    gone = [records[0].part_id, records[1].part_id]
    assert store.delete([*gone, "never-indexed"]) == 2
    assert store.count() == N - 2
    assert store.get(gone[0]) is None
    hits = store.search(query_of(records[0], top_k=20))
    assert not set(gone) & set(ids(hits))
    assert store.delete([]) == 0


def test_iter_ids(store, records):
    entries = list(store.iter_ids(batch_size=7))
    assert len(entries) == N
    by_part = {e.part_id: e for e in entries}
    rec = records[11]
    assert by_part[rec.part_id].content_sha256 == rec.content_sha256
    assert by_part[rec.part_id].bundle_id == SPEC.bundle_id
    assert by_part[rec.part_id].id == point_id(rec.part_id)
    assert by_part[rec.part_id].fingerprint == rec.fingerprint == f"sha256:{rec.content_sha256}"
    assert len(list(store.iter_points(batch_size=9))) == N


# -- filters, counts, facets --------------------------------------------------------------------


def _sizes(rec):
    s = np.subtract(rec.bbox_max, rec.bbox_min)
    return {"size_x": s[0], "size_y": s[1], "size_z": s[2]} | dict(
        zip(("extent_max", "extent_mid", "extent_min"), sorted(s, reverse=True), strict=True)
    )


FILTER_CASES = {
    "categories": (
        Filters(categories=["cat01", "cat04"]),
        lambda r: r.category in ("cat01", "cat04"),
    ),
    "tags_any": (Filters(tags_any=["steel", "brass"]), lambda r: {"steel", "brass"} & set(r.tags)),
    "tags_all": (
        Filters(tags_all=["metric", "brass"]),
        lambda r: {"metric", "brass"} <= set(r.tags),
    ),
    "extent_max": (
        Filters(extent_max=Range(gte=100, lte=300)),
        lambda r: 100 <= _sizes(r)["extent_max"] <= 300,
    ),
    "extent_mid": (Filters(extent_mid=Range(lte=50)), lambda r: _sizes(r)["extent_mid"] <= 50),
    "extent_min": (Filters(extent_min=Range(gte=10)), lambda r: _sizes(r)["extent_min"] >= 10),
    "size_x": (Filters(size_x=Range(gte=20, lte=200)), lambda r: 20 <= _sizes(r)["size_x"] <= 200),
    "size_y": (Filters(size_y=Range(lte=40)), lambda r: _sizes(r)["size_y"] <= 40),
    "size_z": (Filters(size_z=Range(gte=30)), lambda r: _sizes(r)["size_z"] >= 30),
    "exclude": (
        Filters(exclude_part_ids=["part-0000002", "part-0000008"]),
        lambda r: r.part_id not in ("part-0000002", "part-0000008"),
    ),
    "combined": (
        Filters(categories=["cat02"], tags_any=["metric"], size_x=Range(gte=5)),
        lambda r: r.category == "cat02" and "metric" in r.tags and _sizes(r)["size_x"] >= 5,
    ),
}


@pytest.mark.parametrize("case", list(FILTER_CASES))
def test_filters(store, records, case):
    filters, keep = FILTER_CASES[case]
    expected = {r.part_id for r in records if keep(r)}
    assert 0 < len(expected) < N, "a filter case must select some, not all"
    assert store.count(filters) == len(expected)
    assert store.count(filters.model_dump()) == len(expected)  # a plain mapping works too
    for fusion in FUSIONS:
        hits = store.search(query_of(records[2], filters=filters, top_k=N, fusion=fusion))
        assert set(ids(hits)) <= expected
        assert len(hits) == min(len(expected), N)
    reranked = store.search(query_of(records[2], filters=filters, top_k=N, rerank=True))
    assert reranked and set(ids(reranked)) <= expected


def test_facets(store, records):
    facets = store.facets()
    assert set(facets) == {"category", "tags"}
    cats = {}
    for r in records:
        cats[r.category] = cats.get(r.category, 0) + 1
    assert facets["category"] == cats
    tags = {}
    for r in records:
        for t in r.tags:
            tags[t] = tags.get(t, 0) + 1
    assert facets["tags"] == tags
    counts = list(facets["tags"].values())
    assert counts == sorted(counts, reverse=True)
    only = store.facet("tags", Filters(categories=["cat00"]))
    assert only == {
        t: sum(t in r.tags for r in records if r.category == "cat00")
        for t in {t for r in records if r.category == "cat00" for t in r.tags}
    }


def test_facets_drop_a_category_once_its_last_part_is_deleted(store, records):
    lone = [r for r in records if r.category == "cat00"]
    store.delete([r.part_id for r in lone])
    store.flush()
    facets = store.facets()
    assert "cat00" not in facets["category"]
    assert all(count > 0 for counts in facets.values() for count in counts.values())


def test_predicted_kind_is_stored_and_filters(store, records, catalog):
    fresh = catalog.records(N, 3)
    predicted = [("spur_gear", 0.72), ("hex nut", 0.4), ("", None)]
    fresh = [
        _bad(rec, category="uncategorized", predicted_category=kind, predicted_score=score)
        for rec, (kind, score) in zip(fresh, predicted, strict=True)
    ]
    store.upsert(fresh)
    store.flush()
    payload = store.get(fresh[0].part_id).payload
    assert (payload["predicted_category"], payload["predicted_score"]) == ("spur_gear", 0.72)
    assert "predicted_category" not in store.get(fresh[2].part_id).payload
    kinds = Filters(predicted_categories=["spur_gear", "hex nut"])
    assert store.count(kinds) == 2
    assert store.count(kinds.model_copy(update={"min_predicted_score": 0.5})) == 1
    hits = store.search(query_of(fresh[1], filters=kinds, top_k=N))
    assert ids(hits) == [fresh[1].part_id, fresh[0].part_id]
    assert store.facets()["category"]["uncategorized"] == 3
    with pytest.raises(InvalidRecordError, match="both or neither"):
        store.upsert([_bad(records[0], predicted_category="gear")])
    with pytest.raises(InvalidRecordError, match=r"in \[0, 1\]"):
        store.upsert([_bad(records[0], predicted_category="gear", predicted_score=1.5)])


# -- search -------------------------------------------------------------------------------------


@pytest.mark.parametrize("fusion", FUSIONS)
def test_fusion_finds_the_part(store, records, fusion):
    rec = records[13]
    hits = store.search(query_of(rec, fusion=fusion, top_k=8))
    assert hits[0].part_id == rec.part_id
    assert len(hits) == 8 and never_rises(hits)
    same_category = sum(h.payload["category"] == rec.category for h in hits)
    assert same_category >= 6  # planted clusters: category mates come next
    top = hits[0]
    assert set(top.cosines) == {f"{m}->{t}" for (m, t), w in DEFAULT_WEIGHTS.items() if w > 0}
    assert top.cosines["text->text"] == pytest.approx(1.0, abs=1e-5)
    stored = store.get(hits[3].part_id, with_vectors=True).vectors
    q = rec.vectors["image"] / np.linalg.norm(rec.vectors["image"])
    assert hits[3].cosines["image->geometry"] == pytest.approx(
        float(stored["geometry"] @ q), abs=1e-5
    )
    assert top.payload["category"] == rec.category and "bbox_min" in top.payload


def test_weighted_sum_score_is_the_weighted_cosines(store, records):
    hits = store.search(query_of(records[20], fusion="weighted_sum", top_k=5))
    for hit in hits:  # the part's neighbours appear in every prefetch list at this size
        want = sum(DEFAULT_WEIGHTS[tuple(k.split("->"))] * c for k, c in hit.cosines.items())
        assert hit.score == pytest.approx(want, abs=1e-4)


@pytest.mark.parametrize("fusion", ["rrf", "weighted_sum"])
def test_native_and_python_paths_agree(store, records, fusion):
    q = query_of(records[4], fusion=fusion, top_k=10, filters=Filters(tags_any=["metric", "steel"]))
    native, python = store.search(q), store.search(q, native=False)
    assert ids(native) == ids(python)
    assert [h.score for h in native] == pytest.approx([h.score for h in python], abs=1e-5)


def test_dbsf_paths(store, records):
    ones = {k: 1.0 for k in DEFAULT_WEIGHTS}
    q = query_of(records[9], fusion="dbsf", weights=ones, top_k=10)
    assert plan_search(q, SPEC).native
    native, python = store.search(q), store.search(q, native=False)
    assert ids(native) == ids(python)
    assert [h.score for h in native] == pytest.approx([h.score for h in python], abs=1e-4)
    weighted = query_of(records[9], fusion="dbsf", top_k=10)
    assert not plan_search(weighted, SPEC).native  # Qdrant's DBSF takes no weights
    with pytest.raises(ValueError, match="no native path"):
        store.search(weighted, native=True)
    assert store.search(weighted)[0].part_id == records[9].part_id


def test_weights_select_pairs(store, records):
    rec = records[15]
    q = FusedQuery(text=rec.vectors["text"], weights={"text->image": 0, ("text", "geometry"): 0})
    hits = store.search(q)
    assert set(hits[0].cosines) == {"text->text"} and hits[0].part_id == rec.part_id
    with pytest.raises(InvalidQueryError, match="views->text"):
        store.search(FusedQuery(text=rec.vectors["text"], weights={"views->text": 1.0}))
    with pytest.raises(InvalidQueryError, match="-1"):
        store.search(FusedQuery(text=rec.vectors["text"], weights={"text->text": -1}))
    with pytest.raises(InvalidQueryError, match=r"shape \(31,\)"):
        store.search(FusedQuery(text=np.ones(31)))
    with pytest.raises(InvalidQueryError, match="at least one"):
        store.search(FusedQuery())
    with pytest.raises(InvalidQueryError, match="empty range"):
        store.search(FusedQuery(text=rec.vectors["text"], filters={"size_x": {"gte": 5, "lte": 1}}))
    with pytest.raises(InvalidQueryError, match="colour"):
        store.count({"colour": ["red"]})


def test_invalid_query_names_its_field():
    """Each refusal carries the query field at fault, also across pickling (Ray)."""
    import pickle

    text = np.ones(SPEC.dim, dtype=np.float32)
    for query, field in (
        (FusedQuery(text=text, weights={"text->text": -1}), "weights"),
        (FusedQuery(text=text, top_k=0), "top_k"),
        (FusedQuery(text=text, offset=-2), "offset"),
        (FusedQuery(text=text, fusion="max"), "fusion"),
        (FusedQuery(text=text, filters={"colour": ["red"]}), "filters"),
        (FusedQuery(text=text, rerank=True, rerank_weights={"x": 1}), "rerank_weights"),
        (FusedQuery(), "query"),
    ):
        with pytest.raises(InvalidQueryError) as caught:
            plan_search(query, SPEC)
        assert caught.value.field == field, (query, str(caught.value))
        copied = pickle.loads(pickle.dumps(caught.value))
        assert (copied.field, str(copied)) == (field, str(caught.value))


@pytest.mark.parametrize("fusion", FUSIONS)
def test_rerank_by_views(store, records, fusion):
    rec = records[21]
    q = FusedQuery(views=rec.vectors["views"], rerank=True, fusion=fusion, top_k=6)
    hits = store.search(q)
    assert hits[0].part_id == rec.part_id
    assert set(hits[0].cosines) == {"image->image", "image->geometry", "image->text"}
    for hit in hits:  # the ranking score is the MaxSim over the stored views, exactly
        assert hit.maxsim == pytest.approx(hit.score, abs=1e-4)
    assert hits[0].score == pytest.approx(SPEC.view_count, abs=1e-4)
    no_views = {r.part_id for r in records[::10]}
    assert not no_views & set(ids(store.search(query_of(rec, rerank=True, top_k=N))))
    if fusion == "rrf":
        one_row = store.search(FusedQuery(image=rec.vectors["image"], rerank=True, top_k=3))
        assert one_row[0].part_id == rec.part_id and one_row[0].maxsim <= 1.0 + 1e-6


def test_rerank_weights_add_pair_cosines(store, records):
    """MaxSim plus weighted pair cosines (per query row), the same on the native and the
    Python fusion path; a modality the query lacks adds nothing; parts without views drop out."""
    rec = records[21]
    rng = np.random.default_rng(5)
    views = rec.vectors["views"] + rng.normal(scale=0.2, size=rec.vectors["views"].shape)
    weights = {"geometry->geometry": 0.5, "image->geometry": 0.25}
    answers = []
    for fusion, fused_weights in (("rrf", None), ("dbsf", {"image->text": 0.5})):
        q = FusedQuery(
            views=views,
            geometry=rec.vectors["geometry"],
            rerank=True,
            rerank_weights=weights,
            fusion=fusion,
            weights=fused_weights,
            top_k=N,
        )
        assert plan_search(q, SPEC).native == (fusion == "rrf")
        hits = store.search(q)
        rows = len(views)
        for hit in hits:  # the engine's score against one recomputed from the stored vectors
            extra = sum(w * hit.cosines[pair] for pair, w in weights.items())
            assert hit.score == pytest.approx(hit.maxsim + rows * extra, abs=1e-3)
        assert not {r.part_id for r in records[::10]} & set(ids(hits))
        answers.append(hits)
    # the same rerank scores on both paths (each page ordered by its own fused pairs' match)
    assert ids(fused_order(answers[0])) == ids(fused_order(answers[1]))
    plain = FusedQuery(image=rec.vectors["image"], rerank=True, top_k=5)
    lacking = FusedQuery(
        image=rec.vectors["image"], rerank=True, top_k=5, rerank_weights={"geometry->text": 1.0}
    )
    assert [h.score for h in store.search(lacking)] == [h.score for h in store.search(plain)]
    with pytest.raises(InvalidQueryError, match="weight"):
        store.search(FusedQuery(image=rec.vectors["image"], rerank=True, rerank_weights={"x": 1}))


def test_offset_pages(store, records):
    full = store.search(query_of(records[30], top_k=12))
    page = store.search(query_of(records[30], top_k=4, offset=4))
    assert ids(page) == ids(similarity_order(fused_order(full)[4:8]))


def test_more_like_this_excludes_the_part(store, records):
    rec = records[33]
    hits = store.search(query_of(rec, filters=Filters(exclude_part_ids=[rec.part_id])))
    assert rec.part_id not in ids(hits) and hits[0].payload["category"] == rec.category


# -- readable similarity: min_similarity and same_size (docs/similarity.md) -----------------------

SCALE = SimilarityScale((0.0, 0.4, 0.9), (0.0, 20.0, 100.0))


def test_min_similarity_drops_hits_below_it_before_paging(store, records):
    rec = records[2]
    for fusion, rerank in (("rrf", False), ("weighted_sum", False), ("rrf", True)):
        # every part a candidate, so the whole ranking is known
        query = dict(fusion=fusion, rerank=rerank, similarity=SCALE, prefetch_limit=N)
        full = fused_order(store.search(query_of(rec, top_k=N, **query)))
        weights = {p.name: p.weight for p in plan_search(query_of(rec, **query), SPEC).pairs}
        for hit in full:  # the weighted mean cosine of the fused pairs, through the scale
            assert hit.match == pytest.approx(match_score(hit.cosines, weights))
            assert hit.similarity_percent == SCALE.percent_of(hit.match)
        percents = [h.similarity_percent for h in full]
        # where the ranking is not by similarity alone, a floor that drops a hit ranked above a
        # kept one: the page must fill up with the kept ones after it
        crossings = [p for j, p in enumerate(percents) if j and min(percents[:j]) < p]
        assert crossings or fusion != "rrf", "this RRF ranking is by similarity alone"
        floor = max(crossings, default=sorted(percents, reverse=True)[9])
        kept = [h for h in full if h.similarity_percent >= floor]
        for offset, top_k in ((0, len(kept)), (1, 2), (len(kept) - 1, 5)):
            page = store.search(
                query_of(rec, top_k=top_k, offset=offset, min_similarity=floor, **query)
            )
            want = similarity_order(kept[offset : offset + top_k])
            assert ids(page) == ids(want), (fusion, rerank, offset)
    for bad in (-1, 100.5, float("nan")):
        with pytest.raises(InvalidQueryError) as err:
            store.search(query_of(rec, min_similarity=bad))
        assert err.value.field == "min_similarity"


def test_a_page_is_ordered_by_similarity(store, records):
    """The fusion (or rerank) picks a page's parts; their percentages order it, never rising
    down the page, equal ones in the fused order (docs/similarity.md#page-order)."""
    rng = np.random.default_rng(7)
    rec = records[5]
    noisy = {m: rec.vectors[m] + rng.normal(scale=0.3, size=SPEC.dim) for m in ("text", "image")}
    crossed = 0
    for fusion, rerank in [*((f, False) for f in FUSIONS), ("rrf", True)]:
        query = dict(
            text=noisy["text"],
            image=noisy["image"],
            geometry=rec.vectors["geometry"],
            views=rec.vectors["views"] if rerank else None,
            fusion=fusion,
            rerank=rerank,
            similarity=SCALE,
            prefetch_limit=N,
        )
        ranking = fused_order(store.search(FusedQuery(top_k=N, **query)))
        for offset, top_k in ((0, 10), (10, 10), (3, 5)):
            page = store.search(FusedQuery(top_k=top_k, offset=offset, **query))
            fused_page = ranking[offset : offset + top_k]
            assert never_rises(page), (fusion, rerank, offset)
            assert ids(page) == ids(similarity_order(fused_page)), (fusion, rerank, offset)
            crossed += not never_rises(fused_page)
    assert crossed, "no fused page had its percentages out of order: the test proves nothing"


def test_same_size_keeps_parts_within_the_tolerance(store, records):
    rec = records[12]
    extents = sorted(np.subtract(rec.bbox_max, rec.bbox_min), reverse=True)

    def same_size(r, tolerance):
        sizes = _sizes(r)
        return all(
            e * (1 - tolerance / 100) - 1e-6 <= sizes[name] <= e * (1 + tolerance / 100) + 1e-6
            for name, e in zip(("extent_max", "extent_mid", "extent_min"), extents, strict=True)
        )

    alike = {r.part_id for r in records if same_size(r, 80)}
    assert rec.part_id in alike and 2 < len(alike) < N
    own = Filters(extent_min=Range(gte=_sizes(rec)["extent_min"]))  # the user's own size filter
    both = {
        r.part_id
        for r in records
        if r.part_id in alike and _sizes(r)["extent_min"] >= own.extent_min.gte
    }
    assert 0 < len(both) < len(alike)
    for filters, expected in (
        (same_size_filters(None, extents, 80), alike),
        (same_size_filters(own, extents, 80), both),
    ):
        assert store.count(filters) == len(expected)
        assert set(ids(store.search(query_of(rec, filters=filters, top_k=N)))) == expected
    narrow = same_size_filters(None, extents, 1)
    assert ids(store.search(query_of(rec, filters=narrow, top_k=N))) == [rec.part_id]


# -- bundles and bad records --------------------------------------------------------------------


def test_bundle_mismatch(store, records, tmp_path):
    other = CollectionSpec(bundle_id="other-bundle-2", dim=SPEC.dim, view_count=SPEC.view_count)
    with pytest.raises(BundleMismatchError, match="test-bundle-1.*other-bundle-2") as err:
        reopen(store, tmp_path, other)
    assert err.value.stored == "test-bundle-1" and err.value.requested == "other-bundle-2"
    wider = CollectionSpec(bundle_id=SPEC.bundle_id, dim=64, view_count=SPEC.view_count)
    with pytest.raises(BundleMismatchError, match="dim 64"):
        reopen(store, tmp_path, wider)
    with pytest.raises(BundleMismatchError, match="other-bundle-2"):
        store.search(query_of(records[0], bundle_id="other-bundle-2"))
    stray = PartRecord(**{**records[0].__dict__, "bundle_id": "other-bundle-2"})
    with pytest.raises(BundleMismatchError, match="other-bundle-2"):
        store.upsert([stray])


def reopen(store, tmp_path, spec):
    """Open the same collection again (Edge: after closing it, one writer at a time)."""
    if isinstance(store, EdgeStore):
        store.close()
        return EdgeStore(store.path, spec).close()
    return ServerStore(spec, collection=store.collection, client=store.client)


def _bad(rec: PartRecord, **changes) -> PartRecord:
    return PartRecord(**{**rec.__dict__, **changes})


def _with_vector(rec, name, value):
    vectors = dict(rec.vectors)
    if value is None:
        vectors.pop(name)
    else:
        vectors[name] = value
    return _bad(rec, vectors=vectors)


def test_invalid_records_are_refused_whole(store, records, catalog):
    rec, fresh = records[3], catalog.records(N, 2)
    before = store.get(rec.part_id, with_vectors=True)
    nan = np.array(rec.vectors["text"], copy=True)
    nan[0] = np.nan
    cases = {
        "non-finite": _with_vector(rec, "text", nan),
        r"shape \(16,\)": _with_vector(rec, "image", np.ones(16)),
        r"shape \(3, 32\)": _with_vector(rec, "views", np.ones((3, 32))),
        "missing vectors": _with_vector(rec, "geometry", None),
        "zero-length": _with_vector(rec, "geometry", np.zeros(32)),
        "unknown vector names": _with_vector(rec, "sketch", np.ones(32)),
        "content_sha256": _bad(rec, content_sha256="abc"),
        "below bbox_min": _bad(rec, bbox_max=[-100, 0, 0]),
        "part_id": _bad(rec, part_id=""),
        "tags": _bad(rec, tags="steel"),
        "meta": _bad(rec, meta={"x": float("nan")}),
    }
    for message, bad in cases.items():
        changed = _bad(records[4], name="must not be written")
        with pytest.raises(InvalidRecordError, match=message):
            store.upsert([fresh[0], changed, bad, fresh[1]])
    with pytest.raises(InvalidRecordError, match="duplicate part_id"):
        store.upsert([fresh[0], fresh[0]])
    assert store.count() == N
    assert store.get(fresh[0].part_id) is None
    assert store.get(records[4].part_id).payload["name"] != "must not be written"
    after = store.get(rec.part_id, with_vectors=True)
    assert after.payload == before.payload
    assert all(np.array_equal(after.vectors[k], before.vectors[k]) for k in before.vectors)


# -- snapshots ----------------------------------------------------------------------------------


@pytest.mark.parametrize("target", ["edge", "server"])
@pytest.mark.parametrize("as_tar", [False, True])
def test_snapshot_restore(store, records, tmp_path, target, as_tar):
    path = store.snapshot(tmp_path / ("snap.tar" if as_tar else "snap"))
    restored = open_backend(target, tmp_path / "restored")
    try:
        assert restored.restore(path) == N
        sample = [records[i].part_id for i in (0, 7, 10, 59)]
        for a, b in zip(
            store.get_many(sample, with_vectors=True),
            restored.get_many(sample, with_vectors=True),
            strict=True,
        ):
            assert a.id == b.id and a.payload == b.payload
            assert set(a.vectors) == set(b.vectors)
            assert all(np.allclose(a.vectors[k], b.vectors[k], atol=1e-6) for k in a.vectors)
        for fusion in FUSIONS:
            q = query_of(records[17], fusion=fusion, top_k=10, filters=Filters(tags_any=["metric"]))
            assert ids(store.search(q)) == ids(restored.search(q))
        assert restored.facets() == store.facets()
        from store.errors import SnapshotError

        with pytest.raises(SnapshotError, match="empty collection"):
            restored.restore(path)
    finally:
        restored.close()


def test_snapshot_refuses_another_bundle(store, tmp_path):
    from store.snapshot import snapshot_spec

    path = store.snapshot(tmp_path / "snap.tar")
    assert snapshot_spec(path) == SPEC
    other = CollectionSpec(bundle_id="other-bundle-2", dim=SPEC.dim, view_count=SPEC.view_count)
    target = EdgeStore(tmp_path / "other", other)
    try:
        with pytest.raises(BundleMismatchError, match="test-bundle-1"):
            target.restore(path)
        assert target.count() == 0
    finally:
        target.close()


# -- congruence ---------------------------------------------------------------------------------


CONGRUENCE_FILTERS = [None, Filters(categories=["cat01", "cat03"]), Filters(size_y=Range(lte=80))]


def test_congruence_edge_and_server(tmp_path, records):
    """The same data gives the same ranking (and scores) on both backends, every path."""
    edge, server = open_backend("edge", tmp_path), open_backend("server", tmp_path)
    try:
        for s in (edge, server):
            s.upsert(records)
            s.optimize()
        rng = np.random.default_rng(11)
        for qi, source in enumerate(rng.choice(N, 4, replace=False)):
            rec = records[source]
            noisy = {
                k: rec.vectors[k] + rng.normal(scale=0.1, size=SPEC.dim) for k in ("text", "image")
            }
            for fusion in FUSIONS:
                for rerank in (False, True):
                    for filters in CONGRUENCE_FILTERS:
                        q = FusedQuery(
                            text=noisy["text"],
                            image=noisy["image"] if qi % 2 else None,
                            geometry=rec.vectors["geometry"],
                            views=rec.vectors["views"] if rerank and qi % 2 == 0 else None,
                            fusion=fusion,
                            rerank=rerank,
                            rerank_weights={"geometry->image": 0.3} if qi % 2 == 0 else None,
                            filters=filters,
                            top_k=10,
                        )
                        a, b = edge.search(q), server.search(q)
                        assert ids(a) == ids(b), (fusion, rerank, filters)
                        assert [h.score for h in a] == pytest.approx([h.score for h in b], abs=1e-4)
    finally:
        edge.close()
        server.close()
