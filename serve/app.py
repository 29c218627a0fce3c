"""The cadsearch Serve application: deployment options from settings, and the typed app builder.

``serve.app:build_app`` is the import path a Serve config names (configs/serve.yaml); its args are
``AppArgs`` (a settings profile and overrides). The graph, wired at the bottom of this file::

    SearchIngress(TextEncoder, ImageEncoder, GeometryEncoder, PartPreparer)
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from ray.serve import Application

from serve.geometry_encoder import GeometryEncoder
from serve.image_encoder import ImageEncoder
from serve.ingress import SearchIngress
from serve.part_preparer import PartPreparer
from serve.replica import torch_threads_for
from serve.text_encoder import TextEncoder

GRPC_SERVICER = "serve.proto.cad_retrieval_pb2_grpc.add_CADRetrievalServiceServicer_to_server"
DEPLOYMENTS = ("TextEncoder", "ImageEncoder", "GeometryEncoder", "PartPreparer", "SearchIngress")


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
    return device, torch_threads_for(section.num_cpus, section.torch_threads)


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
    """The cadsearch search application for a settings profile (Serve's typed app builder)."""
    from cadsearch.settings import load_settings, settings_to_json

    args = args if isinstance(args, AppArgs) else AppArgs.model_validate(args or {})
    settings = load_settings(args.config, **args.overrides)
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
    text = TextEncoder.options(**options("TextEncoder", serve_settings.text, True)).bind(
        bundle, *model_args(serve_settings.text)
    )
    image = ImageEncoder.options(**options("ImageEncoder", serve_settings.image, True)).bind(
        bundle, *model_args(serve_settings.image)
    )
    geometry = GeometryEncoder.options(
        **options("GeometryEncoder", serve_settings.geometry, True)
    ).bind(bundle, *model_args(serve_settings.geometry))
    settings_json = settings_to_json(settings)
    preparer = PartPreparer.options(**options("PartPreparer", serve_settings.preparer)).bind(
        settings_json, *model_args(serve_settings.preparer)
    )
    return SearchIngress.options(**options("SearchIngress", serve_settings.ingress)).bind(
        settings_json, text, image, geometry, preparer
    )
