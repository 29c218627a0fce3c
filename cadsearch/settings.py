"""Settings: pydantic models loaded from a YAML profile in configs/, overridden by the environment.

Precedence, highest first: keyword overrides, environment variables (``CADSEARCH_`` prefix, ``__``
between nested fields, e.g. ``CADSEARCH_RENDER__IMAGE_SIZE=256``), the YAML profile, the defaults.
Secrets (B2 keys, API keys) are read from the environment only; a profile that names one is refused.
"""

from __future__ import annotations

import json as json_module
import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from encoders.geometry.options import MeshLimits, RenderSettings, SamplingSettings
from store.options import StoreConfig

REPO_ROOT = Path(__file__).resolve().parents[1]
CONFIG_DIR = REPO_ROOT / "configs"
DEFAULT_PROFILE = "local"
# fields that may only come from the environment (dotted paths into Settings)
SECRET_FIELDS = ("views.b2_key_id", "views.b2_key", "api_keys")


class _Section(BaseModel):
    """A settings section: unknown keys are errors, so a typo in a profile is caught."""

    model_config = ConfigDict(extra="forbid")


class CatalogSettings(_Section):
    """Defaults of the generated sample catalog."""

    n: int = 60
    seed: int = 1
    mesh_format: Literal["stl", "ply", "obj", "glb", "off"] = "stl"


# where vectors live and the collection's tunables: the store's own model (store/options.py)
StoreSettings = StoreConfig


class ViewStoreSettings(_Section):
    """Where rendered view PNGs live: a local folder or a Backblaze B2 bucket."""

    kind: Literal["local", "b2"] = "local"
    path: str = "data/views"  # kind=local
    bucket: str | None = None  # kind=b2
    prefix: str = "views/"
    b2_key_id: SecretStr | None = None  # from $B2_APPLICATION_KEY_ID only
    b2_key: SecretStr | None = None  # from $B2_APPLICATION_KEY only
    # base of view URLs: kind=b2, a public bucket's or CDN's base (None: B2 download-by-name
    # URLs); kind=local, where the search service serves the folder (None: /views)
    public_url: str | None = None


class ModelSettings(_Section):
    """Which model bundle makes the vectors, and where it runs."""

    bundle: str = "cad-mini"  # a shipped bundle name or a bundle directory
    device: str = "cpu"  # "cpu", "cuda", "cuda:1"
    torch_threads: int | None = None  # None: torch's default


class IndexSettings(_Section):
    """The reindex job's Ray Data pipeline: batch sizes, parallelism, resources per stage."""

    ray_address: str | None = None  # None: start or join a local Ray; "auto" or ray://host:port
    prepare_batch_size: int = Field(4, ge=1)  # parts per prepare task
    prepare_num_cpus: float = Field(1.0, gt=0)  # CPUs per prepare task
    prepare_resources: dict[str, float] = Field(default_factory=dict)  # e.g. {"render": 1}
    prepare_max_retries: int = Field(2, ge=0)  # retries of a prepare task whose worker died
    encode_batch_size: int = Field(16, ge=1)  # parts per encode call
    encode_actors: int = Field(1, ge=1)  # actor pool size (min)
    encode_actors_max: int | None = None  # actor pool max (None: same as encode_actors)
    encode_num_cpus: float = Field(1.0, ge=0)  # CPUs per encode actor
    encode_num_gpus: float = Field(0.0, ge=0)  # GPUs per encode actor (fractional allowed)
    encode_resources: dict[str, float] = Field(default_factory=dict)  # e.g. {"encode": 1}
    torch_threads: int | None = 1  # torch threads per encode actor (None: torch's default)
    # CLIP towers of the encode actors: "auto" = ONNX Runtime on a CPU in fp32 (faster than eager
    # torch there, same vectors: docs/tuning.md#onnx-towers), torch on GPUs; or "torch", "onnx"
    clip_runtime: Literal["auto", "torch", "onnx"] = "auto"
    write_batch_size: int = Field(64, ge=1)  # parts per store upsert
    reports_dir: str = "data/index-runs"  # one folder per run: errors.jsonl, summary.json
    # a part without a category gets a predicted kind (docs/predicted-kind.md): zero-shot over
    # the parts library's kinds plus ``extra_kinds`` ("cam follower", "spur_gear" reads as words)
    predict_kinds: bool = True
    extra_kinds: list[str] = Field(default_factory=list)
    # modality -> weight of its prompt cosines, and the softmax temperature of predicted_score:
    # measured on a training split (docs/predicted-kind.md)
    kind_weights: dict[str, float] = Field(
        default_factory=lambda: {"image": 1.0, "geometry": 1.0, "views": 1.0}
    )
    kind_temperature: float = Field(0.046, gt=0)

    @field_validator("kind_weights")
    @classmethod
    def _check_kind_weights(cls, value: dict[str, float]) -> dict[str, float]:
        from encoders.zero_shot import check_weights

        return check_weights(value)


