"""The view store: local folder and B2 (b2sdk's RawSimulator), keys derived from part ids."""

from __future__ import annotations

import io
import os
import re
from urllib.parse import urlsplit

import numpy as np
import pytest
from b2_simulator import simulated_b2_api
from PIL import Image
from pydantic import SecretStr

from cadsearch.settings import Settings, ViewStoreSettings
from store.b2 import B2ConfigError, b2_credentials
from store.schema import point_id
from store.views import (
    B2ViewStore,
    InvalidViewKeyError,
    LocalViewStore,
    ViewNotFoundError,
    open_view_store,
)

BUCKET = "cad-views"
KEY = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/[a-z0-9_]+\.png")
AWKWARD_IDS = ["../../etc/passwd", "bolt with spaces", "ünïcödé/部品", "/abs/path", "a" * 512, "."]


def png(value: int, size: int = 8) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.full((size, size, 3), value, np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def local(tmp_path) -> LocalViewStore:
    return LocalViewStore(tmp_path / "views")


@pytest.fixture
def b2() -> B2ViewStore:
    return B2ViewStore(simulated_b2_api(BUCKET), BUCKET)


# ---------------------------------------------------------------- local


def test_local_put_get_urls_delete(local):
    part = "bolts/m8x40"
    views = [("front", png(10)), ("iso_front_right", png(20))]
    urls = local.put_views(part, views)
    uid = point_id(part)
    assert urls == [f"/views/{uid}/front.png", f"/views/{uid}/iso_front_right.png"]
    assert local.urls_for(part, ["front", "iso_front_right"]) == urls
    assert local.key_for(part, "front") == f"{uid}/front.png"
    assert (local.root / uid / "front.png").read_bytes() == png(10)
    assert local.get(f"{uid}/iso_front_right.png") == png(20)
    other = local.put_views("nuts/m8", [("front", png(30))])
    assert local.delete_part(part) == 2
    assert not (local.root / uid).exists()
    with pytest.raises(ViewNotFoundError, match="no view stored"):
        local.get(f"{uid}/front.png")
    assert local.delete_part(part) == 0
    assert local.get(other[0].removeprefix("/views/")) == png(30)  # other parts untouched


def test_local_base_url_and_prefix(tmp_path):
    store = LocalViewStore(tmp_path, base_url="https://cdn.example.com/v/", prefix="views/")
    [url] = store.put_views("p", [("top", png(1))])
    assert url == f"https://cdn.example.com/v/views/{point_id('p')}/top.png"
    assert (tmp_path / "views" / point_id("p") / "top.png").is_file()


def test_local_writes_are_atomic(local, monkeypatch):
    local.put_views("p", [("front", png(1))])
    local.put_views("p", [("front", png(2))])  # replaced in place
    folder = local.root / point_id("p")
    assert local.get(local.key_for("p", "front")) == png(2)

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        local.put_views("p", [("front", png(3))])
    assert local.get(local.key_for("p", "front")) == png(2)  # the old view survives whole
    assert sorted(p.name for p in folder.iterdir()) == ["front.png"]  # no temporary left behind


def test_local_get_refuses_traversal(local, tmp_path):
    local.put_views("p", [("front", png(1))])
    (tmp_path / "secret.png").write_bytes(png(9))
    uid = point_id("p")
    for key in [
        "../secret.png",
        "/etc/passwd",
        f"{uid}/../../secret.png",
        f"{uid}/front.png/../../../secret.png",
        f"{uid}/front.png\n",
        f"{uid}\\front.png",
        "",
        None,
    ]:
        with pytest.raises(InvalidViewKeyError, match="not a view key"):
            local.get(key)
    # a well-shaped key whose folder is a symlink out of the store is refused too
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "front.png").write_bytes(png(9))
    evil = point_id("evil")
    (local.root / evil).symlink_to(outside)
    with pytest.raises(InvalidViewKeyError, match="escapes the view folder"):
        local.get(f"{evil}/front.png")
    with pytest.raises(InvalidViewKeyError, match="outside"):
        local.delete_part("evil")
    assert (outside / "front.png").is_file()


def glb(payload: bytes = b"{}") -> bytes:
    """A minimal GLB container: the 12-byte header (magic, version 2, total length), one chunk."""
    chunk = len(payload).to_bytes(4, "little") + b"JSON" + payload
    return b"glTF" + (2).to_bytes(4, "little") + (12 + len(chunk)).to_bytes(4, "little") + chunk


