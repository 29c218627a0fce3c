"""Zero-shot kind of a part: its stored vectors against the text vectors of one prompt per kind.

A part's score for kind j is the weighted mean over its modalities m of the cosine between the
part's m vector(s) and the prompt vector of kind j; the ``views`` modality (K, D) contributes the
mean of its K per-view cosines. The probability of a kind is the softmax of those scores divided
by a temperature. Which modalities, their weights and the temperature were measured on a training
split: see docs/predicted-kind.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from store.vectors import unit_rows

PROMPT = "a CAD model of {}"  # zero-shot prompt of one kind, filled with "a spur gear"
MODALITIES = ("image", "geometry", "views")  # vectors a prediction may use
DEFAULT_WEIGHTS: dict[str, float] = {"image": 1.0, "geometry": 1.0, "views": 1.0}
DEFAULT_TEMPERATURE = 0.07  # CLIP's initial temperature; configs carry the calibrated one


def kind_words(kind: str) -> str:
    """A kind's words: ``"spur_gear"`` -> ``"spur gear"``."""
    return " ".join(str(kind).replace("_", " ").replace("-", " ").split())


def with_article(words: str) -> str:
    """``"a spur gear"``, ``"an angle"`` (by the first letter, as the eval's prompts do)."""
    return f"{'an' if words[:1].lower() in 'aeiou' else 'a'} {words}"


def kind_prompt(kind: str) -> str:
    """The prompt of a kind: ``"a CAD model of a spur gear"``."""
    return PROMPT.format(with_article(kind_words(kind)))


def predicted_phrase(kind: str) -> str:
    """How a description says a predicted kind: ``"likely a spur gear (predicted)"``."""
    return f"likely {with_article(kind_words(kind))} (predicted)"


def with_predicted_kind(description: str, kind: str) -> str:
    """A description that ends by saying the predicted kind: ``"CAD part. Size 40 x 20 x 10 mm.
    Likely a spur gear (predicted)."``"""
    phrase = predicted_phrase(kind)
    return f"{description.rstrip()} {phrase[:1].upper()}{phrase[1:]}.".lstrip()


def kind_vocabulary(*groups: Iterable[str]) -> tuple[str, ...]:
    """The kinds of several lists in first-seen order, blanks dropped, duplicates (same words)
    dropped: ``("spur_gear",), ("spur gear", "cam")`` -> ``("spur_gear", "cam")``."""
    seen: dict[str, str] = {}
    for group in groups:
        for kind in group:
            words = kind_words(kind).lower()
            if words and words not in seen:
                seen[words] = str(kind).strip()
    return tuple(seen.values())


def check_weights(weights: Mapping[str, float]) -> dict[str, float]:
    """``{modality: weight}`` with known modalities, finite weights >= 0 and one above 0."""
    out = {}
    for name, value in weights.items():
        if name not in MODALITIES:
            raise ValueError(f"unknown modality {name!r} in kind weights; known: {MODALITIES}")
        if not np.isfinite(value) or value < 0:
            raise ValueError(f"kind weight of {name!r} must be finite and >= 0, got {value!r}")
        out[name] = float(value)
    if not any(value > 0 for value in out.values()):
        raise ValueError(f"kind weights {weights!r}: at least one must be above 0")
    return out


def kind_scores(
    vectors_by_modality: Mapping[str, np.ndarray | None],
    kind_vectors: np.ndarray,
    weights: Mapping[str, float] | None = None,
) -> np.ndarray:
    """Cosine scores of one part against every kind : (M,) float64.

    vectors_by_modality : {"image": (D,), "geometry": (D,), "views": (K, D)}; a missing or None
        entry is skipped and the remaining weights renormalize
    kind_vectors : (M, D) prompt text vectors, one row per kind
    weights : {modality: weight >= 0}; None: DEFAULT_WEIGHTS
    """
    table = check_weights(DEFAULT_WEIGHTS if weights is None else weights)
    prompts = _unit_rows(np.asarray(kind_vectors, dtype=np.float64))
    total, mass = np.zeros(prompts.shape[0]), 0.0
    for name, weight in table.items():
        vectors = vectors_by_modality.get(name)
        if weight == 0 or vectors is None or np.size(vectors) == 0:
            continue
        rows = _unit_rows(np.atleast_2d(np.asarray(vectors, dtype=np.float64)))
        if rows.shape[1] != prompts.shape[1]:
            raise ValueError(
                f"{name} vectors have dim {rows.shape[1]}, kind vectors {prompts.shape[1]}"
            )
        total += weight * (rows @ prompts.T).mean(axis=0)
        mass += weight
    if mass == 0:
        given = sorted(k for k, v in vectors_by_modality.items() if v is not None)
        raise ValueError(f"no weighted modality among the part's vectors {given}")
    return total / mass


def softmax(scores: np.ndarray, temperature: float) -> np.ndarray:
    """Probabilities of ``scores / temperature`` along the last axis (stable)."""
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature!r}")
    logits = np.asarray(scores, dtype=np.float64) / temperature
    logits = logits - logits.max(axis=-1, keepdims=True)
    exp = np.exp(logits)
    return exp / exp.sum(axis=-1, keepdims=True)


def predict_kinds(
    vectors_by_modality: Mapping[str, np.ndarray | None],
    kind_vectors: np.ndarray,
    kinds: Sequence[str],
    *,
    weights: Mapping[str, float] | None = None,
    temperature: float = DEFAULT_TEMPERATURE,
    top_k: int | None = None,
) -> tuple[list[str], list[float]]:
    """Kinds of one part, most probable first, with their probabilities (0..1, summing to 1
    over all kinds).

    kind_vectors : (M, D) prompt vectors of ``kinds`` (M names), e.g. from ``kind_prompt``
    top_k : how many to return (None: all M); ties keep the vocabulary's order
    """
    if len(kinds) != np.shape(kind_vectors)[0]:
        raise ValueError(f"{len(kinds)} kinds but {np.shape(kind_vectors)[0]} kind vectors")
    probabilities = softmax(kind_scores(vectors_by_modality, kind_vectors, weights), temperature)
    order = np.argsort(-probabilities, kind="stable")[: top_k or len(kinds)]
    return [kinds[j] for j in order], [float(probabilities[j]) for j in order]


def _unit_rows(array: np.ndarray) -> np.ndarray:
    """Rows scaled to length 1 (float64); a zero row has no direction and is refused."""
    if (np.linalg.norm(array, axis=-1) < 1e-12).any():
        raise ValueError("a zero-length vector cannot be compared by cosine")
    return unit_rows(array, np.float64)
