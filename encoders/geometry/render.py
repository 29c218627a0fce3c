"""Canonical off-screen views of a part, rendered with one reused pyvista plotter per process."""

from __future__ import annotations

import io
import math
import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pyvista as pv
import vtk
from PIL import Image
from vtk.util.numpy_support import numpy_to_vtk, numpy_to_vtkIdTypeArray, vtk_to_numpy

from .normalize import to_unit_sphere
from .options import RenderSettings

if TYPE_CHECKING:
    import trimesh

FEATURE_ANGLE = 30.0  # degrees between face normals above which an edge is drawn / shading splits
EDGE_DARKEN = 0.35  # feature edges take the part colour times this
CLIP_PAD = 1.02  # near/far planes sit this far outside the (unit) bounding sphere
# Anti-aliasing: FXAA (a post-process shader) looks close to 4x MSAA on CAD parts and costs less on
# a software GL (docs/tuning.md#kernels-and-rendering). MSAA is set explicitly (off), and the
# plotter gets a fresh default theme, so a changed pyvista global theme cannot change the images.
USE_FXAA = True
MULTI_SAMPLES = 0


@dataclass(frozen=True)
class ViewSpec:
    """One camera direction: azimuth around +Z from +X, elevation above the XY plane (degrees)."""

    name: str
    azimuth: float
    elevation: float

    def direction(self) -> np.ndarray:
        """Unit vector from the part's centre to the camera, (3,) float64."""
        az, el = math.radians(self.azimuth), math.radians(self.elevation)
        return np.array(
            [math.cos(el) * math.cos(az), math.cos(el) * math.sin(az), math.sin(el)], dtype=float
        )

    def view_up(self) -> np.ndarray:
        """Camera up vector, (3,) float64: +Z made orthogonal to the view direction.

        This is d(direction)/d(elevation), which equals the (0, 0, 1) up of the Z-up convention for
        every view that is not straight down or up, and stays defined at the poles: the top view
        (el=+90, az=0) gets up = -X, the bottom view (el=-90, az=0) gets up = +X, i.e. both are
        what the front view becomes when the camera is tilted over the part.
        """
        az, el = math.radians(self.azimuth), math.radians(self.elevation)
        return np.array(
            [-math.sin(el) * math.cos(az), -math.sin(el) * math.sin(az), math.cos(el)], dtype=float
        )


_ORTHO6 = (
    ViewSpec("front", 0.0, 0.0),
    ViewSpec("back", 180.0, 0.0),
    ViewSpec("left", 90.0, 0.0),
    ViewSpec("right", -90.0, 0.0),
    ViewSpec("top", 0.0, 90.0),
    ViewSpec("bottom", 0.0, -90.0),
)
_ISO4 = (
    ViewSpec("iso_front_right", -45.0, 30.0),
    ViewSpec("iso_front_left", 45.0, 30.0),
    ViewSpec("iso_back_right", -135.0, 30.0),
    ViewSpec("iso_back_left", 135.0, 30.0),
)
VIEW_SETS: dict[str, tuple[ViewSpec, ...]] = {
    "canonical10": _ORTHO6 + _ISO4,
    "ortho6": _ORTHO6,
    "iso4": _ISO4,
}


def get_view_set(name_or_specs: str | Iterable[ViewSpec]) -> tuple[ViewSpec, ...]:
    """The views of a named set in ``VIEW_SETS``, or the given ViewSpecs checked and as a tuple."""
    if isinstance(name_or_specs, str):
        try:
            return VIEW_SETS[name_or_specs]
        except KeyError:
            raise ValueError(
                f"unknown view set {name_or_specs!r}; known view sets: {sorted(VIEW_SETS)}"
            ) from None
    specs = tuple(name_or_specs)
    if not specs:
        raise ValueError("a view set needs at least one view")
    for spec in specs:
        if not isinstance(spec, ViewSpec):
            raise TypeError(f"views must be ViewSpec instances, got {type(spec).__name__}")
    names = [spec.name for spec in specs]
    if len(set(names)) != len(names):
        raise ValueError(f"view names must be unique, got {names}")
    return specs


def encode_png(rgb: np.ndarray) -> bytes:
    """PNG bytes of an image; the same pixels always give the same bytes.

    rgb : (H, W, 3) uint8
    """
    rgb = np.asarray(rgb)
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"expected an (H, W, 3) uint8 image, got {rgb.shape} {rgb.dtype}")
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgb), "RGB").save(buf, format="PNG", optimize=False)
    return buf.getvalue()