def test_local_mesh_beside_the_views_and_deleted_with_them(local):
    part = "bolts/m8x40"
    uid = point_id(part)
    local.put_views(part, [("front", png(10))])
    url = local.put_mesh(part, glb())
    assert url == f"/views/{uid}/mesh.glb" and local.mesh_key_for(part) == f"{uid}/mesh.glb"
    assert local.get(f"{uid}/mesh.glb") == glb()
    assert local.content_type(f"{uid}/mesh.glb") == "model/gltf-binary"
    assert local.content_type(f"{uid}/front.png") == "image/png"
    local.put_mesh(part, glb(b'{"a":1}'))  # replaced in place
    assert local.get(f"{uid}/mesh.glb") == glb(b'{"a":1}')
    assert local.delete_part(part) == 1  # views are counted; the mesh goes with them
    assert not (local.root / uid).exists()


@pytest.mark.parametrize(
    "data",
    [b"", b"glTF", glb()[:-1], b"glTF" + (1).to_bytes(4, "little") + glb()[8:], png(1), "text"],
)
def test_put_mesh_refuses_what_is_not_a_glb(local, data):
    with pytest.raises((ValueError, TypeError), match="glTF|bytes"):
        local.put_mesh("p", data)
    assert not (local.root / point_id("p")).exists()


def test_mesh_keys_refuse_traversal_and_other_names(local, tmp_path):
    local.put_mesh("p", glb())
    (tmp_path / "mesh.glb").write_bytes(glb())
    uid = point_id("p")
    for key in [
        "../mesh.glb",
        "mesh.glb",
        f"{uid}/../mesh.glb",
        f"{uid}/../../mesh.glb",
        f"{uid}/mesh.glb/../../../mesh.glb",
        f"{uid}/Mesh.glb",
        f"{uid}/mesh.gltf",
        f"{uid}/other.glb",
        f"{uid}/mesh.glb.png",
        f"{uid}/mesh.glb\n",
    ]:
        with pytest.raises(InvalidViewKeyError, match="not a view key"):
            local.get(key)


@pytest.mark.parametrize("name", ["Front", "../x", "a/b", "", "a" * 65, "front\n", "fr ont", None])
def test_bad_view_names_refused(local, name):
    with pytest.raises(InvalidViewKeyError, match="bad view name"):
        local.put_views("p", [("front", png(1)), (name, png(2))])
    with pytest.raises(InvalidViewKeyError, match="bad view name"):
        local.key_for("p", name)
    assert not local.root.exists()  # nothing written when any view is bad


def test_put_views_checks_data(local):
    with pytest.raises(ValueError, match="not a PNG"):
        local.put_views("p", [("front", b"GIF89a...")])
    with pytest.raises(TypeError, match="must be bytes"):
        local.put_views("p", [("front", "text")])
    with pytest.raises(InvalidViewKeyError, match="given twice"):
        local.put_views("p", [("front", png(1)), ("front", png(2))])
    with pytest.raises(InvalidViewKeyError, match="part_id"):
        local.put_views("", [("front", png(1))])
    with pytest.raises(InvalidViewKeyError, match="bad view key prefix"):
        LocalViewStore("x", prefix="../")


@pytest.mark.parametrize("part_id", AWKWARD_IDS)
def test_keys_never_contain_the_part_id(local, part_id):
    key = local.key_for(part_id, "front")
    assert KEY.fullmatch(key) and key == f"{point_id(part_id)}/front.png"
    [url] = local.put_views(part_id, [("front", png(5))])
    assert url == f"/views/{key}"
    written = [p for p in local.root.rglob("*") if p.is_file()]
    assert written == [local.root / key]
    assert local.get(key) == png(5)
    assert local.delete_part(part_id) == 1


# ---------------------------------------------------------------- B2


def test_b2_put_get_delete(b2):
    part = "bolts/m8x40"
    uid = point_id(part)
    urls = b2.put_views(part, [("front", png(10)), ("top", png(20))])
    keys = [f"views/{uid}/front.png", f"views/{uid}/top.png"]
    assert [b2.key_for(part, n) for n in ("front", "top")] == keys
    assert urls == [b2.api.get_download_url_for_file_name(BUCKET, k) for k in keys]
    assert b2.urls_for(part, ["front", "top"]) == urls
    for url, key in zip(urls, keys, strict=True):
        parts = urlsplit(url)
        assert parts.scheme in ("http", "https") and parts.netloc and not parts.query
        assert parts.path == f"/file/{BUCKET}/{key}"
    assert b2.get(keys[0]) == png(10)
    assert b2.bucket.get_file_info_by_name(keys[1]).content_type == "image/png"

    b2.put_views(part, [("front", png(11))])  # a second version of one key
    assert b2.get(keys[0]) == png(11)
    other = b2.put_views("nuts/m8", [("front", png(30))])
    assert b2.delete_part(part) == 2
    left = [v.file_name for v, _ in b2.bucket.ls("views/", latest_only=False, recursive=True)]
    assert left == [b2.key_for("nuts/m8", "front")]  # every version of the part is gone
    with pytest.raises(ViewNotFoundError, match="no view stored"):
        b2.get(keys[0])
    assert b2.delete_part(part) == 0
    assert other == b2.urls_for("nuts/m8", ["front"])


