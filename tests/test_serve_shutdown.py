"""`cadsearch serve` stops on SIGINT, SIGTERM and SIGHUP alike, even when started with SIGINT
ignored (docs/operations.md#stopping-the-service). That a SIGTERM leaves no process of the Ray
session behind is checked on a running service by test_index_while_serving.py, which stops its
own that way (one service start instead of two).
"""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

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
