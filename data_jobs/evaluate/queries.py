"""Query inputs of the eval job: text variants, unseen camera views, zero-shot category prompts."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from encoders.geometry.render import ViewSpec

QUERY_IMAGE_SIZES = (160, 320)  # pixels of the query renders: neither is an index image size
MIN_VIEW_SEPARATION = 15.0  # degrees between a query camera and every indexed camera, at least
ELEVATION_RANGE = (-70.0, 70.0)  # degrees; query cameras avoid the poles (top/bottom views)
PROMPT = "a CAD model of {article} {category}"  # zero-shot prompt of one category


def text_queries(record: dict[str, Any] | None, payload: dict[str, Any]) -> list[str]:
    """The text queries of one part: its description variants other than the indexed one.

    record : the part's manifest record (``description``, ``descriptions``) or None
    payload : the part's stored payload; when the record has no other variant, one query is
        made from its measured size alone (``size_query``), naming neither part nor category
    """
    record = record or {}
    indexed = str(record.get("description") or "").strip()
    variants = [str(d).strip() for d in (record.get("descriptions") or [])[1:]]
    queries = [d for d in dict.fromkeys(variants) if d and d != indexed]
    return queries or [size_query(payload)]


def size_query(payload: dict[str, Any]) -> str:
    """``"a part of 40 x 20 x 10 mm with 2 through holes"`` from a stored payload's facts."""
    extents = payload.get("extents") or []
    text = "a part"
    if extents:
        text += " of " + " x ".join(f"{float(v):.3g}" for v in extents) + " mm"
    holes = (payload.get("meta") or {}).get("through_holes")
    if holes:
        text += f" with {holes} through hole{'s' if holes != 1 else ''}"
    return text


def category_prompt(category: str) -> str:
    """The zero-shot prompt of a category: ``"a CAD model of an angle"`` (``_`` read as space)."""
    name = category.replace("_", " ").strip()
    article = "an" if name[:1].lower() in "aeiou" else "a"
    return PROMPT.format(article=article, category=name)


def _separation(spec: ViewSpec, indexed: Sequence[ViewSpec]) -> float:
    """Smallest angle in degrees between ``spec``'s camera direction and the indexed ones."""
    direction = spec.direction()
    cosines = [float(np.clip(direction @ other.direction(), -1.0, 1.0)) for other in indexed]
    return math.degrees(math.acos(max(cosines)))


def query_views(
    seed: int, part_id: str, view_set: str, count: int = len(QUERY_IMAGE_SIZES)
) -> list[ViewSpec]:
    """``count`` random cameras for one part, each at least MIN_VIEW_SEPARATION from the index's.

    Azimuth uniform in [0, 360), elevation uniform in ELEVATION_RANGE, drawn from a stream seeded
    by (seed, part id): the same part always gets the same cameras, whatever else is queried.
    """
    from encoders.geometry.render import ViewSpec, get_view_set
    from encoders.geometry.sample import part_seed

    indexed = get_view_set(view_set)
    rng = np.random.default_rng(np.random.SeedSequence([part_seed(seed, part_id), 0xE7A1]))
    views: list[ViewSpec] = []
    while len(views) < count:
        azimuth = round(float(rng.uniform(0.0, 360.0)), 2)
        elevation = round(float(rng.uniform(*ELEVATION_RANGE)), 2)
        spec = ViewSpec(f"query_{len(views)}", azimuth, elevation)
        if _separation(spec, indexed) >= MIN_VIEW_SEPARATION:
            views.append(spec)
    return views


class QueryRenderer:
    """Renders a part file from unseen cameras at the query sizes, with the index's look.

    render : the bundle's effective render settings (colours, lights, field of view); only the
        image size differs, one reused off-screen renderer per size.
    """

    def __init__(self, render, sizes: Sequence[int] = QUERY_IMAGE_SIZES):
        from encoders.geometry.render import ViewRenderer

        self.sizes = tuple(int(s) for s in sizes)
        self.renderers = {
            size: ViewRenderer.from_settings(render.model_copy(update={"image_size": size}))
            for size in self.sizes
        }

    def render(self, mesh, views: Sequence[ViewSpec]) -> list[np.ndarray]:
        """One (size, size, 3) uint8 image per (size, view) pair, in the order of ``sizes``."""
        if len(views) != len(self.sizes):
            raise ValueError(f"{len(views)} views for {len(self.sizes)} image sizes")
        return [
            self.renderers[size].render(mesh, [view])[0].rgb
            for size, view in zip(self.sizes, views, strict=True)
        ]

    def close(self) -> None:
        for renderer in self.renderers.values():
            renderer.close()


def read_query_mesh(payload: dict[str, Any], settings):
    """The normalized mesh of an indexed part, read again from its ``source_uri``."""
    from pathlib import PurePosixPath

    from encoders.geometry.prepare import read_part
    from encoders.parts.source import read_part_bytes

    uri = str(payload["source_uri"])
    file_type = PurePosixPath(uri).suffix.lower().lstrip(".")
    part, _ = read_part(read_part_bytes(uri), file_type, payload.get("meta") or {}, settings)
    return part.mesh
