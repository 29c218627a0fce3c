"""Read a part's file (path or bytes) into one triangle mesh, in the file's own units."""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import numpy as np
import trimesh

from .errors import (
    ArchiveTooLargeError,
    EmptyMeshError,
    FileTooLargeError,
    MeshError,
    TooManyFacesError,
    TooManyVerticesError,
    UnreadableMeshError,
    UnsupportedFormatError,
)
from .options import MeshLimits
from .stl import HEADER_BYTES, is_binary_stl, read_binary_stl, triangles_to_indexed

# file extension -> trimesh file_type
TRIMESH_FORMATS = {
    "stl": "stl",
    "obj": "obj",
    "ply": "ply",
    "off": "off",
    "glb": "glb",
    "gltf": "gltf",
    "3mf": "3mf",
}
ZIP_FORMATS = ("3mf",)  # zip containers; any file that starts like a zip is checked too
ZIP_MAGIC = b"PK\x03\x04"
ZIP_DIRECTORY_ENTRY = b"PK\x01\x02"
_PLY_ELEMENT = re.compile(rb"^element\s+(\w+)\s+(\d+)\s*$", re.M)
# file extension -> CAD kernel format (optional OCCT binding, see step.py)
BREP_FORMATS = {"step": "step", "stp": "step", "iges": "iges", "igs": "iges"}
SUPPORTED_EXTENSIONS = tuple(sorted(set(TRIMESH_FORMATS) | set(BREP_FORMATS)))

# per-part unit names -> millimetres per file unit
UNIT_SCALES = {
    "mm": 1.0,
    "millimeter": 1.0,
    "millimetre": 1.0,
    "cm": 10.0,
    "m": 1000.0,
    "meter": 1000.0,
    "metre": 1000.0,
    "in": 25.4,
    "inch": 25.4,
    "ft": 304.8,
    "um": 1e-3,
    "0.1in": 2.54,  # KiCad's VRML models
}


def file_type_of(name: str | Path) -> str:
    """The lower-case extension of a file name (``part.STEP`` -> ``step``)."""
    suffix = Path(str(name)).suffix.lower().lstrip(".")
    if not suffix:
        raise UnsupportedFormatError(
            f"cannot tell the format of {str(name)!r}: no file extension "
            f"(supported: {', '.join(SUPPORTED_EXTENSIONS)})"
        )
    return suffix


def unit_scale(metadata: dict | None) -> float:
    """Millimetres per file unit from a part's metadata: ``scale`` (a number) or ``units`` (a name).

    Millimetres when neither is given.
    """
    if not metadata:
        return 1.0
    if metadata.get("scale") is not None:
        try:
            scale = float(metadata["scale"])
        except (TypeError, ValueError) as e:
            raise MeshError(f"metadata 'scale' must be a number, got {metadata['scale']!r}") from e
        if not np.isfinite(scale) or scale <= 0:
            raise MeshError(f"metadata 'scale' must be a positive number, got {scale}")
        return scale
    units = metadata.get("units")
    if units is None:
        return 1.0
    key = str(units).strip().lower()
    if key not in UNIT_SCALES:
        raise MeshError(f"unknown units {units!r}; known: {', '.join(sorted(UNIT_SCALES))}")
    return UNIT_SCALES[key]


def _check_size(size: int, max_file_mb: float | None, source: str | None) -> None:
    if max_file_mb is not None and size > max_file_mb * 1024 * 1024:
        raise FileTooLargeError(
            f"file is {size / 1024 / 1024:.1f} MB, over the limit of {max_file_mb:g} MB",
            source=source,
        )


