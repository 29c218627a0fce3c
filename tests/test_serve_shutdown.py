"""`cadsearch serve` stops on SIGTERM as it does on Ctrl-C: Serve and the Ray it started shut down
in order and no process of its Ray session stays behind (docs/operations.md#stopping-the-service).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pytest
from serve_harness import free_port

pytestmark = pytest.mark.integration
READY_S = 420  # Ray, Serve and five deployments on a shared 2-core machine
STOP_S = 60  # from SIGTERM to the last process of the session gone


def _stat(pid: int) -> list[str] | None:
    """/proc/<pid>/stat fields after the command name (state first), None once it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rsplit(")", 1)[1].split()


def _alive(pid: int, started: str) -> bool:
    """Whether the process that started at ``started`` (clock ticks) still runs (zombies have
    exited); the start time tells it from a later process given the same pid."""
    fields = _stat(pid)
    return fields is not None and fields[0] != "Z" and fields[19] == started


def _descendants(root: int) -> dict[int, str]:
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


def _holding(text: str) -> dict[int, str]:
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


def _name(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()[:100]
    except OSError:
        return "?"


def test_sigterm_stops_serve_and_the_ray_it_started(tmp_path):
    # Ray's own temp folder: no other Ray session on the machine to join or to confuse with
    # (short: its socket paths must stay under the 107-byte limit)
    ray_tmp = tempfile.mkdtemp(prefix="csr-", dir="/tmp")
    http_port = free_port()
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "RAY_TMPDIR": ray_tmp,
        "CADSEARCH_DATA_DIR": str(tmp_path / "data"),  # an empty collection is created there
        "CADSEARCH_SERVE__HTTP_PORT": str(http_port),
        "CADSEARCH_SERVE__GRPC_PORT": str(free_port()),
        "OMP_NUM_THREADS": "1",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "cadsearch.cli", "serve"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    session: dict[int, str] = {}
    try:
        deadline = time.monotonic() + READY_S
        while True:
            assert process.poll() is None, process.communicate()[1][-3000:]
            try:
                if httpx.get(f"http://127.0.0.1:{http_port}/readyz", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the service did not get ready"
            time.sleep(1)
        session = _descendants(process.pid) | _holding(ray_tmp)
        names = " ".join(_name(pid) for pid in session)
        assert "DashboardAgent" in names and "ServeReplica" in names, names

        process.send_signal(signal.SIGTERM)
        stop_deadline = time.monotonic() + STOP_S
        stdout, stderr = process.communicate(timeout=STOP_S)
        while time.monotonic() < stop_deadline and any(
            _alive(pid, t) for pid, t in session.items()
        ):
            time.sleep(0.5)
        left = [_name(pid) for pid, t in (session | _holding(ray_tmp)).items() if _alive(pid, t)]
        assert not left, f"left behind after SIGTERM: {left}"
        assert process.returncode == 0, stderr[-3000:]
        assert "shutting down" in stdout
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        for pid, started in session.items():  # only this test's own processes
            if _alive(pid, started):
                os.kill(pid, signal.SIGKILL)
        shutil.rmtree(ray_tmp, ignore_errors=True)


STOP_PROBE = """
import signal, sys, time
from serve.local import StopSignal, StopSignals
signals = StopSignals()
signals.install()
try:
    print("ready", flush=True)
    time.sleep(60)
except StopSignal as stop:
    print("stopped by", stop, flush=True)
    sys.exit(0)
sys.exit(3)
"""


def test_ctrl_c_stops_a_service_started_with_sigint_ignored():
    """A process started in the background by a script inherits SIGINT ignored (Python then
    raises no KeyboardInterrupt); `cadsearch serve` still stops on it, as on SIGTERM."""
    process = subprocess.Popen(
        [sys.executable, "-c", STOP_PROBE],
        cwd=Path(__file__).resolve().parents[1],
        stdout=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    try:
        assert process.stdout.readline().strip() == "ready"
        process.send_signal(signal.SIGINT)
        out, _ = process.communicate(timeout=30)
        assert process.returncode == 0 and "stopped by SIGINT" in out, out
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
