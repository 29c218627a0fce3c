"""The gRPC CADRetrievalService on Ray Serve's gRPC proxy, over a real channel."""

from __future__ import annotations

import copy
import json

import grpc
import numpy as np
import pytest
import trimesh

from serve.proto import cad_retrieval_pb2 as pb

pytestmark = pytest.mark.integration


def _key(served) -> tuple[tuple[str, str], ...]:
    return (("x-api-key", served.key),)


def _status(call, *args, **kwargs) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as caught:
        call(*args, **kwargs)
    return caught.value


def test_find_similar_by_text(stub, served):
    request = pb.SimilarModelsRequest(
        text_query="hex bolt M12", top_k=3, weights={"text->image": 0, "text->geometry": 0}
    )
    response = stub.FindSimilarModels(request, timeout=60)
    assert len(response.results) == 3 and response.query_id and response.bundle_id
    top = response.results[0]
    assert top.category == "hex_bolt" and top.genome_id == served.part("hex_bolt")["part_id"]
    assert top.HasField("text_similarity") and not top.HasField("image_similarity")
    assert set(top.cosines) == {"text->text"}
    size = np.array([top.bounding_box.max.x, top.bounding_box.max.y, top.bounding_box.max.z])
    size -= np.array([top.bounding_box.min.x, top.bounding_box.min.y, top.bounding_box.min.z])
    np.testing.assert_allclose(sorted(size, reverse=True), top.extents, rtol=1e-5)
    assert len(top.view_urls) == 10


def test_find_similar_filters_like_and_geometry(stub, served):
    nut = served.part("hex_nut")
    like = stub.FindSimilarModels(
        pb.SimilarModelsRequest(part_id=nut["part_id"], top_k=20, include_embeddings=True)
    )
    assert nut["part_id"] not in [r.genome_id for r in like.results] and len(like.results) == 11
    assert len(like.query_embeddings.text) == 256
    filtered = stub.FindSimilarModels(
        pb.SimilarModelsRequest(
            text_query="part",
            category_filter="hex_nut",
            filters=pb.Filters(categories=["hex_bolt"]),
            top_k=20,
        )
    )
    assert sorted(r.category for r in filtered.results) == ["hex_bolt", "hex_nut"]
    small = stub.FindSimilarModels(
        pb.SimilarModelsRequest(
            text_query="part",
            bbox_filter=pb.BoundingBox(max=pb.Point3D(x=40, y=40, z=40)),
            top_k=20,
        )
    )
    assert small.results and len(small.results) < 12
    assert all(max(r.extents) <= 40 for r in small.results)
    mesh = trimesh.load(served.file(nut), force="mesh")
    points = trimesh.sample.sample_surface(mesh, 1500, seed=1)[0]
    cloud = pb.PointCloud(points=[pb.Point3D(x=p[0], y=p[1], z=p[2]) for p in points])
    by_shape = stub.FindSimilarModels(pb.SimilarModelsRequest(geometry_query=cloud, top_k=2))
    assert by_shape.results[0].HasField("geometry_similarity")
    data = served.file(nut).read_bytes()
    by_mesh = stub.FindSimilarModels(  # rerank unset: the service's default for a mesh (on)
        pb.SimilarModelsRequest(mesh_data=data, mesh_format="stl", top_k=1)
    )
    assert by_mesh.results[0].genome_id == nut["part_id"] and by_mesh.results[0].HasField("maxsim")
    mesh_extents = sorted(np.ptp(trimesh.load(served.file(nut), force="mesh").vertices, axis=0))
    np.testing.assert_allclose(by_mesh.query_extents, mesh_extents[::-1], rtol=1e-4)
    assert not by_shape.query_extents  # points: no query part to measure
    plain = stub.FindSimilarModels(
        pb.SimilarModelsRequest(mesh_data=data, mesh_format="stl", rerank=False, top_k=1)
    )
    assert plain.results[0].genome_id == nut["part_id"] and not plain.results[0].HasField("maxsim")


