"""Serve configs, the app builder and the service's input checks (no Ray cluster needed)."""

from __future__ import annotations

import base64
import hashlib
import importlib
import io

import numpy as np
import pytest
import yaml
from PIL import Image
from pydantic import SecretStr

from cadsearch.settings import CONFIG_DIR, load_settings
from serve.app import DEPLOYMENTS, AppArgs, build_app, check_settings, deployment_options
from serve.auth import key_digests, key_matches, presented_key, require_key
from serve.errors import ApiError
from serve.inputs import (
    check_image,
    check_query,
    decode_base64,
    file_type_for,
    point_array,
    prepare_cloud,
)
from serve.replica import apply_batching, cpu_share_threads

SERVE_CONFIGS = sorted(CONFIG_DIR.glob("serve*.yaml"))


def _import_path(path: str):
    module, _, attr = path.partition(":") if ":" in path else path.rpartition(".")
    return getattr(importlib.import_module(module), attr)


@pytest.mark.parametrize("path", SERVE_CONFIGS, ids=[p.name for p in SERVE_CONFIGS])
def test_serve_config_import_paths_and_deployments_exist(path):
    from ray.serve.schema import ServeDeploySchema

    config = yaml.safe_load(path.read_text())
    ServeDeploySchema.model_validate(config)
    for function in config["grpc_options"]["grpc_servicer_functions"]:
        assert callable(_import_path(function))
    for application in config["applications"]:
        builder = _import_path(application["import_path"])
        args = AppArgs.model_validate(application.get("args") or {})
        app = builder(args)
        names = {d["name"] for d in application.get("deployments", [])}
        assert names <= set(DEPLOYMENTS)
        assert app is not None


def test_checked_in_serve_config_is_current():
    from serve.build_config import dump, serve_config

    assert (CONFIG_DIR / "serve.yaml").read_text() == dump(serve_config("local"), "local")


def test_deployment_options_and_threads():
    settings = load_settings("production")
    text = deployment_options(settings.serve.text, batching=True)
    assert text["autoscaling_config"]["max_replicas"] == 4
    assert text["ray_actor_options"]["num_gpus"] == 0.25
    assert text["user_config"] == {"max_batch_size": 64, "batch_wait_timeout_s": 0.005}
    local = deployment_options(load_settings("local").serve.preparer)
    assert local["num_replicas"] == 1 and "user_config" not in local
    assert [cpu_share_threads(c) for c in (0.0, 0.25, 0.5, 1, 2.5, 4.0)] == [1, 1, 1, 1, 2, 4]
    assert cpu_share_threads(4, explicit=3) == 3


def test_edge_store_refuses_a_scaled_out_ingress():
    settings = load_settings("local", serve={"ingress": {"max_replicas": 3}})
    with pytest.raises(ValueError, match="exactly one process"):
        check_settings(settings)
    with pytest.raises(ValueError, match="exactly one process"):
        build_app(AppArgs(overrides={"serve": {"ingress": {"max_replicas": 2}}}))
    server = load_settings("production")
    check_settings(server)  # a Qdrant server: fine


def test_apply_batching_sets_and_checks():
    class Method:
        size, wait = 10, 0.0

        def set_max_batch_size(self, n):
            self.size = n

        def set_batch_wait_timeout_s(self, s):
            self.wait = s

        def _get_max_batch_size(self):
            return self.size

        def _get_batch_wait_timeout_s(self):
            return self.wait

    method = Method()
    assert apply_batching(method, {"max_batch_size": 4, "batch_wait_timeout_s": 0.02}) == {
        "max_batch_size": 4,
        "batch_wait_timeout_s": 0.02,
    }
    with pytest.raises(ValueError, match="unknown user_config"):
        apply_batching(method, {"max_batch": 4})
    with pytest.raises(ValueError, match="max_batch_size"):
        apply_batching(method, {"max_batch_size": 0})


def test_auth_keys():
    keys = key_digests([SecretStr("alpha"), "beta"])
    assert keys[0] == hashlib.sha256(b"alpha").hexdigest()
    assert presented_key({"X-API-Key": " alpha "}) == "alpha"
    assert presented_key([("authorization", "Bearer beta")]) == "beta"
    assert presented_key({"Authorization": "Basic xyz"}) is None
    assert key_matches(keys, "beta") and not key_matches(keys, "gamma")
    assert not key_matches(keys, keys[0])  # a digest is not a key
    require_key((), None, "anything")  # no keys configured: open
    for presented, status in ((None, 401), ("gamma", 403)):
        with pytest.raises(ApiError) as caught:
            require_key(keys, presented, "indexing")
        assert caught.value.status == status


