"""Where rendered view PNGs live: a local folder or a Backblaze B2 bucket, one interface.

Object keys are derived from part ids, never taken from them: the views of a part live under
``{prefix}{point_id(part_id)}/{view_name}.png``, where ``point_id`` is the part's UUIDv5 (the same
id as its Qdrant point) and ``view_name`` matches ``[a-z0-9_]{1,64}`` (names of the project's view
sets, e.g. ``front``, ``iso_front_right``). So any user string, ``../../etc/passwd`` included, maps
to a safe, URL-clean key, and a key can be checked against that shape before it is read. Beside
the views, ``{prefix}{point_id}/mesh.glb`` holds the part's light mesh for the web page's 3D
viewer (encoders/geometry/light_mesh.py); it is deleted with the views.
"""

from __future__ import annotations

import os
import re
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from store.b2 import B2ConfigError, download_bytes, get_bucket, resolve_b2_api
from store.errors import StoreError
from store.schema import point_id

if TYPE_CHECKING:
    from b2sdk.v2 import B2Api, Bucket

    from cadsearch.settings import Settings, ViewStoreSettings

VIEW_NAME = re.compile(r"[a-z0-9_]{1,64}")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
CONTENT_TYPE = "image/png"
MESH_FILE = "mesh.glb"  # a part's light mesh, beside its views
GLB_MAGIC = b"glTF"
GLB_CONTENT_TYPE = "model/gltf-binary"
DEFAULT_LOCAL_URL = "/views"  # where the search service serves a local view folder
_PREFIX = re.compile(r"(?:[A-Za-z0-9_.-]+/)*")  # "" or "a/b/", each segment non-empty
_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


class ViewStoreError(StoreError):
    """Base of the view store's errors."""


class InvalidViewKeyError(ViewStoreError, ValueError):
    """A view name, key or prefix is malformed, or a key would leave the store."""


class ViewNotFoundError(ViewStoreError, LookupError):
    """No view is stored under the key."""


def check_view_name(name: Any) -> str:
    """name, when it is a valid view name (``[a-z0-9_]{1,64}``); else InvalidViewKeyError."""
    if not isinstance(name, str) or not VIEW_NAME.fullmatch(name):
        raise InvalidViewKeyError(
            f"bad view name {name!r}: 1 to 64 characters of lower-case letters, digits and '_'"
        )
    return name


def _check_part_id(part_id: Any) -> str:
    if not isinstance(part_id, str) or not part_id:
        raise InvalidViewKeyError(f"part_id must be a non-empty string, got {part_id!r}")
    return part_id


def _check_prefix(prefix: Any) -> str:
    if not isinstance(prefix, str) or not _PREFIX.fullmatch(prefix) or ".." in prefix.split("/"):
        raise InvalidViewKeyError(
            f"bad view key prefix {prefix!r}: empty, or folder names of [A-Za-z0-9_.-] "
            "each ending in '/' (e.g. 'views/')"
        )
    return prefix


