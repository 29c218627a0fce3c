"""Fuzz cases for the service's inputs, shared by tests/test_fuzz.py, tests/test_serve_fuzz.py and
bench/fuzz.py: small valid seed files of every mesh and image format, and hypothesis strategies
that mutate them or generate requests (JSON and multipart searches, embeds, part uploads, gRPC).
The in-process targets they run against are in fuzz_targets.py (docs/security.md#fuzzing).
"""

from __future__ import annotations

import base64
import io
import json
import os
import re
import struct
import tempfile
import zipfile
import zlib
from typing import Any

from hypothesis import strategies as st

# values that break parsers: overflow, NaN, counts past every limit, stray structure
NASTY_TOKENS = (
    b"1e308",
    b"-1e308",
    b"1e999",
    b"nan",
    b"-inf",
    b"99999999999999999999",
    b"4294967295",
    b"2147483648",
    b"-1",
    b"0",
    b"",
    b"\x00",
    b"\xff" * 8,
    b"\n",
    b"#",
    b"{",
    b"]",
    b'"',
    b"end_header\n",
    b"endsolid\n",
    b"facet normal 0 0 1\nouter loop\n",
    b"f 1 2 99999999\n",
    b"v nan nan nan\n",
    b"element face 4000000000\n",
    b"PK\x03\x04",
)
# little-endian words written over binary fields (counts, offsets, floats)
BINARY_WORDS = (
    struct.pack("<I", 0xFFFFFFFF),
    struct.pack("<I", 0x7FFFFFFF),
    struct.pack("<I", 4_999_999),
    struct.pack("<i", -1),
    struct.pack("<f", float("nan")),
    struct.pack("<f", float("inf")),
    struct.pack("<f", 3.4e38),
    struct.pack("<d", 1e308),
    struct.pack("<Q", 2**63),
)
_NUMBER = re.compile(rb"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")
MUTATIONS = ("flip", "bit", "truncate", "delete", "splice", "insert", "word", "number")

# -- seed files -----------------------------------------------------------------------------------


class Seeds(dict):
    """Seed files by name; its repr stays short in hypothesis's reports of a failing example."""

    def __repr__(self) -> str:
        return f"Seeds({', '.join(self)})"


def _step_seed(kind: str) -> bytes:
    """A 30 x 20 x 10 mm box written by Open CASCADE as STEP or IGES."""
    from OCP.BRepPrimAPI import BRepPrimAPI_MakeBox

    shape = BRepPrimAPI_MakeBox(30, 20, 10).Shape()
    fd, path = tempfile.mkstemp(suffix=f".{kind}")
    os.close(fd)
    try:
        if kind == "step":
            from OCP.STEPControl import STEPControl_AsIs, STEPControl_Writer

            writer = STEPControl_Writer()
            writer.Transfer(shape, STEPControl_AsIs)
            writer.Write(path)
        else:
            from OCP.IGESControl import IGESControl_Writer

            writer = IGESControl_Writer()
            writer.AddShape(shape)
            writer.ComputeModel()
            writer.Write(path)
        with open(path, "rb") as f:
            data = f.read()
    finally:
        os.unlink(path)
    # the writers stamp the time and count their runs: fixed, so a seed (and a derandomized
    # run) is the same each time
    data = re.sub(rb"(STEP translator [\d.]+) \d+", rb"\1 1", data)
    data = re.sub(rb"'\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d'", b"'2026-01-01T00:00:00'", data)
    return re.sub(
        rb"(\d+H)\d{6,8}\.\d{6}", lambda m: m[0][: len(m[1])] + b"0" * (len(m[0]) - len(m[1])), data
    )


def has_occt() -> bool:
    try:
        import OCP  # noqa: F401
    except ImportError:
        return False
    return True