class DeploymentSettings(_Section):
    """One Ray Serve deployment: resources and replicas (autoscaled when max_replicas > min)."""

    num_cpus: float = Field(0.5, ge=0)  # CPUs per replica (fractional allowed)
    num_gpus: float = Field(0.0, ge=0)  # GPUs per replica (fractional allowed)
    min_replicas: int = Field(1, ge=0)  # == max_replicas: a fixed number of replicas
    max_replicas: int = Field(1, ge=1)
    target_ongoing_requests: float = Field(8.0, gt=0)  # autoscaling target per replica
    max_ongoing_requests: int = Field(64, ge=1)  # requests a replica takes at once
    # torch threads per replica; None: its CPU share (floor of num_cpus, at least 1), so that
    # replicas x threads never exceeds the cores Ray hands out
    torch_threads: int | None = Field(None, ge=1)
    # seconds between Serve's health checks of a replica: Serve finds a dead one at the next
    # check and only then starts another (Serve's default: 10; see
    # docs/operations.md#a-replica-that-dies)
    health_check_period_s: float = Field(2.0, gt=0)


class EncoderDeploymentSettings(DeploymentSettings):
    """An encoder deployment: resources, replicas and dynamic batching (``@serve.batch``)."""

    max_batch_size: int = Field(32, ge=1)  # items (texts, images, clouds) per forward pass
    batch_wait_timeout_s: float = Field(0.005, ge=0)  # wait for a fuller batch at most this long


class ServeLimits(_Section):
    """Request limits of the search service; past them a request gets a 413 or 422."""

    max_body_mb: float = Field(64.0, gt=0)  # request body (uploads included)
    max_points: int = Field(200_000, ge=16)  # points of one point cloud
    min_points: int = Field(16, ge=1)  # points of one point cloud, at least
    max_top_k: int = Field(100, ge=1)
    max_offset: int = Field(1000, ge=0)
    # width x height of one query image, read from its header before decoding (a 24 MP
    # photo passes; a few-KB 1-bit PNG can declare 40 MP and decode to 120 MB of RGB)
    max_image_pixels: int = Field(25_000_000, ge=1)
    max_json_depth: int = Field(32, ge=2)  # nesting of a JSON body or JSON field
    max_text_chars: int = Field(2000, ge=1)  # characters of one query text
    max_batch_items: int = Field(256, ge=1)  # texts / images / clouds of one embed request
    # wall-clock seconds one query mesh may take to prepare (load, repair, sample, render) in a
    # preparer worker process; past it the process is killed and the search gets a 413
    # (docs/security.md#mesh-preparation-budget)
    mesh_budget_s: float = Field(20.0, gt=0)
    # faces of a query mesh, from its header where the format declares them (mesh.max_faces
    # bounds what the index takes)
    max_query_faces: int = Field(500_000, ge=1)
    # seconds any HTTP or gRPC request may run before it is stopped and answered 504 /
    # DEADLINE_EXCEEDED; above mesh.step_timeout_s, so that indexing a slow STEP file answers
    # (docs/security.md#request-timeouts)
    request_timeout_s: float = Field(180.0, gt=0)

    @model_validator(mode="after")
    def _check_budgets(self) -> ServeLimits:
        if self.mesh_budget_s >= self.request_timeout_s:
            raise ValueError(
                f"serve.limits.mesh_budget_s ({self.mesh_budget_s:g}) must be below "
                f"request_timeout_s ({self.request_timeout_s:g}): a costly mesh is then "
                "refused as such, not timed out"
            )
        return self