class ViewStore(ABC):
    """Rendered view PNGs of parts, by part id and view name.

    prefix : key prefix of every view ("" or ending in "/")
    """

    def __init__(self, prefix: str = ""):
        self.prefix = _check_prefix(prefix)
        self._key_shape = re.compile(
            re.escape(self.prefix)
            + _UUID
            + r"/(?:[a-z0-9_]{1,64}\.png|"
            + re.escape(MESH_FILE)
            + ")"
        )

    def part_prefix(self, part_id: str) -> str:
        """The key prefix of all views of a part: ``{prefix}{point_id}/``."""
        return f"{self.prefix}{point_id(_check_part_id(part_id))}/"

    def key_for(self, part_id: str, view_name: str) -> str:
        """The key of one view: ``{prefix}{point_id(part_id)}/{view_name}.png``."""
        return f"{self.part_prefix(part_id)}{check_view_name(view_name)}.png"

    def mesh_key_for(self, part_id: str) -> str:
        """The key of a part's light mesh: ``{prefix}{point_id(part_id)}/mesh.glb``."""
        return self.part_prefix(part_id) + MESH_FILE

    def check_key(self, key: Any) -> str:
        """key, when it has the shape of a view or mesh key of this store; else
        InvalidViewKeyError."""
        if not isinstance(key, str) or not self._key_shape.fullmatch(key):
            raise InvalidViewKeyError(
                f"not a view key of this store: {key!r} "
                f"(expected {self.prefix}<part uuid>/<view name>.png or .../{MESH_FILE})"
            )
        return key

    @staticmethod
    def content_type(key: str) -> str:
        """The media type of what a (checked) key holds."""
        return GLB_CONTENT_TYPE if key.endswith(".glb") else CONTENT_TYPE

    def urls_for(self, part_id: str, view_names: Iterable[str]) -> list[str]:
        """The URLs of a part's views, in the order of view_names (nothing is checked remotely)."""
        return [self.url_for_key(self.key_for(part_id, name)) for name in view_names]

    def put_views(self, part_id: str, views: Sequence[tuple[str, bytes]]) -> list[str]:
        """Store a part's views, replacing any stored under the same names; returns their URLs.

        views : (view name, PNG bytes) pairs; every pair is checked before anything is written
        """
        keys, seen = [], set()
        for name, data in views:
            key = self.key_for(part_id, name)
            if name in seen:
                raise InvalidViewKeyError(f"view {name!r} is given twice for part {part_id!r}")
            if not isinstance(data, bytes | bytearray | memoryview):
                raise TypeError(f"view {name!r}: PNG data must be bytes, got {type(data).__name__}")
            if not bytes(data[:8]) == PNG_SIGNATURE:
                raise ValueError(f"view {name!r} of part {part_id!r} is not a PNG image")
            seen.add(name)
            keys.append(key)
        for key, (_, data) in zip(keys, views, strict=True):
            self._write(key, bytes(data))
        return [self.url_for_key(key) for key in keys]

    def put_mesh(self, part_id: str, data: bytes) -> str:
        """Store a part's light mesh (a binary glTF), replacing any; returns its URL."""
        key = self.mesh_key_for(part_id)
        if not isinstance(data, bytes | bytearray | memoryview):
            raise TypeError(f"mesh of part {part_id!r}: GLB data must be bytes")
        data = bytes(data)
        declared = int.from_bytes(data[8:12], "little") if len(data) >= 12 else -1
        if data[:4] != GLB_MAGIC or data[4:8] != (2).to_bytes(4, "little") or declared != len(data):
            raise ValueError(f"mesh of part {part_id!r} is not a binary glTF 2.0 file")
        self._write(key, data)
        return self.url_for_key(key)

    def get(self, key: str) -> bytes:
        """The bytes under a view or mesh key; InvalidViewKeyError for a malformed key,
        ViewNotFoundError."""
        return self._read(self.check_key(key))

    @abstractmethod
    def url_for_key(self, key: str) -> str:
        """The URL a client fetches the view under key from."""

    @abstractmethod
    def delete_part(self, part_id: str) -> int:
        """Remove every stored view of a part and its mesh; returns how many views were
        removed."""

    @abstractmethod
    def _write(self, key: str, data: bytes) -> None: ...

    @abstractmethod
    def _read(self, key: str) -> bytes: ...


