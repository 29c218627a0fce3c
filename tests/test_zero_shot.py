"""Predicted kind of a part from its vectors: constructed cases with known answers."""

import numpy as np
import pytest

from encoders.zero_shot import (
    kind_prompt,
    kind_scores,
    kind_vocabulary,
    predict_kinds,
    predicted_phrase,
    softmax,
    with_predicted_kind,
)

KINDS = ["spur_gear", "hex_nut", "angle"]


def _axis(j: int, dim: int = 4) -> np.ndarray:
    out = np.zeros(dim)
    out[j] = 1.0
    return out


def test_words_prompts_and_phrases():
    assert kind_prompt("spur_gear") == "a CAD model of a spur gear"
    assert kind_prompt("angle") == "a CAD model of an angle"
    assert predicted_phrase("hex_nut") == "likely a hex nut (predicted)"
    assert with_predicted_kind("CAD part. 2 through holes.", "DIN rail") == (
        "CAD part. 2 through holes. Likely a DIN rail (predicted)."
    )
    # the user's list extends the library's; same words are one kind, the first spelling kept
    assert kind_vocabulary(["spur_gear", "nut"], ["spur gear", " ", "cam follower"]) == (
        "spur_gear",
        "nut",
        "cam follower",
    )


def test_each_modality_votes_and_the_sum_decides():
    kind_vectors = np.stack([_axis(0), _axis(1), _axis(2)])
    # geometry says nut, image says gear a little more strongly, views agree with the image
    geometry = np.array([0.5, 0.8, 0.0, 0.3])
    image = np.array([0.9, 0.1, 0.0, 0.4])
    views = np.stack([image, np.array([0.6, 0.3, 0.1, 0.7])])
    alone, _ = predict_kinds({"geometry": geometry}, kind_vectors, KINDS)
    assert alone[0] == "hex_nut"
    kinds, scores = predict_kinds(
        {"geometry": geometry, "image": image, "views": views}, kind_vectors, KINDS
    )
    assert kinds[0] == "spur_gear"
    assert sorted(kinds) == sorted(KINDS)
    assert scores == sorted(scores, reverse=True)
    assert sum(scores) == pytest.approx(1.0)
    # the views' score is the mean of the per-view cosines: weight 0 elsewhere isolates it
    per_view = views / np.linalg.norm(views, axis=1, keepdims=True)
    expected = (per_view @ kind_vectors.T).mean(axis=0)
    weights = {"views": 1.0, "image": 0.0, "geometry": 0.0}
    got = kind_scores({"views": views, "geometry": geometry}, kind_vectors, weights)
    np.testing.assert_allclose(got, expected)


def test_probability_follows_the_temperature():
    kind_vectors = np.stack([_axis(0), _axis(1), _axis(2)])
    part = {"geometry": np.array([0.8, 0.6, 0.0, 0.0])}
    _, sharp = predict_kinds(part, kind_vectors, KINDS, temperature=0.01, top_k=1)
    _, soft = predict_kinds(part, kind_vectors, KINDS, temperature=100.0, top_k=1)
    assert sharp[0] > 0.99
    assert soft[0] == pytest.approx(1 / 3, abs=0.01)
    # cosines 0.8, 0.6, 0 at temperature 0.1: e^8 / (e^8 + e^6 + 1)
    _, scores = predict_kinds(part, kind_vectors, KINDS, temperature=0.1)
    assert scores[0] == pytest.approx(np.exp(8) / (np.exp(8) + np.exp(6) + 1))
    np.testing.assert_allclose(softmax(np.array([1000.0, 0.0]), 1.0), [1.0, 0.0])


def test_missing_modalities_are_skipped_and_bad_input_is_named():
    kind_vectors = np.stack([_axis(0), _axis(1), _axis(2)])
    kinds, _ = predict_kinds({"geometry": _axis(2), "views": None}, kind_vectors, KINDS)
    assert kinds[0] == "angle"
    with pytest.raises(ValueError, match="no weighted modality"):
        predict_kinds({"text": _axis(0)}, kind_vectors, KINDS)
    with pytest.raises(ValueError, match="unknown modality 'text'"):
        kind_scores({"geometry": _axis(0)}, kind_vectors, {"text": 1.0})
    with pytest.raises(ValueError, match="3 kinds but 2 kind vectors"):
        predict_kinds({"geometry": _axis(0)}, kind_vectors[:2], KINDS)
    with pytest.raises(ValueError, match="dim 3"):
        predict_kinds({"geometry": np.ones(3)}, kind_vectors, KINDS)
    with pytest.raises(ValueError, match="temperature"):
        predict_kinds({"geometry": _axis(0)}, kind_vectors, KINDS, temperature=0.0)


def test_eval_predicts_every_part_and_scores_unseen_apart(tmp_path):
    from cadsearch.settings import IndexSettings
    from data_jobs.evaluate.predicted import eval_predicted
    from encoders.bundle import load_bundle
    from store import CollectionSpec, PartRecord
    from store.edge import EdgeStore

    bundle = load_bundle("cad-mini")
    clip = bundle.load_clip(device="cpu", text_only=True)
    index = IndexSettings(extra_kinds=["cam follower"])
    # each part's vectors are its kind's prompt vector: its kind is known to be predicted
    truths = {"p-gear": "spur_gear", "p-cam": "cam follower", "p-nut": "hex_nut"}
    prompts = clip.encode_text([kind_prompt(kind) for kind in truths.values()])
    spec = CollectionSpec("cad-mini-test", prompts.shape[1], view_count=2)
    store = EdgeStore(tmp_path / "edge", spec)
    rng = np.random.default_rng(0)
    records = []
    for (part_id, kind), prompt in zip(truths.items(), prompts, strict=True):
        views = prompt + 0.01 * rng.standard_normal((2, prompt.size))
        vectors = {"text": prompt, "image": prompt, "geometry": prompt, "views": views}
        records.append(PartRecord(part_id, vectors, kind, "0" * 64, [0, 0, 0], [1, 1, 1]))
    store.upsert(records)
    truths["p-nut"] = "wing_nut"  # the wrong truth: scored as a miss among the unseen
    headline, values, details = eval_predicted(
        store, list(truths), truths, {"p-cam", "p-nut"}, index, clip
    )
    store.close()
    assert headline["predicted_top1"] == 1.0
    assert headline["unseen_predicted_top1"] == 0.5
    assert values["unseen_predicted_top1"] == ([1.0, 0.0], ["cam follower", "wing_nut"])
    assert [d["predicted"] for d in details] == ["spur_gear", "cam follower", "hex_nut"]
    assert all(0 < d["score"] <= 1 for d in details)


def test_settings_check_the_kind_weights_with_the_predictor():
    from pydantic import ValidationError

    from cadsearch.settings import IndexSettings

    assert IndexSettings(kind_weights={"geometry": 2}).kind_weights == {"geometry": 2.0}
    with pytest.raises(ValidationError, match="unknown modality 'text'"):
        IndexSettings(kind_weights={"text": 1.0})
    with pytest.raises(ValidationError, match="at least one must be above 0"):
        IndexSettings(kind_weights={"image": 0.0})