def test_b2_mesh_content_type_and_delete(b2):
    part = "bolts/m8x40"
    b2.put_views(part, [("front", png(10))])
    url = b2.put_mesh(part, glb())
    key = f"views/{point_id(part)}/mesh.glb"
    assert b2.mesh_key_for(part) == key and url.endswith("/" + key)
    assert b2.get(key) == glb()
    assert b2.bucket.get_file_info_by_name(key).content_type == "model/gltf-binary"
    assert b2.delete_part(part) == 1  # the view; the mesh is deleted but not counted
    assert list(b2.bucket.ls("views/", latest_only=False, recursive=True)) == []


@pytest.mark.parametrize("part_id", AWKWARD_IDS[:3])
def test_b2_keys_are_safe_and_get_refuses_foreign_keys(b2, part_id):
    [url] = b2.put_views(part_id, [("front", png(3))])
    key = b2.key_for(part_id, "front")
    assert key.startswith("views/") and KEY.fullmatch(key.removeprefix("views/"))
    assert url.endswith("/" + key)
    for bad in ["views/../x.png", key.removeprefix("views/"), "other/" + key, key + "x"]:
        with pytest.raises(InvalidViewKeyError):
            b2.get(bad)


def test_b2_public_url_and_constructor_checks():
    api = simulated_b2_api(BUCKET)
    bucket = api.get_bucket_by_name(BUCKET)
    store = B2ViewStore(bucket, public_url="https://cdn.example.com/parts/", prefix="v/")
    [url] = store.put_views("p", [("front", png(1))])
    assert url == f"https://cdn.example.com/parts/v/{point_id('p')}/front.png"
    with pytest.raises(ValueError, match="disagrees"):
        B2ViewStore(bucket, "another-bucket")
    with pytest.raises(ValueError, match="bucket_name is required"):
        B2ViewStore(api)
    with pytest.raises(B2ConfigError, match="'no-such-bucket' does not exist"):
        B2ViewStore(api, "no-such-bucket")


# ---------------------------------------------------------------- settings


def test_open_view_store_local(tmp_path):
    store = open_view_store(ViewStoreSettings(path=str(tmp_path / "v")))
    assert isinstance(store, LocalViewStore) and store.root == (tmp_path / "v").resolve()
    assert store.urls_for("p", ["front"]) == [f"/views/{point_id('p')}/front.png"]
    settings = Settings(views=ViewStoreSettings(path=str(tmp_path), public_url="http://h:8000/v"))
    assert open_view_store(settings).urls_for("p", ["top"])[0].startswith("http://h:8000/v/")


def test_open_view_store_b2(monkeypatch):
    monkeypatch.delenv("B2_APPLICATION_KEY_ID", raising=False)
    monkeypatch.delenv("B2_APPLICATION_KEY", raising=False)
    settings = ViewStoreSettings(kind="b2", bucket=BUCKET)
    with pytest.raises(B2ConfigError, match="B2_APPLICATION_KEY_ID and B2_APPLICATION_KEY"):
        open_view_store(settings)
    monkeypatch.setenv("B2_APPLICATION_KEY_ID", "id-only")
    with pytest.raises(B2ConfigError, match="set B2_APPLICATION_KEY in the environment"):
        open_view_store(settings)
    with pytest.raises(B2ConfigError, match="views.bucket is not set"):
        open_view_store(ViewStoreSettings(kind="b2"), b2_api=simulated_b2_api(BUCKET))
    store = open_view_store(settings, b2_api=simulated_b2_api(BUCKET))
    assert isinstance(store, B2ViewStore) and store.prefix == "views/"
    [url] = store.put_views("p", [("front", png(1))])
    assert store.get(store.key_for("p", "front")) == png(1) and BUCKET in url


def test_b2_credentials_prefer_settings_secrets(monkeypatch):
    monkeypatch.setenv("B2_APPLICATION_KEY_ID", "env-id")
    monkeypatch.setenv("B2_APPLICATION_KEY", "env-key")
    assert b2_credentials() == ("env-id", "env-key")
    views = ViewStoreSettings(b2_key_id=SecretStr("s-id"), b2_key=SecretStr("s-key"))
    assert b2_credentials(views) == ("s-id", "s-key")
    assert b2_credentials(Settings(views=views)) == ("s-id", "s-key")
