"""Bind Ray Serve's gRPC proxy where the HTTP proxy binds: Ray 2.60 hard-codes every interface
(``[::]``) in ``ray.serve._private.grpc_util.start_grpc_server``.

``install`` runs in each Ray worker that Serve's controller starts (its runtime environment's
setup hook, see ``serve.local.controller_options``) and wraps the one function that adds the
gRPC server's address, so the proxy listens on ``$CADSEARCH_GRPC_HOST`` instead.
"""

from __future__ import annotations

import os

HOST_ENV = "CADSEARCH_GRPC_HOST"
# Ray's own variable for a setup hook given as a module path (what runtime_env's
# ``worker_process_setup_hook`` sets); only env_vars reach Serve's controller
SETUP_HOOK_ENV = "__RAY_WORKER_PROCESS_SETUP_HOOK_ENV_VAR"
SETUP_HOOK = "serve.grpc_bind.install"


def grpc_address(address: str, host: str) -> str:
    """``address`` (``[::]:9000``) with its host replaced by ``host`` (IPv6 hosts bracketed)."""
    port = address.rsplit(":", 1)[1]
    host = host.strip("[]")
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def install() -> None:
    """Make this process's Serve proxy add its gRPC address on ``$CADSEARCH_GRPC_HOST``."""
    host = os.environ.get(HOST_ENV)
    if not host:
        return
    from ray.serve._private import default_impl

    original = default_impl.add_grpc_address
    if getattr(original, "_cadsearch_host", None) == host:
        return

    def add_grpc_address(server, server_address: str):
        return original(server, grpc_address(server_address, host))

    add_grpc_address._cadsearch_host = host
    default_impl.add_grpc_address = add_grpc_address
