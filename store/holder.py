"""Who holds a Qdrant Edge shard: a running search service names itself beside the writer lock.

``<collection>/holder.json`` gives the process id of the search service that holds
``writer.lock`` and the URL of its HTTP API, so a reindex job that finds the shard locked sends
its writes to that service instead of failing (docs/operations.md#indexing-while-serving). The
lock decides who writes; the file only says who that is, and counts only while the process it
names is the one that holds the lock (a crashed service leaves a file that no longer counts).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from store.edge import LOCK_FILE

HOLDER_FILE = "holder.json"


@dataclass(frozen=True)
class ShardHolder:
    """A search service that holds an Edge shard, and where to reach it."""

    pid: int  # the process that holds writer.lock (the search ingress replica)
    url: str  # base URL of its HTTP API, e.g. http://127.0.0.1:8000
    app: str = ""  # its Ray Serve application
    since: str = ""  # when it opened the shard (ISO 8601, UTC)


def announce(folder: str | Path, holder: ShardHolder) -> Path:
    """Write ``holder`` as the shard's holder (atomically: a reader sees the old or the new)."""
    path = Path(folder) / HOLDER_FILE
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(asdict(holder), indent=2, sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)
    return path


def withdraw(folder: str | Path, pid: int) -> None:
    """Remove the holder file if it still names ``pid`` (a successor's file stays)."""
    holder = read_holder(folder)
    if holder is not None and holder.pid == pid:
        (Path(folder) / HOLDER_FILE).unlink(missing_ok=True)


def read_holder(folder: str | Path) -> ShardHolder | None:
    """The holder file's content, None when there is none or it is unreadable."""
    try:
        data = json.loads((Path(folder) / HOLDER_FILE).read_text(encoding="utf-8"))
        return ShardHolder(
            pid=int(data["pid"]),
            url=str(data["url"]),
            app=str(data.get("app", "")),
            since=str(data.get("since", "")),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def lock_pid(folder: str | Path) -> int | None:
    """The process id the writer lock file names (its last holder), None when unknown."""
    try:
        text = (Path(folder) / LOCK_FILE).read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def service_holder(folder: str | Path) -> ShardHolder | None:
    """The search service that holds the shard now, if the lock's holder is one that announced
    itself; call it when opening the shard failed because it is locked."""
    holder = read_holder(folder)
    if holder is None or holder.pid != lock_pid(folder):
        return None
    return holder
