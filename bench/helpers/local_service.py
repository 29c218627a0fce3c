"""`cadsearch serve` as a bench's service: its own process and session, settings from the
environment, and its processes by role (a Serve replica by its deployment's name)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil

API_KEY = "bench-key"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def run_folder(bench: str, keep: bool, say: Callable[[str], None]) -> Iterator[Path]:
    """A temporary folder for one run (the service's store, views and logs), removed after it
    unless ``keep`` (then ``say`` where it is)."""
    root = Path(tempfile.mkdtemp(prefix=f"bench-{bench}-"))
    try:
        yield root
    finally:
        if keep:
            say(f"kept {root}")
        else:
            import shutil

            shutil.rmtree(root, ignore_errors=True)


def service_env(root: Path, http_port: int, grpc_port: int, extra: dict | None = None) -> dict:
    """The environment of a `cadsearch serve` on root's store and views (settings by variable)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CADSEARCH_", "RAY_ADDRESS"))}
    env.update(
        {
            "CADSEARCH_STORE__BACKEND": "edge",
            "CADSEARCH_STORE__PATH": str(root / "qdrant"),
            "CADSEARCH_VIEWS__KIND": "local",
            "CADSEARCH_VIEWS__PATH": str(root / "views"),
            "CADSEARCH_SERVE__HTTP_PORT": str(http_port),
            "CADSEARCH_SERVE__GRPC_PORT": str(grpc_port),
            "CADSEARCH_API_KEYS": API_KEY,
            **(extra or {}),
        }
    )
    return env


class Service:
    """One `cadsearch serve` process (its log in ``log_path``) and what runs under it."""

    def __init__(self, env: dict, log_path: Path):
        self.env = env
        self.log_path = log_path
        self.http_url = f"http://127.0.0.1:{env['CADSEARCH_SERVE__HTTP_PORT']}"
        self.process: subprocess.Popen | None = None

    def start(self, timeout_s: float = 600) -> float:
        """Start it and wait until /readyz answers 200; the seconds that took."""
        import httpx

        cli = str(Path(sys.executable).with_name("cadsearch"))
        started = time.monotonic()
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [cli, "serve"],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own group: killpg reaches the driver, GCS, raylet
            )
        deadline = started + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"cadsearch serve exited ({self.process.returncode}): see log")
            try:
                if httpx.get(f"{self.http_url}/readyz", timeout=5).status_code == 200:
                    return time.monotonic() - started
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise TimeoutError(f"the service was not ready after {timeout_s} s")

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def processes(self) -> list[psutil.Process]:
        """The driver and every live process under it (Ray's: GCS, raylet, proxies, replicas,
        the preparer's workers)."""
        try:
            root = psutil.Process(self.pid)
            return [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def replicas(self, deployment: str) -> list[psutil.Process]:
        """The live replica processes of a deployment (``ray::ServeReplica:<app>:<name>``), not
        the processes they fork (the PartPreparer's workers keep its title)."""
        found = [p for p in self.processes() if role(p) == deployment]
        pids = {p.pid for p in found}
        return [p for p in found if _parent(p) not in pids]

    def session_dir(self) -> Path | None:
        """The folder of the service's Ray session (its logs), from its raylet's command line."""
        for process in self.processes():
            try:
                for arg in process.cmdline():
                    if arg.startswith("--session_dir="):
                        return Path(arg.split("=", 1)[1])
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
        return None

    def kill_all(self) -> list[int]:
        """SIGKILL the whole service at once, as a lost machine ends it (less the disk): its
        process group, and each process under it (Ray starts its workers, the replicas among
        them, in groups of their own); the pids still running after 10 s."""
        found = self.processes()
        pids = {p.pid for p in found}
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        for process in found:
            try:
                process.kill()
            except psutil.NoSuchProcess:
                pass
        self.process.wait(timeout=30)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            alive = [pid for pid in pids if psutil.pid_exists(pid) and not _zombie(pid)]
            if not alive:
                return []
            time.sleep(0.2)
        return alive

    def stop(self, timeout_s: float = 120) -> int:
        """SIGTERM (what a supervisor sends) and wait for the driver's exit; its exit code."""
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else 0
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(self.pid, signal.SIGKILL)
            return self.process.wait(timeout=30)


def _parent(process: psutil.Process) -> int | None:
    try:
        return process.ppid()
    except psutil.NoSuchProcess:
        return None


def _zombie(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def role(process: psutil.Process) -> str:
    """What a process is: a Serve replica's deployment name, a Ray actor's or program's name."""
    try:
        cmdline = process.cmdline()
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return "gone"
    first = cmdline[0] if cmdline else ""
    if first.startswith("ray::"):
        # an actor's title: its class (ServeReplica:<app>:<deployment> for a replica), then
        # .<method> while it runs a call
        title = (first[5:].split() or ["ray"])[0].split(".")[0]
        return title.rsplit(":", 1)[-1] if title.startswith("ServeReplica:") else title
    return os.path.basename(first)