def test_find_similar_similarity_percent_and_same_size(stub, served, http):
    gear = served.part("spur_gear")  # +-60%: the ball bearing is of its size
    fields = {"part_id": gear["part_id"], "top_k": 20, "same_size": 60.0, "min_similarity": 0.0}
    answer = stub.FindSimilarModels(pb.SimilarModelsRequest(**fields), timeout=60)
    assert answer.similarity_kind == "like" and answer.similarity_calibrated
    http_answer = http.post("/v1/search", json=fields).json()
    over_http = http_answer["results"]
    assert [r.genome_id for r in answer.results] == [r["part_id"] for r in over_http]
    assert [r.category for r in answer.results] == ["ball_bearing"]
    for model, result in zip(answer.results, over_http, strict=True):
        assert model.similarity_percent == pytest.approx(result["similarity_percent"], abs=1e-4)
        assert model.match_score == pytest.approx(result["match_score"], abs=1e-6)
        # no serve.public_url: the light mesh's URL is a path on the service, as over HTTP
        assert model.mesh_url == result["mesh_url"] and model.mesh_url.startswith("/views/")
    stored = http.get(f"/v1/parts/{gear['part_id']}").json()["extents_mm"]
    np.testing.assert_allclose(answer.query_extents, http_answer["query_extents_mm"], rtol=1e-6)
    np.testing.assert_allclose(answer.query_extents, stored, rtol=1e-5)


def test_find_similar_urls_go_under_public_url(http):
    from serve.grpc_api import similar_models_response

    fields = {"text": "hex bolt M12", "top_k": 2}
    out = http.post("/v1/search", json=fields).json()
    base = "https://search.example.com/cad"
    response = similar_models_response(copy.deepcopy(out), base)
    for model, result in zip(response.results, out["results"], strict=True):
        assert model.mesh_url == base + result["mesh_url"]
        assert list(model.view_urls) == [base + url for url in result["view_urls"]]


@pytest.mark.parametrize(
    ("request_fields", "code", "message"),
    [
        ({}, grpc.StatusCode.INVALID_ARGUMENT, "query: give at least one"),
        ({"text_query": "a", "top_k": 500}, grpc.StatusCode.INVALID_ARGUMENT, "top_k:"),
        ({"part_id": "nope"}, grpc.StatusCode.NOT_FOUND, "part_id: no part 'nope'"),
        ({"image_path": "/etc/passwd"}, grpc.StatusCode.INVALID_ARGUMENT, "image_path:"),
        ({"image_data": b"not an image"}, grpc.StatusCode.INVALID_ARGUMENT, "image: cannot"),
        ({"text_query": "a", "fusion": "best"}, grpc.StatusCode.INVALID_ARGUMENT, "fusion"),
        (
            {"text_query": "a", "min_similarity": 101},
            grpc.StatusCode.INVALID_ARGUMENT,
            "min_similarity must be a percentage",
        ),
        ({"text_query": "a", "same_size": 5}, grpc.StatusCode.INVALID_ARGUMENT, "same_size:"),
        (
            {"text_query": "a", "weights": {"x->y": 1.0}},
            grpc.StatusCode.INVALID_ARGUMENT,
            "weights",
        ),
        (
            {"mesh_data": b"garbage" * 20, "mesh_format": "stl"},
            grpc.StatusCode.INVALID_ARGUMENT,
            "mesh:",
        ),
        ({"mesh_data": b"x", "mesh_format": "dwg"}, grpc.StatusCode.INVALID_ARGUMENT, "mesh:"),
        (
            {"geometry_query": pb.PointCloud(points=[pb.Point3D(x=1)] * 3)},
            grpc.StatusCode.INVALID_ARGUMENT,
            "points:",
        ),
        (
            {"text_query": "a", "filters": pb.Filters(size_x=pb.Range(gte=5, lte=1))},
            grpc.StatusCode.INVALID_ARGUMENT,
            "filters",
        ),
    ],
)
def test_invalid_requests_get_status_and_message(stub, request_fields, code, message):
    error = _status(stub.FindSimilarModels, pb.SimilarModelsRequest(**request_fields), timeout=60)
    assert error.code() == code
    assert message in error.details()


def test_get_model_embeddings(stub, served):
    bolt = served.part("hex_bolt")
    response = stub.GetModelEmbeddings(pb.GetEmbeddingsRequest(genome_id=bolt["part_id"]))
    assert response.dim == 256 and len(response.view_embeddings) == 10
    for vector in (response.text_embedding, response.image_embedding, response.fused_embedding):
        assert len(vector) == 256
        np.testing.assert_allclose(np.linalg.norm(vector), 1, atol=1e-5)
    missing = _status(stub.GetModelEmbeddings, pb.GetEmbeddingsRequest(genome_id="nope"))
    assert missing.code() == grpc.StatusCode.NOT_FOUND and "nope" in missing.details()