def mesh_seeds(brep: bool | None = None) -> dict[str, tuple[str, bytes]]:
    """name -> (file type, bytes): a small valid file of every format the loaders read
    (``encoders.geometry.loaders``); STEP and IGES when the OCCT binding is there (brep None)."""
    import trimesh
    from trimesh.exchange.gltf import export_gltf
    from trimesh.exchange.ply import export_ply

    box = trimesh.creation.box(extents=(40.0, 20.0, 10.0))
    cylinder = trimesh.creation.cylinder(radius=5.0, height=12.0, sections=8)
    seeds = Seeds(
        {
            "stl_binary": ("stl", cylinder.export(file_type="stl")),
            "stl_ascii": ("stl", box.export(file_type="stl_ascii").encode()),
            "obj": ("obj", cylinder.export(file_type="obj").encode()),
            "ply_binary": ("ply", box.export(file_type="ply")),
            "ply_ascii": ("ply", export_ply(cylinder, encoding="ascii")),
            "off": ("off", box.export(file_type="off").encode()),
            "glb": ("glb", cylinder.export(file_type="glb")),
            "gltf": ("gltf", export_gltf(trimesh.Scene(box), embed_buffers=True)["model.gltf"]),
            "3mf": ("3mf", cylinder.export(file_type="3mf")),
        }
    )
    if brep is None:
        brep = has_occt()
    if brep:
        seeds["step"] = ("step", _step_seed("step"))
        seeds["iges"] = ("iges", _step_seed("iges"))
    return seeds


def _png(mode: str, size: tuple[int, int] = (16, 12), **save) -> bytes:
    import numpy as np
    from PIL import Image

    values = (np.arange(size[0] * size[1] * 3) % 251).astype(np.uint8)
    image = Image.fromarray(values.reshape(size[1], size[0], 3), "RGB")
    out = io.BytesIO()
    image.convert(mode).save(out, format=save.pop("format", "PNG"), **save)
    return out.getvalue()


def png_of(width: int, height: int) -> bytes:
    """A grey PNG of the given size (a thin one is small on the wire)."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("L", (width, height), 128).save(out, format="PNG")
    return out.getvalue()


def image_seeds() -> dict[str, bytes]:
    """name -> bytes: small valid PNGs (RGB, RGBA, palette, grey, 1-bit, 16-bit) and JPEGs."""
    return Seeds(
        {
            "png_rgb": _png("RGB"),
            "png_rgba": _png("RGBA"),
            "png_palette": _png("P"),
            "png_grey": _png("L"),
            "png_1bit": _png("1"),
            "png_16bit": _png("I;16"),
            "jpeg": _png("RGB", format="JPEG", quality=80),
            "jpeg_progressive": _png("RGB", format="JPEG", progressive=True),
            "jpeg_grey": _png("L", format="JPEG"),
        }
    )


# -- mutations ------------------------------------------------------------------------------------


@st.composite
def mutated(draw, data: bytes, max_ops: int = 4) -> bytes:
    """data after 1..max_ops mutations: byte and bit flips, truncation, deletion, a splice of
    its own bytes, an inserted token, a binary word written over it, a number replaced."""
    out = bytearray(data)
    for _ in range(draw(st.integers(1, max_ops))):
        op = draw(st.sampled_from(MUTATIONS))
        pos = draw(st.integers(0, len(out)))
        if op == "flip" and out:
            out[min(pos, len(out) - 1)] = draw(st.integers(0, 255))
        elif op == "bit" and out:
            out[min(pos, len(out) - 1)] ^= 1 << draw(st.integers(0, 7))
        elif op == "truncate":
            del out[pos:]
        elif op == "delete":
            del out[pos : pos + draw(st.integers(1, 64))]
        elif op == "splice":
            start = draw(st.integers(0, len(out)))
            chunk = bytes(out[start : start + draw(st.integers(1, 256))])
            out[pos:pos] = chunk * draw(st.integers(1, 4))
        elif op == "insert":
            out[pos:pos] = draw(st.sampled_from(NASTY_TOKENS))
        elif op == "word":
            word = draw(st.sampled_from(BINARY_WORDS))
            out[pos : pos + len(word)] = word
        elif op == "number":
            numbers = list(_NUMBER.finditer(bytes(out)))
            if numbers:
                found = numbers[draw(st.integers(0, len(numbers) - 1))]
                out[found.start() : found.end()] = draw(st.sampled_from(NASTY_TOKENS[:10]))
    return bytes(out)


@st.composite
def rezipped(draw, data: bytes) -> bytes:
    """A zip container (3MF) with one member's content mutated and the archive rewritten, so
    the mutation reaches the member's parser past the zip's checksums."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = {info.filename: archive.read(info) for info in archive.infolist()}
    name = draw(st.sampled_from(sorted(members)))
    members[name] = draw(mutated(members[name]))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for member, content in members.items():
            archive.writestr(member, content)
    return out.getvalue()