class PreparerSettings(DeploymentSettings):
    """The PartPreparer deployment, with its pool of processes that prepare query meshes."""

    # processes per replica, each preparing one query mesh at a time: a costly upload holds one
    # of them and the others keep answering (docs/security.md#several-preparers)
    workers: int = Field(2, ge=1, le=64)


class ServeSettings(_Section):
    """The search service on Ray Serve: proxies, deployments, limits, which endpoints need keys."""

    ray_address: str | None = None  # None: start or join a local Ray; "auto" or ray://host:port
    app_name: str = "cadsearch"
    # HTTP and gRPC proxy host ("0.0.0.0" to listen on every interface: needs API keys, or
    # open_mode)
    host: str = "127.0.0.1"
    # serve on a non-loopback host without API keys (anyone who reaches it may index and delete)
    open_mode: bool = False
    http_port: int = Field(8000, ge=1, le=65535)
    grpc_port: int | None = Field(9000, ge=1, le=65535)  # None: no gRPC proxy
    # Ray Serve's HAProxy ingress instead of its default proxy, for a Ray this service starts
    # (serve.local.HAPROXY_ENV; a cluster you join has its own environment): more requests/s
    # than the default proxy (docs/tuning.md#haproxy-ingress). Off by default: Ray then binds the
    # replicas' HTTP ports, and HAProxy its stats (8404) and metrics (9101), on every interface
    haproxy: bool = False
    text: EncoderDeploymentSettings = EncoderDeploymentSettings()
    # texts one call may hold to be encoded in the ingress itself, by a copy of the TextEncoder's
    # tower that follows its precision and runtime, while that copy is idle and the TextEncoder
    # runs on a CPU: no hop (docs/tuning.md#inline-text); 0: always the TextEncoder
    inline_text_items: int = Field(8, ge=0)
    image: EncoderDeploymentSettings = EncoderDeploymentSettings(max_batch_size=16)
    geometry: EncoderDeploymentSettings = EncoderDeploymentSettings(max_batch_size=16)
    # mesh loading, point sampling and view rendering of uploads; index-one encoding
    preparer: PreparerSettings = PreparerSettings(max_ongoing_requests=8)
    # the search ingress (HTTP + gRPC); with store.backend "edge" it owns the shard: 1 replica
    ingress: DeploymentSettings = DeploymentSettings(num_cpus=0.0, max_ongoing_requests=256)
    limits: ServeLimits = ServeLimits()
    # POST /v1/embed/* needs an API key when keys are configured (false: open to anyone who
    # reaches the service; a request can cost seconds of encoder time)
    protect_embed: bool = True
    protect_search: bool = False  # search and part reads need an API key (when configured)
    # the service's address as clients reach it (https://search.example.com): the base of view
    # and mesh URLs in answers; None: they stay paths (/views/...), never the request's Host
    public_url: str | None = None
    # folders whose files IndexModel's model_path may name (empty: model_path is refused)
    index_path_roots: list[str] = Field(default_factory=list)

    @field_validator("public_url")
    @classmethod
    def _check_public_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        from urllib.parse import urlsplit

        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query:
            raise ValueError(
                f"serve.public_url {value!r}: give http(s)://host[:port][/path], no query"
            )
        if parts.fragment:
            raise ValueError(f"serve.public_url {value!r}: a base URL has no #fragment")
        return value.strip().rstrip("/")


