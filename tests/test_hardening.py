"""Hostile input, checked without a running service: every input bounded before it is expanded,
every refusal a typed 4xx naming its field, secure defaults (docs/security.md)."""

from __future__ import annotations

import io
import struct
import time
import unicodedata
import zipfile
import zlib

import numpy as np
import pytest
import trimesh
from PIL import Image
from pydantic import ValidationError

from cadsearch.settings import MeshLimits, ServeLimits, Settings, load_settings
from data_jobs.sources import validate_part_id
from encoders.geometry.errors import (
    ArchiveTooLargeError,
    EmptyMeshError,
    MeshError,
    TooManyFacesError,
    TooManyVerticesError,
)
from encoders.geometry.loaders import declared_counts, load_mesh
from serve.errors import ApiError, from_mesh_error, public_message, undecodable
from serve.grpc_bind import grpc_address
from serve.inputs import check_image, check_part_id, make_search_input, parse_json
from serve.local import check_exposure, controller_options, is_loopback

GIB = 2**30


def zip_bomb_3mf(member_bytes: int = GIB, name: str = "3D/3dmodel.model") -> bytes:
    """A 3MF (a zip) of about 1 MB per GiB whose one deflated member is member_bytes of zeros.

    zipfile takes seconds to deflate a GiB: the member's stream is one deflated 16 MiB block of
    zeros repeated (a full flush makes each block independent), the headers written by hand, and
    zipfile reads the result back as a valid archive.
    """
    chunk = bytes(2**24)
    count = member_bytes // len(chunk)
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = deflate.compress(chunk) + deflate.flush(zlib.Z_FULL_FLUSH)
    block = deflate.compress(chunk) + deflate.flush(zlib.Z_FULL_FLUSH)
    stream = first + block * (count - 1) + deflate.flush()
    crc = 0
    for _ in range(count):
        crc = zlib.crc32(chunk, crc)
    size = count * len(chunk)
    encoded = name.encode()
    fields = (20, 0, 8, 0, 0x21, crc, len(stream), size, len(encoded))
    local = struct.pack("<4s5H3L2H", b"PK\x03\x04", *fields, 0) + encoded
    central = struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, *fields, 0, 0, 0, 0, 0, 0)
    central += encoded
    offset = len(local) + len(stream)
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 1, 1, len(central), offset, 0)
    data = local + stream + central + end
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        (info,) = archive.infolist()
        assert info.file_size == size
        assert archive.open(info).read(2**20) == bytes(2**20)
    return data


def many_members_3mf(count: int) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for i in range(count):
            archive.writestr(f"3D/part{i}.model", b"")
    return out.getvalue()


def binary_stl(triangles: int) -> bytes:
    mesh = trimesh.creation.icosphere(subdivisions=3)
    faces = np.resize(np.arange(len(mesh.faces)), triangles)
    return trimesh.Trimesh(mesh.vertices, mesh.faces[faces], process=False).export(file_type="stl")


# -- zip containers -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bomb() -> bytes:
    return zip_bomb_3mf()


def test_3mf_zip_bomb_refused_from_its_directory(bomb):
    assert len(bomb) < 2 * 2**20  # about 1 MB on the wire
    started = time.perf_counter()
    with pytest.raises(ArchiveTooLargeError, match="unpacks to 1,024.0 MB") as caught:
        load_mesh(bomb, "3mf")
    # the directory is read, no member: far less than inflating a GiB takes
    assert time.perf_counter() - started < 3.0
    error = from_mesh_error(caught.value, "mesh")
    assert (error.status, error.code, error.field) == (413, "archive_too_large", "mesh")


def test_zip_member_count_and_any_zip_checked():
    limits = MeshLimits(max_zip_members=10)
    with pytest.raises(ArchiveTooLargeError, match="11 members"):
        load_mesh(many_members_3mf(11), "3mf", limits=limits)
    # a zip given another format's name is checked too
    with pytest.raises(ArchiveTooLargeError, match="unpacks to"):
        load_mesh(zip_bomb_3mf(64 * 2**20), "obj", limits=MeshLimits(max_unzipped_mb=32))


def test_real_3mf_within_limits_loads(box_mesh):
    data = box_mesh.export(file_type="3mf")
    assert len(load_mesh(data, "3mf").faces) == 12


# -- declared face and vertex counts --------------------------------------------------------------


def test_binary_stl_triangle_count_checked_before_parsing():
    data = binary_stl(50)
    assert declared_counts(data, "stl") == (None, 50)
    with pytest.raises(TooManyFacesError, match="declares 50 faces"):
        load_mesh(data, "stl", limits=MeshLimits(max_faces=49))
    assert len(load_mesh(data, "stl", limits=MeshLimits(max_faces=50)).faces) == 50