def _with_crc(chunk_type: bytes, body: bytes) -> bytes:
    return body + struct.pack(">I", zlib.crc32(chunk_type + body))


@st.composite
def resized_header(draw, data: bytes) -> bytes:
    """An image whose header declares another size (PNG's IHDR with a valid CRC, JPEG's SOF):
    what a decompression bomb does."""
    width = draw(st.integers(0, 2**31 - 1) | st.sampled_from([1, 65535, 100_000]))
    height = draw(st.integers(0, 2**31 - 1) | st.sampled_from([1, 65535, 100_000]))
    if data.startswith(b"\x89PNG") and data[12:16] == b"IHDR":
        body = struct.pack(">II", width, height) + data[24:29]
        return data[:16] + _with_crc(b"IHDR", body) + data[33:]
    sof = max(data.find(b"\xff\xc0"), data.find(b"\xff\xc2"))
    if sof >= 0:
        size = struct.pack(">HH", height & 0xFFFF, width & 0xFFFF)
        return data[: sof + 5] + size + data[sof + 9 :]
    return data


def mesh_files(seeds: dict[str, tuple[str, bytes]], name: str) -> st.SearchStrategy:
    """(file type, bytes) of seed ``name`` mutated; a zip container also member-wise."""
    kind, data = seeds[name]
    strategy = mutated(data)
    if kind == "3mf":
        strategy = strategy | rezipped(data)
    return st.tuples(st.just(kind), strategy | st.just(data))


def mismatched_files(seeds: dict[str, tuple[str, bytes]]) -> st.SearchStrategy:
    """(file type, bytes) of one format's file, maybe mutated, declared as another format."""
    kinds = sorted({kind for kind, _ in seeds.values()})
    names = sorted(seeds)
    return st.tuples(
        st.sampled_from(kinds),
        st.sampled_from(names).flatmap(lambda n: mutated(seeds[n][1]) | st.just(seeds[n][1])),
    )


def typed_images(seeds: dict[str, bytes]) -> st.SearchStrategy:
    """Image bytes: a seed as it is, or mutated."""
    return st.sampled_from(sorted(seeds)).map(seeds.get) | images(seeds)


def images(seeds: dict[str, bytes]) -> st.SearchStrategy:
    """Image bytes: a seed, mutated, or with a header that declares another size."""
    return st.sampled_from(sorted(seeds)).flatmap(
        lambda n: st.just(seeds[n]) | mutated(seeds[n]) | resized_header(seeds[n])
    )


# -- generated requests ---------------------------------------------------------------------------


def one_in(n: int) -> st.SearchStrategy[bool]:
    """True about once in n draws (``integers(0, n - 1) == 0`` is True far more often: hypothesis
    favours the ends of a range)."""
    return st.sampled_from([False] * (n - 1) + [True])


