"""A bounded, mixed search load for the service benches (bench/faults.py, bench/soak.py).

The requests are made in the bench's process and written to a spec file with the mix; the load
generator runs in a process of its own (``load_spec``: concurrent workers, one keep-alive
connection each) and writes one JSON line per answer: the request's kind, when it was sent and
answered (the monotonic clock, comparable across processes on Linux), its status and error code.
"""

from __future__ import annotations

import asyncio
import base64
import io
import itertools
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

SEARCH_KINDS = ("id", "text", "points", "image", "mesh")
# part id, text and point searches most, one image and one mesh search in ten
SEARCH_MIX = ("id", "text", "points", "id", "text", "image", "id", "text", "points", "mesh")
TIMEOUT_S = 120.0  # a request without an answer by then counts as failed (status 0)


def http_request(method: str, path: str, body: bytes, content_type: str, **headers) -> dict:
    """A request as a spec holds it (the body base64)."""
    return {
        "method": method,
        "path": path,
        "headers": {"content-type": content_type, **headers},
        "body": base64.b64encode(body).decode(),
    }


def json_search(payload: dict) -> dict:
    return http_request("POST", "/v1/search", json.dumps(payload).encode(), "application/json")


def distinct_texts(n: int) -> list[str]:
    """n part descriptions, no two alike (the ingress keeps recent texts' vectors)."""
    kinds = ["hex bolt", "flat washer", "hex nut", "spur gear", "ball bearing", "angle bracket",
             "pipe flange", "shaft collar", "dowel pin", "compression spring"]  # fmt: skip
    return [
        f"{kinds[i % 10]} M{3 + i % 17} x {8 + 2 * (i // 170)} mm, variant {i}" for i in range(n)
    ]


def png(seed: int, size: int = 160) -> bytes:
    """A drawn disc, its size and colour by seed (PNG)."""
    from PIL import Image, ImageDraw

    rng = np.random.default_rng(seed)
    image = Image.new("RGB", (size, size), "white")
    draw = ImageDraw.Draw(image)
    r = int(rng.integers(30, 70))
    fill = tuple(int(c) for c in rng.integers(60, 220, 3))
    draw.ellipse((80 - r, 80 - r, 80 + r, 80 + r), fill=fill, outline="black")
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def washer_stl(seed: int) -> bytes:
    """A small washer, its size by seed (binary STL, 64 faces)."""
    import trimesh

    outer = 6.0 + seed % 5
    mesh = trimesh.creation.annulus(r_min=outer / 2, r_max=outer, height=1.5, sections=16)
    return mesh.export(file_type="stl")


def mesh_search(data: bytes) -> dict:
    boundary = "cadsearchbench"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="top_k"\r\n\r\n10\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="mesh"; filename="q.stl"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return http_request("POST", "/v1/search", body, f"multipart/form-data; boundary={boundary}")


def search_requests(part_ids: list[str], texts: int) -> dict[str, list[dict]]:
    """Valid searches by kind (SEARCH_KINDS); a kind's requests are taken in turn, so that no
    text is sent twice while fewer than ``texts`` text searches are sent."""
    rng = np.random.default_rng(0)
    clouds = [rng.uniform(-1, 1, (256, 3)) * rng.uniform(0.5, 2, 3) for _ in range(8)]
    images = [base64.b64encode(png(seed)).decode() for seed in range(8)]
    return {
        "id": [json_search({"part_id": p, "top_k": 10}) for p in part_ids],
        "text": [json_search({"text": t, "top_k": 10}) for t in distinct_texts(texts)],
        "points": [json_search({"points": c.round(4).tolist(), "top_k": 10}) for c in clouds],
        "image": [json_search({"image": image, "top_k": 10}) for image in images],
        "mesh": [mesh_search(washer_stl(seed)) for seed in range(4)],
    }


# -- the load generator's process -----------------------------------------------------------------


def error_code(response) -> str:
    try:
        return response.json()["error"]["code"]
    except Exception:
        return ""


async def run_load(spec: dict) -> None:
    """``concurrency`` workers send the requests of ``mix`` (kinds, in turn) until the stop
    file appears, ``max_s`` or ``max_requests``; a JSON line of ``out`` for each answer."""
    import httpx

    requests = {
        kind: [(r["method"], r["path"], r["headers"], base64.b64decode(r["body"])) for r in rs]
        for kind, rs in spec["requests"].items()
    }
    mix = spec["mix"]
    stop = Path(spec["stop_file"])
    deadline = time.monotonic() + spec["max_s"]
    counter = itertools.count()
    taken = dict.fromkeys(requests, 0)  # requests of each kind sent so far
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    clients = [
        httpx.AsyncClient(base_url=spec["url"], limits=limits, timeout=TIMEOUT_S)
        for _ in range(spec["concurrency"])
    ]
    with open(spec["out"], "a", buffering=1) as out:

        async def worker(client) -> None:
            while not stop.exists() and time.monotonic() < deadline:
                index = next(counter)
                if index >= spec["max_requests"]:
                    return
                kind = mix[index % len(mix)]
                pool = requests[kind]
                method, path, headers, body = pool[taken[kind] % len(pool)]
                taken[kind] += 1
                t0 = time.monotonic()
                try:
                    answer = await client.request(method, path, headers=headers, content=body)
                    status, code = answer.status_code, error_code(answer)
                except httpx.HTTPError as e:
                    status, code = 0, type(e).__name__
                line = {"kind": kind, "t0": t0, "t1": time.monotonic(), "status": status}
                out.write(json.dumps({**line, "code": code}) + "\n")

        try:
            await asyncio.gather(*(worker(c) for c in clients))
        finally:
            await asyncio.gather(*(c.aclose() for c in clients))


def start(script: str, spec_path: Path, spec: dict) -> subprocess.Popen:
    """Write the spec and run ``script --load spec`` (the bench's load-generator mode)."""
    spec_path.write_text(json.dumps(spec))
    return subprocess.Popen([sys.executable, script, "--load", str(spec_path)])


def read_lines(path: Path) -> list[dict]:
    """The answers written so far (a line being written is left out)."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.endswith("}")]