def check_zip(data: bytes, limits: MeshLimits, source: str | None = None) -> None:
    """Refuse a zip container whose directory declares more than ``limits.max_zip_members``
    members or ``limits.max_unzipped_mb`` of content, before any member is read.

    Python's zipfile stops each member at its declared size, so the directory bounds what a
    loader can unpack.
    """
    import zipfile

    # entries counted at C speed first: a directory of millions of entries costs memory to parse
    entries = data.count(ZIP_DIRECTORY_ENTRY)
    if entries > limits.max_zip_members:
        raise ArchiveTooLargeError(
            f"the zip container has {entries:,} members, over the limit of "
            f"{limits.max_zip_members:,}",
            source=source,
        )
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as e:
        raise UnreadableMeshError(f"not a valid zip container ({e})", source=source) from e
    if len(members) > limits.max_zip_members:
        raise ArchiveTooLargeError(
            f"the zip container has {len(members):,} members, over the limit of "
            f"{limits.max_zip_members:,}",
            source=source,
        )
    total = sum(member.file_size for member in members)
    if total > limits.max_unzipped_mb * 2**20:
        raise ArchiveTooLargeError(
            f"the zip container unpacks to {total / 2**20:,.1f} MB, over the limit of "
            f"{limits.max_unzipped_mb:g} MB",
            source=source,
        )


def _off_counts(data: bytes) -> tuple[int, int] | None:
    """(vertices, faces) of an OFF header, or None when it does not state them plainly."""
    tokens: list[bytes] = []
    for line in data[:65536].splitlines():
        line = line.split(b"#", 1)[0].strip()
        if line:
            tokens.extend(line.split())
        if len(tokens) >= 3:
            break
    if tokens and tokens[0].upper().endswith(b"OFF"):
        tokens = tokens[1:]
    try:
        return int(tokens[0]), int(tokens[1])
    except (IndexError, ValueError):
        return None


def declared_counts(data: bytes, kind: str) -> tuple[int | None, int | None]:
    """(vertices, faces) a file declares before its geometry, None where its format does not say:
    binary STL's triangle count, PLY's and OFF's element counts, ASCII STL's and OBJ's face
    (and OBJ's vertex) lines counted without parsing them."""
    if kind == "stl":
        if is_binary_stl(data):
            return None, int.from_bytes(data[80:HEADER_BYTES], "little")
        return None, data.count(b"endfacet")
    if kind == "ply":
        end = data.find(b"end_header", 0, 65536)
        counts = dict(_PLY_ELEMENT.findall(data[:end])) if end >= 0 else {}
        vertices, faces = counts.get(b"vertex"), counts.get(b"face")
        return (int(vertices) if vertices else None, int(faces) if faces else None)
    if kind == "off":
        counts = _off_counts(data)
        return counts if counts is not None else (None, None)
    if kind == "obj":
        starts = data[:2]
        vertices = data.count(b"\nv ") + (starts == b"v ")
        return vertices, data.count(b"\nf ") + (starts == b"f ")
    return None, None


def check_declared_counts(
    data: bytes, kind: str, limits: MeshLimits, source: str | None = None
) -> None:
    """Refuse a file whose header (or line count) says it is over the face or vertex limit,
    before it is parsed."""
    vertices, faces = declared_counts(data, kind)
    if faces is not None and faces > limits.max_faces:
        raise TooManyFacesError(
            f"the file declares {faces:,} faces, over the limit of {limits.max_faces:,}",
            source=source,
        )
    if vertices is not None and vertices > limits.max_vertices:
        raise TooManyVerticesError(
            f"the file declares {vertices:,} vertices, over the limit of {limits.max_vertices:,}",
            source=source,
        )


def _flatten(loaded: object, source: str | None) -> trimesh.Trimesh:
    """One mesh from whatever trimesh returned: scenes are flattened with their node transforms."""
    if isinstance(loaded, trimesh.Scene):
        meshes = [g for g in loaded.dump() if isinstance(g, trimesh.Trimesh) and len(g.faces)]
        if not meshes:
            raise EmptyMeshError("the file holds no triangle geometry", source=source)
        return trimesh.util.concatenate(meshes) if len(meshes) > 1 else meshes[0]
    if isinstance(loaded, trimesh.Trimesh):
        return loaded
    kind = type(loaded).__name__
    raise EmptyMeshError(f"the file holds no triangles (it is a {kind})", source=source)


