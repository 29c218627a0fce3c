"""ImageEncoder deployment: the bundle's CLIP image tower only, dynamically batched; on CPUs in
fp32 on ONNX Runtime when it is installed (encoders.onnx_towers.tower_runtime)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import numpy as np
from ray import serve

from encoders.onnx_towers import apply_runtime
from serve.replica import RUNTIME_KEY, apply_batching, batch_gain, set_torch_threads

PROBE_IMAGES = 8  # images of the batching measurement at start-up (ImageEncoder.batch_gain)


@serve.deployment(name="ImageEncoder", max_ongoing_requests=64)
class ImageEncoder:
    """Encoded images (PNG, JPEG, ... bytes) -> a (D,) unit vector each, batched across requests.

    An image that does not decode fails its own request only (``encode_each`` returns why), never
    the other requests of its batch. Batches form only where they pay on this replica's device
    and runtime: ``batch_gain`` is measured when either is set (docs/tuning.md#image-batching).
    """

    def __init__(self, bundle: str, device: str = "cpu", torch_threads: int = 1):
        from encoders.bundle import load_bundle

        set_torch_threads(torch_threads)
        self.bundle = load_bundle(bundle)
        self.clip = self.bundle.load_clip(device, image_only=True, torch_threads=torch_threads)
        self.device, self.torch_threads = device, torch_threads
        self.batching: dict[str, Any] = {}
        apply_runtime(self.clip, "image", "auto", device, torch_threads)
        self.batch_gain = self._measure_batch_gain()

    def _measure_batch_gain(self) -> float:
        """``serve.replica.batch_gain`` of this replica's own encoding (decode, preprocess, the
        tower) on PROBE_IMAGES images: CPU time on a CPU, wall time on a GPU."""
        import numpy as np
        from PIL import Image

        size = self.bundle.image_size
        pixels = np.random.default_rng(0).integers(0, 256, (PROBE_IMAGES, size, size, 3))
        images = [Image.fromarray(p.astype(np.uint8)) for p in pixels]
        clock = time.perf_counter if self.device.startswith("cuda") else time.process_time
        return batch_gain(self._encode_each, images, clock=clock)

    def reconfigure(self, user_config: dict[str, Any]) -> None:
        config = dict(user_config or {})
        runtime = config.pop(RUNTIME_KEY, "auto")
        before = self.clip.runtime["image"]
        if apply_runtime(self.clip, "image", runtime, self.device, self.torch_threads) != before:
            self.batch_gain = self._measure_batch_gain()
        self.batching = apply_batching(self._encode_batch, config, self.batch_gain)

    async def encode_each(self, images: list[bytes]) -> list[np.ndarray | str]:
        """Each image's (D,) unit vector, or why it does not decode (a message): the call of an
        ingress that merged the images of several requests, each of which fails on its own."""
        results = await asyncio.gather(*(self._encode_batch(image) for image in images))
        return [str(item) if isinstance(item, Exception) else item for item in results]

    @serve.batch(max_batch_size=16, batch_wait_timeout_s=0.005)
    async def _encode_batch(self, images: list[bytes]) -> list[np.ndarray | Exception]:
        return await asyncio.to_thread(self._encode_each, images)

    def _encode_each(self, images: list[bytes]) -> list[np.ndarray | Exception]:
        return encode_each(self.clip, images)

    def info(self) -> dict[str, Any]:
        return {
            "bundle_id": self.bundle.id,
            "dim": self.bundle.embed_dim,
            RUNTIME_KEY: self.clip.runtime["image"],
            "batch_gain": round(self.batch_gain, 3),
            **self.batching,
        }


def encode_each(clip, images: list[bytes]) -> list[np.ndarray | Exception]:
    """Each image's (D,) unit vector from ``clip``'s image tower in one batch, or why it does not
    decode (the ImageEncoder's, and the PartPreparer's while it stands in)."""
    decoded = [_decode(image) for image in images]
    good = [image for image in decoded if not isinstance(image, Exception)]
    vectors = iter(clip.encode_images(good, batch_size=len(good)) if good else [])
    return [item if isinstance(item, Exception) else next(vectors) for item in decoded]


def _decode(data: Any) -> Any:
    """A PIL RGB image of encoded bytes (arrays and PIL images pass), or the decoding error."""
    import io

    from PIL import Image

    if not isinstance(data, bytes | bytearray | memoryview):
        return data
    try:
        image = Image.open(io.BytesIO(bytes(data)))
        image.load()
        return image if image.mode == "RGB" else image.convert("RGB")
    except Exception as e:  # this request fails; the rest of its batch goes on
        return ValueError(f"cannot decode as an image ({e})")
