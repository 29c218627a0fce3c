"""Work in a pool of forked child processes, each call within a time budget; a child past it is
killed (with any process it started) and replaced, so a costly input frees its CPU.

The PartPreparer prepares query meshes here (docs/security.md#mesh-preparation-budget): a thread
cannot be stopped while VTK renders, a process can. Children are forked from the replica, so
they share its loaded modules and settings and cost no start-up imports; each keeps its own
renderer. A child polls for its parent and exits when the replica is gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)
START_TIMEOUT_S = 60.0  # a child that is not ready by then (its warm-up hung) is replaced
PARENT_POLL_S = 1.0  # how often an idle child checks that its parent still runs


class BudgetExceeded(Exception):
    """A call ran past its budget; its child was killed."""

    def __init__(self, budget_s: float):
        self.budget_s = budget_s
        super().__init__(f"over the budget of {budget_s:g} s")


class WorkerCrashed(Exception):
    """A child died during a call (a crash in native code, the OOM killer) or never started."""


def _child_main(conn, parent_end, parent_pid: int, work: Callable, warm: Callable | None) -> None:
    """A child's loop: warm up, say ready, then answer ("ok", result) or ("error", exception)
    for each (args) received, until the parent goes away."""
    import faulthandler

    os.setpgid(0, 0)  # its own group: a kill reaches what it starts (the STEP reader's child)
    # a daemon to the parent's multiprocessing (no join at the replica's exit), but one that may
    # start processes of its own, as the STEP reader does
    multiprocessing.current_process().daemon = False
    parent_end.close()
    faulthandler.disable()  # a crash is answered by the parent; no dump in the replica's log
    # the replica's handlers may ask Ray for its context: plain stderr only in the child
    logging.root.handlers = [logging.StreamHandler()]
    if warm is not None:
        try:
            warm()
        except Exception:
            log.exception("worker warm-up failed")
    conn.send(("ready", None))
    while True:
        while not conn.poll(PARENT_POLL_S):
            if os.getppid() != parent_pid:
                os._exit(0)
        try:
            args = conn.recv()
        except (EOFError, OSError):
            os._exit(0)
        try:
            answer = ("ok", work(*args))
        except Exception as e:
            answer = ("error", e)
        try:
            conn.send(answer)
        except Exception as e:  # an unpicklable result or exception
            conn.send(("error", RuntimeError(f"{type(e).__name__} sending the answer")))


class Worker:
    """One child process and the parent's end of its pipe."""

    def __init__(self, work: Callable, warm: Callable | None):
        context = multiprocessing.get_context("fork")
        self.conn, child_end = context.Pipe(duplex=True)
        args = (child_end, self.conn, os.getpid(), work, warm)
        self.process = context.Process(target=_child_main, args=args, daemon=True)
        self.process.start()
        child_end.close()
        self.ready = False
        self._busy = threading.Lock()  # held by the thread in ``call``: close waits for it

    def call(self, args: tuple, budget_s: float) -> Any:
        """Send args, wait up to budget_s for the answer (blocking: run it in a thread)."""
        with self._busy:
            return self._call(args, budget_s)

    def wait_ready(self) -> None:
        """Wait for the child's warm-up (WorkerCrashed past START_TIMEOUT_S)."""
        if not self.ready:
            if not self._receive(START_TIMEOUT_S):
                raise WorkerCrashed(f"the worker did not start within {START_TIMEOUT_S:g} s")
            self.ready = True

    def _call(self, args: tuple, budget_s: float) -> Any:
        self.wait_ready()
        try:
            self.conn.send(args)
        except OSError:  # it died while idle
            raise WorkerCrashed("the worker process is gone") from None
        answer = self._receive(budget_s)
        if answer is None:
            raise BudgetExceeded(budget_s)
        status, value = answer
        if status == "error":
            raise value
        return value

    def _receive(self, timeout_s: float) -> tuple | None:
        """The next message, or None past timeout_s; WorkerCrashed when the child died."""
        try:
            if not self.conn.poll(timeout_s):
                return None
            return self.conn.recv()
        except (EOFError, OSError):
            self.process.join(5)
            raise WorkerCrashed(
                f"the worker process died (exit code {self.process.exitcode})"
            ) from None

    def kill(self) -> None:
        """SIGKILL the child's process group (the child and what it started)."""
        pid = self.process.pid
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)  # the group is the child's own once it ran setpgid
        with contextlib.suppress(ProcessLookupError):
            self.process.kill()  # killed before it could call setpgid

    def close(self) -> None:
        """Kill the child, then close the pipe once no thread waits on it."""
        self.kill()
        if self._busy.acquire(timeout=10):
            self._busy.release()
        self.process.join(5)
        self.conn.close()


