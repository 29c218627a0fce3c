"""A part's description text: its metadata plus facts measured on its geometry."""

from __future__ import annotations

from dataclasses import dataclass

import trimesh

from .normalize import NormalizedMesh


@dataclass(frozen=True)
class GeometryFacts:
    """What the geometry itself says about a part.

    extents_mm : sizes from largest to smallest
    through_holes : genus of a watertight mesh (None when the mesh is not watertight)
    """

    extents_mm: tuple[float, float, float]
    through_holes: int | None
    watertight: bool
    bodies: int
    faces: int
    volume_mm3: float | None
    area_mm2: float


def count_through_holes(mesh: trimesh.Trimesh) -> int | None:
    """Total genus over the bodies of a closed mesh: sum(2 - 2 g_i) = Euler characteristic.

    None when the mesh is not watertight (the genus is then undefined).
    """
    if not mesh.is_watertight:
        return None
    bodies = int(mesh.body_count)
    genus = (2 * bodies - int(mesh.euler_number)) // 2
    return max(genus, 0)


def measure_geometry(part: NormalizedMesh) -> GeometryFacts:
    """Facts of a normalized part, in millimetres."""
    mesh = part.mesh
    holes = count_through_holes(mesh)
    watertight = holes is not None
    volume = float(abs(mesh.volume)) * part.scale**3 if watertight else None
    return GeometryFacts(
        extents_mm=part.bbox.sorted_extents,
        through_holes=holes,
        watertight=watertight,
        bodies=int(mesh.body_count),
        faces=len(mesh.faces),
        volume_mm3=volume,
        area_mm2=float(mesh.area) * part.scale**2,
    )


def _format_mm(value: float) -> str:
    if value >= 100:
        return f"{value:.0f}"
    if value >= 10:
        return f"{value:.1f}".rstrip("0").rstrip(".")
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _format_parameters(parameters: dict, limit: int = 6) -> str:
    items = []
    for key, value in list(parameters.items())[:limit]:
        if isinstance(value, float):
            value = _format_mm(value)
        items.append(f"{str(key).replace('_', ' ')} {value}")
    return ", ".join(items)


def describe_part(metadata: dict, facts: GeometryFacts | None = None) -> str:
    """One description text for a part, as its text vector is made from.

    metadata : any of name, description, category, tags (list or comma string), parameters (dict)
    facts : measured geometry; adds the real size and the through-hole count
    """
    sentences = []
    description = str(metadata.get("description") or "").strip()
    name = str(metadata.get("name") or "").strip()
    if description:
        sentences.append(description.rstrip("."))
    if name and name.lower() not in description.lower():
        sentences.append(name)
    if not sentences:
        sentences.append("CAD part")
    category = str(metadata.get("category") or "").strip()
    if category:
        sentences.append(f"Category: {category.replace('_', ' ')}")
    tags = metadata.get("tags") or []
    if isinstance(tags, str):
        tags = [t.strip() for t in tags.split(",")]
    tags = [str(t) for t in tags if str(t).strip()]
    if tags:
        sentences.append(f"Tags: {', '.join(tags)}")
    parameters = metadata.get("parameters") or {}
    if isinstance(parameters, dict) and parameters:
        sentences.append(f"Parameters: {_format_parameters(parameters)}")
    if facts is not None:
        size = " x ".join(_format_mm(v) for v in facts.extents_mm)
        sentences.append(f"Size {size} mm")
        if facts.through_holes:
            plural = "s" if facts.through_holes != 1 else ""
            sentences.append(f"{facts.through_holes} through hole{plural}")
        elif facts.through_holes == 0:
            sentences.append("no through holes")
    return ". ".join(sentences) + "."
