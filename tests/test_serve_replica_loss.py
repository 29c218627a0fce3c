"""A replica that dies during a request costs no 500: the ingress sends the call once more
(``serve.handles.HandleEncoders``), and a second death answers 503 with Retry-After
(docs/operations.md#a-replica-that-dies).

A small app on the session's Serve (``served``): a FastAPI ingress with the service's own error
handlers calls, through ``HandleEncoders``, an encoder whose replica exits in the middle of its
first calls (``os._exit``, as a crash or an OOM kill ends a process).
"""

import os
import sys
from pathlib import Path

import httpx
import numpy as np
import pytest
import ray.cloudpickle
from fastapi import FastAPI, Request
from ray import serve

from serve.errors import RETRY_AFTER_S, unavailable
from serve.http_util import install_error_handlers

pytestmark = pytest.mark.integration
APP = "replica-loss"
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


@serve.deployment(ray_actor_options={"num_cpus": 0})
@serve.ingress(fault_app)
class FaultIngress:
    def __init__(self, once, twice):
        from serve.handles import HandleEncoders

        self.encoders = {
            name: HandleEncoders(handle, None, None, None, text_cache_size=0)
            for name, handle in (("once", once), ("twice", twice))
        }

    @fault_app.post("/{name}")
    async def embed(self, name: str, request: Request):
        texts = (await request.json())["texts"]
        return {"vectors": (await self.encoders[name].text(texts)).tolist()}


@pytest.fixture(scope="module")
def fault_url(served, tmp_path_factory):
    root = tmp_path_factory.mktemp("replica-loss")
    once = CrashingEncoder.options(name="DiesOnce").bind(str(root / "once"), 1)
    twice = CrashingEncoder.options(name="DiesTwice").bind(str(root / "twice"), 2)
    serve.run(FaultIngress.bind(once, twice), name=APP, route_prefix=f"/{APP}")
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