class LocalViewStore(ViewStore):
    """Views as files under root/<key>; the search service serves root under base_url.

    Writes are atomic (a hidden temporary file in the same folder, then ``os.replace``), so a
    reader sees the old view or the new one, never a partial file. Not fsynced: a power cut may
    lose the newest views, which re-indexing writes again.
    """

    def __init__(self, root: str | Path, base_url: str = DEFAULT_LOCAL_URL, prefix: str = ""):
        super().__init__(prefix)
        self.root = Path(root).expanduser().resolve()
        self.base_url = base_url.rstrip("/")

    def url_for_key(self, key: str) -> str:
        return f"{self.base_url}/{key}"

    def path_for_key(self, key: str) -> Path:
        """The file of a key, refusing any key that would resolve outside root."""
        path = (self.root / self.check_key(key)).resolve()
        if not path.is_relative_to(self.root):
            raise InvalidViewKeyError(f"view key {key!r} escapes the view folder {self.root}")
        return path

    def _write(self, key: str, data: bytes) -> None:
        path = self.path_for_key(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.chmod(tmp, 0o644)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def _read(self, key: str) -> bytes:
        path = self.path_for_key(key)
        try:
            return path.read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as e:
            raise ViewNotFoundError(f"no view stored under {key!r}") from e

    def delete_part(self, part_id: str) -> int:
        folder = self.root / self.part_prefix(part_id)
        if folder.is_symlink() or not folder.resolve().is_relative_to(self.root):
            raise InvalidViewKeyError(f"the views of {part_id!r} lie outside {self.root}")
        if not folder.is_dir():
            return 0
        removed = 0
        for path in folder.iterdir():
            if path.is_file() and path.suffix in (".png", ".glb", ".tmp"):
                path.unlink(missing_ok=True)
                removed += path.suffix == ".png"
        try:
            folder.rmdir()
        except OSError:
            pass  # something else lives there; leave it
        return removed


class B2ViewStore(ViewStore):
    """Views as objects of a Backblaze B2 bucket.

    api_or_bucket : a ``b2sdk.v2.B2Api`` (then bucket_name is required) or a ``Bucket``
    public_url : base URL of a public bucket or CDN (``{public_url}/{key}``); None: the bucket's
        download-by-name URL, which needs an authorization token when the bucket is private
    Re-putting a view uploads a new version of its key; let a lifecycle rule on the bucket drop
    prior versions. ``delete_part`` deletes every version (and hide marker) of the part's keys.
    """

    def __init__(
        self,
        api_or_bucket: B2Api | Bucket,
        bucket_name: str | None = None,
        prefix: str = "views/",
        public_url: str | None = None,
    ):
        super().__init__(prefix)
        if hasattr(api_or_bucket, "upload_bytes"):  # a Bucket
            if bucket_name is not None and bucket_name != api_or_bucket.name:
                raise ValueError(
                    f"bucket_name {bucket_name!r} disagrees with the given bucket "
                    f"{api_or_bucket.name!r}; pass one of them"
                )
            self.bucket = api_or_bucket
        else:
            if not bucket_name:
                raise ValueError("bucket_name is required when a B2Api is given")
            self.bucket = get_bucket(api_or_bucket, bucket_name)
        self.api = self.bucket.api
        self.public_url = public_url.rstrip("/") if public_url else None

    def url_for_key(self, key: str) -> str:
        if self.public_url:
            return f"{self.public_url}/{key}"
        return self.api.get_download_url_for_file_name(self.bucket.name, key)

    def _write(self, key: str, data: bytes) -> None:
        self.bucket.upload_bytes(data, key, content_type=self.content_type(key))

    def _read(self, key: str) -> bytes:
        try:
            return download_bytes(self.bucket, key)
        except FileNotFoundError as e:
            raise ViewNotFoundError(f"no view stored under {key!r}") from e

    def delete_part(self, part_id: str) -> int:
        prefix = self.part_prefix(part_id)
        versions = [v for v, _ in self.bucket.ls(prefix, latest_only=False, recursive=True)]
        views = {v.file_name for v in versions if v.action == "upload"} - {prefix + MESH_FILE}
        for version in versions:
            self.bucket.delete_file_version(version.id_, version.file_name)
        return len(views)


def open_view_store(
    settings: ViewStoreSettings | Settings, b2_api: B2Api | None = None
) -> ViewStore:
    """The view store that settings name (``views`` of a Settings, or a ViewStoreSettings).

    kind=local : ``LocalViewStore(path, base_url=public_url or "/views")``; ``prefix`` is for B2
        only (the folder itself plays its part)
    kind=b2 : ``B2ViewStore`` on ``bucket`` under ``prefix``; b2_api, else an API authorized with
        the keys from $B2_APPLICATION_KEY_ID and $B2_APPLICATION_KEY
    """
    views = getattr(settings, "views", settings)
    if views.kind == "local":
        return LocalViewStore(views.path, base_url=views.public_url or DEFAULT_LOCAL_URL)
    if views.kind == "b2":
        if not views.bucket:
            raise B2ConfigError(
                "views.kind is 'b2' but views.bucket is not set "
                "(profile 'views: bucket:' or $CADSEARCH_VIEWS__BUCKET)"
            )
        api = resolve_b2_api(b2_api, views)
        return B2ViewStore(api, views.bucket, prefix=views.prefix, public_url=views.public_url)
    raise ValueError(f"unknown view store kind {views.kind!r}; known: local, b2")
