"""Typed errors for turning a file into a part's geometry; each carries a stable ``code``."""

from __future__ import annotations


class MeshError(ValueError):
    """Base class: a part's file cannot become valid geometry.

    code : short stable name used in error reports and HTTP/gRPC answers
    """

    code = "mesh_error"

    def __init__(self, message: str, *, source: str | None = None):
        self.source = source
        super().__init__(f"{source}: {message}" if source else message)


class UnreadableMeshError(MeshError):
    """The file exists in a supported format but could not be parsed."""

    code = "unreadable"


class UnsupportedFormatError(MeshError):
    """The file type is not one cadsearch reads (or its optional reader is not installed)."""

    code = "unsupported_format"


class FileTooLargeError(MeshError):
    """The file is over ``mesh.max_file_mb``."""

    code = "file_too_large"


class EmptyMeshError(MeshError):
    """The file holds no triangles (after cleaning)."""

    code = "empty_mesh"


class NonFiniteError(MeshError):
    """Some vertex coordinates are NaN or infinite."""

    code = "non_finite"


class CoordinateRangeError(MeshError):
    """Some vertex coordinates are beyond ``MAX_COORDINATE`` (validate.py) in file units."""

    code = "coordinate_range"


class ZeroExtentError(MeshError):
    """All vertices coincide (or lie within ``mesh.min_extent``)."""

    code = "zero_extent"


class TooManyFacesError(MeshError):
    """The mesh has more faces than ``mesh.max_faces``."""

    code = "too_many_faces"


class TooManyVerticesError(MeshError):
    """The file declares more vertices than ``mesh.max_vertices``."""

    code = "too_many_vertices"


class ArchiveTooLargeError(MeshError):
    """A zip container (3MF) would unpack past ``mesh.max_unzipped_mb`` or holds more than
    ``mesh.max_zip_members`` members."""

    code = "archive_too_large"
