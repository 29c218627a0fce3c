"""API keys: from the environment (``CADSEARCH_API_KEYS``), sent as ``X-API-Key`` or
``Authorization: Bearer``, compared in constant time."""

from __future__ import annotations

import hmac
from collections.abc import Iterable, Mapping
from typing import Any

from serve.errors import ApiError

KEY_HEADER = "x-api-key"


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


def key_matches(keys: Iterable[Any], presented: str) -> bool:
    """Whether presented equals one of keys (SecretStr or str); every key is compared, each in
    constant time, so the answer's timing tells nothing about which key came close."""
    given = presented.encode()
    match = False
    for key in keys:
        secret = key.get_secret_value() if hasattr(key, "get_secret_value") else str(key)
        match |= hmac.compare_digest(secret.encode(), given)
    return match


def require_key(keys: list[Any], presented: str | None, what: str) -> None:
    """Refuse a request to ``what`` without a valid key (401 none, 403 wrong); no keys: open."""
    if not keys:
        return
    if not presented:
        raise ApiError(
            401,
            "unauthenticated",
            f"{what} needs an API key: send 'X-API-Key: <key>' or 'Authorization: Bearer <key>'",
            "X-API-Key",
        )
    if not key_matches(keys, presented):
        raise ApiError(403, "forbidden", "the API key is not valid", "X-API-Key")