@dataclass
class RenderedView:
    """One rendered view of a part.

    rgb : (H, W, 3) uint8, row 0 at the top
    """

    name: str
    rgb: np.ndarray

    def png(self) -> bytes:
        """The view as PNG bytes (deterministic: same pixels, same bytes)."""
        return encode_png(self.rgb)


def _as_arrays(mesh: Any) -> tuple[np.ndarray, np.ndarray]:
    """Vertices (n, 3) float64 and triangle faces (m, 3) int64 of a trimesh or a (V, F) pair."""
    if hasattr(mesh, "vertices") and hasattr(mesh, "faces"):
        vertices, faces = mesh.vertices, mesh.faces
    else:
        vertices, faces = mesh
    vertices = np.asarray(vertices, dtype=np.float64)
    faces = np.asarray(faces, dtype=np.int64)
    if vertices.ndim != 2 or vertices.shape[1] != 3:
        raise ValueError(f"vertices must be (n, 3), got {vertices.shape}")
    if faces.ndim != 2 or faces.shape[1] != 3:
        raise ValueError(f"faces must be (m, 3) triangles, got {faces.shape}")
    if len(vertices) == 0 or len(faces) == 0:
        raise ValueError("cannot render an empty mesh")
    if faces.min() < 0 or faces.max() >= len(vertices):
        raise ValueError("faces index vertices that do not exist")
    if not np.isfinite(vertices).all():
        raise ValueError("vertices must be finite")
    return vertices, faces