def test_ply_and_off_headers_checked_before_parsing():
    # a few bytes that declare a billion vertices: refused from the header, never allocated
    ply = b"ply\nformat ascii 1.0\nelement vertex 1000000000\nproperty float x\nend_header\n1\n"
    with pytest.raises(TooManyVerticesError, match="1,000,000,000 vertices"):
        load_mesh(ply, "ply")
    off = b"OFF\n# comment\n4 900000000 0\n0 0 0\n"
    with pytest.raises(TooManyFacesError, match="900,000,000 faces"):
        load_mesh(off, "off")
    error = from_mesh_error(TooManyVerticesError("x"), "file")
    assert (error.status, error.code) == (413, "too_many_vertices")


def test_ascii_stl_and_obj_counted_without_parsing(box_mesh):
    stl = box_mesh.export(file_type="stl_ascii").encode()
    obj = box_mesh.export(file_type="obj").encode()
    assert declared_counts(stl, "stl") == (None, 12)
    assert declared_counts(obj, "obj") == (8, 12)
    with pytest.raises(TooManyFacesError):
        load_mesh(obj, "obj", limits=MeshLimits(max_faces=11))


def test_empty_ascii_stl_is_a_typed_error():
    with pytest.raises(EmptyMeshError) as caught:
        load_mesh(b"solid x\nendsolid x\n", "stl")
    error = from_mesh_error(caught.value, "mesh")
    assert (error.status, error.code, error.field) == (400, "empty_mesh", "mesh")


# -- images ---------------------------------------------------------------------------------------


def test_one_bit_6300_png_refused_from_its_header():
    out = io.BytesIO()
    Image.new("1", (6300, 6300)).save(out, format="PNG")
    data = out.getvalue()
    assert len(data) < 200_000
    with pytest.raises(ApiError) as caught:
        check_image(data, "images[0]", ServeLimits().max_image_pixels)
    assert (caught.value.status, caught.value.code) == (413, "image_too_large")
    assert caught.value.message.startswith("images[0]: 6300x6300 pixels")


def test_pil_bomb_guard_is_a_413():
    # past twice PIL's own limit, Image.open itself refuses: still the field's 413
    out = io.BytesIO()
    Image.new("1", (1, 1)).save(out, format="PNG")
    data = bytearray(out.getvalue())
    data[16:24] = (20_000).to_bytes(4, "big") * 2  # IHDR width, height: 400 MP
    data[29:33] = zlib.crc32(bytes(data[12:29])).to_bytes(4, "big")  # IHDR's checksum
    with pytest.raises(ApiError) as caught:
        check_image(bytes(data), "image", 10**12)
    assert (caught.value.status, caught.value.field) == (413, "image")


# -- JSON and weights -----------------------------------------------------------------------------


@pytest.mark.parametrize("depth", [33, 1000, 100_000])
def test_deep_json_refused(depth):
    text = "[" * depth + "]" * depth
    with pytest.raises(ApiError) as caught:
        parse_json(text, "body", 32)
    assert (caught.value.status, caught.value.code, caught.value.field) == (422, "too_deep", "body")


def test_json_within_depth_parsed():
    assert parse_json('{"a": [[1, {"b": 2}]]}', "body", 4) == {"a": [[1, {"b": 2}]]}
    with pytest.raises(ApiError) as caught:
        parse_json("{nope", "filters", 32)
    assert (caught.value.status, caught.value.code) == (422, "bad_json")
    with pytest.raises(ApiError) as caught:
        parse_json("{nope", "body", 32, undecodable)
    assert (caught.value.status, caught.value.code) == (400, "bad_json")


@pytest.mark.parametrize("weight", [1e39, 1e7, float("inf"), -1.0])
def test_huge_weights_refused(weight):
    with pytest.raises(ApiError) as caught:
        make_search_input(
            ServeLimits(), text="bolt", fusion="weighted_sum", weights={"text->text": weight}
        )
    assert (caught.value.status, caught.value.field) == (422, "weights")


def test_weights_within_range_accepted():
    query = make_search_input(ServeLimits(), text="bolt", weights={"text->text": 1e6})
    assert query.weights == {"text->text": 1e6}


# -- part ids -------------------------------------------------------------------------------------


def test_part_ids_nfc_normalized():
    decomposed = unicodedata.normalize("NFD", "café-ø")
    assert decomposed != "café-ø"
    assert validate_part_id(decomposed) == "café-ø"
    assert check_part_id(decomposed) == "café-ø"


@pytest.mark.parametrize("char", ["\u202e", "\u2066", "\u200f", "\u061c"])
def test_bidi_controls_refused(char):
    with pytest.raises(ApiError) as caught:
        check_part_id(f"bolt{char}txt.exe")
    assert (caught.value.status, caught.value.field) == (422, "part_id")
    assert f"U+{ord(char):04X}" in caught.value.message


# -- messages -------------------------------------------------------------------------------------


