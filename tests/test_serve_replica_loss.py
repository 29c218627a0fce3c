"""A replica that dies during a request costs no 500: the ingress sends the call once more
(``serve.handles.HandleEncoders``), and a second death answers 503 with Retry-After; when the
ingress replica itself dies, Serve's HTTP proxy sends a read once more and answers a write 503
(``serve.proxy_retry``), its gRPC proxy UNAVAILABLE (docs/operations.md#a-replica-that-dies).

Small apps on the session's Serve (``served``, whose proxies run the service's middleware): a
FastAPI ingress with the service's own error handlers calls, through ``HandleEncoders``, an
encoder whose replica exits in the middle of its first calls (``os._exit``, as a crash or an OOM
kill ends a process); ingresses that exit in the middle of a request themselves.
"""

import os
import sys
import time
from pathlib import Path

import httpx
import numpy as np
import pytest
import ray.cloudpickle
from fastapi import FastAPI, Request
from ray import serve

from serve.errors import RETRY_AFTER_S, unavailable
from serve.http_util import install_error_handlers
from serve.proto import cad_retrieval_pb2 as pb
from serve.proto import cad_retrieval_pb2_grpc as pb_grpc

pytestmark = pytest.mark.integration
APP = "replica-loss"
INGRESS_APP = "ingress-loss"
# the replicas cannot import this test module: its classes travel by value
ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])

fault_app = FastAPI()
install_error_handlers(fault_app)


@serve.deployment(ray_actor_options={"num_cpus": 0}, health_check_period_s=1)
class CrashingEncoder:
    """Dies during each of its first ``deaths`` calls (counted in a file: replicas come and go)."""

    def __init__(self, calls_file: str, deaths: int):
        self.calls_file = Path(calls_file)
        self.deaths = deaths

    def encode(self, texts: list) -> np.ndarray:
        with self.calls_file.open("a") as f:
            f.write(".")
        if self.calls_file.stat().st_size <= self.deaths:
            os._exit(1)
        return np.ones((len(texts), 4), dtype=np.float32)


@serve.deployment(ray_actor_options={"num_cpus": 0}, health_check_period_s=1)
class DyingImageEncoder:
    """Dies during its first call; its replacement takes ``start_s`` to start, as a real one
    loads its tower. Its vectors are ones."""

    def __init__(self, calls_file: str, start_s: float):
        self.calls_file = Path(calls_file)
        if self.calls_file.exists():
            time.sleep(start_s)

    def encode_each(self, images: list) -> list:
        with self.calls_file.open("a") as f:
            f.write(".")
        if self.calls_file.stat().st_size <= 1:
            os._exit(1)
        return [np.ones(4, dtype=np.float32) for _ in images]

    def info(self) -> dict:
        return {"bundle_id": "b"}


@serve.deployment(ray_actor_options={"num_cpus": 0})
class StandInPreparer:
    """The PartPreparer's image tower, standing in: its vectors are twos."""

    def encode_images(self, images: list) -> list:
        return [np.full(4, 2.0, dtype=np.float32) for _ in images]


@serve.deployment(ray_actor_options={"num_cpus": 0})
@serve.ingress(fault_app)
class FaultIngress:
    def __init__(self, once, twice, image, preparer):
        from serve.handles import HandleEncoders

        self.encoders = {
            name: HandleEncoders(handle, None, None, None, text_cache_size=0)
            for name, handle in (("once", once), ("twice", twice))
        }
        self.images = HandleEncoders(None, image, None, preparer, text_cache_size=0)

    @fault_app.post("/image")
    async def embed_image(self, request: Request):
        images = [b"png"] * (await request.json())["count"]
        return {"vectors": (await self.images.image(images)).tolist()}

    @fault_app.post("/{name}")
    async def embed(self, name: str, request: Request):
        texts = (await request.json())["texts"]
        return {"vectors": (await self.encoders[name].text(texts)).tolist()}


@pytest.fixture(scope="module")
def fault_url(served, tmp_path_factory):
    root = tmp_path_factory.mktemp("replica-loss")
    once = CrashingEncoder.options(name="DiesOnce").bind(str(root / "once"), 1)
    twice = CrashingEncoder.options(name="DiesTwice").bind(str(root / "twice"), 2)
    image = DyingImageEncoder.bind(str(root / "image"), 3.0)
    ingress = FaultIngress.bind(once, twice, image, StandInPreparer.bind())
    serve.run(ingress, name=APP, route_prefix=f"/{APP}")
    try:
        yield f"{served.http_url}/{APP}", root
    finally:
        serve.delete(APP)


def test_a_call_whose_replica_dies_is_sent_again(fault_url):
    url, root = fault_url
    response = httpx.post(f"{url}/once", json={"texts": ["hex bolt", "nut"]}, timeout=120)
    assert response.status_code == 200, response.text
    assert np.asarray(response.json()["vectors"]).shape == (2, 4)
    assert (root / "once").read_text() == "..", "the first replica died, its replacement answered"


