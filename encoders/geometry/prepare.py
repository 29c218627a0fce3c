"""One part from file to model inputs: load, validate, normalize, sample, render, describe."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .describe import GeometryFacts, describe_part, measure_geometry
from .loaders import load_mesh, unit_scale
from .normalize import NormalizedMesh, normalize_mesh
from .options import MeshLimits, RenderSettings, SamplingSettings
from .sample import part_seed, sample_points
from .validate import CleanReport, validate_mesh

if TYPE_CHECKING:
    from cadsearch.settings import Settings

    from .render import RenderedView


@dataclass
class PreparedPart:
    """Everything the encoders need for one part.

    points : (num_points, 3) float32 on the normalized surface
    normals : (num_points, 3) float32 or None
    views : rendered canonical views, or None when rendering was skipped
    """

    part_id: str
    part: NormalizedMesh
    points: np.ndarray
    normals: np.ndarray | None
    description: str
    facts: GeometryFacts
    clean: CleanReport
    views: list[RenderedView] | None = field(default=None)


def read_part(
    source: str | Path | bytes,
    file_type: str | None = None,
    metadata: dict | None = None,
    settings: Settings | None = None,
) -> tuple[NormalizedMesh, CleanReport]:
    """Load, validate and normalize one part file (metadata may carry ``units`` or ``scale``).

    settings : read for its ``mesh`` section (None: the section's defaults)
    """
    limits = settings.mesh if settings is not None else MeshLimits()
    label = None if isinstance(source, bytes | bytearray | memoryview) else str(source)
    mesh = load_mesh(
        source,
        file_type,
        max_file_mb=limits.max_file_mb,
        linear_tolerance=limits.step_linear_tolerance,
        angular_tolerance=limits.step_angular_tolerance,
        limits=limits,
    )
    cleaned, report = validate_mesh(
        mesh, max_faces=limits.max_faces, min_extent=limits.min_extent, source=label
    )
    return normalize_mesh(cleaned, unit_scale(metadata)), report


def prepare_part(
    source: str | Path | bytes,
    part_id: str,
    metadata: dict | None = None,
    settings: Settings | None = None,
    file_type: str | None = None,
    render: bool = True,
) -> PreparedPart:
    """Read one part and build its points, views and description.

    part_id : stable key; it seeds the point sampling so a re-index samples the same points
    settings : read for its ``mesh``, ``sampling`` and ``render`` sections (None: their defaults)
    render : False skips the views (the renderer's process then never imports VTK)
    """
    metadata = metadata or {}
    part, report = read_part(source, file_type, metadata, settings)
    sampling = settings.sampling if settings is not None else SamplingSettings()
    seed = part_seed(sampling.seed, part_id)
    if sampling.with_normals:
        points, normals = sample_points(part.mesh, sampling.num_points, seed, normals=True)
    else:
        points, normals = sample_points(part.mesh, sampling.num_points, seed), None
    facts = measure_geometry(part)
    prepared = PreparedPart(
        part_id=part_id,
        part=part,
        points=points,
        normals=normals,
        description=describe_part(metadata, facts),
        facts=facts,
        clean=report,
    )
    if render:
        from .render import get_renderer

        views = settings.render if settings is not None else RenderSettings()
        prepared.views = get_renderer(views).render(part.mesh)
    return prepared
