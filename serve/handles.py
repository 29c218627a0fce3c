"""The ingress's ``Encoders``: calls into the model deployments through their handles."""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np

from serve.errors import ApiError, undecodable


def _cause(error: BaseException) -> BaseException:
    """The user exception inside a Ray error (RayTaskError keeps it as ``.cause``)."""
    return getattr(error, "cause", None) or error


class HandleEncoders:
    """``serve.service.Encoders`` over deployment handles; replicas' ApiErrors pass through."""

    def __init__(self, text, image, geometry, preparer):
        self.handles = {"text": text, "image": image, "geometry": geometry, "preparer": preparer}

    async def _call(self, name: str, method: str, *args: Any) -> Any:
        try:
            return await getattr(self.handles[name], method).remote(*args)
        except Exception as e:
            cause = _cause(e)
            if isinstance(cause, ApiError):
                raise ApiError(cause.status, cause.code, cause.message, cause.field) from None
            if name == "image" and isinstance(cause, ValueError):
                raise undecodable("image", str(cause), "bad_image") from None
            raise

    async def text(self, texts: list[str]) -> np.ndarray:
        return await self._call("text", "encode", texts)

    async def image(self, images: list[bytes]) -> np.ndarray:
        return await self._call("image", "encode", images)

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