# text without lone surrogates (protobuf refuses them before sending; JSON carries them escaped)
texts = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)
raw_texts = st.text(max_size=40)
numbers = st.one_of(
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, 1, 100, 101, 1000, 1001, 1e6, 1e6 + 1, 1e39, -1, -0.0, 5e-324, 2**63]),
)
json_scalars = st.none() | st.booleans() | numbers | raw_texts
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(raw_texts, inner, max_size=4),
    max_leaves=10,
)
PAIRS = [f"{q}->{t}" for q in ("text", "image", "geometry") for t in ("text", "image", "geometry")]
FILTER_LISTS = ("categories", "predicted_categories", "tags_any", "tags_all", "exclude_part_ids")
RANGES = ("extent_max", "extent_mid", "extent_min", "size_x", "size_y", "size_z")
FUSIONS = ["rrf", "dbsf", "weighted_sum"]
MESH_TYPES = ["stl", "obj", "ply", "off", "glb", "gltf", "3mf", "step", "stp", "iges", "igs"]

# valid values, a few at their limits: requests that reach the encoders and the store
sizes = st.floats(0, 1e4) | st.sampled_from([0.0, 1e-300, 3.4e38])
clouds = st.tuples(st.sampled_from([1e-6, 1.0, 1e3, 1e8]), st.integers(16, 64)).flatmap(
    lambda scale_count: st.lists(
        st.tuples(*[st.floats(-scale_count[0], scale_count[0])] * 3).map(list),
        min_size=scale_count[1],
        max_size=scale_count[1],
    )
)
typed_ranges = (
    st.tuples(sizes, sizes)
    .map(sorted)
    .flatmap(
        lambda ends: st.fixed_dictionaries(
            {}, optional={"gte": st.just(ends[0]), "lte": st.just(ends[1])}
        )
    )
)
typed_filters = st.fixed_dictionaries(
    {},
    optional={
        **{name: st.lists(texts, max_size=3) for name in FILTER_LISTS},
        **{name: typed_ranges for name in RANGES},
        "min_predicted_score": st.floats(0, 1),
    },
)
typed_weights = st.dictionaries(
    st.sampled_from(PAIRS), st.floats(0, 1e6) | st.sampled_from([0, 1e6]), max_size=4
)
# any JSON where a field's type is wrong: what validation must refuse
coordinates = st.floats(-1e3, 1e3, allow_nan=False) | numbers
wild_points = st.one_of(
    st.lists(st.lists(coordinates, min_size=3, max_size=3), min_size=14, max_size=48),
    st.lists(st.lists(numbers, min_size=0, max_size=4), max_size=20),
    json_values,
)
wild_ranges = st.fixed_dictionaries({}, optional={"gte": numbers, "lte": numbers}) | json_values
wild_filters = st.fixed_dictionaries(
    {},
    optional={
        **{name: st.lists(texts, max_size=3) | json_values for name in FILTER_LISTS},
        **{name: wild_ranges for name in RANGES},
        "min_predicted_score": numbers | json_values,
        "other": json_values,
    },
)
wild_weights = st.dictionaries(
    st.sampled_from(PAIRS) | raw_texts, numbers | json_values, max_size=4
)


