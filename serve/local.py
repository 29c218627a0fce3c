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


def is_loopback(host: str) -> bool:
    """Whether host is a loopback name or address (reachable from this machine only)."""
    import ipaddress

    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip().strip("[]")).is_loopback
    except ValueError:
        return False


def check_exposure(settings) -> None:
    """Refuse to serve beyond this machine without API keys unless ``serve.open_mode`` says so:
    anyone who reaches an open service may index and delete parts."""
    serve_settings = settings.serve
    if is_loopback(serve_settings.host) or settings.api_keys or serve_settings.open_mode:
        return
    raise ValueError(
        f"serve.host {serve_settings.host!r} listens beyond this machine (HTTP and gRPC) and "
        "no API keys are set: set CADSEARCH_API_KEYS, bind 127.0.0.1, or set serve.open_mode "
        "to serve without keys (docs/security.md)"
    )


def controller_options(settings) -> dict[str, Any]:
    """Serve's controller options: the environment of the controller and the proxies it starts.

    The gRPC proxy takes messages up to ``serve.limits.max_body_mb`` (HTTP's body limit; Ray's
    default is 2 GiB) and listens on ``serve.host`` (``serve.grpc_bind``). Only a controller this
    call creates gets them: a Serve that runs already keeps its own.
    """
    from serve.grpc_bind import HOST_ENV, SETUP_HOOK, SETUP_HOOK_ENV

    env = {
        "RAY_SERVE_GRPC_MAX_MESSAGE_SIZE": str(int(settings.serve.limits.max_body_mb * 2**20)),
        HOST_ENV: settings.serve.host,
        SETUP_HOOK_ENV: SETUP_HOOK,
    }
    return {"runtime_env": {"env_vars": env}}


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
    check_exposure(settings)
    ask_for_haproxy(settings)
    if not ray.is_initialized():
        ray.init(
            address=settings.serve.ray_address,
            num_cpus=num_cpus if settings.serve.ray_address is None else None,
            include_dashboard=False,
            log_to_driver=False,
        )
    options = {
        "http_options": http_options(settings, http_port),
        "controller_options": controller_options(settings),
    }
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
