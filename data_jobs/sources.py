"""Discover a catalog: one ``PartSource`` row per input file, from a folder, a manifest or B2.

Sources
- a folder: every regular, non-hidden file under it (recursively); ``part_id`` is the path relative
  to the folder without its extension (``bolts/m8x40``). A sidecar ``manifest.jsonl`` or
  ``manifest.csv`` in the folder gives metadata to the files it names (its ``file`` column), and
  then its ``part_id`` wins; files it does not name are indexed with empty metadata.
- a manifest (``.jsonl``/``.ndjson``/``.csv``, a path or a ``b2://`` URI): one part per line; see
  ``parse_manifest``. ``file`` is relative to the manifest's folder, absolute, or a ``b2://`` URI.
- a B2 prefix ``b2://bucket/prefix``: like a folder, over the latest version of each object.

Every input ends up indexed or reported. Discovery returns a row for every input, and the rows
that cannot be indexed say so through ``PartSource.problem()`` (a typed ``MeshError`` with a stable
``code``), which the prepare stage raises into the error report instead of reading the file:
- an unsupported extension (``drawing.dwg``, ``archive.zip``, a file without extension):
  ``UnsupportedFormatError``;
- a manifest entry whose file does not exist: ``size == -1`` and ``fingerprint == ""``,
  ``UnreadableMeshError("no such file")``.
Companion files are not inputs and are left out of folders and prefixes: hidden files and folders
(a path segment starting with "."), the sidecar manifest, and files whose extension is in
``COMPANION_EXTENSIONS`` (documents, preview images and textures, data and config files, OBJ
``.mtl`` and glTF ``.bin`` companions) or whose name is in ``COMPANION_NAMES`` (LICENSE, ...).

Fingerprints say whether a part's bytes changed since it was indexed:
- local files: ``sha256:<hex>`` of the bytes, streamed in 1 MiB chunks;
- B2 objects: ``sha1:<hex>``, the content SHA-1 B2 keeps (for large files the ``large_file_sha1``
  file info), read from the listing without downloading; when B2 has none, ``b2id:<file id>``,
  which changes with every upload. Schemes never compare equal, so moving a catalog between a
  folder and B2 re-indexes it once.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import posixpath
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from encoders.parts.source import MISSING_SIZE, PartSource
from store.b2 import b2_uri, download_bytes, get_bucket, is_b2_uri, parse_b2_uri, resolve_b2_api
from store.part_ids import validate_part_id

MANIFEST_NAMES = ("manifest.jsonl", "manifest.csv")  # sidecar manifests of a folder or prefix
MANIFEST_SUFFIXES = (".jsonl", ".ndjson", ".csv")
COMPANION_EXTENSIONS = frozenset(
    "md txt rst pdf html htm rtf doc docx "  # documents
    "png jpg jpeg gif webp bmp tif tiff svg "  # previews and textures
    "json jsonl ndjson csv tsv yaml yml toml ini xml log "  # data and config
    "md5 sha1 sha256 "  # checksums
    "mtl bin".split()  # OBJ materials, glTF buffers
)
COMPANION_NAMES = frozenset("license licence readme notice copying authors changelog".split())
_CHUNK = 1 << 20


# ---------------------------------------------------------------- manifests


@dataclass(frozen=True)
class ManifestEntry:
    """One line of a manifest: the part id, its file reference as written, its metadata."""

    part_id: str
    file: str
    metadata: dict[str, Any]
    line: int


def _split_tags(text: str) -> list[str]:
    text = text.strip()
    if text.startswith("["):
        return json.loads(text)
    sep = ";" if ";" in text else ","
    return [tag.strip() for tag in text.split(sep) if tag.strip()]


def _normalize_metadata(record: dict[str, Any], where: str, from_csv: bool) -> dict[str, Any]:
    """Metadata of one manifest record: typed tags, parameters, descriptions and scale."""
    meta = {k: v for k, v in record.items() if k not in ("part_id", "file")}
    if from_csv:
        meta = {k: v for k, v in meta.items() if v is not None and str(v).strip() != ""}
    try:
        if isinstance(meta.get("tags"), str):
            meta["tags"] = _split_tags(meta["tags"])
        if "tags" in meta:
            if not isinstance(meta["tags"], list):
                raise ValueError(f"'tags' must be a list, got {meta['tags']!r}")
            meta["tags"] = [str(tag) for tag in meta["tags"]]
        if isinstance(meta.get("parameters"), str):
            meta["parameters"] = json.loads(meta["parameters"])
        if "parameters" in meta and not isinstance(meta["parameters"], dict):
            raise ValueError(f"'parameters' must be a JSON object, got {meta['parameters']!r}")
        if isinstance(meta.get("descriptions"), str):
            text = meta["descriptions"].strip()
            meta["descriptions"] = json.loads(text) if text.startswith("[") else [text]
        if from_csv and "scale" in meta:
            try:
                meta["scale"] = float(meta["scale"])
            except ValueError:
                pass  # kept as written: the part is refused with a clear error when prepared
    except json.JSONDecodeError as e:
        raise ValueError(f"{where}: malformed JSON in a metadata column: {e.msg}") from e
    except ValueError as e:
        raise ValueError(f"{where}: {e}") from e
    return meta


def _entry(record: Any, name: str, line: int, from_csv: bool) -> ManifestEntry:
    where = f"{name} line {line}"
    if not isinstance(record, dict):
        raise ValueError(f"{where}: expected a JSON object, got {type(record).__name__}")
    for column in ("part_id", "file"):
        if record.get(column) is None or record.get(column) == "":
            raise ValueError(f"{where}: missing {column!r}")
    file = record["file"]
    if not isinstance(file, str) or not file.strip():
        raise ValueError(f"{where}: 'file' must be a non-empty string, got {file!r}")
    part_id = validate_part_id(record["part_id"], where)
    meta = _normalize_metadata(record, where, from_csv)
    meta.setdefault("name", PurePosixPath(file).stem)
    return ManifestEntry(part_id, file, meta, line)


def parse_manifest(text: str, name: str) -> list[ManifestEntry]:
    """The entries of a manifest's text; name (ending in .jsonl/.ndjson/.csv) picks the format.

    JSONL: one JSON object a line. CSV: a header row; ``tags`` a JSON list or a ";"- (else ",")
    separated string, ``parameters`` a JSON object, ``descriptions`` a JSON list or one string,
    ``scale`` a number. Both need ``part_id`` and ``file``; every other column is kept as
    metadata. Blank lines are skipped. Raises ValueError naming the line of a malformed entry,
    and every duplicated part id with its lines.
    """
    if text.startswith("\ufeff"):
        text = text[1:]
    entries = []
    if name.lower().endswith(".csv"):
        reader = csv.DictReader(io.StringIO(text, newline=""))
        columns = [c.strip() for c in reader.fieldnames or []]
        missing = [c for c in ("part_id", "file") if c not in columns]
        if missing:
            raise ValueError(
                f"{name} line 1: missing column(s) {', '.join(map(repr, missing))} "
                f"(header: {columns})"
            )
        reader.fieldnames = columns
        for row in reader:
            if None in row:
                raise ValueError(f"{name} line {reader.line_num}: more fields than the header")
            if all(v is None or not v.strip() for v in row.values()):
                continue
            entries.append(_entry(row, name, reader.line_num, from_csv=True))
    else:
        # split on "\n" only: JSON strings may hold U+2028 and friends, which splitlines() breaks
        for number, line in enumerate(text.split("\n"), start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as e:
                raise ValueError(
                    f"{name} line {number}: not valid JSON ({e.msg}, column {e.colno})"
                ) from e
            entries.append(_entry(record, name, number, from_csv=False))
    lines: dict[str, list[int]] = {}
    for entry in entries:
        lines.setdefault(entry.part_id, []).append(entry.line)
    dupes = {pid: at for pid, at in lines.items() if len(at) > 1}
    if dupes:
        listed = "; ".join(
            f"{pid!r} (lines {', '.join(map(str, at))})" for pid, at in dupes.items()
        )
        raise ValueError(f"{name}: {len(dupes)} duplicate part_id(s): {listed[:2000]}")
    return entries


# ---------------------------------------------------------------- discovery


def _is_hidden(rel: str) -> bool:
    return any(part.startswith(".") for part in rel.split("/"))


def _file_type(name: str) -> str:
    return PurePosixPath(name).suffix.lower().lstrip(".")


def _is_companion(rel: str) -> bool:
    path = PurePosixPath(rel)
    return _file_type(rel) in COMPANION_EXTENSIONS or path.stem.lower() in COMPANION_NAMES


def _path_part_id(rel: str) -> str:
    suffix = PurePosixPath(rel).suffix
    return validate_part_id(rel[: -len(suffix)] if suffix else rel, f"file {rel!r}")


def _sha256_file(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return f"sha256:{digest.hexdigest()}"


class _Stats:
    """Size and fingerprint of local files and B2 objects; B2 listings are fetched once."""

    def __init__(self, api: Callable[[], Any]):
        self.api = api
        self._listings: dict[tuple[str, str], dict[str, Any]] = {}  # (bucket, prefix) -> versions
        self._recursive: set[tuple[str, str]] = set()

    def list_b2(self, bucket_name: str, prefix: str, recursive: bool) -> dict[str, Any]:
        """Latest visible versions under prefix ("" or ending in "/"), by key."""
        key = (bucket_name, prefix)
        if key not in self._listings or (recursive and key not in self._recursive):
            bucket = get_bucket(self.api(), bucket_name)
            listing = bucket.ls(prefix, latest_only=True, recursive=recursive)
            self._listings[key] = {v.file_name: v for v, folder in listing if folder is None}
            if recursive:
                self._recursive.add(key)
        return self._listings[key]

    def __call__(self, uri: str) -> tuple[int, str]:
        if not is_b2_uri(uri):
            if not os.path.isfile(uri):
                return MISSING_SIZE, ""
            try:
                return os.path.getsize(uri), _sha256_file(uri)
            except OSError:  # unreadable (permissions): reading it later reports the real error
                return os.path.getsize(uri), ""
        bucket, key = parse_b2_uri(uri)
        covering = [p for b, p in self._recursive if b == bucket and key.startswith(p)]
        if covering:
            versions = self._listings[(bucket, covering[0])]
        else:
            folder = key.rsplit("/", 1)[0] + "/" if "/" in key else ""
            versions = self.list_b2(bucket, folder, recursive=False)
        version = versions.get(key)
        if version is None:
            return MISSING_SIZE, ""
        sha1 = version.get_content_sha1()
        return int(version.size), f"sha1:{sha1}" if sha1 else f"b2id:{version.id_}"


def _resolve(file: str, base: str, where: str) -> str:
    """A manifest's file reference as a URI: b2:// as is, absolute paths, else under base."""
    if is_b2_uri(file):
        parse_b2_uri(file)
        return file
    if os.path.isabs(file):
        return os.path.normpath(file)
    if is_b2_uri(base):
        bucket, folder = parse_b2_uri(base)
        key = posixpath.normpath(posixpath.join(folder, file))
        if key.startswith("../") or key == "..":
            raise ValueError(f"{where}: file {file!r} points outside the bucket")
        return b2_uri(bucket, key)
    return os.path.normpath(os.path.join(base, file))


