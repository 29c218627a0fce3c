"""One shape vocabulary for every part family, and the engineer-style descriptions built from it.

Every family describes its parts with the same attribute words (form, head, drive, toothed rim,
counts of holes / teeth / spokes, symmetry, proportions), so that what the towers learn about
"a ring with a toothed rim" on one family composes into kinds they never saw.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import trimesh

FORMS = (
    "ring", "disc", "shaft", "plate", "tube", "profile", "block", "bracket", "coil", "sphere",
    "housing", "wheel", "pin", "sheet", "cylinder", "rod", "clip", "fitting",
)  # fmt: skip
HEADS = (
    "hex", "socket", "countersunk", "button", "pan", "cheese", "flat", "wing", "knurled",
    "square", "t-head", "round", "flanged hex", "eye",
)  # fmt: skip
DRIVES = ("hex socket", "slot", "cross", "torx", "external hex", "wrench flats", "knurl")
SYMMETRIES = ("axisymmetric", "polar", "mirror", "none")
PROPORTIONS = ("slender", "flat", "compact")

# how a form reads in a sentence: "a ring-shaped part", "a disc-shaped part"
_FORM_WORDS = {
    "ring": "ring-shaped", "disc": "disc-shaped", "shaft": "shaft-like", "plate": "flat plate",
    "tube": "tubular", "profile": "straight profile", "block": "block-shaped",
    "bracket": "bent bracket", "coil": "coiled", "sphere": "spherical", "housing": "housing-like",
    "wheel": "wheel-shaped", "pin": "pin-shaped", "sheet": "sheet-metal", "cylinder": "cylindrical",
    "rod": "rod-like", "clip": "clip-shaped", "fitting": "fitting-like",
}  # fmt: skip


@dataclass(frozen=True)
class ShapeAttributes:
    """What a part looks like, in the words shared by all families.

    form        : overall body, one of FORMS
    head        : fasteners: head shape, one of HEADS (None: no head)
    drive       : how it is turned, one of DRIVES (None: not driven)
    threaded    : a thread is modelled or named (external or internal)
    toothed_rim : teeth around the rim (gears, sprockets, timing pulleys)
    teeth       : tooth count when toothed
    holes       : through holes, bores included
    spokes      : spokes or arms of a wheel or knob (None: none)
    symmetry    : one of SYMMETRIES
    proportions : one of PROPORTIONS, or None to measure it from the mesh (see ``proportions_of``)
    """

    form: str
    head: str | None = None
    drive: str | None = None
    threaded: bool = False
    toothed_rim: bool = False
    teeth: int | None = None
    holes: int = 0
    spokes: int | None = None
    symmetry: str = "none"
    proportions: str | None = None

    def __post_init__(self):
        checks = (
            ("form", self.form, FORMS),
            ("head", self.head, (None, *HEADS)),
            ("drive", self.drive, (None, *DRIVES)),
            ("symmetry", self.symmetry, SYMMETRIES),
            ("proportions", self.proportions, (None, *PROPORTIONS)),
        )
        for field, value, allowed in checks:
            if value not in allowed:
                raise ValueError(f"ShapeAttributes.{field} must be one of {allowed}, got {value!r}")
        if self.holes < 0 or (self.teeth is not None and self.teeth < 1):
            raise ValueError(f"counts must be positive: holes={self.holes}, teeth={self.teeth}")

    def measured(self, mesh: trimesh.Trimesh) -> ShapeAttributes:
        """The same attributes with ``proportions`` measured from ``mesh`` when not given."""
        if self.proportions is not None:
            return self
        return ShapeAttributes(**{**asdict(self), "proportions": proportions_of(mesh)})

    def as_dict(self) -> dict:
        """Plain JSON values, for the manifest."""
        return asdict(self)

    def phrases(self) -> list[str]:
        """Each attribute as a short phrase, in a fixed order: the words every family shares."""
        out = [_FORM_WORDS[self.form]]
        if self.head:
            out.append(f"{self.head} head")
        if self.drive:
            out.append(f"{self.drive} drive")
        if self.threaded:
            out.append("threaded")
        if self.toothed_rim:
            out.append(f"toothed rim with {self.teeth} teeth" if self.teeth else "toothed rim")
        if self.holes == 1:
            out.append("one through hole")
        elif self.holes > 1:
            out.append(f"{self.holes} through holes")
        if self.spokes:
            out.append(f"{self.spokes} spokes")
        if self.symmetry != "none":
            out.append("rotationally symmetric" if self.symmetry == "axisymmetric" else
                       f"{self.symmetry} symmetry")  # fmt: skip
        if self.proportions:
            out.append(self.proportions)
        return out


def proportions_of(mesh: trimesh.Trimesh) -> str:
    """ "slender" when the longest extent is >= 4x the middle one, "flat" when the shortest is
    <= 0.25x the middle one, else "compact"."""
    small, middle, large = np.sort(np.asarray(mesh.extents, dtype=float))
    if large >= 4.0 * middle:
        return "slender"
    if small <= 0.25 * middle:
        return "flat"
    return "compact"


def _join(words: Sequence[str]) -> str:
    words = [w for w in words if w]
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def describe(
    rng: np.random.Generator,
    *,
    names: Sequence[str],
    size: str,
    attributes: ShapeAttributes,
    standard: str | None = None,
    material: str | None = None,
    extras: Sequence[str] = (),
) -> list[str]:
    """At least 6 distinct descriptions of one part, the way engineers write them.

    names      : the trade name first ("socket head cap screw"), then synonyms ("Allen bolt")
    size       : the size as a catalog writes it ("M8 x 40", "DN50 PN16", "6204")
    attributes : measured (``ShapeAttributes.measured``) shape attributes
    standard   : standard number ("ISO 4762"), if the part follows one
    material   : material in words ("stainless steel")
    extras     : family-specific sentences, appended after the templates

    The first description is canonical (trade name and size); together they name every phrase of
    ``attributes.phrases()``, one template says the shape only (no kind name) so shape words are
    learned apart from names.
    """
    if not names:
        raise ValueError("describe needs at least one name")
    phrases = attributes.phrases()
    name, others = names[0], list(names[1:]) or [names[0]]
    synonym = others[int(rng.integers(len(others)))]
    mat = f"{material} " if material else ""
    std = f", {standard}" if standard else ""
    form, details = phrases[0], phrases[1:]
    order = [details[i] for i in rng.permutation(len(details))] if details else []
    half = order[: max(1, len(order) // 2)] if order else []
    texts = [
        f"{name} {size}{std}",
        f"{mat}{synonym}, {size}",
        f"{standard} {name} {size}" if standard else f"{size} {synonym}",
        f"{form} part" + (f" with {_join(order)}" if order else ""),
        f"{name}: {_join(phrases)}",
        f"{mat}{synonym} {size}" + (f", {_join(half)}" if half else ""),
        *(f"{other} {size}" for other in others if other != synonym),
        *extras,
    ]
    out: list[str] = []
    for text in texts:
        text = " ".join(text.split())
        if text and text not in out:
            out.append(text)
    # a family with one name and no standard: spell the size out with one attribute each
    fallbacks = [f"{name}, size {size}, {p}" for p in phrases] + [f"{size} {name}, {form}"]
    for text in fallbacks:
        if len(out) >= 6:
            break
        if text not in out:
            out.append(text)
    return out
