"""A process tree from /proc, for the tests that check what a stopped service leaves behind."""

from __future__ import annotations

from pathlib import Path


def _stat(pid: int) -> list[str] | None:
    """/proc/<pid>/stat fields after the command name (state first), None once it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rsplit(")", 1)[1].split()


def alive(pid: int, started: str) -> bool:
    """Whether the process that started at ``started`` (clock ticks) still runs (zombies have
    exited); the start time tells it from a later process given the same pid."""
    fields = _stat(pid)
    return fields is not None and fields[0] != "Z" and fields[19] == started


def descendants(root: int) -> dict[int, str]:
    """pid -> start time of every process under root."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))) is not None:
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = {}, [root]
    while todo:
        for pid in children.get(todo.pop(), []):
            if (fields := _stat(pid)) is not None:
                found[pid] = fields[19]
                todo.append(pid)
    return found


def holding(text: str) -> dict[int, str]:
    """pid -> start time of every process whose command line holds text."""
    found = {}
    for entry in Path("/proc").iterdir():
        try:
            cmdline = (entry / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if entry.name.isdigit() and text in cmdline and (fields := _stat(int(entry.name))):
            found[int(entry.name)] = fields[19]
    return found


def name(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()[:100]
    except OSError:
        return "?"
