"""The encoders' input sections of the settings: mesh limits, point sampling, view rendering.

Owned here, beside the code that reads them; ``cadsearch.settings`` composes them into its
``mesh``, ``sampling`` and ``render`` sections. Pydantic only, so the settings import it cheaply.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class MeshLimits(BaseModel):
    """Limits applied when loading and validating a part's mesh."""

    model_config = ConfigDict(extra="forbid")

    max_file_mb: float = 256.0  # larger files are refused before reading
    # more faces or vertices are refused: from the file's header where its format states them
    # (binary STL, PLY, OFF), else after loading
    max_faces: int = Field(5_000_000, ge=1)
    max_vertices: int = Field(5_000_000, ge=1)
    # zip containers (3MF): the directory's total uncompressed size and member count, checked
    # before any member is read (a 1 MB file can hold gigabytes of zeros)
    max_unzipped_mb: float = Field(512.0, gt=0)
    max_zip_members: int = Field(1000, ge=1)
    min_extent: float = (
        1e-9  # a bounding box diagonal at or below this (in file units) is degenerate
    )
    step_linear_tolerance: float = 0.05  # STEP/IGES tessellation chord error, relative to part size
    step_angular_tolerance: float = 0.5  # STEP/IGES tessellation angular deflection, radians
    # STEP/IGES are read in a child process (Open CASCADE crashes or loops on some malformed
    # files); past this it is killed and the file refused
    step_timeout_s: float = Field(120.0, gt=0)


class SamplingSettings(BaseModel):
    """Surface point sampling for the geometry encoder."""

    model_config = ConfigDict(extra="forbid")

    num_points: int = Field(2048, ge=16, le=1_000_000)  # points per part
    with_normals: bool = False  # also return the face normal of each sample
    seed: int = 0  # base seed; each part mixes in its own stable key


class RenderSettings(BaseModel):
    """Off-screen canonical view rendering."""

    model_config = ConfigDict(extra="forbid")

    view_set: str = "canonical10"  # a name from encoders.geometry.render.VIEW_SETS
    image_size: int = Field(224, ge=16, le=4096)  # square views, pixels
    background: str = "white"
    color: str = "lightsteelblue"  # part colour
    show_edges: bool = False  # draw mesh edges (slow and noisy for fine meshes)
    feature_edges: bool = True  # draw sharp feature edges in a darker tone
    view_angle: float = Field(30.0, gt=1.0, lt=120.0)  # vertical field of view, degrees
    margin: float = Field(1.08, ge=1.0)  # the unit sphere fills 1/margin of the frame
    # the light GLB kept beside the views for the page's 3D viewer: its size budget in kB
    # (1000 bytes); 0 keeps none (docs/architecture.md#indexing-data_jobsindex-ray-data)
    glb_max_kb: float = Field(200.0, ge=0)