def test_index_model_needs_a_key(stub, served):
    request = pb.IndexModelRequest(
        genome_id="grpc/one",
        model_data=served.file(served.part("hex_nut")).read_bytes(),
        file_type="stl",
    )
    error = _status(stub.IndexModel, request)
    assert error.code() == grpc.StatusCode.UNAUTHENTICATED and "X-API-Key" in error.details()
    wrong = _status(stub.IndexModel, request, metadata=(("x-api-key", "wrong"),))
    assert wrong.code() == grpc.StatusCode.PERMISSION_DENIED
    stream = stub.IndexModelBatch(iter([request]))
    error = _status(list, stream)
    assert error.code() == grpc.StatusCode.UNAUTHENTICATED


def test_predicted_kind_filters_and_shows(stub, served):
    from cadsearch.client import CadsearchClient

    with CadsearchClient(served.http_url, api_key=served.key, timeout=120) as client:
        kind = client.index_part(served.file(served.catalog[0]), "uploads/grpc-unlabeled", {})[
            "predicted_category"
        ]
        try:
            filters = pb.Filters(predicted_categories=[kind], min_predicted_score=0.0)
            request = pb.SimilarModelsRequest(text_query="a part", top_k=5, filters=filters)
            response = stub.FindSimilarModels(request, timeout=60)
        finally:
            client.delete_part("uploads/grpc-unlabeled")
    assert [r.genome_id for r in response.results] == ["uploads/grpc-unlabeled"]
    assert response.results[0].predicted_category == kind
    assert 0 < response.results[0].predicted_score <= 1


def test_index_model_and_batch_stream(stub, served, http):
    nut = served.file(served.part("hex_nut")).read_bytes()
    washer = served.file(served.part("flat_washer")).read_bytes()
    count = http.get("/v1/facets").json()["total"]
    one = stub.IndexModel(
        pb.IndexModelRequest(
            genome_id="grpc/one",
            model_data=nut,
            file_type="stl",
            name="gRPC nut",
            category="grpc_test",
            tags=["grpc"],
            metadata_json=json.dumps({"units": "mm", "material": "steel"}),
        ),
        metadata=_key(served),
        timeout=120,
    )
    assert one.indexed and one.genome_id == "grpc/one" and one.num_views_rendered == 10
    assert one.has_text_embedding and one.has_image_embedding and one.has_geometry_embedding
    stored = http.get("/v1/parts/grpc/one").json()
    assert one.mesh_url == stored["mesh_url"] and one.mesh_url.startswith("/views/")
    bad = _status(
        stub.IndexModel,
        pb.IndexModelRequest(genome_id="grpc/bad", model_data=b"junk" * 40, file_type="stl"),
        metadata=_key(served),
    )
    assert bad.code() == grpc.StatusCode.INVALID_ARGUMENT and bad.details().startswith("file:")
    creo = _status(
        stub.IndexModel,
        pb.IndexModelRequest(genome_id="x", model_data=nut, use_creo_rendering=True),
        metadata=_key(served),
    )
    assert "use_creo_rendering" in creo.details()
    requests = [
        pb.IndexModelRequest(genome_id="grpc/two", model_data=washer, file_type="stl"),
        pb.IndexModelRequest(genome_id="grpc/bad", model_data=b"junk" * 40, file_type="stl"),
        pb.IndexModelRequest(model_path="/etc/passwd"),
        pb.IndexModelRequest(genome_id="grpc/three", model_data=nut, file_type="stl"),
    ]
    responses = list(stub.IndexModelBatch(iter(requests), metadata=_key(served), timeout=300))
    assert [r.genome_id for r in responses] == ["grpc/two", "grpc/bad", "", "grpc/three"]
    assert [r.indexed for r in responses] == [True, False, False, True]
    assert responses[1].errors and responses[1].error_code == "unreadable"
    assert "model_path" in responses[2].errors[0]
    assert http.get("/v1/facets").json()["total"] == count + 3
    part = http.get("/v1/parts/grpc/one").json()
    assert part["category"] == "grpc_test" and part["meta"]["material"] == "steel"
    for part_id in ("grpc/one", "grpc/two", "grpc/three"):
        answer = http.delete(f"/v1/parts/{part_id}", headers={"X-API-Key": served.key})
        assert answer.status_code == 200, answer.text
    assert http.get("/v1/facets").json()["total"] == count
