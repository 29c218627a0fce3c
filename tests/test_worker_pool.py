"""serve.worker_pool: work in forked children within a budget; a child past it, crashed, or
left by a cancelled caller is killed with what it started, and replaced (real processes)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from serve.worker_pool import BudgetExceeded, WorkerCrashed, WorkerPool


def _pid() -> int:
    return os.getpid()


def _sleep(seconds: float, pid_file: str = "") -> int:
    if pid_file:
        Path(pid_file).write_text(str(os.getpid()))
    time.sleep(seconds)
    return os.getpid()


def _sleep_in_a_child(seconds: float, pid_file: str) -> str:
    """Wait on a grandchild, as the STEP reader waits on Open CASCADE's process."""
    child = subprocess.Popen([sys.executable, "-c", f"import time; time.sleep({seconds})"])
    Path(pid_file).write_text(str(child.pid))
    child.wait()
    return "done"


def _answer_from_a_process(value: int) -> int:
    """Compute in a multiprocessing child, as the STEP reader reads with Open CASCADE."""
    import multiprocessing

    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=send.send, args=(value * 2,), daemon=True)
    child.start()
    answer = receive.recv()
    child.join()
    return answer


def _fail(message: str) -> None:
    raise ValueError(message)


def _crash() -> None:
    os._exit(3)


WORK = {
    "pid": _pid,
    "sleep": _sleep,
    "grandchild": _sleep_in_a_child,
    "process": _answer_from_a_process,
    "fail": _fail,
    "crash": _crash,
}


def _work(name: str, *args):
    return WORK[name](*args)


def _gone(pid: int, within_s: float = 5.0) -> bool:
    """Whether a process exits (or is a zombie) within within_s."""
    import psutil

    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.05)
    return False


def _read_pid(path: Path, within_s: float = 10.0) -> int:
    deadline = time.monotonic() + within_s
    while not path.exists() or not path.read_text():
        assert time.monotonic() < deadline, f"{path} never written"
        time.sleep(0.02)
    return int(path.read_text())


def test_a_call_past_its_budget_is_killed_with_its_children_and_replaced(tmp_path):
    async def scenario():
        pool = WorkerPool(1, _work)
        try:
            first = await pool.run(("pid",), 30)
            started = time.monotonic()
            with pytest.raises(BudgetExceeded):
                await pool.run(("grandchild", 60, str(tmp_path / "grandchild")), 1.0)
            elapsed = time.monotonic() - started
            grandchild = _read_pid(tmp_path / "grandchild")
            assert _gone(first) and _gone(grandchild), "the worker or its child still runs"
            second = await pool.run(("pid",), 30)  # a fresh worker took its place
            return elapsed, first, second, pool.replaced
        finally:
            pool.close()

    elapsed, first, second, replaced = asyncio.run(scenario())
    assert elapsed < 3.0
    assert second != first and replaced == 1


def test_a_cancelled_call_frees_its_worker(tmp_path):
    async def scenario():
        pool = WorkerPool(1, _work)
        try:
            call = asyncio.create_task(pool.run(("sleep", 60, str(tmp_path / "pid")), 120))
            worker = await asyncio.to_thread(_read_pid, tmp_path / "pid")
            call.cancel()
            with pytest.raises(asyncio.CancelledError):
                await call
            assert await asyncio.to_thread(_gone, worker)
            return await pool.run(("pid",), 30) != worker
        finally:
            pool.close()

    assert asyncio.run(scenario())


def test_work_may_start_processes_of_its_own():
    async def scenario():
        pool = WorkerPool(1, _work)
        try:
            return await pool.run(("process", 21), 30)
        finally:
            pool.close()

    assert asyncio.run(scenario()) == 42


def test_errors_pass_through_and_crashes_are_typed():
    async def scenario():
        pool = WorkerPool(1, _work)
        try:
            worker = await pool.run(("pid",), 30)
            with pytest.raises(ValueError, match="bad part"):
                await pool.run(("fail", "bad part"), 30)
            assert await pool.run(("pid",), 30) == worker  # an error leaves the worker idle
            with pytest.raises(WorkerCrashed, match="exit code 3"):
                await pool.run(("crash",), 30)
            return await pool.run(("pid",), 30) != worker
        finally:
            pool.close()

    assert asyncio.run(scenario())


def test_a_busy_worker_does_not_hold_the_others():
    async def scenario():
        pool = WorkerPool(2, _work)
        try:
            await asyncio.gather(pool.run(("pid",), 30), pool.run(("pid",), 30))  # both ready
            busy = asyncio.create_task(pool.run(("sleep", 3.0), 30))
            await asyncio.sleep(0.2)
            started = time.monotonic()
            await pool.run(("pid",), 30)
            quick = time.monotonic() - started
            await busy
            return quick
        finally:
            pool.close()

    assert asyncio.run(scenario()) < 1.0
