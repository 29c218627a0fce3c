"""Run the search service on a local (or given) Ray cluster: ``cadsearch serve`` and the tests.

Metrics: Ray Serve's own Prometheus metrics (request counts, latencies, replica queue lengths,
batch sizes of ``@serve.batch``) are exported by Ray's metrics agent of every node, at
``http://<node>:<metrics_export_port>/metrics``; start Ray with ``--metrics-export-port=8080`` (or
``ray.init(_metrics_export_port=8080)``) to fix the port.
"""

from __future__ import annotations

import logging
import os
import signal
import time
from typing import Any

log = logging.getLogger(__name__)
# Ray Serve's HAProxy ingress (serve.haproxy): read from the environment when Ray starts, by Ray's
# processes (they inherit the environment of the process that starts Ray)
HAPROXY_ENV = {"RAY_SERVE_ENABLE_HA_PROXY": "1", "RAY_SERVE_THROUGHPUT_OPTIMIZED": "1"}
# Ray's switch for a single-node Ray on loopback (its default on macOS and Windows): off, Ray takes
# 127.0.0.1 as the node's address and its own servers (GCS, raylet, workers, agents) bind it
LOOPBACK_RAY_ENV = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"
# Serve's HTTP proxy stops a request this long after the ingress's own deadline
# (serve.http_util.DeadlineMiddleware), which answers first with the typed 504
PROXY_TIMEOUT_MARGIN_S = 5.0
READY_TIMEOUT_S = 600.0  # a start waits this long for index-one's encoders
INLINE_TEXT_WAIT_S = 120.0  # and this long for the ingress's inline text copy


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
    default is 2 GiB) and listens on ``serve.host`` (``serve.grpc_bind``); the HTTP proxy sends a
    read again, or answers 503, when the ingress replica dies during it (``serve.proxy_retry``).
    Only a controller this call creates gets them: a Serve that runs already keeps its own.
    """
    from serve.grpc_bind import HOST_ENV, SETUP_HOOK, SETUP_HOOK_ENV
    from serve.proxy_retry import CALLBACK, CALLBACK_ENV

    env = {
        "RAY_SERVE_GRPC_MAX_MESSAGE_SIZE": str(int(settings.serve.limits.max_body_mb * 2**20)),
        HOST_ENV: settings.serve.host,
        SETUP_HOOK_ENV: SETUP_HOOK,
        CALLBACK_ENV: CALLBACK,
    }
    return {"runtime_env": {"env_vars": env}}


def http_options(settings, port: int | None = None) -> dict[str, Any]:
    """Serve's HTTP options: host, port, and a request timeout PROXY_TIMEOUT_MARGIN_S past
    ``serve.limits.request_timeout_s``, so that the ingress's own deadline answers first with
    the typed 504 (docs/security.md#request-timeouts)."""
    timeout_s = settings.serve.limits.request_timeout_s + PROXY_TIMEOUT_MARGIN_S
    return {
        "host": settings.serve.host,
        "port": port or settings.serve.http_port,
        "request_timeout_s": timeout_s,
    }


def grpc_options(settings, port: int | None = None):
    """Serve's gRPC options: port, the servicer, and ``serve.limits.request_timeout_s`` (past it
    the proxy answers DEADLINE_EXCEEDED); None without a gRPC port."""
    from ray.serve.config import gRPCOptions

    from serve.app import GRPC_SERVICER

    port = port or settings.serve.grpc_port
    if port is None:
        return None
    return gRPCOptions(
        port=port,
        grpc_servicer_functions=[GRPC_SERVICER],
        request_timeout_s=settings.serve.limits.request_timeout_s,
    )


def loopback_ray() -> None:
    """Make the Ray this process starts listen on loopback only (docs/security.md#rays-ports).

    Ray 2.60 binds its servers on every interface of a node with a network address, and
    resolves ``_node_ip_address="127.0.0.1"`` to that address; with LOOPBACK_RAY_ENV off it
    uses 127.0.0.1. Ray reads the switch when ``ray._private.ray_constants`` is imported, so it
    is set there as well as in the environment that Ray's processes inherit. Nothing can join
    such a Ray from another machine: a cluster is started by ``ray start`` and joined through
    ``serve.ray_address``."""
    from ray._private import ray_constants

    os.environ[LOOPBACK_RAY_ENV] = "0"
    ray_constants.ENABLE_RAY_CLUSTER = False


def joins_cluster(*addresses: str | None) -> bool:
    """Whether this process's Ray joins a cluster (an address given, or ``$RAY_ADDRESS``) rather
    than starting a local one (on loopback: ``loopback_ray``)."""
    return any(addresses) or bool(os.environ.get("RAY_ADDRESS"))


def init_ray(settings, num_cpus: int | None = None) -> None:
    """Start a local Ray on loopback (``loopback_ray``), or join ``serve.ray_address`` (or
    ``$RAY_ADDRESS``), unless this process runs Ray already; refuses an exposed service without
    keys (``check_exposure``) first.

    A local Ray is always a new one (Ray's ``address="local"``): given no address, Ray 2.60
    joins the cluster that the machine's last ``ray start`` left in /tmp/ray, anyone's."""
    import ray

    check_exposure(settings)
    ask_for_haproxy(settings)
    if not ray.is_initialized():
        address = settings.serve.ray_address
        if not joins_cluster(address):
            loopback_ray()
            address = "local"
        ray.init(
            address=address,
            num_cpus=num_cpus if address == "local" else None,
            include_dashboard=False,
            log_to_driver=False,
        )


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
    from ray import serve

    from cadsearch.settings import load_settings
    from serve.app import AppArgs, build_app

    overrides = overrides or {}
    settings = load_settings(config, **overrides)
    init_ray(settings, num_cpus)
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
    wait_ready(settings.serve.app_name)
    return settings, handle


def driver_handle(handle):
    """A deployment handle this (synchronous) driver may call ``.remote().result()`` on: its
    router on Serve's own loop thread. RAY_SERVE_THROUGHPUT_OPTIMIZED (HAPROXY_ENV) would run it
    in the caller's event loop, which a driver does not have."""
    if not handle.is_initialized:  # Serve hands out one cached handle per deployment
        handle._init(_run_router_in_separate_loop=True)
    return handle


def wait_ready(app_name: str) -> None:
    """Until the PartPreparer has loaded index-one's encoders (after it starts:
    serve.part_preparer) and the ingress encodes single query texts itself (its inline copy loads
    in the background, so that a replaced ingress serves at once), or INLINE_TEXT_WAIT_S."""
    from ray import serve

    preparer = driver_handle(serve.get_deployment_handle("PartPreparer", app_name))
    preparer.info.remote().result(timeout_s=READY_TIMEOUT_S)
    ingress = driver_handle(serve.get_app_handle(app_name))
    deadline = time.monotonic() + INLINE_TEXT_WAIT_S
    while not ingress.inline_text_ready.remote().result(timeout_s=READY_TIMEOUT_S):
        if time.monotonic() > deadline:
            log.warning("the ingress's inline text copy is not ready: texts go to the TextEncoder")
            return
        time.sleep(0.2)


# what a supervisor sends to stop a service (systemd, Kubernetes, `ray job stop`; a closed
# terminal), and Ctrl-C itself: a process started in the background by a script inherits SIGINT
# ignored, and Python then raises no KeyboardInterrupt for it
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class StopSignal(Exception):
    """A STOP_SIGNALS signal, raised in the main thread as Ctrl-C raises KeyboardInterrupt."""


class StopSignals:
    """STOP_SIGNALS as exceptions. Once installed, the first one raises StopSignal (its name) in
    the main thread; once disarmed (the shutdown has begun) they are ignored, so that a repeated
    signal does not cut the shutdown short.

    Install after ``ray.init``: Ray's core worker sets a SIGTERM handler that aborts the process
    before Python can shut anything down; this one replaces it.
    """

    def __init__(self):
        self.armed = False

    def install(self) -> None:
        self.armed = True
        for signum in STOP_SIGNALS:
            signal.signal(signum, self._on_signal)

    def disarm(self) -> None:
        self.armed = False

    def _on_signal(self, signum, frame) -> None:
        if self.armed:
            self.armed = False
            raise StopSignal(signal.Signals(signum).name)


def started_ray_here() -> bool:
    """Whether this process started the Ray it is connected to (``ray.init`` of a new local
    instance), rather than joining a running one: Ray's own record of the processes it started."""
    from ray._private import worker

    node = getattr(worker, "_global_node", None)
    return bool(getattr(node, "all_processes", None))


def stop_service(app_name: str) -> None:
    """Shut down what ``start_service`` started: on a Ray this process started, Serve and then
    Ray (waiting until its processes exit); on a Ray it joined, only the app, then disconnect
    (the cluster, its Serve and other apps keep running)."""
    import ray
    from ray import serve

    if not ray.is_initialized():
        return
    try:
        if started_ray_here():
            serve.shutdown()
        else:
            serve.delete(app_name)
    finally:
        ray.shutdown(wait_for_processes=True)


def _announce(settings) -> None:
    s = settings.serve
    print(f"cadsearch is serving: http://{s.host}:{s.http_port}/docs", flush=True)
    if s.grpc_port:
        print(f"gRPC CADRetrievalService on {s.host}:{s.grpc_port}", flush=True)
    if not settings.api_keys:
        print("note: no API keys ($CADSEARCH_API_KEYS): write endpoints are open", flush=True)


def run_forever(config: str | None = None, overrides: dict[str, Any] | None = None) -> None:
    """Start the service and block until Ctrl-C, SIGTERM or SIGHUP, then shut it down
    (``stop_service``) and return; a stop signal during the start stops it as well."""
    from cadsearch.settings import load_settings

    settings = load_settings(config, **(overrides or {}))
    init_ray(settings)
    signals = StopSignals()
    signals.install()
    try:
        try:
            start_service(config, overrides)
            _announce(settings)
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            stopped_by = "SIGINT"
        except StopSignal as stop:
            stopped_by = str(stop)
        print(f"shutting down ({stopped_by})", flush=True)
    finally:
        signals.disarm()
        stop_service(settings.serve.app_name)
