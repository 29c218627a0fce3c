"""The cadsearch Serve application: deployment options from settings, and the typed app builder.

``serve.app:build_app`` is the import path a Serve config names (configs/serve.yaml); its args are
``AppArgs`` (a settings profile and overrides). The graph, wired at the bottom of this file::

    SearchIngress(TextEncoder, ImageEncoder, GeometryEncoder, PartPreparer)

Every deployment carries a code version (``deployment_version``) that stays the same for the
life of the Python process that builds the app, the same bundle files and the same init args:
running the app again from that process with only a changed user_config reconfigures the running
replicas (as ``serve deploy`` of a changed config does) instead of restarting them all. A new
process (as a code change needs: its own modules are the old ones too) restarts them.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from ray.serve import Application

from serve.geometry_encoder import GeometryEncoder
from serve.image_encoder import ImageEncoder
from serve.ingress import SearchIngress
from serve.part_preparer import PartPreparer
from serve.replica import cpu_share_threads
from serve.text_encoder import TextEncoder

GRPC_SERVICER = "serve.proto.cad_retrieval_pb2_grpc.add_CADRetrievalServiceServicer_to_server"
DEPLOYMENTS = ("TextEncoder", "ImageEncoder", "GeometryEncoder", "PartPreparer", "SearchIngress")
PROCESS_CODE_VERSION = uuid.uuid4().hex  # the code this process deploys (see the docstring)
log = logging.getLogger(__name__)


class AppArgs(BaseModel):
    """Arguments of ``build_app`` (the ``args`` of the application in a Serve config)."""

    model_config = ConfigDict(extra="forbid")

    config: str | None = Field(
        None,
        description="settings profile: a name in configs/ or a YAML path (None: "
        "$CADSEARCH_CONFIG, else local)",
    )
    overrides: dict[str, Any] = Field(
        default_factory=dict, description="nested settings overrides, e.g. {store: {path: ...}}"
    )
    user_configs: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="user_config overrides by deployment name, e.g. {ImageEncoder: "
        "{max_batch_size: 1}}: applied live (reconfigure), no other deployment changes",
    )


def deployment_options(section, *, batching: bool = False) -> dict[str, Any]:
    """Serve ``.options()`` of a settings.serve deployment section: resources, fixed replicas or
    an autoscaling config, and (encoders) the batching user_config."""
    options: dict[str, Any] = {
        "ray_actor_options": {"num_cpus": section.num_cpus, "num_gpus": section.num_gpus},
        "max_ongoing_requests": section.max_ongoing_requests,
        "health_check_period_s": section.health_check_period_s,
    }
    if section.min_replicas == section.max_replicas:
        options["num_replicas"] = section.max_replicas
    else:
        options["autoscaling_config"] = {
            "min_replicas": section.min_replicas,
            "max_replicas": section.max_replicas,
            "target_ongoing_requests": section.target_ongoing_requests,
        }
    if batching:
        options["user_config"] = {
            "max_batch_size": section.max_batch_size,
            "batch_wait_timeout_s": section.batch_wait_timeout_s,
        }
    return options


def model_args(section) -> tuple[str, int]:
    """(device, torch threads) of a model replica: cuda when Ray gives it a GPU share, else cpu
    (Ray hides every GPU from an actor that asked for none)."""
    device = "cuda" if section.num_gpus > 0 else "cpu"
    return device, cpu_share_threads(section.num_cpus, section.torch_threads)


def bundle_digest(bundle: str) -> str:
    """sha256 of a bundle's bundle.json (it pins every weight file), or of its name when the
    bundle cannot be found here (the replica will say why)."""
    from encoders.bundle import BUNDLE_FILE, BundleError, bundle_path

    try:
        data = (bundle_path(bundle) / BUNDLE_FILE).read_bytes()
    except (BundleError, OSError):
        data = bundle.encode()
    return hashlib.sha256(data).hexdigest()


def _strings(value: Any) -> bool:
    return isinstance(value, tuple) and all(isinstance(item, str) for item in value)


def deployment_version(name: str, init_args: tuple, code: str) -> str:
    """A deployment's code version: a digest of its name, init args (strings, numbers and tuples
    of strings such as the keys' digests; other arguments, the handles of bound deployments, by
    their type) and ``code`` (this process's code version and the bundle's). Serve restarts
    replicas when it changes and only reconfigures them when just a user_config or a scaling
    option changed."""
    args = [
        a if isinstance(a, str | int | float | None) or _strings(a) else type(a).__name__
        for a in init_args
    ]
    canonical = json.dumps([name, args, code], sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def with_version(deployment, name: str, init_args: tuple, code: str):
    """``deployment`` with its code version set (``deployment_version``). Serve accepts a version
    from its own code only (``_internal``); on a Ray whose ``options`` refuses it, the deployment
    stays as it is (every run restarts its replicas)."""
    version = deployment_version(name, init_args, code)
    try:
        return deployment.options(version=version, _internal=True)
    except (TypeError, ValueError) as e:
        log.warning("cannot set the code version of %s (%s): a redeploy restarts it", name, e)
        return deployment


def check_settings(settings) -> None:
    """Refuse settings the service cannot run with (a scaled-out ingress on Qdrant Edge)."""
    ingress = settings.serve.ingress
    if settings.store.backend == "edge" and ingress.max_replicas != 1:
        raise ValueError(
            "store.backend 'edge' allows exactly one process to hold the shard: set "
            f"serve.ingress min_replicas = max_replicas = 1 (got {ingress.min_replicas}.."
            f"{ingress.max_replicas}), or use a Qdrant server (store.backend 'server')"
        )


def build_app(args: AppArgs | dict[str, Any] | None = None) -> Application:
    """The cadsearch search application for a settings profile (Serve's typed app builder).

    The API keys are read here, from the environment of the process that builds the app
    (``cadsearch serve``, or Serve's build task of ``serve deploy``), and reach the ingress as
    digests in its init args (docs/security.md#how-keys-reach-a-cluster); an app that would
    listen beyond loopback without keys is refused (``serve.local.check_exposure``).
    """
    from cadsearch.settings import load_settings
    from serve.auth import key_digests
    from serve.local import check_exposure

    args = args if isinstance(args, AppArgs) else AppArgs.model_validate(args or {})
    settings = load_settings(args.config, **args.overrides)
    check_exposure(settings)
    return app_graph(settings, args, key_digests(settings.api_keys))


def app_graph(settings, args: AppArgs, digests: tuple[str, ...]) -> Application:
    """The deployment graph of ``build_app`` for loaded settings and the keys' digests."""
    from cadsearch.settings import settings_to_json

    check_settings(settings)
    serve_settings = settings.serve
    unknown = sorted(set(args.user_configs) - set(DEPLOYMENTS))
    if unknown:
        raise ValueError(f"user_configs names unknown deployments {unknown}; known: {DEPLOYMENTS}")

    def options(name: str, section, batching: bool = False) -> dict[str, Any]:
        found = deployment_options(section, batching=batching)
        if name in args.user_configs:
            found["user_config"] = {**found.get("user_config", {}), **args.user_configs[name]}
        return found

    bundle = settings.model.bundle
    code = PROCESS_CODE_VERSION + bundle_digest(bundle)

    def bind(deployment, section, *init_args, batching: bool = False):
        configured = deployment.options(**options(deployment.name, section, batching))
        return with_version(configured, deployment.name, init_args, code).bind(*init_args)

    text = bind(
        TextEncoder, serve_settings.text, bundle, *model_args(serve_settings.text), batching=True
    )
    image = bind(
        ImageEncoder, serve_settings.image, bundle, *model_args(serve_settings.image), batching=True
    )
    geometry = bind(
        GeometryEncoder,
        serve_settings.geometry,
        bundle,
        *model_args(serve_settings.geometry),
        batching=True,
    )
    settings_json = settings_to_json(settings)
    preparer = bind(
        PartPreparer, serve_settings.preparer, settings_json, *model_args(serve_settings.preparer)
    )
    return bind(
        SearchIngress,
        serve_settings.ingress,
        settings_json,
        digests,
        text,
        image,
        geometry,
        preparer,
    )
