"""The query-text path of the service without a cluster: the text tower's precision, the
ingress's cache of query vectors and the coalescing of text encoder calls."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from serve.handles import Coalescer, TextVectorCache, calls_in_flight
from serve.text_encoder import native_bf16, text_precision

# catalog-style descriptions, as users type them (the generated catalog's come in the test)
DESCRIPTIONS = [
    "DIN 912 socket head cap screw M6 x 20, A2-70 stainless",
    "ISO 4032 hex nut M10, steel 8, zinc plated",
    "6204-2RS deep groove ball bearing 20 x 47 x 14 mm",
    "spur gear module 1.5, 32 teeth, 10 mm bore with keyway",
    "aluminium angle bracket 40 x 40 x 4, two slotted holes",
    "flat washer 8.4 mm bore, 16 mm OD, 1.6 thick",
    "pipe elbow 90 degrees, 1/2 inch BSP female thread, brass",
    "shaft collar 12 mm bore, set screw, black oxide",
    "NEMA 17 stepper motor mounting plate",
    "compression spring 0.8 wire, 6 mm OD, 25 mm free length",
]


def catalog_descriptions(n: int = 12, seed: int = 3) -> list[str]:
    from data_jobs.catalog.generate import family_schedule, part_rng

    return [
        text
        for index, family in enumerate(family_schedule(n, seed))
        for text in family.generator(part_rng(seed, index)).descriptions
    ]


# -- precision --------------------------------------------------------------------------------


def test_text_precision_choice():
    assert text_precision("fp32", "cpu") == "fp32"
    assert text_precision("bf16", "cpu") == "bf16"
    assert text_precision("auto", "cpu") == ("bf16" if native_bf16() else "auto")
    assert text_precision("auto", "cuda") == "auto"  # ClipEncoder's own choice on a GPU
    with pytest.raises(ValueError, match="precision"):
        text_precision("int8", "cpu")


@pytest.fixture(scope="module")
def text_clip():
    from encoders.bundle import load_bundle

    return load_bundle("cad-mini").load_clip("cpu", text_only=True)


def test_bf16_text_vectors_match_fp32(text_clip):
    # the gate for a faster precision of the query tower: cosine >= 0.99 to the fp32 vectors
    # of the index, on real descriptions (measured: >= 0.9999)
    texts = DESCRIPTIONS + catalog_descriptions()
    text_clip.precision = "fp32"
    reference = text_clip.encode_text(texts)
    try:
        text_clip.precision = "bf16"
        fast = text_clip.encode_text(texts)
    finally:
        text_clip.precision = "fp32"
    assert fast.dtype == np.float32 and fast.shape == reference.shape
    np.testing.assert_allclose(np.linalg.norm(fast, axis=1), 1.0, atol=1e-5)
    cosines = (fast * reference).sum(axis=1)
    assert cosines.min() >= 0.99, (cosines.min(), texts[int(cosines.argmin())])
    # ... and the same text ranks the same parts first
    for i in range(len(DESCRIPTIONS)):
        assert int(np.argmax(reference @ fast[i])) == int(np.argmax(reference @ reference[i]))


@pytest.mark.parametrize("native", [False, True], ids=["emulated-bf16", "native-bf16"])
def test_text_encoder_warms_up_on_what_queries_will_run(monkeypatch, native):
    """The TextEncoder replica class itself (no cluster), as on a CPU with and without native
    bf16 (where ``auto`` times bf16 against fp32 and keeps the one that took less CPU): a
    precision change re-resolves the runtime first (bf16 runs on torch), then makes one pass on
    it; nothing changed, no pass."""
    import torch

    import serve.text_encoder as text_encoder
    from encoders.onnx_towers import tower_runtime
    from serve.text_encoder import TextEncoder

    monkeypatch.setattr(text_encoder, "native_bf16", lambda: native)
    threads = torch.get_num_threads()
    try:
        encoder = TextEncoder.func_or_class("cad-mini")
        clip = encoder.clip
        auto = encoder.resolve_precision("auto", "auto")
        # measured where bf16 is native: the cheaper of the two, fp32 (auto) on a tie
        assert bool(encoder.measured) == native
        if native:
            costs = encoder.measured["auto"]
            assert auto == ("bf16" if costs["bf16"] < costs["auto"] else "auto")
        else:
            assert auto == "auto"
        assert (clip.precision, clip.runtime["text"]) == (auto, tower_runtime("auto", "cpu", auto))
        passes = []
        encode_text = clip.encode_text

        def recorded(texts, *args, **kwargs):
            passes.append((clip.precision, clip.runtime["text"]))
            return encode_text(texts, *args, **kwargs)

        clip.encode_text = recorded
        # fp32 on torch differs from what auto chose on either CPU: one pass
        encoder.reconfigure({"precision": "fp32", "runtime": "torch"})
        assert passes == [("fp32", "torch")]
        encoder.reconfigure({"precision": "bf16", "max_batch_size": 8})
        assert passes[-1] == ("bf16", "torch") and encoder.batching["max_batch_size"] == 8
        encoder.reconfigure({"precision": "bf16", "max_batch_size": 4})
        assert len(passes) == 2  # precision and runtime as they were: no pass
        encoder.reconfigure({"precision": "fp32"})  # auto runtime: ONNX Runtime on a CPU in fp32
        assert passes[-1] == ("fp32", tower_runtime("auto", "cpu", "fp32")) and len(passes) == 3
        encoder.reconfigure({})  # back to auto: what this CPU's auto resolves to
        assert passes[-1] == (auto, tower_runtime("auto", "cpu", auto)) and len(passes) == 4
    finally:
        torch.set_num_threads(threads)


# -- the cache of query vectors ---------------------------------------------------------------


class CountingEncoder:
    """A text encoder stand-in: a vector per text (seeded by the text), calls recorded."""

    def __init__(self, dim: int = 8):
        self.dim = dim
        self.calls: list[list[str]] = []

    async def __call__(self, texts: list[str]) -> np.ndarray:
        self.calls.append(list(texts))
        await asyncio.sleep(0)
        return np.stack([self.vector(t) for t in texts])

    def vector(self, text: str) -> np.ndarray:
        seed = sum(ord(c) * (i + 1) for i, c in enumerate(text))
        v = np.random.default_rng(seed).normal(size=self.dim).astype(np.float32)
        return v / np.linalg.norm(v)


def test_cache_hit_returns_identical_vectors():
    encoder, cache = CountingEncoder(), TextVectorCache(size=4)
    first = asyncio.run(cache.encode(["hex bolt", "hex nut"], encoder))
    again = asyncio.run(cache.encode(["hex nut", "hex bolt", "washer"], encoder))
    assert encoder.calls == [["hex bolt", "hex nut"], ["washer"]]  # only the new text is encoded
    np.testing.assert_array_equal(again[0], first[1])
    np.testing.assert_array_equal(again[1], first[0])
    np.testing.assert_array_equal(again[2], encoder.vector("washer"))
    assert (cache.hits, cache.misses) == (2, 3)
    again[0][:] = 0  # the answer is a copy: the kept vectors stay as they were
    np.testing.assert_array_equal(asyncio.run(cache.encode(["hex nut"], encoder))[0], first[1])


def test_cache_is_exact_and_least_recently_used_goes_first():
    encoder, cache = CountingEncoder(), TextVectorCache(size=2)
    asyncio.run(cache.encode(["a", "b"], encoder))
    asyncio.run(cache.encode(["a"], encoder))  # "a" is now the most recent
    asyncio.run(cache.encode(["c"], encoder))  # "b" goes
    assert len(cache) == 2
    asyncio.run(cache.encode(["a", "c", "b", "A", "a "], encoder))
    assert encoder.calls[-1] == ["b", "A", "a "]  # keys are the exact texts
    repeated = asyncio.run(cache.encode(["x", "x"], encoder))
    assert encoder.calls[-1] == ["x"]  # a text twice in one call is encoded once
    np.testing.assert_array_equal(repeated[0], repeated[1])


def test_cache_of_size_zero_always_encodes():
    encoder, cache = CountingEncoder(), TextVectorCache(size=0)
    asyncio.run(cache.encode(["a"], encoder))
    asyncio.run(cache.encode(["a"], encoder))
    assert encoder.calls == [["a"], ["a"]] and len(cache) == 0


# -- coalescing of text encoder calls ---------------------------------------------------------


class SlowEncoder(CountingEncoder):
    """Answers each call after ``release`` is set, or fails with ``error``."""

    def __init__(self):
        super().__init__()
        self.release = asyncio.Event()
        self.error: Exception | None = None

    async def __call__(self, texts: list[str]) -> np.ndarray:
        self.calls.append(list(texts))
        await self.release.wait()
        if self.error is not None:
            raise self.error
        return np.stack([self.vector(t) for t in texts])


def test_coalescer_merges_what_arrives_while_calls_are_in_flight():
    async def main():
        encoder = SlowEncoder()
        calls = Coalescer(encoder, max_in_flight=2, max_items=3)
        tasks = [asyncio.create_task(calls([f"t{i}"])) for i in range(2)]
        await asyncio.sleep(0.01)
        assert encoder.calls == [["t0"], ["t1"]]  # alone, an item goes at once
        later = [asyncio.create_task(calls([f"t{i}"])) for i in range(2, 7)]
        await asyncio.sleep(0.01)
        assert len(encoder.calls) == 2  # both calls in flight: the rest wait
        encoder.release.set()
        answers = await asyncio.gather(*tasks, *later)
        # the 5 waiting texts went in calls of at most 3 items, in arrival order
        assert encoder.calls[2:] == [["t2", "t3", "t4"], ["t5", "t6"]]
        assert (calls.calls, calls.items) == (4, 7)
        for i, answer in enumerate(answers):
            np.testing.assert_array_equal(answer, encoder.vector(f"t{i}")[None])

    asyncio.run(main())


def test_coalescer_passes_errors_to_every_merged_caller_and_drops_cancelled_ones():
    async def main():
        encoder = SlowEncoder()
        calls = Coalescer(encoder, max_in_flight=1, max_items=8)
        first = asyncio.create_task(calls(["a"]))
        await asyncio.sleep(0.01)
        waiting = [asyncio.create_task(calls([t])) for t in ("b", "c", "d")]
        await asyncio.sleep(0.01)
        waiting[1].cancel()  # its caller went away: "c" is not encoded
        encoder.error = RuntimeError("replica died")
        encoder.release.set()
        results = await asyncio.gather(first, *waiting, return_exceptions=True)
        assert [type(r).__name__ for r in results] == [
            "RuntimeError",
            "RuntimeError",
            "CancelledError",
            "RuntimeError",
        ]
        assert encoder.calls == [["a"], ["b", "d"]]
        encoder.error = None  # after a failure the next call goes through
        np.testing.assert_array_equal(await calls(["e"]), encoder.vector("e")[None])

    asyncio.run(main())


def test_calls_in_flight_follow_the_replicas():
    from cadsearch.settings import load_settings

    assert calls_in_flight(load_settings("local").serve.text) == 2  # 1 replica, fixed
    production = load_settings("production").serve.text  # autoscaled: target x max replicas
    assert calls_in_flight(production) == 8 * production.max_replicas


# -- the inline copy of the text tower in the ingress -------------------------------------------


class RecordingMethod:
    """A deployment method as a handle shows it (``.remote(...)`` is awaited), recording calls."""

    def __init__(self, answer):
        self.answer = answer
        self.calls: list[tuple] = []

    def remote(self, *args):
        self.calls.append(args)

        async def answer():
            return self.answer(*args)

        return answer()


class TextHandle:
    """The TextEncoder's handle methods the ingress calls, answered by a TextEncoder class."""

    def __init__(self, encoder):
        clip = encoder.clip
        self.encode = RecordingMethod(clip.encode_text)
        self.info = RecordingMethod(
            lambda: {"precision": clip.precision, "runtime": clip.runtime["text"]}
        )