def encodable(text: str) -> bool:
    """Whether text is valid UTF-8 (no lone surrogates): what protobuf's strings accept."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def part_ids(known: list[str]) -> st.SearchStrategy:
    """Part ids: catalog ones, and look-alikes with control, bidi and other odd characters."""
    odd = st.sampled_from(["", " ", "a\x00b", "a\u202eb", "caf\u0065\u0301", "x" * 513, "../x"])
    strategy = raw_texts | odd
    return (st.sampled_from(known) | strategy) if known else strategy


def _new_search_fields() -> list[str]:
    """Request fields added since these strategies were written: numbers near their ranges."""
    from serve.api_models import SearchRequest

    known = {"text", "image", "points", "part_id", "mesh_format", "filters", "top_k", "offset"}
    known |= {"weights", "fusion", "rerank", "include_embeddings"}
    return sorted(set(SearchRequest.model_fields) - known)


def typed_search_fields(
    image_seeds_: dict[str, bytes], known_ids: list[str] = ()
) -> dict[str, st.SearchStrategy]:
    """Each search field's valid values (an image may be mutated: its check is the target)."""
    b64 = typed_images(image_seeds_).map(lambda b: base64.b64encode(b).decode())
    return {
        "text": texts.filter(str.strip) | st.sampled_from(["hex bolt", "M8 nut"]),
        "image": b64,
        "points": clouds,
        "part_id": st.sampled_from(list(known_ids)) if known_ids else part_ids([]),
        "filters": typed_filters,
        "top_k": st.integers(1, 100),
        "offset": st.integers(0, 1000),
        "weights": typed_weights,
        "fusion": st.sampled_from(FUSIONS),
        "rerank": st.booleans(),
        "include_embeddings": st.booleans(),
        **{name: st.floats(0, 100) for name in _new_search_fields()},
    }


def search_bodies(
    image_seeds_: dict[str, bytes], known_ids: list[str] = ()
) -> st.SearchStrategy[dict]:
    """A JSON search body: any subset of the fields, all valid, or each of them valid, past its
    limits or any JSON value (an unknown field too)."""
    typed = typed_search_fields(image_seeds_, known_ids)
    wild = {
        **{name: strategy | json_values for name, strategy in typed.items()},
        "text": typed["text"] | st.sampled_from(["", "   ", "x" * 2001]) | json_values,
        "part_id": part_ids(list(known_ids)) | json_values,
        "points": wild_points,
        "filters": wild_filters | json_values,
        "top_k": st.integers(-5, 1100) | numbers | json_values,
        "offset": st.integers(-5, 1100) | numbers | json_values,
        "weights": wild_weights | json_values,
        "mesh_format": st.sampled_from(MESH_TYPES) | json_values,  # refused: no mesh in JSON
        "unknown_field": json_values,
        **{name: numbers | json_values for name in _new_search_fields()},
    }
    return st.fixed_dictionaries({}, optional=typed) | st.fixed_dictionaries({}, optional=wild)


def encode_json(value: Any) -> bytes:
    """JSON as Python writes it: NaN and Infinity as bare words (what json.loads reads back)."""
    return json.dumps(value, allow_nan=True).encode()


def search_body_bytes(
    image_seeds_: dict[str, bytes], known_ids: list[str] = ()
) -> st.SearchStrategy[bytes]:
    """A JSON search body's bytes: a generated body, a mutated one, any JSON, deep nesting."""
    bodies = search_bodies(image_seeds_, known_ids)
    valid = encode_json({"text": "hex bolt", "top_k": 5, "filters": {"categories": ["x"]}})
    return st.one_of(
        bodies.map(encode_json),
        bodies.map(encode_json).flatmap(mutated),
        mutated(valid),
        json_values.map(encode_json),
        st.integers(1, 3000).map(lambda n: b"[" * n + b"]" * n),
    )


