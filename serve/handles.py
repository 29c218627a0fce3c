"""The ingress's ``Encoders``: calls into the model deployments through their handles, with the
vectors of recent query texts kept (a repeated query, a next page, skips the text encoder)."""

from __future__ import annotations

import asyncio
import logging
import math
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

import numpy as np
from ray.exceptions import RayActorError, RayTaskError
from ray.serve.exceptions import DeploymentUnavailableError, ReplicaUnavailableError

from serve.errors import RETRY_AFTER_S, ApiError, unavailable, undecodable

log = logging.getLogger(__name__)
TEXT_CACHE_SIZE = 4096  # query texts whose vectors an ingress replica keeps (~1 KiB each at D=256)
# a replica that died or cannot be reached (ActorDiedError, ActorUnavailableError), or none to
# route to: the request was not at fault
REPLICA_LOST = (RayActorError, ReplicaUnavailableError, DeploymentUnavailableError)


def _cause(error: BaseException) -> BaseException:
    """The user exception inside a Ray error (RayTaskError keeps it as ``.cause``)."""
    return getattr(error, "cause", None) or error


def replica_lost(error: BaseException) -> bool:
    """Whether a handle call failed because its replica is gone, not because of the request
    (also when a RayTaskError carries the actor error)."""
    if isinstance(error, REPLICA_LOST):
        return True
    return isinstance(error, RayTaskError) and isinstance(error.cause, REPLICA_LOST)


class TextVectorCache:
    """The unit vectors of the last ``size`` distinct texts (exact text -> (D,) float32, least
    recently used out first). Vectors depend on the text alone, so a hit is the vector the encoder
    gave; they are read-only. Concurrent misses of one text each call the encoder."""

    def __init__(self, size: int = TEXT_CACHE_SIZE):
        self.size = max(0, int(size))
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._vectors)

    async def encode(
        self, texts: list[str], encode: Callable[[list[str]], Awaitable[np.ndarray]]
    ) -> np.ndarray:
        """(n, D) vectors of texts: the kept ones, the others from one ``encode`` call."""
        if self.size == 0 or not texts:
            return await encode(texts)
        found: dict[str, np.ndarray] = {}
        for text in texts:
            vector = self._vectors.get(text)
            if vector is not None:
                self._vectors.move_to_end(text)
                found[text] = vector
        missing = list(dict.fromkeys(t for t in texts if t not in found))
        self.hits += len(texts) - len(missing)
        self.misses += len(missing)
        if missing:
            vectors = np.asarray(await encode(missing), dtype=np.float32)
            for text, vector in zip(missing, vectors, strict=True):
                vector = vector.copy()
                vector.flags.writeable = False
                found[text] = self._vectors[text] = vector
            while len(self._vectors) > self.size:
                self._vectors.popitem(last=False)
        return np.stack([found[text] for text in texts])


class Coalescer:
    """Concurrent calls of ``call(items) -> (n, ...) array``, merged under load: up to
    ``max_in_flight`` calls run at once; items that arrive while that many run wait, and go
    together (up to ``max_items``) in the next call as soon as one returns. Alone, an item goes at
    once; under load the deployment behind ``call`` gets fewer, fuller requests, and what a
    request costs it (routing, the RPC, (de)serialization) is paid once per call, not per item."""

    def __init__(self, call: Callable[[list], Awaitable[Any]], max_in_flight: int, max_items: int):
        self._call = call
        self.max_in_flight = max(1, int(max_in_flight))
        self.max_items = max(1, int(max_items))
        self._running = 0
        self._waiting: list[tuple[list, asyncio.Future]] = []
        self.calls = 0  # calls made
        self.items = 0  # items sent in them (items / calls: the mean merge)

    async def __call__(self, items: list) -> Any:
        if self._running < self.max_in_flight and not self._waiting:
            self._running += 1
            self.calls += 1
            self.items += len(items)
            try:
                return await self._call(items)
            finally:
                self._running -= 1
                self._start_waiting()
        future = asyncio.get_running_loop().create_future()
        self._waiting.append((items, future))
        return await future

    def _start_waiting(self) -> None:
        while self._waiting and self._running < self.max_in_flight:
            batch, count = [], 0
            while self._waiting and (
                not batch or count + len(self._waiting[0][0]) <= self.max_items
            ):
                items, future = self._waiting.pop(0)
                if not future.done():  # a cancelled caller's items are dropped
                    batch.append((items, future))
                    count += len(items)
            if batch:
                self._running += 1
                self.calls += 1
                self.items += count
                asyncio.get_running_loop().create_task(self._run(batch))

    async def _run(self, batch: list[tuple[list, asyncio.Future]]) -> None:
        try:
            results = await self._call([item for items, _ in batch for item in items])
        except Exception as e:
            for _, future in batch:
                if not future.done():
                    future.set_exception(e)
        else:
            start = 0
            for items, future in batch:
                if not future.done():
                    future.set_result(results[start : start + len(items)])
                start += len(items)
        finally:
            self._running -= 1
            self._start_waiting()


