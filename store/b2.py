"""Backblaze B2 plumbing shared by the view store and catalog discovery: URIs, an authorized API.

b2sdk is imported where it is used, so a process that never touches B2 does not pay for it.
Credentials come from settings secrets (``views.b2_key_id`` / ``views.b2_key``, themselves read
from the environment) or straight from ``$B2_APPLICATION_KEY_ID`` / ``$B2_APPLICATION_KEY``.
Retries and back-off are b2sdk's own.
"""

from __future__ import annotations

import io
import os
import re
import threading
import weakref
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from b2sdk.v2 import B2Api, Bucket

B2_SCHEME = "b2://"
KEY_ID_ENV = "B2_APPLICATION_KEY_ID"
KEY_ENV = "B2_APPLICATION_KEY"
# B2 bucket names: 6 to 63 letters, digits and hyphens; shorter names are let through for tests
_BUCKET_NAME = re.compile(r"[A-Za-z0-9-]{1,63}")

_api_lock = threading.Lock()
_env_apis: dict[tuple[str, str], B2Api] = {}  # (realm, key id) -> authorized API, per process
_buckets: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # B2Api -> {name: Bucket}


class B2ConfigError(ValueError):
    """B2 cannot be used as configured: missing keys, a malformed URI, an unknown bucket."""


def is_b2_uri(value: Any) -> bool:
    """Whether value is a string of the form ``b2://bucket[/key]``."""
    return isinstance(value, str) and value.startswith(B2_SCHEME)


def parse_b2_uri(uri: str) -> tuple[str, str]:
    """``b2://bucket/some/key`` -> ``("bucket", "some/key")``; the key may be empty."""
    if not is_b2_uri(uri):
        raise B2ConfigError(f"not a B2 URI (expected b2://bucket/key): {uri!r}")
    bucket, _, key = uri[len(B2_SCHEME) :].partition("/")
    if not _BUCKET_NAME.fullmatch(bucket):
        raise B2ConfigError(
            f"bad bucket name {bucket!r} in {uri!r}: 1 to 63 letters, digits or hyphens"
        )
    return bucket, key


def b2_uri(bucket: str, key: str) -> str:
    """The URI of an object: ``b2://bucket/key``."""
    return f"{B2_SCHEME}{bucket}/{key}"


def b2_credentials(settings: Any = None) -> tuple[str, str]:
    """(key id, key) from settings secrets, else from the environment.

    settings : a ``Settings``, a ``ViewStoreSettings`` or None
    Raises B2ConfigError naming both environment variables when either is missing.
    """
    views = getattr(settings, "views", settings)
    key_id = getattr(views, "b2_key_id", None)
    key = getattr(views, "b2_key", None)
    key_id = key_id.get_secret_value() if key_id is not None else os.environ.get(KEY_ID_ENV)
    key = key.get_secret_value() if key is not None else os.environ.get(KEY_ENV)
    missing = [name for name, value in ((KEY_ID_ENV, key_id), (KEY_ENV, key)) if not value]
    if missing:
        raise B2ConfigError(
            f"B2 credentials missing: set {' and '.join(missing)} in the environment "
            f"(B2 needs both {KEY_ID_ENV} and {KEY_ENV})"
        )
    return key_id, key


def authorize_b2(settings: Any = None, *, realm: str = "production") -> B2Api:
    """A new B2Api, authorized with the keys of ``b2_credentials(settings)``."""
    from b2sdk.v2 import B2Api, InMemoryAccountInfo, InMemoryCache
    from b2sdk.v2.exception import B2Error

    key_id, key = b2_credentials(settings)
    api = B2Api(InMemoryAccountInfo(), cache=InMemoryCache())
    try:
        api.authorize_account(realm, key_id, key)
    except B2Error as e:
        raise B2ConfigError(f"B2 refused application key id {key_id!r}: {e}") from e
    return api


def resolve_b2_api(b2_api: B2Api | None = None, settings: Any = None) -> B2Api:
    """The given API, else one authorized from settings or the environment (one per process)."""
    if b2_api is not None:
        return b2_api
    key_id, _ = b2_credentials(settings)
    with _api_lock:
        api = _env_apis.get(("production", key_id))
        if api is None:
            api = _env_apis[("production", key_id)] = authorize_b2(settings)
        return api


def get_bucket(api: B2Api, name: str) -> Bucket:
    """The bucket called name (looked up once per API), or B2ConfigError naming it."""
    from b2sdk.v2.exception import NonExistentBucket

    with _api_lock:
        known = _buckets.setdefault(api, {})
        if name in known:
            return known[name]
    try:
        bucket = api.get_bucket_by_name(name)
    except NonExistentBucket as e:
        raise B2ConfigError(f"B2 bucket {name!r} does not exist or this key cannot see it") from e
    with _api_lock:
        _buckets.setdefault(api, {})[name] = bucket
    return bucket


def download_bytes(bucket: Bucket, key: str) -> bytes:
    """The latest version of an object, read into memory; FileNotFoundError when absent."""
    from b2sdk.v2.exception import FileNotPresent

    buffer = io.BytesIO()
    try:
        bucket.download_file_by_name(key).save(buffer)
    except FileNotPresent as e:
        raise FileNotFoundError(f"no such B2 object: {b2_uri(bucket.name, key)}") from e
    return buffer.getvalue()