def test_messages_show_no_temp_paths_or_addresses():
    error = from_mesh_error(
        MeshError(
            "could not parse as STL: <trimesh.Scene object at 0x7f3a2b1c> in /tmp/x/y",
            source="/tmp/tmpa1b2c3/upload.stl",
        ),
        "mesh",
    )
    assert error.message == "mesh: upload.stl: could not parse as STL: <trimesh.Scene> in y"
    assert public_message("no part '/data/parts/a'") == "no part '/data/parts/a'"


# -- keys and exposure ----------------------------------------------------------------------------


@pytest.mark.parametrize("value", [" , ", ",", "k1,,k2", "k1, "])
def test_blank_api_keys_are_an_error(monkeypatch, value):
    monkeypatch.setenv("CADSEARCH_API_KEYS", value)
    with pytest.raises(ValidationError, match="blank"):
        load_settings("local")


def test_unset_or_empty_keys_mean_none(monkeypatch):
    monkeypatch.setenv("CADSEARCH_API_KEYS", "")
    assert load_settings("local").api_keys == []
    monkeypatch.setenv("CADSEARCH_API_KEYS", "k1, k2")
    assert [k.get_secret_value() for k in load_settings("local").api_keys] == ["k1", "k2"]


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "[::1]", "localhost", "127.0.0.2"])
def test_loopback_hosts(host):
    assert is_loopback(host)
    check_exposure(Settings(serve={"host": host}))


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "10.1.2.3", "example.com"])
def test_open_interface_without_keys_refuses_to_start(host):
    assert not is_loopback(host)
    with pytest.raises(ValueError, match="no API keys"):
        check_exposure(Settings(serve={"host": host}))
    check_exposure(Settings(serve={"host": host, "open_mode": True}))
    check_exposure(Settings(serve={"host": host}, api_keys=["k"]))


def test_grpc_takes_the_http_byte_limit_and_host():
    settings = Settings(serve={"host": "10.0.0.5", "limits": {"max_body_mb": 3}})
    env = controller_options(settings)["runtime_env"]["env_vars"]
    assert env["RAY_SERVE_GRPC_MAX_MESSAGE_SIZE"] == str(3 * 2**20)
    assert env["CADSEARCH_GRPC_HOST"] == "10.0.0.5"
    assert grpc_address("[::]:9000", "127.0.0.1") == "127.0.0.1:9000"
    assert grpc_address("[::]:9000", "::1") == "[::1]:9000"


# -- budgets and timeouts -------------------------------------------------------------------------


def test_a_request_past_the_timeout_is_a_typed_504_and_is_stopped():
    import asyncio

    import httpx
    from fastapi import FastAPI

    from serve.http_util import DeadlineMiddleware, install_error_handlers

    app = FastAPI()
    install_error_handlers(app)
    app.add_middleware(DeadlineMiddleware)
    app.state.request_timeout_s = 0.3
    stopped = []

    @app.get("/slow")
    async def slow():
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            stopped.append(True)  # the handler is stopped, not left running
            raise

    @app.get("/fast")
    async def fast():
        return {"ok": True}

    async def requests():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            started = time.perf_counter()
            # Serve's proxy lets a client lift its own timeout with this header; not this one
            slow_answer = await client.get("/slow", headers={"x-request-timeout-seconds": "0"})
            return slow_answer, time.perf_counter() - started, await client.get("/fast")

    slow_answer, elapsed, fast_answer = asyncio.run(requests())
    assert slow_answer.status_code == 504, slow_answer.text
    error = slow_answer.json()["error"]
    assert (error["code"], error["field"]) == ("timeout", "")
    assert "0.3 s" in error["message"]
    assert elapsed < 2.0 and stopped == [True]
    assert fast_answer.status_code == 200
    assert ApiError(504, "timeout", "x").grpc_code == "DEADLINE_EXCEEDED"


def test_budget_and_timeout_defaults_and_their_order():
    limits = ServeLimits()
    assert limits.mesh_budget_s < limits.request_timeout_s
    assert limits.max_query_faces < MeshLimits().max_faces
    assert limits.request_timeout_s > MeshLimits().step_timeout_s  # index-one of a slow STEP
    assert Settings().serve.preparer.workers >= 2
    with pytest.raises(ValidationError, match="mesh_budget_s"):
        ServeLimits(mesh_budget_s=60, request_timeout_s=30)


def test_query_meshes_take_the_query_face_limit():
    from serve.part_preparer import query_settings

    settings = Settings(serve={"limits": {"max_query_faces": 1000}})
    query = query_settings(settings, settings.serve.limits)
    assert query.mesh.max_faces == 1000 and settings.mesh.max_faces == 5_000_000
    with pytest.raises(TooManyFacesError):
        load_mesh(trimesh.creation.icosphere(4).export(file_type="stl"), "stl", limits=query.mesh)
