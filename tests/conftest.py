"""Shared fixtures: tiny meshes built on the fly, and files of them in every supported format."""

from __future__ import annotations

import os

# rendering is off-screen; keep stray GUI backends and thread oversubscription out of tests
os.environ.setdefault("PYVISTA_OFF_SCREEN", "true")
os.environ.setdefault("OMP_NUM_THREADS", "2")

import numpy as np
import pytest
import trimesh


@pytest.fixture
def box_mesh() -> trimesh.Trimesh:
    """A 40 x 20 x 10 mm box, offset from the origin."""
    mesh = trimesh.creation.box(extents=(40.0, 20.0, 10.0))
    mesh.apply_translation((100.0, -50.0, 7.0))
    return mesh


@pytest.fixture
def washer_mesh() -> trimesh.Trimesh:
    """A flat washer: 8.4 mm bore, 16 mm outer diameter, 1.6 mm thick (genus 1)."""
    return trimesh.creation.annulus(r_min=4.2, r_max=8.0, height=1.6, sections=48)


@pytest.fixture
def plate_with_holes() -> trimesh.Trimesh:
    """A 60 x 40 x 5 plate with 4 through holes (genus 4), made with a boolean."""
    plate = trimesh.creation.box(extents=(60.0, 40.0, 5.0))
    holes = [
        trimesh.creation.cylinder(radius=3.0, height=10.0, sections=32).apply_translation((x, y, 0))
        for x in (-20.0, 20.0)
        for y in (-12.0, 12.0)
    ]
    return trimesh.boolean.difference([plate, *holes], engine="manifold")


def make_step_file(path, kind: str = "step") -> None:
    """A 40 x 30 x 10 mm plate with one 10 mm through hole, written by Open CASCADE."""
    from OCP.BRepAlgoAPI import BRepAlgoAPI_Cut
    from OCP.BRepPrimAPI import BRepPrimAPI_MakeBox, BRepPrimAPI_MakeCylinder
    from OCP.gp import gp_Ax2, gp_Dir, gp_Pnt

    box = BRepPrimAPI_MakeBox(40, 30, 10).Shape()
    axis = gp_Ax2(gp_Pnt(20, 15, -1), gp_Dir(0, 0, 1))
    shape = BRepAlgoAPI_Cut(box, BRepPrimAPI_MakeCylinder(axis, 5, 12).Shape()).Shape()
    if kind == "step":
        from OCP.STEPControl import STEPControl_AsIs, STEPControl_Writer

        writer = STEPControl_Writer()
        writer.Transfer(shape, STEPControl_AsIs)
        writer.Write(str(path))
    else:
        from OCP.IGESControl import IGESControl_Writer

        writer = IGESControl_Writer()
        writer.AddShape(shape)
        writer.ComputeModel()
        writer.Write(str(path))


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


@pytest.fixture(scope="session")
def served(tmp_path_factory):
    """A real search service (Ray Serve, HTTP + gRPC) over an indexed 12-part catalog."""
    from serve_harness import start_served, stop_served

    try:
        yield start_served(tmp_path_factory.mktemp("served"))
    finally:
        stop_served()


@pytest.fixture(scope="module")
def http(served):
    """An HTTP client on the session's search service."""
    import httpx

    with httpx.Client(base_url=served.http_url, timeout=120) as client:
        yield client


@pytest.fixture(scope="module")
def stub(served):
    """A gRPC stub on the session's search service."""
    import grpc

    from serve.proto import cad_retrieval_pb2_grpc as pb_grpc

    channel = grpc.insecure_channel(served.grpc_target)
    grpc.channel_ready_future(channel).result(timeout=60)
    yield pb_grpc.CADRetrievalServiceStub(channel)
    channel.close()


@pytest.fixture(scope="module")
def ray_local():
    """A local Ray instance (2 CPUs) for one test module's jobs.

    It shuts Ray down at the end of the module, and with it the session's search service
    (``served``): modules that use ``served`` are named test_serve_* and so run before the
    modules that use this fixture after them (pytest runs files in name order).
    """
    import ray

    ray.shutdown()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()
