"""Fuzzing the service's input paths in-process, with hypothesis: the cases of
bench/helpers/fuzz_cases.py against the targets of bench/helpers/fuzz_targets.py. Mutated files of
every mesh and image format, generated search bodies (JSON and multipart) and gRPC requests each
end in a typed refusal or succeed; any other exception fails the test
(docs/security.md#fuzzing). The served counterpart is tests/test_serve_fuzz.py; bench/fuzz.py
runs the same cases with a large budget."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bench.helpers import fuzz_cases as fc
from bench.helpers import fuzz_targets as ft
from cadsearch.settings import ServeLimits, Settings

# small and reproducible: the same examples on every run (bench/fuzz.py draws new ones)
FUZZ = settings(
    max_examples=20,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
LIMITS = ServeLimits()
# after the whole suite's modules are imported, one mutated STEP case holds Open CASCADE's
# ReadFile in the reader's child until its time limit (docs/security.md#fuzzing): refused all
# the same, within 10 s instead of 120
STEP_CAPPED = Settings().model_copy(
    update={"mesh": Settings().mesh.model_copy(update={"step_timeout_s": 10.0})}
)
MESH_SEEDS = fc.mesh_seeds()
IMAGE_SEEDS = fc.image_seeds()
# cases the fuzzer found, kept as explicit examples of their format's test
FOUND = {
    # a vertex line with two numbers: vertices (n, 2), then a ValueError deep in trimesh
    "obj": [("obj", b"v 0 0 0\nv 1 0\nv 0 1 0\nf 1 2 3\n")],
}
if "step" in MESH_SEEDS:  # a truncated entity: Open CASCADE's STEP reader segfaulted
    seed = MESH_SEEDS["step"][1]
    FOUND["step"] = [("step", seed.replace(b"#29 = VECTOR('',#30,1.);", b"#29 = VECTO);"))]
# a 1x65535 image: 65,535 pixels, but 3.3 G once the image tower resized its short side to 224
THIN_IMAGE = fc.png_of(1, 65535)
# 20 points, two of them at +-1e300: finite, but the unit-sphere cloud came out all zeros
FAR_POINTS = [[1e300, 0, 0], [-1e300, 0, 0]] + [[i, i % 3, i % 5] for i in range(18)]
# 20 points spanning 1e-250 (bench/fuzz.py): its squares underflowed, the same all-zero cloud
TINY_POINTS = [[0, 1e-250, 0]] + [[0, 0, 0]] * 19


@pytest.mark.parametrize("name", sorted(MESH_SEEDS))
def test_seed_files_load(name):
    kind, data = MESH_SEEDS[name]
    assert ft.prepare_mesh_case(data, kind) == "ok"


@pytest.mark.parametrize("name", sorted(MESH_SEEDS))
def test_mutated_mesh_files_load_or_refuse_typed(name):
    # a STEP/IGES case forks Open CASCADE's reader: fewer of them
    @settings(FUZZ, max_examples=10 if name in ("step", "iges") else 20)
    @given(fc.mesh_files(MESH_SEEDS, name))
    def check(case):
        kind, data = case
        ft.prepare_mesh_case(data, kind, STEP_CAPPED)

    for case in FOUND.get(name, []):
        check = example(case)(check)
    check()


def test_far_coordinates_refused():
    # a vertex at 1e300 overflowed vertex merging: an OverflowError, or faces silently lost
    far = b"v 0 0 0\nv 1e300 0 0\nv 0 1 0\nv 0 0 1\nf 1 2 3\nf 1 2 4\n"
    assert ft.prepare_mesh_case(far, "obj") == "coordinate_range"


@pytest.mark.skipif("step" not in MESH_SEEDS, reason="needs the OCCT binding")
def test_step_reader_past_its_time_is_refused():
    from cadsearch.settings import MeshLimits
    from encoders.geometry.errors import UnreadableMeshError
    from encoders.geometry.loaders import load_mesh

    with pytest.raises(UnreadableMeshError, match="within 0.001 s"):
        load_mesh(MESH_SEEDS["step"][1], "step", limits=MeshLimits(step_timeout_s=0.001))


@FUZZ
@given(fc.mismatched_files(MESH_SEEDS))
def test_files_of_another_format_refuse_typed(case):
    kind, data = case
    ft.prepare_mesh_case(data, kind)


@settings(FUZZ, max_examples=50)
@example(THIN_IMAGE)
@given(fc.images(IMAGE_SEEDS))
def test_mutated_images_decode_or_refuse_typed(data):
    ft.check_image_case(data, LIMITS.max_image_pixels)


@settings(FUZZ, max_examples=60)
@example(json.dumps({"points": FAR_POINTS}).encode(), "application/json")
@example(json.dumps({"points": TINY_POINTS}).encode(), "application/json")
@given(
    fc.search_body_bytes(IMAGE_SEEDS),
    st.sampled_from(["application/json", "", "text/plain", "multipart/form-data"]),
)
def test_json_search_bodies_parse_or_refuse_typed(body, content_type):
    ft.search_body_case(body, content_type, LIMITS)


@settings(FUZZ, max_examples=40)
@given(fc.multipart_searches(MESH_SEEDS, IMAGE_SEEDS), st.booleans())
def test_multipart_search_bodies_parse_or_refuse_typed(form, mutate):
    body, content_type = fc.multipart_body(*form)
    if mutate:  # the same body with a byte changed: the form parser's own errors
        body = body[: len(body) // 2] + b"\r\n--" + body[len(body) // 2 :]
    ft.search_body_case(body, content_type, LIMITS)


@settings(FUZZ, max_examples=50)
@given(fc.grpc_searches(MESH_SEEDS, IMAGE_SEEDS))
def test_grpc_search_requests_check_or_refuse_typed(request):
    ft.grpc_search_case(request, LIMITS)


@settings(FUZZ, max_examples=30)
@given(fc.grpc_index_requests(MESH_SEEDS))
def test_grpc_index_requests_check_or_refuse_typed(request):
    ft.grpc_index_case(request, Settings())
