"""API keys: read once by the driver that builds the app (``CADSEARCH_API_KEYS``) and handed to
the replicas as SHA-256 digests; sent as ``X-API-Key`` or ``Authorization: Bearer``, compared in
constant time."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from typing import Any

from serve.errors import ApiError

KEY_HEADER = "x-api-key"


def key_digest(key: str) -> str:
    """The hex SHA-256 of a key: what a replica holds instead of the key."""
    return hashlib.sha256(key.encode()).hexdigest()


def key_digests(keys: Iterable[Any]) -> tuple[str, ...]:
    """Digests of keys (SecretStr or str), for a deployment's init args: a replica, its logs and
    Serve's record of the deployment never see a key itself."""
    return tuple(
        key_digest(key.get_secret_value() if hasattr(key, "get_secret_value") else str(key))
        for key in keys
    )


def presented_key(headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> str | None:
    """The API key a request carries (``X-API-Key``, else ``Authorization: Bearer <key>``)."""
    items = headers.items() if isinstance(headers, Mapping) else headers
    found: dict[str, str] = {}
    for name, value in items:
        found.setdefault(str(name).lower(), value if isinstance(value, str) else str(value))
    if found.get(KEY_HEADER):
        return found[KEY_HEADER].strip()
    scheme, _, token = found.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


def key_matches(digests: Iterable[str], presented: str) -> bool:
    """Whether presented is one of the keys whose digests are given; every digest is compared,
    each in constant time, so the answer's timing tells nothing about which key came close."""
    given = key_digest(presented)
    match = False
    for digest in digests:
        match |= hmac.compare_digest(digest, given)
    return match


def require_key(digests: Iterable[str], presented: str | None, what: str) -> None:
    """Refuse a request to ``what`` without a valid key (401 none, 403 wrong); no keys: open."""
    digests = tuple(digests)
    if not digests:
        return
    if not presented:
        raise ApiError(
            401,
            "unauthenticated",
            f"{what} needs an API key: send 'X-API-Key: <key>' or 'Authorization: Bearer <key>'",
            "X-API-Key",
        )
    if not key_matches(digests, presented):
        raise ApiError(403, "forbidden", "the API key is not valid", "X-API-Key")
