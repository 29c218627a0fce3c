"""The eval's predicted-kind task: the index's zero-shot kind of every part, scored by category.

The index predicts a kind only for parts without a category; the eval predicts one for every part
of the split with the same function, vocabulary, weights and temperature (settings ``index``), so
a labeled catalog measures it. The vocabulary also holds the catalog's own categories (a user
would name them in ``index.extra_kinds``), so every part's true kind can be predicted.
"""

from __future__ import annotations

from typing import Any

from . import metrics

PREDICTED_METRICS = ("predicted_top1", "unseen_predicted_top1")
BATCH = 256  # parts read from the store at once


def predicted_vocabulary(index, categories) -> tuple[str, ...]:
    """The index's kinds (parts library plus ``extra_kinds``) and the catalog's categories."""
    from data_jobs.catalog.families import CATEGORIES
    from encoders.parts.encode import kind_options
    from encoders.zero_shot import kind_vocabulary

    return kind_vocabulary(kind_options(index, CATEGORIES)["kinds"], sorted(categories))


def same_kind(predicted: str, category: str) -> bool:
    """Whether a predicted kind names a category (``"spur gear"`` names ``"spur_gear"``)."""
    from encoders.zero_shot import kind_words

    return kind_words(predicted).lower() == kind_words(category).lower()


def eval_predicted(
    store, part_ids: list[str], categories: dict[str, str], unseen: set[str], index, clip
) -> tuple[dict[str, Any], dict[str, tuple], list[dict[str, Any]]]:
    """Predict every part's kind from its stored image, geometry and view vectors.

    part_ids : the parts to predict (e.g. every part of the split)
    categories : part id -> true category
    unseen : part ids of unseen families or KiCad folders (``data_jobs.catalog.unseen``)
    index : the settings' ``index`` section (vocabulary, kind_weights, kind_temperature)
    returns : headline ``predicted_top1`` (parts not unseen) and ``unseen_predicted_top1`` (None
        without unseen parts), ``predicted_score_mean``; per-part values by category; details
    """
    from encoders.zero_shot import kind_prompt, predict_kinds

    kinds = predicted_vocabulary(index, set(categories.values()))
    kind_vectors = clip.encode_text([kind_prompt(kind) for kind in kinds])
    details, scores = [], []
    values: dict[str, tuple[list[float], list[str]]] = {m: ([], []) for m in PREDICTED_METRICS}
    for start in range(0, len(part_ids), BATCH):
        batch = part_ids[start : start + BATCH]
        for part in store.get_many(batch, with_vectors=True):
            vectors = part.vectors or {}
            predicted, probability = predict_kinds(
                {name: vectors.get(name) for name in ("image", "geometry", "views")},
                kind_vectors,
                kinds,
                weights=index.kind_weights,
                temperature=index.kind_temperature,
                top_k=1,
            )
            truth = categories[part.part_id]
            hit = float(same_kind(predicted[0], truth))
            name = "unseen_predicted_top1" if part.part_id in unseen else "predicted_top1"
            values[name][0].append(hit)
            values[name][1].append(truth)
            scores.append(probability[0])
            details.append(
                {
                    "part_id": part.part_id,
                    "category": truth,
                    "predicted": predicted[0],
                    "score": round(probability[0], 4),
                    "unseen": part.part_id in unseen,
                }
            )
    headline: dict[str, Any] = {
        name: metrics.nanmean(hits) if hits else None for name, (hits, _) in values.items()
    }
    headline["predicted_score_mean"] = metrics.nanmean(scores) if scores else None
    return headline, {name: v for name, v in values.items() if v[0]}, details


def predicted_task(ctx, clip, index, split: str) -> tuple[dict, dict, list]:
    """The eval's predicted-kind task over every part of ``split`` (not only the query parts:
    predicting costs no search)."""
    from .run import select_queries, unseen_part_ids

    part_ids = select_queries(ctx.payloads, split, None, 0)
    categories = {pid: ctx.category(pid) for pid in part_ids}
    unseen = set(unseen_part_ids(ctx)) & set(part_ids)
    return eval_predicted(ctx.store, part_ids, categories, unseen, index, clip)
