"""Bind Ray Serve's gRPC servers off every interface: Ray 2.60 hard-codes ``[::]`` for the gRPC
proxy (``ray.serve._private.grpc_util.start_grpc_server``) and for each replica's
inter-deployment server (``ray.serve._private.replica``).

``install`` runs in each Ray worker that Serve's controller starts (its runtime environment's
setup hook, see ``serve.local.controller_options``; replicas inherit it) and wraps the functions
that add those addresses: the proxy listens on ``$CADSEARCH_GRPC_HOST`` (where HTTP listens), a
replica's server on its node's address, where Serve connects to it.
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
    """Make this process's Serve proxy add its gRPC address on ``$CADSEARCH_GRPC_HOST``, and
    answer a request whose replica died UNAVAILABLE (``serve.proxy_retry.grpc_unavailable``)."""
    from serve.proxy_retry import grpc_unavailable

    grpc_unavailable()
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
    _bind_replica_server()


def _bind_replica_server() -> None:
    from ray.serve._private import replica
    from ray.util import get_node_ip_address

    original = replica.add_port_to_grpc_server
    if getattr(original, "_cadsearch", False):
        return

    def add_port_to_grpc_server(server, address: str):
        if address.startswith("[::]:"):
            address = grpc_address(address, get_node_ip_address())
        return original(server, address)

    add_port_to_grpc_server._cadsearch = True
    replica.add_port_to_grpc_server = add_port_to_grpc_server