def calls_in_flight(section) -> int:
    """Encoder calls one ingress replica keeps in flight (settings.serve.text / image): with a
    fixed number of replicas, two per replica (one in a forward pass, one forming the next batch);
    autoscaled, the autoscaling target times the max replicas, so that under load the replicas
    still see the ongoing requests that make the autoscaler add more."""
    if section.min_replicas == section.max_replicas:
        return 2 * max(1, section.max_replicas)
    return max(1, math.ceil(section.target_ongoing_requests * section.max_replicas))


class HandleEncoders:
    """``serve.service.Encoders`` over deployment handles; replicas' ApiErrors pass through.

    A call whose replica dies (``replica_lost``) is sent once more, to a replica Serve routes it
    to; if that fails too it is a 503 ``unavailable``. Every call here is idempotent: encoding
    and preparing compute from their inputs, and ``index_row`` writes nothing (the ingress
    upserts the encoded row by part id).

    Query texts: the kept vectors first (``TextVectorCache``), the others through a
    ``Coalescer`` of at most ``text_calls`` calls in flight, each of at most ``text_call_items``
    texts. Images likewise (``image_calls``, ``image_call_items``: the ImageEncoder's
    max_batch_size, so that ``max_batch_size: 1`` turns batching off on the whole path); an image
    that does not decode fails its own request only, not the others merged into its call.
    """

    def __init__(
        self,
        text,
        image,
        geometry,
        preparer,
        *,
        text_cache_size: int = TEXT_CACHE_SIZE,
        text_calls: int = 2,
        text_call_items: int = 32,
        image_calls: int = 2,
        image_call_items: int = 16,
    ):
        self.handles = {"text": text, "image": image, "geometry": geometry, "preparer": preparer}
        self.text_cache = TextVectorCache(text_cache_size)
        self.text_calls = Coalescer(self._encode_texts_now, text_calls, text_call_items)
        self.image_calls = Coalescer(self._encode_images_now, image_calls, image_call_items)

    async def _call(self, name: str, method: str, *args: Any) -> Any:
        handle = self.handles[name]
        deployment = getattr(handle, "deployment_name", name)
        for attempt in (1, 2):
            try:
                return await getattr(handle, method).remote(*args)
            except Exception as e:
                cause = _cause(e)
                if isinstance(cause, ApiError):
                    raise ApiError(cause.status, cause.code, cause.message, cause.field) from None
                if not replica_lost(e):
                    raise
                log.warning(
                    "%s.%s: replica lost (%s), try %d of 2",
                    deployment,
                    method,
                    type(e).__name__,
                    attempt,
                )
        raise unavailable(
            f"{deployment} is unavailable (its replica stopped during the request, or none "
            f"runs); retry in {RETRY_AFTER_S} s"
        )

    async def text(self, texts: list[str]) -> np.ndarray:
        return await self.text_cache.encode(texts, self.text_calls)

    async def _encode_texts_now(self, texts: list[str]) -> np.ndarray:
        return await self._call("text", "encode", texts)

    async def image(self, images: list[bytes]) -> np.ndarray:
        results = await self.image_calls(images)
        for index, item in enumerate(results):
            if isinstance(item, str):
                raise undecodable("image", f"image {index}: {item}", "bad_image")
        return np.stack(results)

    async def _encode_images_now(self, images: list[bytes]) -> list[np.ndarray | str]:
        return await self._call("image", "encode_each", images)

    async def geometry(self, clouds: list[np.ndarray]) -> np.ndarray:
        return await self._call("geometry", "encode", clouds)

    async def prepare_mesh(self, data: bytes, file_type: str) -> dict[str, Any]:
        return await self._call("preparer", "prepare_mesh", data, file_type)

    async def index_row(self, row: dict[str, Any]) -> dict[str, Any]:
        return await self._call("preparer", "index_row", row)

    async def info(self) -> dict[str, str]:
        names = list(self.handles)
        infos = await asyncio.gather(*(self._call(name, "info") for name in names))
        return {name: info["bundle_id"] for name, info in zip(names, infos, strict=True)}