def test_keys_reach_the_ingress_from_the_builder_as_digests(monkeypatch):
    monkeypatch.setenv("CADSEARCH_API_KEYS", "k-one,k-two")
    ingress = build_app(AppArgs(overrides={"serve": {"host": "0.0.0.0"}}))._bound_deployment
    settings_json, digests = ingress.init_args[:2]
    assert digests == key_digests(["k-one", "k-two"])
    assert "k-one" not in settings_json and "k-two" not in settings_json
    # the ingress's version follows its keys: a new key restarts it, never a stale replica
    exposed = AppArgs(overrides={"serve": {"host": "0.0.0.0"}})
    before = _versions(exposed)["SearchIngress"]
    monkeypatch.setenv("CADSEARCH_API_KEYS", "k-three")
    assert _versions(exposed)["SearchIngress"] != before
    # an app that would listen beyond loopback with no keys is refused where it is built
    monkeypatch.delenv("CADSEARCH_API_KEYS")
    with pytest.raises(ValueError, match="no API keys"):
        build_app(AppArgs(overrides={"serve": {"host": "0.0.0.0"}}))


def test_serve_defaults_protect_embed_and_check_public_url():
    serve_settings = load_settings("local").serve
    assert serve_settings.protect_embed is True and serve_settings.public_url is None
    base = load_settings("local", serve={"public_url": "https://search.example.com/cad/"})
    assert base.serve.public_url == "https://search.example.com/cad"
    for bad in ("search.example.com", "ftp://h/", "https://h/?x=1", "https://h/#top", "http://"):
        with pytest.raises(ValueError, match="public_url"):
            load_settings("local", serve={"public_url": bad})


def test_absolute_urls_use_the_base_given_or_stay_paths():
    from serve.urls import absolute_urls

    def answer():
        return {
            "results": [
                {"view_urls": ["/views/a/0.png", "https://cdn/x.png"], "mesh_url": "/views/a/m"}
            ]
        }

    assert absolute_urls(None, answer()) == answer()
    hit = absolute_urls("https://search.example.com/", answer())["results"][0]
    assert hit["view_urls"] == ["https://search.example.com/views/a/0.png", "https://cdn/x.png"]
    assert hit["mesh_url"] == "https://search.example.com/views/a/m"
    part = absolute_urls("http://h:1", {"view_urls": ["/views/b.png"], "mesh_url": None})
    assert part == {"view_urls": ["http://h:1/views/b.png"], "mesh_url": None}


def test_valid_host_headers():
    from serve.http_util import valid_host

    for good in ("127.0.0.1:8000", "localhost", "search.example.com.", "[::1]:9000", "a_b:80"):
        assert valid_host(good), good
    for bad in ("evil.com/x", "a b", "h:0", "h:65536", "[::zz]", "", "a..b", "h:80:80", '"><x'):
        assert not valid_host(bad), bad


def test_input_checks():
    limits = load_settings("local").serve.limits
    assert check_query(5, 0, None, limits) == (5, 0)
    # the store's own checks, reported under the field the store names
    for top_k, offset, weights, field in (
        (True, 0, None, "top_k"),
        (5, -1, None, "offset"),
        (limits.max_top_k + 1, 0, None, "top_k"),
        (5, 0, {"text->text": -1.0}, "weights"),
        (5, 0, {"text->nothing": 1.0}, "weights"),
    ):
        with pytest.raises(ApiError) as caught:
            check_query(top_k, offset, weights, limits)
        assert (caught.value.status, caught.value.field) == (422, field)
    data = b"\x89PNG..."
    assert decode_base64(base64.b64encode(data).decode(), "image") == data
    assert decode_base64("data:image/png;base64," + base64.b64encode(data).decode(), "x") == data
    assert decode_base64(base64.urlsafe_b64encode(b"\xfb\xff").decode().rstrip("="), "x")
    image = io.BytesIO()
    Image.new("RGB", (30, 20)).save(image, format="JPEG")
    assert check_image(image.getvalue(), "image", 1000) == (30, 20)
    with pytest.raises(ApiError) as caught:
        check_image(image.getvalue(), "image", 100)
    assert caught.value.status == 413
    assert file_type_for("Part.STEP", None, "mesh") == "step"
    assert file_type_for("noext", "stl", "mesh") == "stl"
    with pytest.raises(ApiError) as caught:
        file_type_for("a.zip", None, "mesh")
    assert caught.value.status == 400 and caught.value.field == "mesh"


