"""Typed errors of the vector store: every message names the bad value."""

from __future__ import annotations


class StoreError(RuntimeError):
    """Base of every error the store raises on purpose."""


class BundleMismatchError(StoreError):
    """A collection holds vectors of another model bundle (id, dim or view set) than asked for."""

    def __init__(self, message: str, *, stored: str | None = None, requested: str | None = None):
        super().__init__(message)
        self.stored = stored  # bundle id kept in the collection metadata
        self.requested = requested  # bundle id the caller brought


class InvalidRecordError(StoreError, ValueError):
    """A part record (or a batch of them) is malformed; nothing of its batch was written."""

    code = "invalid_record"  # its error report rows' code


class InvalidQueryError(StoreError, ValueError):
    """A fused query is malformed: wrong vector shape, unknown modality, bad filter range.

    ``field`` names the query field at fault (``weights``, ``top_k``, ``filters``, ...), so an API
    reports it without reading the message.
    """

    def __init__(self, message: str, *, field: str = "query"):
        super().__init__(message)
        self.field = field

    def __reduce__(self):  # keep the field across pickling (Ray hands errors between processes)
        return _invalid_query, (str(self), self.field)


def _invalid_query(message: str, field: str) -> InvalidQueryError:
    return InvalidQueryError(message, field=field)


class WriterLockedError(StoreError):
    """Another writer holds the Qdrant Edge shard folder (Edge allows exactly one).

    ``folder`` is the collection folder, ``pid`` the holder's process id when the lock names it.
    """

    def __init__(self, message: str, *, folder: str | None = None, pid: int | None = None):
        super().__init__(message)
        self.folder = folder
        self.pid = pid

    def __reduce__(self):  # keep folder and pid across pickling
        return _writer_locked, (str(self), self.folder, self.pid)


def _writer_locked(message: str, folder: str | None, pid: int | None) -> WriterLockedError:
    return WriterLockedError(message, folder=folder, pid=pid)


class CollectionNotFoundError(StoreError):
    """The collection does not exist and no spec was given to create it."""


class SnapshotError(StoreError):
    """A snapshot is malformed, incomplete, or cannot be restored into this collection."""
