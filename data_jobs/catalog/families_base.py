"""Shared pieces of the part families: part/family records, wording, solid-modelling helpers."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import manifold3d as m3
import numpy as np
import shapely.geometry as sg
import trimesh
from shapely.geometry.polygon import orient

from data_jobs.catalog.attributes import ShapeAttributes, describe

Solid = m3.Manifold


@dataclass
class GeneratedPart:
    """One generated catalog part.

    mesh          : closed triangle mesh in millimetres (Z up, axisymmetric parts about Z)
    name          : short catalog name, e.g. "Hex bolt M8x40"
    tags          : material, standard and feature words
    parameters    : defining dimensions (mm) and counts, rounded for display
    descriptions  : >= 3 paraphrased natural-language descriptions, the first one canonical
    through_holes : expected genus of the mesh (number of through holes), None when not defined
    attributes    : shape attributes in the shared vocabulary (``attributes.ShapeAttributes``)
    """

    mesh: trimesh.Trimesh
    name: str
    tags: list[str]
    parameters: dict[str, float | int | str]
    descriptions: list[str]
    through_holes: int | None = None
    attributes: ShapeAttributes | None = None


@dataclass(frozen=True)
class Family:
    """A kind of mechanical part and the function that draws random instances of it.

    name      : registry key, snake_case, e.g. "hex_bolt"
    category  : the kind of part, shared by genuinely same kinds, e.g. "blind_flange"
    generator : callable(numpy Generator) -> GeneratedPart, a closed solid in mm
    parent    : the broader kind it belongs to, e.g. "flange" ("" when it is itself the broadest)
    """

    name: str
    category: str
    generator: Callable[[np.random.Generator], GeneratedPart]
    parent: str = ""


# --------------------------------------------------------------------------- wording


MATERIAL_WORDS = {
    "steel": "steel",
    "zinc-plated steel": "zinc-plated steel",
    "stainless": "stainless steel",
    "brass": "brass",
    "aluminium": "aluminium",
    "bronze": "bronze",
    "cast iron": "cast iron",
    "nylon": "nylon",
    "POM": "POM plastic",
    "NBR": "NBR rubber",
    "FKM": "FKM (Viton) rubber",
    "EPDM": "EPDM rubber",
    "silicone": "silicone rubber",
    "spring steel": "spring steel",
    "galvanized steel": "hot-dip galvanized steel",
    "carbon steel": "carbon steel",
}


def material_word(material: str) -> str:
    """Human wording of a material tag, e.g. "stainless" -> "stainless steel"."""
    return MATERIAL_WORDS.get(material, material)


def num(x: float, digits: int = 2) -> float | int:
    """Round a dimension for display: int when whole, else ``digits`` decimals."""
    r = round(float(x), digits)
    return int(r) if r == int(r) else r


def fmt(x: float, digits: int = 2) -> str:
    """Dimension as text without trailing zeros: 8.0 -> "8", 2.50 -> "2.5"."""
    return str(num(x, digits))


def size_label(d: float) -> str:
    """ISO metric thread label, e.g. 8 -> "M8", 2.5 -> "M2.5"."""
    return f"M{fmt(d)}"


def sentence_start(text: str) -> str:
    """Capitalise the first letter only (keeps "M8", "DN50" and "ISO" intact)."""
    return text[:1].upper() + text[1:] if text else text


def descriptions_from(*phrases: str) -> list[str]:
    """Deduplicated, whitespace-normalised descriptions in the given order."""
    out: list[str] = []
    for p in phrases:
        p = " ".join(p.split())
        if p and p not in out:
            out.append(p)
    return out


def rounded(*, digits: int = 3, whole_as_int: bool = False, **values) -> dict:
    """The parameters given as keywords, floats rounded to ``digits`` decimals for the manifest;
    ``whole_as_int``: 8.0 becomes 8, as ``num`` writes it."""
    to = num if whole_as_int else round
    return {k: to(v, digits) if isinstance(v, float) else v for k, v in values.items()}


# --------------------------------------------------------------------------- geometry


def segments_for(radius: float, lo: int = 24, hi: int = 64) -> int:
    """Circle segment count growing with radius (mm): 24 for tiny holes, 64 for large discs."""
    n = int(round(12 + 2.0 * radius))
    n = max(lo, min(hi, n))
    return n + (n % 2)


def scaled_segments(radius: float, factor: float, lo: int = 24, hi: int = 40) -> int:
    """Even circle segment count for ``radius`` (``segments_for``) times a tessellation
    ``factor``, at least 16."""
    n = max(16, int(round(segments_for(radius, lo=lo, hi=hi) * factor)))
    return n + n % 2


def cross_section(polygon) -> m3.CrossSection:
    """Shapely (Multi)Polygon, possibly with holes -> manifold CrossSection (even-odd fill)."""
    polys = list(polygon.geoms) if hasattr(polygon, "geoms") else [polygon]
    contours = []
    for p in polys:
        p = orient(p, 1.0)
        contours.append(np.asarray(p.exterior.coords, dtype=float)[:-1])
        contours.extend(np.asarray(r.coords, dtype=float)[:-1] for r in p.interiors)
    return m3.CrossSection(contours, m3.FillRule.EvenOdd)


def extrude(polygon, height: float, z0: float = 0.0) -> Solid:
    """Prism of a 2D profile in the XY plane, from z0 to z0 + height (mm)."""
    return Solid.extrude(cross_section(polygon), height).translate((0.0, 0.0, z0))


def revolve(profile_rz: np.ndarray, segments: int, degrees: float = 360.0) -> Solid:
    """Solid of revolution about Z.

    profile_rz : (n, 2) closed loop of (radius, z) points, radius >= 0, no repeat of the
                 first point needed; a loop that touches the axis gives a solid without bore
    """
    pts = np.asarray(profile_rz, dtype=float)
    poly = sg.Polygon(pts)
    if not poly.is_valid:
        poly = poly.buffer(0)
    return Solid.revolve(cross_section(poly), segments, degrees)


def cylinder(radius: float, height: float, segments: int | None = None, z0: float = 0.0) -> Solid:
    """Cylinder on the Z axis from z0 to z0 + height."""
    n = segments or segments_for(radius)
    return Solid.cylinder(height, radius, radius, n).translate((0.0, 0.0, z0))


def box(sx: float, sy: float, sz: float, center=(0.0, 0.0, 0.0)) -> Solid:
    """Axis-aligned box of size (sx, sy, sz) centred at ``center``."""
    return Solid.cube((sx, sy, sz), True).translate(tuple(float(c) for c in center))


def along_x(solid: Solid) -> Solid:
    """Turn a solid built along +Z so that its axis runs along +X."""
    return solid.rotate((0.0, 90.0, 0.0))


def union(solids: Sequence[Solid]) -> Solid:
    """Boolean union of many solids."""
    return Solid.batch_boolean(list(solids), m3.OpType.Add)


def subtract(body: Solid, tools: Sequence[Solid]) -> Solid:
    """``body`` minus every tool solid."""
    if not tools:
        return body
    return Solid.batch_boolean([body, *tools], m3.OpType.Subtract)


def polar_copies(solid: Solid, count: int, phase_deg: float = 0.0) -> list[Solid]:
    """``count`` copies of a solid rotated evenly about Z, first at ``phase_deg``."""
    return [solid.rotate((0.0, 0.0, phase_deg + 360.0 * k / count)) for k in range(count)]


def regular_polygon(circumradius: float, sides: int, phase_deg: float = 0.0) -> sg.Polygon:
    """Regular polygon centred at the origin; the first vertex at ``phase_deg``."""
    a = np.deg2rad(phase_deg) + 2 * np.pi * np.arange(sides) / sides
    return sg.Polygon(np.c_[circumradius * np.cos(a), circumradius * np.sin(a)])


def circle(radius: float, center=(0.0, 0.0), segments: int | None = None) -> sg.Polygon:
    """Circle as a polygon with ``segments`` vertices (first vertex at angle 0)."""
    n = segments or segments_for(radius)
    a = 2 * np.pi * np.arange(n) / n
    return sg.Polygon(np.c_[center[0] + radius * np.cos(a), center[1] + radius * np.sin(a)])


def rounded_rectangle(width: float, height: float, radius: float, segments: int = 8):
    """Rectangle centred at the origin with corner fillets of ``radius`` (mm)."""
    r = min(radius, 0.499 * min(width, height))
    if r <= 0:
        return sg.box(-width / 2, -height / 2, width / 2, height / 2)
    core = sg.box(-width / 2 + r, -height / 2 + r, width / 2 - r, height / 2 - r)
    return core.buffer(r, quad_segs=segments)


def fillet_profile(polygon, radius: float, segments: int = 6):
    """Round the concave corners of a 2D profile by ``radius`` (close-open offset)."""
    if radius <= 0:
        return polygon
    return polygon.buffer(radius, quad_segs=segments, join_style="round").buffer(
        -radius, quad_segs=segments, join_style="mitre"
    )


def chamfered_hex(across_flats: float, height: float, both_ends: bool, bore: float = 0.0):
    """Hexagon prism (two flats facing +-X) with the usual 30 degree corner chamfer.

    across_flats, height, bore : mm; bore > 0 leaves a central hole of that diameter
    both_ends : chamfer bottom and top (nut) or top only (bolt head), body from z=0 to height
    """
    e = across_flats / math.cos(math.pi / 6)
    prism = extrude(regular_polygon(e / 2, 6, phase_deg=30.0), height)
    r_face = 0.5 * across_flats * 0.96
    r_big = e / 2 + 0.5
    rise = (r_big - r_face) * math.tan(math.radians(30.0))
    r0 = bore / 2 if bore > 0 else 0.0
    if both_ends:
        profile = [(r0, 0.0), (r_face, 0.0), (r_big, rise), (r_big, height - rise)]
    else:
        profile = [(r0, 0.0), (r_big, 0.0), (r_big, height - rise)]
    profile += [(r_face, height), (r0, height)]
    n = segments_for(e / 2, lo=36, hi=48)
    # turn the chamfer cone half a segment so its vertices never meet the hexagon's corners
    return prism ^ revolve(np.array(profile), n).rotate((0.0, 0.0, 180.0 / n))


def to_trimesh(solid: Solid) -> trimesh.Trimesh:
    """Manifold solid -> trimesh.Trimesh (float64 vertices, faces as produced)."""
    mesh = solid.to_mesh()
    verts = np.asarray(mesh.vert_properties, dtype=np.float64)[:, :3]
    faces = np.asarray(mesh.tri_verts, dtype=np.int64)
    return trimesh.Trimesh(vertices=verts, faces=faces, process=False)


def from_trimesh(mesh: trimesh.Trimesh) -> Solid:
    """trimesh.Trimesh (closed) -> manifold solid."""
    return Solid(
        m3.Mesh(
            vert_properties=np.ascontiguousarray(mesh.vertices, dtype=np.float32),
            tri_verts=np.ascontiguousarray(mesh.faces, dtype=np.uint32),
        )
    )


def finish(solid: Solid, rest_on_floor: bool = True) -> trimesh.Trimesh:
    """Final mesh of a part: optionally lifted so its lowest point sits on z = 0."""
    if rest_on_floor:
        zmin = solid.bounding_box()[2]  # (xmin, ymin, zmin, xmax, ymax, zmax)
        solid = solid.translate((0.0, 0.0, -zmin))
    return to_trimesh(solid)


def make_part(
    rng: np.random.Generator,
    solid: Solid,
    attributes: ShapeAttributes,
    *,
    name: str,
    tags: list[str],
    parameters: dict,
    names: Sequence[str],
    size: str,
    standard: str | None = None,
    material: str | None = None,
    extras: Sequence[str] = (),
    canonical: str | None = None,
) -> GeneratedPart:
    """A part from its solid and words: the floor-standing mesh, ``attributes`` measured on it
    (their ``holes`` are the expected genus) and ``describe``'s descriptions.

    tags, parameters : as the manifest shows them
    names, size, standard, extras : ``describe``'s words; material : a material tag
        ("stainless"), worded by ``material_word``
    canonical : a hand-written first description, before describe()'s (which then follow it)
    """
    mesh = finish(solid)
    attrs = attributes.measured(mesh)
    texts = describe(
        rng,
        names=names,
        size=size,
        attributes=attrs,
        standard=standard,
        material=material_word(material) if material else None,
        extras=extras,
    )
    return GeneratedPart(
        mesh=mesh,
        name=name,
        tags=tags,
        parameters=parameters,
        descriptions=descriptions_from(canonical, *texts) if canonical else texts,
        through_holes=attrs.holes,
        attributes=attrs,
    )