def test_query_clouds_are_normalized_like_parts():
    rng = np.random.default_rng(0)
    raw = rng.normal(size=(300, 3)) * 25 + 100
    checked = point_array(raw.tolist(), "points", 16, 1000)
    cloud = prepare_cloud(checked, 1024)
    assert cloud.shape == (1024, 3) and cloud.dtype == np.float32
    assert np.linalg.norm(cloud, axis=1).max() == pytest.approx(1.0, abs=1e-6)
    lo, hi = cloud.min(axis=0), cloud.max(axis=0)
    np.testing.assert_allclose((lo + hi) / 2, 0, atol=1e-6)
    # deterministic: the same cloud, the same model input
    np.testing.assert_array_equal(cloud, prepare_cloud(checked, 1024))
    fewer = prepare_cloud(rng.normal(size=(5000, 3)), 1024)
    assert fewer.shape == (1024, 3)
    # the index's own frame: a query cloud of a part's vertices lands where its mesh lands
    import trimesh

    from encoders.geometry.normalize import normalize_mesh

    box = trimesh.creation.box(extents=(40.0, 10.0, 6.0))
    box.apply_translation((5.0, -3.0, 100.0))
    normalized = normalize_mesh(box).mesh.vertices
    as_query = prepare_cloud(np.asarray(box.vertices), len(box.vertices))
    np.testing.assert_allclose(np.sort(as_query, axis=0), np.sort(normalized, axis=0), atol=1e-6)


def test_fast_json_response_writes_the_values_starlette_writes():
    import json

    from starlette.responses import JSONResponse

    from serve.http_util import FastJSONResponse

    hit = {
        "part_id": "bolt-ä",
        "score": 0.1478394716978073,
        "cosines": {"text->text": 0.8065695628166516, "image->text": -3e-07},
        "maxsim": None,
        "size_mm": [29.68, None, 1e20],
        "tags": ["metric"],
        "meta": {},
    }
    content = {"results": [hit] * 3, "took_ms": 1.25, "query_id": "ab12"}
    fast, slow = FastJSONResponse(content), JSONResponse(content)
    assert json.loads(fast.body) == json.loads(slow.body) == content
    assert fast.headers["content-type"] == slow.headers["content-type"]
    vector = np.arange(4, dtype=np.float32) / 3
    decoded = json.loads(FastJSONResponse({"v": vector, "x": np.float64(0.5)}).body)
    assert np.array_equal(np.asarray(decoded["v"], dtype=np.float32), vector)
    assert decoded["x"] == 0.5


def _versions(args: AppArgs) -> dict[str, str]:
    from ray.serve._private.build_app import build_app as build_deployments

    built = build_deployments(build_app(args), name="cadsearch")
    return {d.name: d.version for d in built.deployments}


def test_deployment_versions_change_with_code_and_args_not_with_user_config():
    # stable versions: running the app again with another user_config reconfigures the running
    # replicas (Serve restarts a replica only when its version changes)
    base = _versions(AppArgs(config="local"))
    assert set(base) == set(DEPLOYMENTS) and all(base.values())
    assert len(set(base.values())) == len(DEPLOYMENTS)
    assert _versions(AppArgs(config="local")) == base
    batching = AppArgs(config="local", user_configs={"ImageEncoder": {"max_batch_size": 1}})
    assert _versions(batching) == base
    scaled = AppArgs(config="local", overrides={"serve": {"text": {"max_batch_size": 8}}})
    assert _versions(scaled)["TextEncoder"] == base["TextEncoder"]  # a user_config value
    moved = _versions(AppArgs(config="local", overrides={"store": {"path": "/tmp/elsewhere"}}))
    assert moved["SearchIngress"] != base["SearchIngress"]  # its settings are init args
    assert moved["PartPreparer"] != base["PartPreparer"]
    assert moved["TextEncoder"] == base["TextEncoder"]  # bundle, device, threads: unchanged


def test_deployment_versions_follow_the_process_and_the_bundle(tmp_path):
    from serve import app as app_module

    code = app_module.PROCESS_CODE_VERSION + app_module.bundle_digest("cad-mini")
    one = app_module.deployment_version("TextEncoder", ("cad-mini", "cpu", 1), code)
    assert one == app_module.deployment_version("TextEncoder", ("cad-mini", "cpu", 1), code)
    assert one != app_module.deployment_version("TextEncoder", ("cad-mini", "cpu", 2), code)
    another_process = "0" * 32 + app_module.bundle_digest("cad-mini")
    assert one != app_module.deployment_version(
        "TextEncoder", ("cad-mini", "cpu", 1), another_process
    )
    # a bundle directory whose bundle.json changes (rebuilt weights) gets a new version
    (tmp_path / "bundle.json").write_text('{"name": "mine", "files": {"clip.safetensors": "ab"}}')
    before = app_module.bundle_digest(str(tmp_path))
    (tmp_path / "bundle.json").write_text('{"name": "mine", "files": {"clip.safetensors": "cd"}}')
    assert app_module.bundle_digest(str(tmp_path)) != before