class SearchSettings(_Section):
    """Defaults of a search that does not set them: the service, the CLI and the eval alike.

    Chosen on training-split queries of the sample catalog and of KiCad, so that the held-out
    eval stays an honest test; the measurements and a pending decision: see docs/tuning.md#rerank.
    """

    # query kinds reranked unless the request says: "image" (an uploaded image), "mesh" (an
    # uploaded mesh: its rendered views), "part_id" ("more like this": the part's stored views;
    # off by default: it reads and compares 10 views a candidate, see docs/tuning.md#rerank)
    rerank: list[Literal["image", "mesh", "part_id"]] = Field(
        default_factory=lambda: ["image", "mesh"]
    )
    # added to the rerank score: this x the cosine of a candidate's geometry vector with the
    # query's (a mesh, points or part query; 0: MaxSim alone)
    rerank_geometry: float = Field(0.3, ge=0.0, le=10.0)
    # "more like this" (a part id alone): weights over the fusion defaults, under the request's
    # own. Each stored vector against its own kind only, geometry at 0.2: it ranked same-category
    # parts higher than the nine default pairs, with a third of the prefetches
    # (see docs/tuning.md#more-like-this)
    like_weights: dict[str, float] = Field(
        default_factory=lambda: {
            f"{m}->{t}": (0.2 if m == "geometry" else 1.0) if m == t else 0.0
            for m in ("text", "image", "geometry")
            for t in ("text", "image", "geometry")
        }
    )

    @field_validator("like_weights")
    @classmethod
    def _check_pairs(cls, value: dict[str, float]) -> dict[str, float]:
        from store.query import check_weights  # the store's own check of a query's weights

        check_weights(value)  # InvalidQueryError is a ValueError: a ValidationError here
        return value

    def reranks(self, kinds) -> bool:
        """Whether a query of these kinds (image, mesh, part_id, text, points) reranks."""
        return any(kind in self.rerank for kind in kinds)

    def rerank_weights(self, modalities) -> dict[str, float]:
        """The rerank pairs of a query with these query vectors (text, image, geometry)."""
        if "geometry" not in modalities or self.rerank_geometry <= 0:
            return {}
        return {"geometry->geometry": self.rerank_geometry}


class TrainSettings(_Section):
    """The training job (``cadsearch train``): Ray Train workers, recipe and schedule."""

    mode: Literal["A", "B"] = "B"  # A: geometry only, CLIP frozen; B: image tower too (text locked)
    num_workers: int = Field(1, ge=1)  # Ray Train workers (one CPU worker here; GPUs on a cluster)
    use_gpu: bool = False
    cpus_per_worker: float = Field(1.0, gt=0)
    torch_threads: int | None = Field(None, ge=1)  # None: the CPUs of this machine (at most 4)
    epochs: int = Field(20, ge=1)
    batch_size: int = Field(48, ge=2)  # per worker
    lr: float = Field(1e-3, gt=0)  # geometry encoder
    image_lr: float = Field(5e-4, gt=0)  # image tower (mode B)
    weight_decay: float = Field(0.05, ge=0)
    warmup_epochs: float = Field(1.0, ge=0)
    temperature: float = Field(0.07, gt=0)  # initial; learnable
    category_weight: float = Field(0.3, ge=0, lt=1)  # target mass shared with same-category parts
    mixed_precision: bool = True  # bf16/fp16 autocast on GPU (CPU trains in fp32)
    points_augment: bool = True
    views_augment: bool = True
    checkpoints_to_keep: int = Field(2, ge=1)
    val_parts: int = Field(300, ge=0)  # held-out parts scored after each epoch
    seed: int = 0