def test_a_second_death_is_a_503_with_retry_after(fault_url):
    url, root = fault_url
    response = httpx.post(f"{url}/twice", json={"texts": ["hex bolt"]}, timeout=120)
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == str(RETRY_AFTER_S)
    error = response.json()["error"]
    assert error["code"] == "unavailable" and "DiesTwice" in error["message"], error
    assert unavailable("").grpc_code == "UNAVAILABLE"  # what a gRPC caller gets instead
    assert (root / "twice").read_text() == "..", "no third try"
    # the replica Serve starts next answers
    again = httpx.post(f"{url}/twice", json={"texts": ["hex bolt"]}, timeout=120)
    assert again.status_code == 200, again.text


def test_the_preparer_stands_in_for_a_lost_image_encoder_until_it_answers(fault_url):
    url, root = fault_url
    first = httpx.post(f"{url}/image", json={"count": 2}, timeout=120)
    assert first.status_code == 200, first.text
    assert np.asarray(first.json()["vectors"]).tolist() == [[2.0] * 4] * 2  # the stand-in's
    assert (root / "image").read_text() == ".", "not sent again to the image deployment"
    deadline = time.monotonic() + 120
    while True:  # the stand-in answers until the replacement replica does
        vectors = httpx.post(f"{url}/image", json={"count": 1}, timeout=120).json()["vectors"]
        if vectors == [[1.0] * 4]:
            break
        assert vectors == [[2.0] * 4] and time.monotonic() < deadline
        time.sleep(0.5)


ingress_app = FastAPI()


@serve.deployment(ray_actor_options={"num_cpus": 0}, health_check_period_s=1)
@serve.ingress(ingress_app)
class DyingIngress:
    """Exits during every odd call it takes (counted in a file: replicas come and go)."""

    def __init__(self, calls_file: str):
        self.calls_file = Path(calls_file)

    def _call(self) -> dict:
        with self.calls_file.open("a") as f:
            f.write(".")
        if self.calls_file.stat().st_size % 2:
            os._exit(1)
        return {"pid": os.getpid()}

    @ingress_app.post("/v1/search")
    async def search(self, request: Request):
        return {**self._call(), "body": len(await request.body())}

    @ingress_app.post("/v1/parts")
    async def write(self, request: Request):
        await request.body()
        return self._call()


@serve.deployment(ray_actor_options={"num_cpus": 0})
class DyingGrpcIngress:
    def FindSimilarModels(self, request):  # noqa: N802
        os._exit(1)


@pytest.fixture(scope="module")
def dying_ingress(served, tmp_path_factory):
    calls = tmp_path_factory.mktemp("ingress-loss") / "calls"
    calls.write_text("")
    serve.run(DyingIngress.bind(str(calls)), name=INGRESS_APP, route_prefix=f"/{INGRESS_APP}")
    grpc_app = f"{INGRESS_APP}-grpc"
    serve.run(DyingGrpcIngress.bind(), name=grpc_app, route_prefix=f"/{grpc_app}")
    try:
        yield f"{served.http_url}/{INGRESS_APP}", calls, grpc_app
    finally:
        serve.delete(INGRESS_APP)
        serve.delete(grpc_app)


def test_a_read_whose_ingress_dies_is_sent_again_by_the_proxy(dying_ingress):
    url, calls, _ = dying_ingress
    body = b"x" * 100_000
    response = httpx.post(f"{url}/v1/search", content=body, timeout=120)
    assert response.status_code == 200, response.text
    assert response.json()["body"] == len(body), "the second try got the whole body again"
    assert calls.read_text() == "..", "the first replica died, its replacement answered"


def test_a_write_whose_ingress_dies_is_a_503_with_retry_after(dying_ingress):
    url, calls, _ = dying_ingress
    before = len(calls.read_text())
    response = httpx.post(f"{url}/v1/parts", content=b"part", timeout=120)
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == str(RETRY_AFTER_S)
    error = response.json()["error"]
    assert error["code"] == "unavailable" and "may have been applied" in error["message"], error
    assert len(calls.read_text()) == before + 1, "a write is not sent twice"


def test_a_grpc_call_whose_ingress_dies_is_unavailable(served, dying_ingress):
    import grpc

    *_, grpc_app = dying_ingress
    with grpc.insecure_channel(served.grpc_target) as channel:
        stub = pb_grpc.CADRetrievalServiceStub(channel)
        with pytest.raises(grpc.RpcError) as raised:
            stub.FindSimilarModels(
                pb.SimilarModelsRequest(text_query="hex bolt"),
                metadata=(("application", grpc_app),),
                timeout=120,
            )
    assert raised.value.code() == grpc.StatusCode.UNAVAILABLE, raised.value.details()
    assert "retry in" in raised.value.details() and "actor" not in raised.value.details()