def test_inline_text_follows_the_text_encoder_and_takes_small_idle_calls():
    """The ingress's copy of the text tower (``InlineText``): unused until it follows the
    TextEncoder's precision and runtime; then a call of at most ``max_items`` texts while the
    copy is idle is encoded in this process, with the TextEncoder's vectors; a larger call, or
    one while the copy is busy, goes to the deployment."""
    import torch

    from serve.handles import HandleEncoders, InlineText
    from serve.text_encoder import TextEncoder

    threads = torch.get_num_threads()
    try:
        encoder = TextEncoder.func_or_class("cad-mini")
        handle = TextHandle(encoder)
        inline = InlineText("cad-mini", max_items=2)
        encoders = HandleEncoders(handle, None, None, None, text_cache_size=0, inline_text=inline)

        async def main():
            await encoders.text(["hex nut M8"])  # not loaded yet: the deployment
            assert len(handle.encode.calls) == 1 and inline.calls == 0
            await encoders.sync_inline_text()
            assert inline.config == (encoder.clip.precision, encoder.clip.runtime["text"])
            here = await encoders.text(DESCRIPTIONS[:2])
            assert inline.calls == 1 and len(handle.encode.calls) == 1
            np.testing.assert_allclose(here, encoder.clip.encode_text(DESCRIPTIONS[:2]), atol=1e-5)
            await encoders.text(DESCRIPTIONS[:3])  # over max_items
            inline.busy = True  # encoding another call
            await encoders.text(["flat washer"])
            inline.busy = False
            assert inline.calls == 1 and len(handle.encode.calls) == 3

        asyncio.run(main())
    finally:
        torch.set_num_threads(threads)