class DedupTolerances(_Section):
    """When two parts count as the same part (data_jobs.dedup.check.Tolerances, docs/dedup.md)."""

    same_size: float = Field(0.001, ge=0)  # |scale - 1| at most this: the same size
    size: float = Field(0.02, ge=0)  # |scale - 1| at most this: the same size within tolerance
    exact: float = Field(0.001, ge=0)  # mean surface distance / middle extent for "identical"
    shape: float = Field(0.005, ge=0)  # the same share for "the same shape"
    outliers: float = Field(0.01, ge=0)  # share of points past 1% of size that still match
    extents: float = Field(0.03, ge=0)  # sorted extents at a's scale agree within this share


class DedupSettings(_Section):
    """The duplicate-groups job (``cadsearch dedup``) and the service's duplicates endpoint."""

    out_dir: str | None = None  # groups.jsonl, pairs.csv, report.html; None: <data_dir>/dedup
    k: int = Field(8, ge=1)  # nearest neighbours per part and vector that become candidates
    # vector name ("geometry", "image", or "shape": the pose-free mesh signature) -> the cosine
    # a neighbour must reach to become a candidate pair
    thresholds: dict[str, float] = Field(
        default_factory=lambda: {"geometry": 0.9, "image": 0.9, "shape": 0.98}
    )
    tolerances: DedupTolerances = DedupTolerances()
    samples: int = Field(1500, ge=64)  # surface points per mesh in the geometric check

    @field_validator("thresholds")
    @classmethod
    def _check_thresholds(cls, value: dict[str, float]) -> dict[str, float]:
        known = ("geometry", "image", "text", "shape")
        for name, cos in value.items():
            if name not in known:
                raise ValueError(f"dedup threshold {name!r}: not one of {known}")
            if not -1.0 <= cos <= 1.0:
                raise ValueError(f"dedup threshold {name}={cos}: a cosine is in [-1, 1]")
        if not value:
            raise ValueError("dedup thresholds: name at least one vector")
        return value


class Settings(BaseModel):
    """All of cadsearch's settings, one profile."""

    model_config = ConfigDict(extra="forbid")

    profile: str = DEFAULT_PROFILE
    data_dir: str = "data"
    mesh: MeshLimits = MeshLimits()
    sampling: SamplingSettings = SamplingSettings()
    render: RenderSettings = RenderSettings()
    catalog: CatalogSettings = CatalogSettings()
    store: StoreSettings = StoreSettings()
    views: ViewStoreSettings = ViewStoreSettings()
    model: ModelSettings = ModelSettings()
    index: IndexSettings = IndexSettings()
    serve: ServeSettings = ServeSettings()
    search: SearchSettings = SearchSettings()
    train: TrainSettings = TrainSettings()
    dedup: DedupSettings = DedupSettings()
    api_keys: list[SecretStr] = Field(default_factory=list)  # from $CADSEARCH_API_KEYS only

    @model_validator(mode="after")
    def _dedup_dir(self) -> Settings:
        # the job writes and the service reads one folder: <data_dir>/dedup unless set
        if self.dedup.out_dir is None:
            self.dedup.out_dir = str(Path(self.data_dir) / "dedup")
        return self

    @field_validator("api_keys", mode="before")
    @classmethod
    def _split_keys(cls, value: Any) -> Any:
        if isinstance(value, str):
            if not value:
                return []
            keys = [key.strip() for key in value.split(",")]
            if not all(keys):
                # " , " or "k1,,k2": a typo that would otherwise serve with fewer (or no) keys
                raise ValueError(
                    f"CADSEARCH_API_KEYS holds {len(keys)} comma-separated items, "
                    f"{keys.count('')} of them blank; give non-blank keys or unset it"
                )
            return keys
        return value

    def __reduce__(self):
        # another process (a Ray worker) gets no secrets: its own environment supplies them
        return settings_from_json, (settings_to_json(self),)


