"""Settings: profiles, environment overrides, secrets from the environment only."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from cadsearch.settings import CONFIG_DIR, load_settings


def test_local_profile_is_the_embedded_default(monkeypatch):
    monkeypatch.delenv("CADSEARCH_CONFIG", raising=False)
    settings = load_settings()
    assert settings.profile == "local"
    assert settings.store.backend == "edge" and settings.views.kind == "local"
    assert settings.model.device == "cpu" and settings.render.view_set == "canonical10"


def test_every_profile_in_configs_loads():
    profiles = sorted(CONFIG_DIR.glob("*.yaml"))
    assert {p.stem for p in profiles} >= {"local", "production"}
    for path in profiles:
        if path.stem.startswith("serve"):
            continue  # Serve application configs are not settings profiles
        assert load_settings(path).profile == path.stem


def test_environment_overrides_nested_fields(monkeypatch):
    monkeypatch.setenv("CADSEARCH_RENDER__IMAGE_SIZE", "128")
    monkeypatch.setenv("CADSEARCH_SAMPLING__NUM_POINTS", "1024")
    settings = load_settings("local")
    assert settings.render.image_size == 128 and settings.sampling.num_points == 1024
    # keyword overrides win over the environment
    assert load_settings("local", render={"image_size": 64}).render.image_size == 64


def test_profile_from_environment(monkeypatch):
    monkeypatch.setenv("CADSEARCH_CONFIG", "production")
    assert load_settings().store.backend == "server"


def test_secrets_only_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("B2_APPLICATION_KEY_ID", "key-id")
    monkeypatch.setenv("B2_APPLICATION_KEY", "s3cret")
    monkeypatch.setenv("CADSEARCH_API_KEYS", "k1, k2")
    settings = load_settings("production")
    assert settings.views.b2_key.get_secret_value() == "s3cret"
    assert [k.get_secret_value() for k in settings.api_keys] == ["k1", "k2"]
    assert "s3cret" not in repr(settings)
    leaky = tmp_path / "leaky.yaml"
    leaky.write_text("views:\n  b2_key: oops\n")
    with pytest.raises(ValueError, match="'views.b2_key' is a secret"):
        load_settings(leaky)


def test_settings_pickle_without_secrets(monkeypatch):
    """A Ray worker gets the settings less their secrets, and takes those from its environment."""
    import pickle

    monkeypatch.setenv("B2_APPLICATION_KEY", "s3cret")
    monkeypatch.setenv("CADSEARCH_API_KEYS", "k1")
    settings = load_settings("production", render={"image_size": 96})
    data = pickle.dumps(settings)
    assert b"s3cret" not in data and b"k1" not in data
    monkeypatch.setenv("B2_APPLICATION_KEY", "worker-key")
    monkeypatch.delenv("CADSEARCH_API_KEYS")
    worker = pickle.loads(data)
    assert worker.render.image_size == 96 and worker.store == settings.store
    assert worker.views.b2_key.get_secret_value() == "worker-key" and worker.api_keys == []


def test_bad_values_and_unknown_fields(tmp_path, monkeypatch):
    monkeypatch.setenv("CADSEARCH_RENDER__IMAGE_SIZE", "tiny")
    with pytest.raises(ValidationError, match="image_size"):
        load_settings("local")
    monkeypatch.delenv("CADSEARCH_RENDER__IMAGE_SIZE")
    typo = tmp_path / "typo.yaml"
    typo.write_text("render:\n  imagesize: 10\n")
    with pytest.raises(ValidationError, match="imagesize"):
        load_settings(typo)
    with pytest.raises(FileNotFoundError, match="unknown settings profile 'nope'"):
        load_settings("nope")


def test_search_defaults_rerank_image_and_mesh_queries(monkeypatch):
    search = load_settings("local").search
    assert search.reranks(["image"]) and search.reranks(["text", "mesh"])
    assert not search.reranks(["text"]) and not search.reranks(["part_id"])
    # the geometry term needs the query's own geometry vector (a mesh, points or a part)
    assert search.rerank_weights(["image", "geometry"]) == {"geometry->geometry": 0.3}
    assert search.rerank_weights(["image"]) == {}
    monkeypatch.setenv("CADSEARCH_SEARCH__RERANK", '["part_id"]')
    monkeypatch.setenv("CADSEARCH_SEARCH__RERANK_GEOMETRY", "0")
    search = load_settings("local").search
    assert search.reranks(["part_id"]) and not search.reranks(["image"])
    assert search.rerank_weights(["geometry"]) == {}
    with pytest.raises(ValidationError, match="rerank"):
        load_settings("local", search={"rerank": ["sketch"]})
    like = load_settings("local").search.like_weights
    assert like["text->text"] == like["image->image"] == 1.0 and like["geometry->geometry"] == 0.2
    assert like["image->geometry"] == 0.0
    with pytest.raises(ValidationError, match="unknown weight key 'views->image'"):
        load_settings("local", search={"like_weights": {"views->image": 1.0}})
    for bad in (-1.0, float("inf")):
        with pytest.raises(ValidationError, match="must be a finite number >= 0"):
            load_settings("local", search={"like_weights": {"text->text": bad}})
    monkeypatch.setenv("CADSEARCH_SEARCH__RERANK", "[image")
    with pytest.raises(ValueError, match="CADSEARCH_SEARCH__RERANK: not valid JSON"):
        load_settings("local")