def _load_stl(data: bytes) -> trimesh.Trimesh:
    if is_binary_stl(data):
        vertices, faces = triangles_to_indexed(read_binary_stl(data))
        return trimesh.Trimesh(vertices, faces, process=False)
    if data.lstrip()[:5].lower() == b"solid":
        # a solid without facets loads as an empty Scene
        return _flatten(trimesh.load(io.BytesIO(data), file_type="stl", process=False), None)
    # neither: a binary header whose triangle count disagrees with the length
    read_binary_stl(data)  # raises the truncation error when it is short
    raise UnreadableMeshError(
        f"not an STL file: {len(data)} bytes match neither binary nor ASCII STL"
    )


def load_mesh(
    source: str | Path | bytes,
    file_type: str | None = None,
    *,
    max_file_mb: float | None = None,
    linear_tolerance: float = 0.05,
    angular_tolerance: float = 0.5,
    limits: MeshLimits | None = None,
) -> trimesh.Trimesh:
    """Read a mesh file into one ``trimesh.Trimesh`` (unprocessed: no merging, no cleaning).

    source : a path, or the file's bytes (then ``file_type`` is required)
    file_type : extension without the dot; taken from the path when omitted
    max_file_mb : refuse larger inputs before parsing
    linear_tolerance, angular_tolerance : tessellation of STEP/IGES (relative chord error, radians)
    limits : face, vertex and zip limits checked before parsing, STEP/IGES's time limit
        (default: ``MeshLimits()``)
    Raises a MeshError subclass naming the problem.
    """
    if limits is None:
        limits = MeshLimits()
    label = None if isinstance(source, bytes | bytearray | memoryview) else str(source)
    if label is None and not file_type:
        raise UnsupportedFormatError("file_type is required when reading from bytes")
    kind = (file_type or file_type_of(label)).lower().lstrip(".")
    if kind not in TRIMESH_FORMATS and kind not in BREP_FORMATS:
        raise UnsupportedFormatError(
            f"unsupported file type {kind!r} (supported: {', '.join(SUPPORTED_EXTENSIONS)})",
            source=label,
        )
    if label is None:
        data = bytes(source)
        _check_size(len(data), max_file_mb, label)
    else:
        if not Path(label).is_file():
            raise UnreadableMeshError("no such file", source=label)
        _check_size(os.path.getsize(label), max_file_mb, label)
        data = None

    if kind in BREP_FORMATS:
        from .step import load_brep  # optional OCCT binding, imported only when used

        return load_brep(
            source if data is None else data,
            BREP_FORMATS[kind],
            linear_tolerance=linear_tolerance,
            angular_tolerance=angular_tolerance,
            timeout_s=limits.step_timeout_s,
        )
    if data is None:
        data = Path(label).read_bytes()
    if not data.strip():
        raise EmptyMeshError("the file is empty", source=label)
    if kind in ZIP_FORMATS or data.startswith(ZIP_MAGIC):
        check_zip(data, limits, label)
    check_declared_counts(data, kind, limits, label)
    try:
        if kind == "stl":
            mesh = _load_stl(data)
        else:
            # a path keeps trimesh's resolver, so .gltf buffers and .obj materials beside it load
            file_obj = label if label is not None else io.BytesIO(data)
            loaded = trimesh.load(file_obj, file_type=TRIMESH_FORMATS[kind], process=False)
            mesh = _flatten(loaded, label)
    except MeshError as e:
        if e.source is None and label is not None:
            raise type(e)(str(e), source=label) from e
        raise
    except Exception as e:  # parsers raise anything from KeyError to struct.error
        raise UnreadableMeshError(
            f"could not parse as {kind.upper()}: {type(e).__name__}: {e}", source=label
        ) from e
    if len(mesh.faces) == 0:
        raise EmptyMeshError("the file holds no triangles", source=label)
    return mesh