class SilentMethod:
    """A deployment method that never answers (a call Serve holds while no replica runs);
    counts the calls that were cancelled."""

    def __init__(self):
        self.calls = 0
        self.cancelled = 0

    def remote(self, *args):
        self.calls += 1

        async def hold():
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                self.cancelled += 1
                raise

        return hold()


class FakeInline:
    """What HandleEncoders asks of an InlineText: loaded, and taking nothing by itself."""

    config = ("fp32", "torch")

    def __init__(self):
        self.encoded: list[list[str]] = []

    def takes(self, texts):
        return False

    async def encode(self, texts):
        self.encoded.append(texts)
        return np.zeros((len(texts), 4), dtype=np.float32)


def test_unanswered_calls_go_to_their_stand_ins(monkeypatch):
    """A deployment that does not answer in STAND_IN_AFTER_S: a text call is cancelled and the
    inline copy answers; a point-cloud call races the PartPreparer's stand-in, which answers
    (the deployment's call is then cancelled); the deployment counts as recovering until its
    ``info`` answers. A refusal that is the request's fault is not stood in for."""
    import types

    import serve.handles as handles
    from serve.errors import ApiError

    monkeypatch.setattr(handles, "STAND_IN_AFTER_S", 0.05)
    text = types.SimpleNamespace(encode=SilentMethod(), info=SilentMethod())
    geometry = types.SimpleNamespace(encode=SilentMethod(), info=SilentMethod())
    preparer = types.SimpleNamespace(
        encode_clouds=RecordingMethod(lambda clouds: np.ones((len(clouds), 4), np.float32))
    )
    inline = FakeInline()
    encoders = handles.HandleEncoders(
        text, None, geometry, preparer, text_cache_size=0, inline_text=inline
    )
    cloud = np.zeros((16, 3), dtype=np.float32)

    async def main():
        vectors = await encoders._encode_texts_now(["a", "b", "c"])
        assert vectors.shape == (3, 4) and inline.encoded == [["a", "b", "c"]]
        await asyncio.sleep(0)
        assert text.encode.calls == 1 and text.encode.cancelled == 1
        assert "text" in encoders._recovering  # until its info answers
        await encoders._encode_texts_now(["d"])  # recovering: straight to the copy
        assert text.encode.calls == 1 and inline.encoded[-1] == ["d"]

        got = await encoders.geometry([cloud])
        assert np.array_equal(got, np.ones((1, 4), np.float32))
        await asyncio.sleep(0)
        # the first try, still running, raced the stand-in; cancelled once that answered
        assert geometry.encode.calls == 1 and geometry.encode.cancelled == 1
        assert "geometry" in encoders._recovering and len(preparer.encode_clouds.calls) == 1

        def refuse(clouds):
            raise ApiError(422, "bad_points", "points: too few", "point_clouds")

        fresh = handles.HandleEncoders(
            None, None, types.SimpleNamespace(encode=RecordingMethod(refuse)), preparer
        )
        with pytest.raises(ApiError) as refused:
            await fresh.geometry([cloud])
        assert refused.value.status == 422 and "geometry" not in fresh._recovering
        assert len(preparer.encode_clouds.calls) == 1  # no stand-in for a bad request
        for task in [*encoders._recovering.values()]:
            task.cancel()

    asyncio.run(main())