class ViewRenderer:
    """Renders a part's views with one off-screen plotter, created on first use and then reused.

    Every part is first moved into the unit sphere (see ``to_unit_sphere``), so the framing does
    not depend on the part's position or size and the camera distance is fixed:
    ``d = margin / sin(view_angle / 2)`` puts the whole sphere in the (square) frame, with
    ``1 - 1/margin`` of the half-width left as border. Not thread-safe, and bound to the thread
    that first renders (its GL context is current there): use one per thread (``get_renderer``
    keeps one per process and thread).
    """

    def __init__(
        self,
        image_size: int = 224,
        views: str | Iterable[ViewSpec] = "canonical10",
        background: str = "white",
        color: str = "lightsteelblue",
        show_edges: bool = False,
        feature_edges: bool = True,
        view_angle: float = 30.0,
        margin: float = 1.08,
    ):
        if not 16 <= int(image_size) <= 4096:
            raise ValueError(f"image_size must be within 16..4096, got {image_size}")
        if not 1.0 < view_angle < 120.0:
            raise ValueError(f"view_angle must be within (1, 120) degrees, got {view_angle}")
        if margin < 1.0:
            raise ValueError(f"margin must be >= 1, got {margin}")
        self.image_size = int(image_size)
        self.views = get_view_set(views)
        self.background = pv.Color(background).float_rgb
        self.color = pv.Color(color).float_rgb
        self.edge_color = tuple(c * EDGE_DARKEN for c in self.color)
        self.show_edges = bool(show_edges)
        self.feature_edges = bool(feature_edges)
        self.view_angle = float(view_angle)
        self.margin = float(margin)
        self.distance = self.margin / math.sin(math.radians(self.view_angle) / 2.0)
        self._plotter: pv.Plotter | None = None
        self._pid: int | None = None
        self._thread: threading.Thread | None = None

    @classmethod
    def from_settings(cls, render: RenderSettings) -> ViewRenderer:
        """A renderer configured from ``settings.render``."""
        return cls(
            image_size=render.image_size,
            views=render.view_set,
            background=render.background,
            color=render.color,
            show_edges=render.show_edges,
            feature_edges=render.feature_edges,
            view_angle=render.view_angle,
            margin=render.margin,
        )

    # -- the VTK scene, built once -------------------------------------------------------------

    def _setup(self) -> None:
        """Create the plotter and a fixed pipeline: polydata -> normals -> surface, -> edges."""
        size = self.image_size
        plotter = pv.Plotter(
            off_screen=True,
            window_size=(size, size),
            lighting=None,
            border=False,
            theme=pv.themes.Theme(),
        )
        plotter.render_window.SetMultiSamples(MULTI_SAMPLES)
        plotter.set_background(self.background)
        renderer = plotter.renderer
        renderer.SetUseFXAA(USE_FXAA)
        # Two lights that move with the camera, so every view is lit alike: a key light from the
        # upper left front (gives faces of different orientation different tones) and a weaker
        # headlight (nothing facing the camera is dark). Looks as clear as pyvista's five-light
        # kit on CAD parts, at ~25% less time per view on a software GL (per-fragment lighting).
        key = vtk.vtkLight()
        key.SetLightTypeToCameraLight()  # camera coordinates: +x right, +y up, +z toward viewer
        key.SetPosition(-1.0, 1.5, 1.0)
        key.SetFocalPoint(0.0, 0.0, 0.0)
        key.SetIntensity(0.8)
        head = vtk.vtkLight()
        head.SetLightTypeToHeadlight()
        head.SetIntensity(0.45)
        renderer.RemoveAllLights()
        renderer.AddLight(key)
        renderer.AddLight(head)
        renderer.TwoSidedLightingOn()

        self._poly = vtk.vtkPolyData()
        normals = vtk.vtkPolyDataNormals()  # smooth shading, split at sharp (CAD) edges
        normals.SetInputData(self._poly)
        normals.SetFeatureAngle(FEATURE_ANGLE)
        normals.SplittingOn()
        normals.ConsistencyOff()  # two-sided lighting copes with flipped faces; this is cheaper
        normals.ComputeCellNormalsOff()
        surface_mapper = vtk.vtkPolyDataMapper()
        surface_mapper.SetInputConnection(normals.GetOutputPort())
        surface_mapper.ScalarVisibilityOff()
        # push the surface back a little so edges drawn on it are not lost to the depth test (this
        # needs VTK's process-wide polygon-offset mode, which render() turns on only while it runs)
        surface_mapper.SetRelativeCoincidentTopologyPolygonOffsetParameters(1.0, 1.0)
        surface = vtk.vtkActor()
        surface.SetMapper(surface_mapper)
        prop = surface.GetProperty()
        prop.SetColor(self.color)
        prop.SetInterpolationToPhong()
        prop.SetAmbient(0.15)
        prop.SetDiffuse(0.85)
        prop.SetSpecular(0.15)
        prop.SetSpecularPower(20.0)
        if self.show_edges:
            prop.EdgeVisibilityOn()
            prop.SetEdgeColor(self.edge_color)
        renderer.AddActor(surface)

        self._edges_filter = None
        if self.feature_edges:
            edges = vtk.vtkFeatureEdges()  # on the unsplit mesh: splitting would add false borders
            edges.SetInputData(self._poly)
            edges.SetFeatureAngle(FEATURE_ANGLE)
            edges.FeatureEdgesOn()
            edges.BoundaryEdgesOn()
            edges.NonManifoldEdgesOff()
            edges.ManifoldEdgesOff()
            edges.ColoringOff()
            edge_mapper = vtk.vtkPolyDataMapper()
            edge_mapper.SetInputConnection(edges.GetOutputPort())
            edge_mapper.ScalarVisibilityOff()
            edge_actor = vtk.vtkActor()
            edge_actor.SetMapper(edge_mapper)
            edge_prop = edge_actor.GetProperty()
            edge_prop.SetColor(self.edge_color)
            edge_prop.LightingOff()
            edge_prop.SetLineWidth(1.0)
            renderer.AddActor(edge_actor)
            self._edges_filter = edges

        camera = renderer.GetActiveCamera()
        camera.ParallelProjectionOff()
        camera.SetViewAngle(self.view_angle)
        camera.SetFocalPoint(0.0, 0.0, 0.0)

        grab = vtk.vtkWindowToImageFilter()
        grab.SetInput(plotter.render_window)
        grab.SetInputBufferTypeToRGB()
        grab.ShouldRerenderOff()  # we call Render() ourselves, once per view
        grab.ReadFrontBufferOn()  # the finished (FXAA'd, resolved) frame, as pyvista reads it

        self._normals, self._camera, self._grab = normals, camera, grab
        self._plotter, self._pid = plotter, os.getpid()
        self._thread = threading.current_thread()

    def _set_mesh(self, vertices: np.ndarray, faces: np.ndarray) -> None:
        """Swap the part in the one polydata (deep copies; the old arrays are freed)."""
        points = vtk.vtkPoints()
        points.SetData(numpy_to_vtk(np.ascontiguousarray(vertices), deep=True))
        offsets = np.arange(0, 3 * len(faces) + 1, 3, dtype=np.int64)
        polys = vtk.vtkCellArray()
        polys.SetData(
            numpy_to_vtkIdTypeArray(offsets, deep=True),
            numpy_to_vtkIdTypeArray(np.ascontiguousarray(faces.ravel()), deep=True),
        )
        self._poly.SetPoints(points)
        self._poly.SetPolys(polys)
        self._poly.Modified()

    def _place_camera(self, spec: ViewSpec) -> None:
        camera = self._camera
        camera.SetPosition(*(self.distance * spec.direction()))
        camera.SetFocalPoint(0.0, 0.0, 0.0)
        camera.SetViewUp(*spec.view_up())
        camera.SetViewAngle(self.view_angle)
        # the part is inside the unit sphere, so this range can clip nothing
        camera.SetClippingRange(max(self.distance - CLIP_PAD, 1e-3), self.distance + CLIP_PAD)

    def _grab_image(self) -> np.ndarray:
        self._grab.Modified()
        self._grab.Update()
        image = self._grab.GetOutput()
        width, height, _ = image.GetDimensions()
        pixels = vtk_to_numpy(image.GetPointData().GetScalars())
        return pixels.reshape(height, width, 3)[::-1].copy()  # VTK's row 0 is the bottom one

    # -- public ---------------------------------------------------------------------------------

    def render(
        self,
        mesh: trimesh.Trimesh | tuple[np.ndarray, np.ndarray],
        views: str | Iterable[ViewSpec] | None = None,
    ) -> list[RenderedView]:
        """Render a part from each view.

        mesh : trimesh.Trimesh, or (vertices (n, 3) float, faces (m, 3) int)
        views : None for this renderer's views, a ``VIEW_SETS`` name, or ViewSpecs
        returns : one RenderedView per view, in order, each rgb (image_size, image_size, 3) uint8
        """
        specs = self.views if views is None else get_view_set(views)
        vertices, faces = _as_arrays(mesh)
        if self._plotter is not None and self._pid != os.getpid():
            _FORKED.append(self._plotter)  # a forked child cannot use (or safely free) the parent's
            self._plotter = None
        owner = self._thread
        if self._plotter is not None and owner is not threading.current_thread():
            if owner is not None and owner.is_alive():
                # its GL context is current in that thread: here it would render black frames
                raise RuntimeError(
                    f"this renderer's GL context belongs to thread {owner.name!r}: render in "
                    "that thread, or take this thread's own from get_renderer()"
                )
            self._thread = threading.current_thread()  # that thread ended: its context is free
        # renderers of other threads wait: the coincident-topology mode is process-wide
        with _RENDERING:
            if self._plotter is None:
                self._setup()
            self._set_mesh(to_unit_sphere(vertices), faces)
            render_window = self._plotter.render_window
            resolve = vtk.vtkMapper.GetResolveCoincidentTopology()  # restored below
            vtk.vtkMapper.SetResolveCoincidentTopologyToPolygonOffset()
            try:
                out = []
                for spec in specs:
                    self._place_camera(spec)
                    render_window.Render()  # explicit: else the image filter gives a stale frame
                    out.append(RenderedView(spec.name, self._grab_image()))
            finally:
                vtk.vtkMapper.SetResolveCoincidentTopology(resolve)
        return out

    def close(self) -> None:
        """Free the plotter; a later ``render`` creates a new one."""
        if self._plotter is not None:
            if self._pid == os.getpid():
                self._plotter.close()
            self._plotter = None
            self._poly = self._normals = self._edges_filter = self._camera = self._grab = None

    def __enter__(self) -> ViewRenderer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_RENDERING = threading.Lock()  # one render at a time in a process, whichever the thread


def _new_render_lock() -> None:
    global _RENDERING
    _RENDERING = threading.Lock()  # a child forked mid-render would inherit it held


os.register_at_fork(after_in_child=_new_render_lock)
_FORKED: list[Any] = []  # plotters inherited through fork: kept, never touched again
_RENDERERS: dict[tuple[int, int, str], ViewRenderer] = {}


def get_renderer(settings: RenderSettings | None = None) -> ViewRenderer:
    """This thread's renderer for these settings (one per process, thread and distinct settings):
    a GL context is current in one thread, so another thread's plotter renders black frames."""
    settings = settings or RenderSettings()
    key = (os.getpid(), threading.get_ident(), settings.model_dump_json())
    renderer = _RENDERERS.get(key)
    if renderer is None:
        renderer = _RENDERERS[key] = ViewRenderer.from_settings(settings)
    return renderer


def render_views(
    mesh: trimesh.Trimesh | tuple[np.ndarray, np.ndarray],
    settings: RenderSettings | None = None,
) -> list[RenderedView]:
    """Render ``settings.view_set`` of a part with this process's cached renderer."""
    return get_renderer(settings).render(mesh)
