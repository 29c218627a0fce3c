"""A real search service for the serve tests: a generated catalog indexed by the job, then Ray
Serve with HTTP and gRPC proxies on free loopback ports (one per test session)."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from pathlib import Path

API_KEYS = ("test-key-1", "test-key-2")
CATALOG_SEED = 7
# one part of each of 12 kinds, chosen so the tests do not depend on the library's size
CATALOG_FAMILIES = (
    "hex_bolt",
    "hex_nut",
    "flat_washer",
    "keyed_shaft",
    "c_channel",
    "spur_gear",
    "ball_bearing",
    "pipe_flange",
    "l_bracket",
    "compression_spring",
    "chain_sprocket",
    "o_ring",
)
CATALOG_SIZE = len(CATALOG_FAMILIES)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Served:
    """A running service and what it was built from."""

    root: Path
    http_url: str
    grpc_target: str
    overrides: dict
    catalog: list[dict] = field(default_factory=list)  # manifest records

    @property
    def key(self) -> str:
        return API_KEYS[0]

    def part(self, category: str) -> dict:
        return next(r for r in self.catalog if r["category"] == category)

    def file(self, record: dict) -> Path:
        return self.root / "catalog" / record["file"]


def service_overrides(root: Path) -> dict:
    return {
        "store": {"backend": "edge", "path": str(root / "qdrant")},
        "views": {"kind": "local", "path": str(root / "views")},
        "index": {"reports_dir": str(root / "runs"), "prepare_batch_size": 3},
        "dedup": {"out_dir": str(root / "dedup")},  # what GET /v1/parts/{id}/duplicates reads
        "serve": {
            "limits": {
                "max_body_mb": 2,
                "max_points": 5000,
                "max_image_pixels": 1_000_000,
                # a catalog part prepares in ~0.3 s; a costly one is refused in a few seconds
                "mesh_budget_s": 6,
            },
        },
    }


def start_served(root: Path) -> Served:
    """Index a catalog into root, then start Serve on it (Ray with 2 CPUs)."""
    import ray

    from cadsearch.settings import load_settings
    from data_jobs.catalog.generate import generate_catalog
    from data_jobs.index.pipeline import run_index
    from serve.local import init_ray, start_service

    records = generate_catalog(
        root / "catalog", n=CATALOG_SIZE, seed=CATALOG_SEED, families=CATALOG_FAMILIES
    )
    overrides = service_overrides(root)
    ray.shutdown()
    # Ray and so every replica start without the keys: they reach the replicas from the driver
    # (serve.app.build_app), as on a cluster node started without them
    saved = os.environ.pop("CADSEARCH_API_KEYS", None)
    settings = load_settings("local", **overrides)
    init_ray(settings, num_cpus=2)  # as `cadsearch serve` starts Ray: on loopback
    summary = run_index(str(root / "catalog"), settings)
    assert summary.indexed == CATALOG_SIZE, summary.line()
    http_port, grpc_port = free_port(), free_port()
    os.environ["CADSEARCH_API_KEYS"] = ",".join(API_KEYS)
    try:
        start_service("local", overrides, http_port=http_port, grpc_port=grpc_port)
    finally:
        os.environ.pop("CADSEARCH_API_KEYS", None)
        if saved is not None:
            os.environ["CADSEARCH_API_KEYS"] = saved
    return Served(
        root=root,
        http_url=f"http://127.0.0.1:{http_port}",
        grpc_target=f"127.0.0.1:{grpc_port}",
        overrides=overrides,
        catalog=records,
    )


def stop_served() -> None:
    import ray
    from ray import serve

    try:
        serve.shutdown()
    finally:
        ray.shutdown()