def _assemble(
    entries: list[ManifestEntry],
    base: str,
    manifest_name: str,
    tree: Iterable[tuple[str, str]],
    stats: _Stats,
) -> list[PartSource]:
    """Rows of manifest entries (resolved against base) plus the tree's files they do not name.

    tree : (path relative to the folder or prefix, uri) of every file found there
    """
    parts: list[PartSource] = []
    named = set()
    for entry in entries:
        uri = _resolve(entry.file, base, f"{manifest_name} line {entry.line}")
        named.add(uri)
        size, fingerprint = stats(uri)
        parts.append(
            PartSource(entry.part_id, uri, _file_type(uri), entry.metadata, fingerprint, size)
        )
    for rel, uri in tree:
        if uri in named or _is_hidden(rel) or _is_companion(rel):
            continue
        size, fingerprint = stats(uri)
        metadata = {"name": PurePosixPath(rel).stem}
        parts.append(
            PartSource(_path_part_id(rel), uri, _file_type(rel), metadata, fingerprint, size)
        )
    seen: dict[str, list[str]] = {}
    for part in parts:
        seen.setdefault(part.part_id, []).append(part.uri)
    dupes = {pid: uris for pid, uris in seen.items() if len(uris) > 1}
    if dupes:
        listed = "; ".join(f"{pid!r} from {', '.join(uris)}" for pid, uris in dupes.items())
        raise ValueError(
            f"{len(dupes)} part id(s) given to more than one file (rename one, or name them "
            f"in the manifest): {listed[:2000]}"
        )
    return sorted(parts, key=lambda p: p.part_id)


