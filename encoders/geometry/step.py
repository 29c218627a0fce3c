"""STEP and IGES through Open CASCADE (the optional ``step`` extra: cadquery-ocp-novtk)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import trimesh

from .errors import EmptyMeshError, MeshError, UnreadableMeshError, UnsupportedFormatError

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


def _read_in_child(path: str, kind: str, linear_tolerance: float, angular_tolerance: float, out):
    """The child's side of ``read_isolated``: send ("mesh", vertices, faces) or ("error", the
    MeshError's class name, its message)."""
    import faulthandler

    faulthandler.disable()  # a crash here is expected and answered: no dump in the caller's log
    try:
        mesh = tessellate(read_shape(path, kind), linear_tolerance, angular_tolerance)
        out.send(("mesh", np.asarray(mesh.vertices), np.asarray(mesh.faces)))
    except MeshError as e:
        out.send(("error", type(e).__name__, str(e)))
    except Exception as e:  # the binding raises anything from Standard_Failure to RuntimeError
        out.send(("error", "UnreadableMeshError", f"Open CASCADE failed: {type(e).__name__}: {e}"))
    finally:
        out.close()


def read_isolated(
    path: str, kind: str, linear_tolerance: float, angular_tolerance: float, timeout_s: float
) -> trimesh.Trimesh:
    """``read_shape`` and ``tessellate`` in a forked child process: Open CASCADE crashes
    (SIGSEGV) or loops on some malformed files, and a crash or a child past timeout_s becomes an
    UnreadableMeshError here instead of killing or holding the caller's process."""
    import multiprocessing

    from . import errors

    context = multiprocessing.get_context("fork")  # inherits the loaded binding: no re-import
    receive, send = context.Pipe(duplex=False)
    args = (path, kind, linear_tolerance, angular_tolerance, send)
    child = context.Process(target=_read_in_child, args=args, daemon=True)
    child.start()
    send.close()
    try:
        if not receive.poll(timeout_s):
            raise UnreadableMeshError(
                f"Open CASCADE did not read the {kind.upper()} file within {timeout_s:g} s"
            )
        try:
            answer = receive.recv()
        except EOFError:  # the child died without answering
            child.join(5)
            raise UnreadableMeshError(
                f"Open CASCADE crashed reading the {kind.upper()} file (exit code {child.exitcode})"
            ) from None
    finally:
        if child.is_alive():
            child.kill()
        child.join()
        receive.close()
    if answer[0] == "error":
        raise getattr(errors, answer[1], UnreadableMeshError)(answer[2])
    return trimesh.Trimesh(answer[1], answer[2], process=False)


def load_brep(
    source: str | Path | bytes,
    kind: str,
    *,
    linear_tolerance: float = 0.05,
    angular_tolerance: float = 0.5,
    timeout_s: float = 120.0,
) -> trimesh.Trimesh:
    """Read and tessellate a STEP/IGES file given as a path or bytes, in a child process that
    gets timeout_s (``read_isolated``)."""
    _require_ocp()
    if isinstance(source, bytes | bytearray | memoryview):
        fd, tmp = tempfile.mkstemp(suffix=f".{kind}")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(source)
            return load_brep(
                tmp,
                kind,
                linear_tolerance=linear_tolerance,
                angular_tolerance=angular_tolerance,
                timeout_s=timeout_s,
            )
        finally:
            os.unlink(tmp)
    try:
        return read_isolated(str(source), kind, linear_tolerance, angular_tolerance, timeout_s)
    except MeshError as e:
        if e.source is None:
            raise type(e)(str(e), source=str(source)) from e
        raise
