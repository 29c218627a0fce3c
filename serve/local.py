"""Run the search service on a local (or given) Ray cluster: ``cadsearch serve`` and the tests.

Metrics: Ray Serve's own Prometheus metrics (request counts, latencies, replica queue lengths,
batch sizes of ``@serve.batch``) are exported by Ray's metrics agent of every node, at
``http://<node>:<metrics_export_port>/metrics``; start Ray with ``--metrics-export-port=8080`` (or
``ray.init(_metrics_export_port=8080)``) to fix the port.
"""

from __future__ import annotations

import logging
import os
import time
from typing import Any

log = logging.getLogger(__name__)
# Ray Serve's HAProxy ingress (serve.haproxy): read from the environment when Ray starts, by Ray's
# processes (they inherit the environment of the process that starts Ray)
HAPROXY_ENV = {"RAY_SERVE_ENABLE_HA_PROXY": "1", "RAY_SERVE_THROUGHPUT_OPTIMIZED": "1"}


def haproxy_on() -> bool:
    """Whether this process's environment asks Ray Serve for the HAProxy ingress."""
    return all(os.environ.get(name) == value for name, value in HAPROXY_ENV.items())


def ask_for_haproxy(settings) -> None:
    """With ``serve.haproxy``, put HAPROXY_ENV in this process's environment before Ray starts;
    on a Ray that runs already (or a cluster joined) only its own environment counts."""
    import ray

    if not settings.serve.haproxy or haproxy_on():
        return
    if ray.is_initialized() or settings.serve.ray_address is not None:
        log.warning(
            "serve.haproxy: Ray runs already; its environment decides the ingress (set %s "
            "where it starts)",
            " ".join(f"{k}={v}" for k, v in HAPROXY_ENV.items()),
        )
        return
    os.environ.update(HAPROXY_ENV)


def http_options(settings, port: int | None = None) -> dict[str, Any]:
    return {"host": settings.serve.host, "port": port or settings.serve.http_port}


def grpc_options(settings, port: int | None = None):
    from ray.serve.config import gRPCOptions

    from serve.app import GRPC_SERVICER

    port = port or settings.serve.grpc_port
    if port is None:
        return None
    return gRPCOptions(port=port, grpc_servicer_functions=[GRPC_SERVICER])


def start_service(
    config: str | None = None,
    overrides: dict[str, Any] | None = None,
    *,
    http_port: int | None = None,
    grpc_port: int | None = None,
    num_cpus: int | None = None,
    user_configs: dict[str, dict[str, Any]] | None = None,
):
    """Start Ray (unless connected), Serve's proxies and the app; returns (settings, handle).

    user_configs : user_config overrides by deployment name (``AppArgs.user_configs``)
    """
    import ray
    from ray import serve

    from cadsearch.settings import load_settings
    from serve.app import AppArgs, build_app

    overrides = overrides or {}
    settings = load_settings(config, **overrides)
    ask_for_haproxy(settings)
    if not ray.is_initialized():
        ray.init(
            address=settings.serve.ray_address,
            num_cpus=num_cpus if settings.serve.ray_address is None else None,
            include_dashboard=False,
            log_to_driver=False,
        )
    options = {"http_options": http_options(settings, http_port)}
    grpc = grpc_options(settings, grpc_port)
    if grpc is not None:
        options["grpc_options"] = grpc
    serve.start(**options)
    app = build_app(AppArgs(config=config, overrides=overrides, user_configs=user_configs or {}))
    handle = serve.run(app, name=settings.serve.app_name, route_prefix="/")
    return settings, handle


def run_forever(config: str | None = None, overrides: dict[str, Any] | None = None) -> None:
    """Start the service and block until Ctrl-C, then shut Serve down."""
    from ray import serve

    settings, _ = start_service(config, overrides)
    s = settings.serve
    print(f"cadsearch is serving: http://{s.host}:{s.http_port}/docs", flush=True)
    if s.grpc_port:
        print(f"gRPC CADRetrievalService on {s.host}:{s.grpc_port}", flush=True)
    if not settings.api_keys:
        print("note: no API keys ($CADSEARCH_API_KEYS): write endpoints are open", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        print("shutting down", flush=True)
    finally:
        serve.shutdown()