def _one_manifest(names: Iterable[str], where: str) -> str | None:
    names = set(names)
    found = [n for n in MANIFEST_NAMES if n in names]
    if len(found) > 1:
        raise ValueError(f"{where} holds both {' and '.join(found)}; keep one")
    return found[0] if found else None


def _local_tree(root: str) -> list[tuple[str, str]]:
    files = []
    for folder, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(names):
            path = os.path.join(folder, name)
            if name.startswith(".") or not (os.path.isfile(path) or os.path.islink(path)):
                continue  # hidden, or a socket, fifo or device
            files.append((Path(os.path.relpath(path, root)).as_posix(), path))
    return files


def _discover_folder(root: str, stats: _Stats) -> list[PartSource]:
    tree = _local_tree(root)
    manifest = _one_manifest((rel for rel, _ in tree), f"folder {root}")
    entries: list[ManifestEntry] = []
    if manifest:
        path = os.path.join(root, manifest)
        entries = parse_manifest(Path(path).read_text(encoding="utf-8"), path)
        tree = [(rel, uri) for rel, uri in tree if rel != manifest]
    return _assemble(entries, root, manifest or "", tree, stats)


def _discover_b2_prefix(uri: str, stats: _Stats) -> list[PartSource]:
    bucket_name, prefix = parse_b2_uri(uri)
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    versions = stats.list_b2(bucket_name, prefix, recursive=True)
    tree = [(key[len(prefix) :], b2_uri(bucket_name, key)) for key in versions]
    tree = [(rel, key_uri) for rel, key_uri in tree if rel and not rel.endswith("/")]
    manifest = _one_manifest((rel for rel, _ in tree), uri)
    entries: list[ManifestEntry] = []
    base = b2_uri(bucket_name, prefix)
    if manifest:
        manifest_uri = base + manifest
        text = download_bytes(get_bucket(stats.api(), bucket_name), prefix + manifest)
        entries = parse_manifest(text.decode("utf-8"), manifest_uri)
        tree = [(rel, key_uri) for rel, key_uri in tree if rel != manifest]
    return _assemble(entries, base, manifest or "", tree, stats)