def _form_value(value: Any) -> str:
    """A form field's text: strings as they are, booleans as true/false, the rest as JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, allow_nan=True)


MULTIPART_BOUNDARY = "cadsearch-fuzz-5b0c1f0e"


def multipart_body(
    fields: dict[str, str], files: dict[str, tuple[str, bytes]]
) -> tuple[bytes, str]:
    """(body, content type) of a multipart form of text fields and file uploads."""
    boundary = MULTIPART_BOUNDARY
    parts = []
    for name, value in fields.items():
        head = f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
        parts.append(head.encode() + value.encode("utf-8", "surrogatepass") + b"\r\n")
    for name, (filename, data) in files.items():
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
            f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'
        )
        parts.append(head.encode() + data + b"\r\n")
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


@st.composite
def multipart_searches(
    draw,
    mesh_seeds_: dict[str, tuple[str, bytes]],
    image_seeds_: dict[str, bytes],
    known_ids: list[str] = (),
) -> tuple[dict[str, str], dict[str, tuple[str, bytes]]]:
    """(form fields, files) of a multipart search: valid fields as text, and an image and a mesh
    upload (seed files, maybe mutated); or any text in any field, files with any name."""
    typed = typed_search_fields(image_seeds_, known_ids)
    typed.pop("image")  # an upload here
    files: dict[str, tuple[str, bytes]] = {}
    name = draw(st.sampled_from(sorted(mesh_seeds_)))
    kind, data = draw(mesh_files(mesh_seeds_, name))
    if draw(st.booleans()):  # valid fields
        fields = draw(st.fixed_dictionaries({}, optional=typed))
        if draw(st.booleans()):
            files["image"] = ("query.png", draw(typed_images(image_seeds_)))
        if draw(st.booleans()):
            files["mesh"] = (f"part.{kind}", data)
            fields.pop("points", None)  # a mesh or points, not both
            if draw(st.booleans()):
                fields["mesh_format"] = kind
        return {k: _form_value(v) for k, v in fields.items()}, files
    scalar = texts.filter(lambda t: "\x00" not in t)
    wild = {name: strategy.map(_form_value) | scalar for name, strategy in typed.items()}
    wild["mesh_format"] = st.sampled_from(MESH_TYPES) | scalar
    wild["unknown_field"] = scalar
    wild["rerank"] = st.sampled_from(["true", "false", "1", "maybe", ""])
    fields = draw(st.fixed_dictionaries({}, optional=wild))
    if draw(st.booleans()):
        files["image"] = ("query.png", draw(images(image_seeds_)))
    if draw(st.booleans()):
        suffix = draw(st.sampled_from([kind, kind.upper(), "", "exe", "stl.obj"]))
        files["mesh"] = (f"part.{suffix}" if suffix else "part", data)
    if draw(one_in(10)):
        files[draw(st.sampled_from(["other", "text"]))] = ("x.bin", b"\x00\x01")
    return fields, files


GRPC_SEARCH_FIELDS = {
    "text_query",
    "image_data",
    "geometry_query",
    "category_filter",
    "bbox_filter",
    "top_k",
    "rerank",
    "include_embeddings",
    "part_id",
    "mesh_data",
    "mesh_format",
    "filters",
    "weights",
    "fusion",
    "offset",
    "image_path",  # refused whenever given: set in one request of ten
}


@st.composite
def grpc_searches(
    draw,
    mesh_seeds_: dict[str, tuple[str, bytes]],
    image_seeds_: dict[str, bytes],
    known_ids: list[str] = (),
):
    """A ``SimilarModelsRequest``: valid fields (files maybe mutated), or any value of each
    field's type."""
    from google.protobuf.descriptor import FieldDescriptor

    from serve.proto import cad_retrieval_pb2 as pb

    typed = draw(st.booleans())
    floats = st.floats(0, 1e3) if typed else st.floats(width=32) | st.sampled_from([1e39, -1e39])
    int32 = st.integers(-(2**31), 2**31 - 1)
    request = pb.SimilarModelsRequest()
    optional = st.booleans()
    if draw(optional):
        request.text_query = draw(typed_search_fields({})["text"] if typed else texts)
    if draw(optional):
        request.image_data = draw(typed_images(image_seeds_) | st.binary(max_size=64))
    mesh = draw(optional)
    if draw(optional) and not (typed and mesh):
        cloud = clouds if typed else st.lists(st.tuples(floats, floats, floats), max_size=40)
        for x, y, z in draw(cloud):
            request.geometry_query.points.add(x=x, y=y, z=z)
    if mesh:
        name = draw(st.sampled_from(sorted(mesh_seeds_)))
        kind, request.mesh_data = draw(mesh_files(mesh_seeds_, name))
        request.mesh_format = draw(st.just(kind) if typed else st.sampled_from(MESH_TYPES) | texts)
    elif not typed and draw(one_in(10)):
        request.mesh_format = draw(texts)
    if draw(optional):
        request.category_filter = draw(texts)
    if draw(optional):
        box = request.bbox_filter
        if draw(optional):
            box.min.CopyFrom(pb.Point3D(x=draw(floats), y=draw(floats), z=draw(floats)))
        if draw(optional):
            box.max.CopyFrom(pb.Point3D(x=draw(floats), y=draw(floats), z=draw(floats)))
    request.top_k = draw(st.integers(0, 100) if typed else int32)
    request.offset = draw(st.integers(0, 1000) if typed else int32)
    if draw(optional):
        request.rerank = draw(st.booleans())
    request.include_embeddings = draw(st.booleans())
    if draw(optional):
        ids = st.sampled_from(list(known_ids)) if known_ids else texts
        request.part_id = draw(ids if typed else ids | texts)
    if draw(optional):
        f = request.filters
        for name in FILTER_LISTS:
            if draw(optional):
                getattr(f, name).extend(draw(st.lists(texts, max_size=3)))
        for name in RANGES:
            if draw(one_in(4)):
                low, high = sorted(draw(st.tuples(floats, floats)))
                getattr(f, name).gte, getattr(f, name).lte = low, high
        if draw(optional):
            f.min_predicted_score = draw(st.floats(0, 1) if typed else floats)
    pairs = st.sampled_from(PAIRS) if typed else st.sampled_from(PAIRS) | texts
    for key, value in draw(st.dictionaries(pairs, floats, max_size=3)).items():
        request.weights[key] = value
    if draw(optional):
        request.fusion = draw(st.sampled_from(FUSIONS) if typed else texts)
    if not typed and draw(one_in(5)):
        request.image_path = draw(st.sampled_from(["/etc/passwd", "../x.png", ""]) | texts)
    # scalar fields added to the message since: any value of their type (percent when valid)
    by_type = {
        FieldDescriptor.TYPE_FLOAT: st.floats(0, 100) if typed else floats,
        FieldDescriptor.TYPE_DOUBLE: st.floats(0, 100) if typed else st.floats(),
        FieldDescriptor.TYPE_INT32: st.integers(0, 100) if typed else int32,
        FieldDescriptor.TYPE_STRING: texts,
        FieldDescriptor.TYPE_BOOL: st.booleans(),
    }
    for field in request.DESCRIPTOR.fields:
        new = field.name not in GRPC_SEARCH_FIELDS and not field.is_repeated
        if new and field.type in by_type and draw(one_in(4)):
            setattr(request, field.name, draw(by_type[field.type]))
    return request


