"""The ingress's ``Encoders``: calls into the model deployments through their handles, with the
vectors of recent query texts kept (a repeated query, a next page, skips the text encoder) and
small text calls encoded in the ingress itself while the TextEncoder runs on a CPU
(``InlineText``: no hop)."""

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
PROBE_RETRY_S = 0.5  # a recovering deployment's info is asked again this often while refused
# an encoder call unanswered this long has a stand-in take it (Serve holds calls while the
# deployment has no replica; a normal call answers in well under a second)
STAND_IN_AFTER_S = 3.0
LOST = object()  # no answer from the deployment: its stand-in answers


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


class InlineText:
    """A copy of the TextEncoder's text tower in this process, for calls of at most
    ``max_items`` texts while it encodes no other: such a call skips the hop to the deployment
    and back (two processes woken, the texts and vectors serialized), the larger share of a
    text query's CPU and latency on a CPU (docs/tuning.md#inline-text).

    It mirrors the deployment: ``follow`` applies the precision and runtime a TextEncoder
    replica reports (its ``info()``, its own choice for this device included), and the copy is
    used only while what it runs matches, so both give the same vectors. Until the first
    ``follow`` has loaded it, and while it changes, every call goes to the deployment.
    """

    def __init__(self, bundle: str, max_items: int = 8, threads: int = 1):
        self.bundle = bundle
        self.max_items = max(0, int(max_items))
        self.threads = threads
        self.clip = None
        self.config: tuple[str, str] | None = None  # (precision, runtime) in force
        self.refused: tuple[str, str] | None = None  # one this process could not run
        self.busy = False
        self.waiting = 0  # calls encoding or queued here
        self._encoding = asyncio.Lock()
        self.calls = 0  # calls encoded here

    def takes(self, texts: list[str]) -> bool:
        """Whether this call is encoded here: loaded, idle, and small enough."""
        return self.config is not None and not self.busy and 0 < len(texts) <= self.max_items

    async def encode(self, texts: list[str]) -> np.ndarray:
        self.busy = True
        self.waiting += 1
        self.calls += 1
        try:
            async with self._encoding:  # one call at a time: the tokenizer is not thread-safe
                return await asyncio.to_thread(self.clip.encode_text, texts)
        finally:
            self.waiting -= 1
            self.busy = self.waiting > 0

    def follow(self, precision: str, runtime: str) -> bool:
        """Load the tower (once) and run it in ``precision`` on ``runtime`` (blocking: call it in
        a thread); False, and the copy stays unused, when this process cannot run that (an ONNX
        export refused)."""
        from encoders.onnx_towers import OnnxTowerError, apply_runtime
        from serve.replica import set_torch_threads

        if self.config == (precision, runtime):
            return True
        self.config = None
        if self.refused == (precision, runtime):
            return False
        if self.clip is None:
            from encoders.bundle import load_bundle

            set_torch_threads(self.threads)
            self.clip = load_bundle(self.bundle).load_clip(
                "cpu", text_only=True, torch_threads=self.threads
            )
        self.clip.precision = precision
        try:
            ran = apply_runtime(self.clip, "text", runtime, "cpu", self.threads)
        except OnnxTowerError as e:
            ran = str(e)
        if ran != runtime:
            log.warning("inline text off: %s/%s cannot run here (%s)", precision, runtime, ran)
            self.refused = (precision, runtime)
            return False
        self.clip.encode_text(["warm up"])
        self.config = (precision, runtime)
        return True


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
    that does not decode fails its own request only, not the others merged into its call. From
    a lost ImageEncoder or GeometryEncoder replica until the deployment answers again, the
    PartPreparer encodes in its place (``_call_or_stand_in``): searches need not wait for the
    new replica's start; and the inline text copy takes every text call while the TextEncoder
    recovers.
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
        inline_text: InlineText | None = None,
        inline_refresh_s: float = 10.0,
    ):
        self.handles = {"text": text, "image": image, "geometry": geometry, "preparer": preparer}
        self.text_cache = TextVectorCache(text_cache_size)
        self.text_calls = Coalescer(self._encode_texts_now, text_calls, text_call_items)
        self.image_calls = Coalescer(self._encode_images_now, image_calls, image_call_items)
        self.inline_text = inline_text
        self.inline_refresh_s = inline_refresh_s
        self._following: asyncio.Task | None = None
        self._syncing = asyncio.Lock()  # one load or change of the copy at a time
        self._recovering: dict[str, asyncio.Task] = {}  # deployments that lost their replica

    async def sync_inline_text(self) -> None:
        """Apply a TextEncoder replica's precision and runtime (a live user_config change
        included) to ``inline_text``, loading it in a worker thread the first time; a failure
        leaves the deployment answering every call."""
        inline = self.inline_text
        async with self._syncing:
            await self._sync_inline_text(inline)

    async def _sync_inline_text(self, inline: InlineText) -> None:
        try:
            info = await self._call("text", "info")
        except Exception as e:  # a lost replica: the copy runs on as it was, standing in
            log.warning("inline text copy not synced: %s: %s", type(e).__name__, e)
            return
        wanted = (info["precision"], info["runtime"])
        if wanted == inline.config:
            return
        inline.config = None  # the deployment answers while the copy changes
        try:
            await asyncio.to_thread(inline.follow, *wanted)
        except Exception as e:  # a refused load
            inline.config = None
            log.warning("inline text encoding paused: %s: %s", type(e).__name__, e)

    def start_following(self) -> None:
        """``sync_inline_text`` now (loading the copy) and every ``inline_refresh_s`` after, in
        a task of the running event loop; once is enough (later calls do nothing)."""
        if self.inline_text is None or self._following is not None:
            return

        async def follow() -> None:
            while True:
                await self.sync_inline_text()
                await asyncio.sleep(self.inline_refresh_s)

        self._following = asyncio.get_running_loop().create_task(follow())

    async def _call(self, name: str, method: str, *args: Any, attempts: int = 2) -> Any:
        handle = self.handles[name]
        deployment = getattr(handle, "deployment_name", name)
        for attempt in range(1, attempts + 1):
            try:
                return await getattr(handle, method).remote(*args)
            except Exception as e:
                cause = _cause(e)
                if isinstance(cause, ApiError):
                    raise ApiError(cause.status, cause.code, cause.message, cause.field) from None
                if not replica_lost(e):
                    raise
                log.warning(
                    "%s.%s: replica lost (%s), try %d of %d",
                    deployment,
                    method,
                    type(e).__name__,
                    attempt,
                    attempts,
                )
        raise unavailable(
            f"{deployment} is unavailable (its replica stopped during the request, or none "
            f"runs); retry in {RETRY_AFTER_S} s"
        )

    async def text(self, texts: list[str]) -> np.ndarray:
        self.start_following()
        return await self.text_cache.encode(texts, self.text_calls)

    async def _encode_texts_now(self, texts: list[str]) -> np.ndarray:
        inline = self.inline_text
        if inline is None or inline.config is None:
            return await self._call("text", "encode", texts)
        if "text" not in self._recovering:
            if inline.takes(texts):
                return await inline.encode(texts)
            answer, pending = await self._first_try("text", "encode", (texts,))
            if answer is not LOST:
                return answer
            if pending is not None:
                pending.cancel()  # the copy answers instead
        return await inline.encode(texts)  # any call, busy or not, while the TextEncoder recovers

    async def image(self, images: list[bytes]) -> np.ndarray:
        results = await self.image_calls(images)
        for index, item in enumerate(results):
            if isinstance(item, str):
                raise undecodable("image", f"image {index}: {item}", "bad_image")
        return np.stack(results)

    async def _encode_images_now(self, images: list[bytes]) -> list[np.ndarray | str]:
        return await self._call_or_stand_in("image", "encode_each", "encode_images", images)

    async def _call_or_stand_in(self, name: str, method: str, stand_in: str, *args: Any) -> Any:
        """``name.method(*args)``; from a lost replica of ``name`` until the deployment answers
        again, the PartPreparer's ``stand_in(*args)`` (index-one's copy of the image tower and
        the geometry encoder: the same vectors on a CPU) instead of a wait for the new replica."""
        started: list[asyncio.Future] = []

        def start(target: str, call: str, attempts: int) -> asyncio.Future:
            future = asyncio.ensure_future(self._call(target, call, *args, attempts=attempts))
            started.append(future)
            return future

        try:
            primary = None
            if name not in self._recovering:
                answer, primary = await self._first_try(name, method, args)
                if answer is not LOST:
                    return answer
                if primary is not None:
                    started.append(primary)
            # the stand-in races the deployment; one that cannot stand in now (starting itself,
            # lost) answers 503 at once, and the deployment's answer is waited for
            primary = primary or start(name, method, 2)
            calls = {primary, start("preparer", stand_in, 1)}
            while calls:
                done, calls = await asyncio.wait(calls, return_when=asyncio.FIRST_COMPLETED)
                for call in done:
                    if call.exception() is None:
                        return call.result()
            raise primary.exception()  # the deployment's own error, not the stand-in's
        finally:
            for call in started:
                call.cancel()  # the one that lost the race, or all of a cancelled request

    async def _first_try(
        self, name: str, method: str, args: tuple
    ) -> tuple[Any, asyncio.Future | None]:
        """``(answer, None)`` when ``name.method(*args)`` answers within STAND_IN_AFTER_S (Serve
        holds a call while the deployment has no replica); else ``(LOST, call)``, the call still
        running (None when its replica was lost), and the deployment watched until it answers
        again. A refusal that is the request's fault raises."""
        call = asyncio.ensure_future(self._call(name, method, *args, attempts=1))
        try:
            done, _ = await asyncio.wait({call}, timeout=STAND_IN_AFTER_S)
        except BaseException:  # the request was cancelled
            call.cancel()
            raise
        if call in done:
            error = call.exception()
            if error is None:
                return call.result(), None
            if not (isinstance(error, ApiError) and error.code == "unavailable"):
                raise error
            call = None  # its replica was lost
        else:
            log.warning("%s.%s: no answer in %s s", name, method, STAND_IN_AFTER_S)
        self._watch_recovery(name)
        return LOST, call

    def _watch_recovery(self, name: str) -> None:
        """Mark a deployment as recovering until a call of its ``info`` answers (Serve holds
        that call until a replica runs)."""
        if name in self._recovering:
            return

        async def probe() -> None:
            try:
                while True:
                    try:
                        await self.handles[name].info.remote()
                        return
                    except Exception as e:
                        if not replica_lost(_cause(e)) and not replica_lost(e):
                            return
                        await asyncio.sleep(PROBE_RETRY_S)
            finally:
                self._recovering.pop(name, None)
                log.warning("%s answers again", name)

        self._recovering[name] = asyncio.get_running_loop().create_task(probe())

    async def geometry(self, clouds: list[np.ndarray]) -> np.ndarray:
        return await self._call_or_stand_in("geometry", "encode", "encode_clouds", clouds)

    async def prepare_mesh(self, data: bytes, file_type: str) -> dict[str, Any]:
        return await self._call("preparer", "prepare_mesh", data, file_type)

    async def index_row(self, row: dict[str, Any]) -> dict[str, Any]:
        return await self._call("preparer", "index_row", row)

    async def info(self) -> dict[str, str]:
        names = list(self.handles)
        infos = await asyncio.gather(*(self._call(name, "info") for name in names))
        return {name: info["bundle_id"] for name, info in zip(names, infos, strict=True)}