def profile_path(profile: str | Path) -> Path:
    """The YAML file of a profile: a path, or a name in configs/ (``local``: configs/local.yaml)."""
    candidate = Path(profile)
    if candidate.suffix in (".yaml", ".yml") or candidate.exists():
        if not candidate.is_file():
            raise FileNotFoundError(f"settings profile not found: {candidate}")
        return candidate
    named = CONFIG_DIR / f"{profile}.yaml"
    if not named.is_file():
        known = sorted(p.stem for p in CONFIG_DIR.glob("*.yaml"))
        raise FileNotFoundError(f"unknown settings profile {profile!r}; known profiles: {known}")
    return named


def deep_merge(base: dict, top: dict) -> dict:
    """``base`` with ``top`` merged in, nested dicts key by key (``top`` wins)."""
    merged = dict(base)
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _env_layer() -> dict:
    """Environment variables as a nested dict (CADSEARCH_A__B=1 -> {"a": {"b": "1"}}); a value
    written as a JSON list or object (``CADSEARCH_SEARCH__RERANK='["image"]'``) is parsed."""
    layer: dict = {}
    for name, value in os.environ.items():
        if not name.startswith("CADSEARCH_") or name in ("CADSEARCH_CONFIG", "CADSEARCH_API_KEYS"):
            continue
        keys = name[len("CADSEARCH_") :].lower().split("__")
        node = layer
        for key in keys[:-1]:
            node = node.setdefault(key, {})
        if value.lstrip().startswith(("[", "{")):
            try:
                value = json_module.loads(value)
            except ValueError as e:
                raise ValueError(f"{name}: not valid JSON: {e}") from e
        node[keys[-1]] = value
    return layer


def _check_no_secrets(data: dict, source: Path) -> None:
    for dotted in SECRET_FIELDS:
        node: Any = data
        for key in dotted.split("."):
            node = node.get(key) if isinstance(node, dict) else None
        if node is not None:
            raise ValueError(
                f"{source}: '{dotted}' is a secret and is read from the environment only; "
                "remove it from the profile"
            )


def load_settings(profile: str | Path | None = None, **overrides: Any) -> Settings:
    """Load a profile (default: $CADSEARCH_CONFIG, else ``local``), the environment, overrides.

    overrides : nested dicts or values, e.g. ``render={"image_size": 128}``
    """
    profile = profile or os.environ.get("CADSEARCH_CONFIG") or DEFAULT_PROFILE
    path = profile_path(profile)
    with open(path, encoding="utf-8") as f:
        data = yaml.safe_load(f) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a settings profile must be a mapping, got {type(data).__name__}")
    _check_no_secrets(data, path)
    data.setdefault("profile", path.stem)
    merged = deep_merge(deep_merge(data, _env_layer()), overrides)
    secrets = {
        "api_keys": os.environ.get("CADSEARCH_API_KEYS", ""),
        "views": {
            "b2_key_id": os.environ.get("B2_APPLICATION_KEY_ID"),
            "b2_key": os.environ.get("B2_APPLICATION_KEY"),
        },
    }
    merged = deep_merge(merged, secrets)
    return Settings.model_validate(merged)


def settings_to_json(settings: Settings) -> str:
    """Settings for another process (a Ray worker): secrets are left out, never serialized."""
    return settings.model_dump_json(exclude={"api_keys": True, "views": {"b2_key_id", "b2_key"}})


def settings_from_json(text: str) -> Settings:
    """The inverse of settings_to_json; secrets come from this process's environment."""
    data = json_module.loads(text)
    data["api_keys"] = os.environ.get("CADSEARCH_API_KEYS", "")
    views = data.setdefault("views", {})
    views["b2_key_id"] = os.environ.get("B2_APPLICATION_KEY_ID")
    views["b2_key"] = os.environ.get("B2_APPLICATION_KEY")
    return Settings.model_validate(data)
