"""STEP and IGES through Open CASCADE (the optional ``step`` extra: cadquery-ocp-novtk)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import trimesh

from .errors import EmptyMeshError, UnreadableMeshError, UnsupportedFormatError

INSTALL_HINT = "pip install 'cadsearch[step]' (the OCP binding of Open CASCADE)"


_quiet = False


def _require_ocp():
    """Import the binding once (with a pip hint when missing) and quiet OCCT's console trace."""
    global _quiet
    try:
        import OCP  # noqa: F401
    except ImportError as e:
        raise UnsupportedFormatError(
            f"reading STEP/IGES needs the OCCT binding: {INSTALL_HINT}"
        ) from e
    if not _quiet:
        from OCP.Message import Message, Message_Gravity

        printers = Message.DefaultMessenger_s().Printers()
        for printer in printers:
            printer.SetTraceLevel(Message_Gravity.Message_Fail)
        _quiet = True


def read_shape(path: str | Path, kind: str):
    """Read a STEP or IGES file into one OCCT shape (units converted to millimetres by OCCT)."""
    _require_ocp()
    from OCP.IFSelect import IFSelect_RetDone

    if kind == "step":
        from OCP.STEPControl import STEPControl_Reader as Reader
    elif kind == "iges":
        from OCP.IGESControl import IGESControl_Reader as Reader
    else:
        raise UnsupportedFormatError(f"not a B-rep format: {kind!r}")
    reader = Reader()
    status = reader.ReadFile(str(path))
    if status != IFSelect_RetDone:
        raise UnreadableMeshError(
            f"Open CASCADE could not read the {kind.upper()} file", source=str(path)
        )
    reader.TransferRoots()
    shape = reader.OneShape()
    if shape is None or shape.IsNull():
        raise EmptyMeshError(f"the {kind.upper()} file holds no shape", source=str(path))
    if kind == "iges":
        # IGES stores loose trimmed surfaces: sew them so closed parts come out watertight
        from OCP.BRepBuilderAPI import BRepBuilderAPI_Sewing

        sewing = BRepBuilderAPI_Sewing(1e-3)
        sewing.Add(shape)
        sewing.Perform()
        shape = sewing.SewedShape()
    return shape


def tessellate(
    shape, linear_tolerance: float = 0.05, angular_tolerance: float = 0.5
) -> trimesh.Trimesh:
    """Triangulate an OCCT shape.

    linear_tolerance : chord error as a fraction of the shape's bounding-box diagonal
    angular_tolerance : angular deflection, radians
    """
    from OCP.Bnd import Bnd_Box
    from OCP.BRepBndLib import BRepBndLib
    from OCP.BRepMesh import BRepMesh_IncrementalMesh
    from OCP.StlAPI import StlAPI_Writer

    from .loaders import load_mesh

    box = Bnd_Box()
    BRepBndLib.Add_s(shape, box)
    if box.IsVoid():
        raise EmptyMeshError("the shape has no extent")
    diagonal = box.CornerMin().Distance(box.CornerMax())
    deflection = max(diagonal * linear_tolerance, 1e-6)
    BRepMesh_IncrementalMesh(shape, deflection, False, angular_tolerance, False)
    # OCCT's own STL writer, then our vectorized reader: no per-node Python loop
    fd, tmp = tempfile.mkstemp(suffix=".stl")
    os.close(fd)
    try:
        writer = StlAPI_Writer()
        writer.ASCIIMode = False
        if not writer.Write(shape, tmp):
            raise EmptyMeshError("the shape has no faces to triangulate")
        return load_mesh(tmp, "stl")
    finally:
        os.unlink(tmp)


def load_brep(
    source: str | Path | bytes,
    kind: str,
    *,
    linear_tolerance: float = 0.05,
    angular_tolerance: float = 0.5,
) -> trimesh.Trimesh:
    """Read and tessellate a STEP/IGES file given as a path or bytes."""
    _require_ocp()
    if isinstance(source, bytes | bytearray | memoryview):
        fd, tmp = tempfile.mkstemp(suffix=f".{kind}")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(source)
            return load_brep(
                tmp, kind, linear_tolerance=linear_tolerance, angular_tolerance=angular_tolerance
            )
        finally:
            os.unlink(tmp)
    try:
        shape = read_shape(source, kind)
        return tessellate(shape, linear_tolerance, angular_tolerance)
    except (UnreadableMeshError, EmptyMeshError, UnsupportedFormatError) as e:
        if e.source is None:
            raise type(e)(str(e), source=str(source)) from e
        raise