class WorkerPool:
    """``size`` children that each run ``work(*args)``; ``run`` takes an idle one (waiting for
    one when all are busy), and a child past the call's budget, or whose caller was cancelled,
    is killed and replaced in the background.

    work : the function a child runs (inherited through fork, never pickled); args and results
        cross a pipe (pickled)
    warm : run once in each new child before it takes calls (load what the first call needs)
    fork_lock : held while forking (the renderer's lock: no child is forked mid-render)
    """

    def __init__(
        self,
        size: int,
        work: Callable,
        warm: Callable | None = None,
        fork_lock: threading.Lock | None = None,
    ):
        self.size = max(1, int(size))
        self._work, self._warm = work, warm
        self._fork_lock = fork_lock or threading.Lock()
        self._idle: asyncio.Queue[Worker] = asyncio.Queue()
        self._workers: set[Worker] = set()
        self.replaced = 0  # children killed and replaced (budget, crash, cancelled caller)
        for _ in range(self.size):
            self._idle.put_nowait(self._fork())

    def wait_warm(self) -> None:
        """Block until each child forked so far has warmed up or failed to (blocking: call it
        in a thread)."""
        for worker in list(self._workers):
            with worker._busy:
                try:
                    worker.wait_ready()
                except WorkerCrashed:
                    pass  # its first call reports it, and replaces it

    def _fork(self) -> Worker:
        with self._fork_lock:
            worker = Worker(self._work, self._warm)
        self._workers.add(worker)
        return worker

    async def run(self, args: tuple, budget_s: float) -> Any:
        """``work(*args)`` in an idle child within budget_s seconds of its own time (a wait for
        an idle child is not counted); raises BudgetExceeded, WorkerCrashed, or what work raised."""
        worker = await self._idle.get()
        started = time.monotonic()
        try:
            result = await asyncio.to_thread(worker.call, args, budget_s)
        except (BudgetExceeded, WorkerCrashed, asyncio.CancelledError) as e:
            worker.kill()  # the thread in worker.call sees the pipe close and returns
            log.warning(
                "worker %d replaced after %.1f s (%s)",
                worker.process.pid,
                time.monotonic() - started,
                type(e).__name__,
            )
            asyncio.get_running_loop().create_task(self._replace(worker))
            raise
        except BaseException:
            self._idle.put_nowait(worker)  # work raised: the child answered and is idle
            raise
        self._idle.put_nowait(worker)
        return result

    async def _replace(self, worker: Worker) -> None:
        self.replaced += 1
        self._workers.discard(worker)
        await asyncio.to_thread(worker.close)
        while True:
            fresh = None
            try:
                fresh = await asyncio.to_thread(self._fork)
                await asyncio.to_thread(fresh.wait_ready)  # callers meanwhile get the warm ones
                self._idle.put_nowait(fresh)
                return
            except Exception:
                log.exception("cannot start a worker process; trying again in 5 s")
                if fresh is not None:
                    self._workers.discard(fresh)
                    await asyncio.to_thread(fresh.close)
                await asyncio.sleep(5)

    def close(self) -> None:
        """Kill every child (the replica is going away)."""
        for worker in list(self._workers):
            worker.close()
        self._workers.clear()