def embed_requests(image_seeds_: dict[str, bytes]) -> st.SearchStrategy[tuple[str, bytes]]:
    """(path, JSON body) of an embed request: text, image or geometry items, well-typed or any
    JSON."""
    b64 = images(image_seeds_).map(lambda b: base64.b64encode(b).decode())
    bodies = {
        "/v1/embed/text": st.lists(texts | st.just("x" * 2001), max_size=4),
        "/v1/embed/image": st.lists(b64 | raw_texts, max_size=3),
        "/v1/embed/geometry": st.lists(clouds | wild_points, max_size=2),
    }
    keys = {"/v1/embed/text": "texts", "/v1/embed/image": "images"}
    return st.sampled_from(sorted(bodies)).flatmap(
        lambda path: st.tuples(
            st.just(path),
            st.one_of(
                bodies[path].map(lambda items: {keys.get(path, "point_clouds"): items}),
                json_values,
            ).map(encode_json),
        )
    )


typed_metadata = st.fixed_dictionaries(
    {},
    optional={
        "name": texts,
        "category": st.sampled_from(["bolt", "gear", "bracket"]) | texts,
        "tags": st.lists(texts, max_size=3),
        "description": texts,
        "units": st.sampled_from(["mm", "in", "m", "0.1in"]),
    },
)
metadata = typed_metadata | st.fixed_dictionaries(
    {},
    optional={
        "name": texts,
        "tags": st.lists(texts, max_size=3) | json_values,
        "units": st.sampled_from(["mm", "parsecs"]) | texts,
        "scale": numbers,
        "extra": json_values,
    },
)


