"""CPU time of a service's processes: every process under its driver and of its Ray session.

A Ray session started by ``ray.init`` is the driver's process tree (GCS, raylet, agents, and the
raylet's workers: Serve's controller, proxies, replicas and what they start, HAProxy included);
processes that name the session in their command line count too, in case one was re-parented.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

import psutil


def service_processes(
    root_pid: int, session: str | None = None, exclude: Iterable[int] = ()
) -> list[psutil.Process]:
    """The live processes of the service: ``root_pid`` and its descendants, plus any process whose
    command line names ``session`` (a Ray session's name), less ``exclude`` and their
    descendants (the load generator)."""
    excluded = set(exclude)
    for pid in list(excluded):
        try:
            excluded.update(p.pid for p in psutil.Process(pid).children(recursive=True))
        except psutil.NoSuchProcess:
            pass
    found: dict[int, psutil.Process] = {}
    try:
        root = psutil.Process(root_pid)
        for proc in [root, *root.children(recursive=True)]:
            found[proc.pid] = proc
    except psutil.NoSuchProcess:
        pass
    if session:
        for proc in psutil.process_iter(["cmdline"]):
            cmdline = proc.info.get("cmdline") or []
            if proc.pid not in found and any(session in part for part in cmdline):
                found[proc.pid] = proc
    return [proc for pid, proc in found.items() if pid not in excluded]


def _title(proc: psutil.Process) -> str:
    """A process's program: a Ray actor's class or a replica's deployment name (Ray appends the
    running method: dropped), else the program or its Python script."""
    cmdline = proc.cmdline()
    first = cmdline[0] if cmdline else proc.name()
    if first.startswith("ray::"):
        title = (first[5:].split() or ["ray"])[0].split(".")[0]
        if title.startswith("ServeReplica:"):
            return title.rsplit(":", 1)[-1]  # ServeReplica:<app>:<deployment>
        return title
    program = os.path.basename(first)
    if program.startswith("python"):
        script = next((part for part in cmdline[1:] if part.endswith(".py")), None)
        if script is not None:
            return os.path.basename(script)
        if "-m" in cmdline[1:]:
            return cmdline[cmdline.index("-m") + 1]
    return program or proc.name()


def role(proc: psutil.Process) -> str:
    """A short name of what a process is (``ServeController``, a replica's deployment name,
    ``raylet``, ``haproxy``, ``log_monitor.py``); a process a Ray actor started (a replica's
    worker processes) is ``<actor>/child``."""
    try:
        title = _title(proc)
        parent = proc.parent()
        if parent is not None:
            parent_cmd = parent.cmdline()
            if parent_cmd and parent_cmd[0].startswith("ray::"):
                return f"{_title(parent)}/child"
        return title
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return "gone"


def cpu_snapshot(processes: Iterable[psutil.Process]) -> dict[int, tuple[str, float]]:
    """pid -> (role, CPU seconds: user + system, with its reaped children's)."""
    out = {}
    for proc in processes:
        try:
            times = proc.cpu_times()
            cpu = times.user + times.system + times.children_user + times.children_system
            out[proc.pid] = (role(proc), cpu)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return out


def cpu_between(
    before: dict[int, tuple[str, float]], after: dict[int, tuple[str, float]]
) -> dict[str, float]:
    """CPU seconds spent by role between two snapshots: a process new since ``before`` counts
    from its start; one gone by ``after`` is missed (its last interval is lost)."""
    spent: dict[str, float] = {}
    for pid, (name, cpu) in after.items():
        start = before.get(pid, (name, 0.0))[1]
        spent[name] = spent.get(name, 0.0) + max(0.0, cpu - start)
    return spent


class ServiceCpu:
    """Snapshots of a service's CPU, the process list refreshed at each one (replicas and
    workers may start and stop)."""

    def __init__(self, root_pid: int, session: str | None = None, exclude: Iterable[int] = ()):
        self.root_pid = root_pid
        self.session = session
        self.exclude = tuple(exclude)

    def snapshot(self) -> dict[int, tuple[str, float]]:
        return cpu_snapshot(service_processes(self.root_pid, self.session, self.exclude))