def discover(source: str | Path, settings: Any = None, b2_api: Any = None) -> list[PartSource]:
    """Every input of a catalog, one ``PartSource`` each, sorted by part id.

    source : a folder, a manifest file (.jsonl/.ndjson/.csv, local or ``b2://``), or a B2
        prefix ``b2://bucket/prefix``
    settings : ``Settings`` or ``ViewStoreSettings`` whose B2 keys are used when b2_api is None
        (else $B2_APPLICATION_KEY_ID / $B2_APPLICATION_KEY); only read when B2 is touched
    b2_api : an authorized ``b2sdk.v2.B2Api``
    Raises ValueError for malformed manifests, bad or duplicated part ids; FileNotFoundError.
    """
    api_cache: list[Any] = []

    def api() -> Any:
        if not api_cache:
            api_cache.append(resolve_b2_api(b2_api, settings))
        return api_cache[0]

    stats = _Stats(api)
    source = str(source)
    is_manifest = source.lower().endswith(MANIFEST_SUFFIXES)
    if is_b2_uri(source):
        if not is_manifest:
            return _discover_b2_prefix(source, stats)
        bucket_name, key = parse_b2_uri(source)
        text = download_bytes(get_bucket(api(), bucket_name), key).decode("utf-8")
        base = b2_uri(bucket_name, key.rsplit("/", 1)[0] + "/" if "/" in key else "")
        return _assemble(parse_manifest(text, source), base, source, [], stats)
    path = os.path.abspath(os.path.expanduser(source))
    if os.path.isdir(path):
        return _discover_folder(path, stats)
    if not os.path.exists(path):
        raise FileNotFoundError(f"catalog source not found: {source}")
    if not is_manifest:
        raise ValueError(
            f"catalog source {source!r} is not a folder, a manifest (.jsonl, .ndjson, .csv) "
            "or a b2://bucket/prefix"
        )
    text = Path(path).read_text(encoding="utf-8")
    return _assemble(parse_manifest(text, path), os.path.dirname(path), path, [], stats)