@st.composite
def index_forms(
    draw, mesh_seeds_: dict[str, tuple[str, bytes]]
) -> tuple[dict[str, str], dict[str, tuple[str, bytes]]]:
    """(form fields, files) of POST /v1/parts: a seed file (maybe mutated) with metadata JSON
    (valid, any JSON or broken text) and a part id."""
    name = draw(st.sampled_from(sorted(mesh_seeds_)))
    kind, data = draw(mesh_files(mesh_seeds_, name))
    fuzz_id = st.integers(0, 10**6).map(lambda n: f"fuzz-{n}")
    if draw(st.booleans()):  # valid fields
        meta = draw(typed_metadata.map(encode_json).map(bytes.decode))
        fields = {"metadata": meta, "part_id": draw(fuzz_id)}
        return fields, {"file": (f"part.{kind}", data)}
    suffix = draw(st.sampled_from([kind, "", "exe"]))
    fields = {
        "metadata": draw(metadata.map(encode_json).map(bytes.decode) | raw_texts),
        "part_id": draw(fuzz_id | part_ids([])),
    }
    if draw(one_in(5)):
        fields["file_type"] = draw(st.sampled_from(MESH_TYPES) | texts)
    fields = {k: v for k, v in fields.items() if "\x00" not in v and encodable(v)}
    return fields, {"file": (f"part.{suffix}" if suffix else "part", data)}


@st.composite
def grpc_index_requests(draw, mesh_seeds_: dict[str, tuple[str, bytes]]):
    """An ``IndexModelRequest``: a seed file (maybe mutated) with valid fields, or any mix of
    its fields (a server path too)."""
    from serve.proto import cad_retrieval_pb2 as pb

    request = pb.IndexModelRequest()
    optional = st.booleans()
    name = draw(st.sampled_from(sorted(mesh_seeds_)))
    kind, data = draw(mesh_files(mesh_seeds_, name))
    fuzz_id = st.integers(0, 10**6).map(lambda n: f"fuzz-{n}")
    if draw(st.booleans()):  # valid fields
        request.model_data, request.file_type, request.genome_id = data, kind, draw(fuzz_id)
        if draw(optional):
            request.metadata_json = draw(typed_metadata.map(encode_json).map(bytes.decode))
        return request
    if not draw(one_in(10)):
        request.model_data = data
        if draw(optional):
            request.file_type = draw(st.sampled_from([kind, *MESH_TYPES]) | texts)
    if draw(one_in(10)):
        request.model_path = draw(st.sampled_from(["/etc/passwd", "../../x.stl"]) | texts)
    if not draw(one_in(5)):
        request.genome_id = draw(fuzz_id | texts)
    if draw(optional):
        request.metadata_json = draw(metadata.map(encode_json).map(bytes.decode) | texts)
    for field in ("description", "name", "category"):
        if draw(optional):
            setattr(request, field, draw(texts))
    request.tags.extend(draw(st.lists(texts, max_size=3)))
    request.use_creo_rendering = draw(one_in(10))
    return request


def examples(strategy: st.SearchStrategy, n: int, seed: int) -> list:
    """n examples of a strategy: hypothesis's generation phase only, reproducible by seed (the
    benches send them: bench/fuzz.py, bench/soak.py)."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as with_seed

    drawn: list = []

    @with_seed(seed)
    @settings(
        max_examples=n,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def draw(case):
        drawn.append(case)

    draw()
    return drawn
