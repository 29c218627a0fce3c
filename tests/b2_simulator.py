"""An in-memory B2 for tests: b2sdk's ``RawSimulator`` behind an authorized ``B2Api``."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from b2sdk.v2 import B2Api


def simulated_b2_api(bucket: str | None = None) -> B2Api:
    """An authorized B2Api backed by b2sdk's in-memory ``RawSimulator``.

    bucket : also create this private bucket
    The simulator is ``api.session.raw_api``.
    """
    from b2sdk.v2 import B2Api, B2HttpApiConfig, InMemoryAccountInfo, InMemoryCache, RawSimulator

    api = B2Api(
        InMemoryAccountInfo(),
        cache=InMemoryCache(),
        api_config=B2HttpApiConfig(_raw_api_class=RawSimulator),
    )
    account_id, master_key = api.session.raw_api.create_account()
    api.authorize_account("production", account_id, master_key)
    if bucket is not None:
        api.create_bucket(bucket, "allPrivate")
    return api
