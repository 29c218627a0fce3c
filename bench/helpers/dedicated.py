"""A command's wall time on N dedicated cores, estimated on a shared machine (Linux).

    python -m bench.helpers.dedicated [--cores 2] -- .venv/bin/python bench/dedup.py --quick

Runs the command and samples its whole process tree (itself, Ray's processes and workers) every
0.2 s from /proc: CPU time and run-queue wait (``/proc/<pid>/schedstat``). Each interval's CPU
work is replayed at min(cores, runnable threads) cores, runnable threads being (CPU + run-queue
wait) / interval; an interval in which nothing ran or waited to run (all asleep) counts in full.
On a machine shared with other work the measured wall mostly says how busy the others were; the
estimate says what the command's own work and parallelism take. Processes living under 0.2 s are
missed. Prints one JSON line: wall_s, cpu_s, run_queue_wait_s, dedicated_s, cores.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import time

INTERVAL_S = 0.2


def _processes() -> tuple[dict[int, list[int]], dict[int, tuple[int, int]]]:
    """Children of each pid, and each pid's (CPU ns, run-queue wait ns)."""
    children: dict[int, list[int]] = {}
    times: dict[int, tuple[int, int]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                stat = f.read()
            with open(f"/proc/{name}/schedstat") as f:
                cpu_ns, wait_ns = (int(x) for x in f.read().split()[:2])
        except (OSError, ValueError):
            continue  # gone meanwhile
        parent = int(stat[stat.rindex(")") + 2 :].split()[1])
        children.setdefault(parent, []).append(int(name))
        times[int(name)] = (cpu_ns, wait_ns)
    return children, times


def run(command: list[str], cores: float = 2.0) -> dict[str, float]:
    """Run ``command``; its wall, CPU and run-queue wait seconds and the dedicated estimate."""
    started = last = time.perf_counter()
    proc = subprocess.Popen(command)
    seen: dict[int, tuple[int, int]] = {}
    dedicated = 0.0
    while proc.poll() is None:
        children, times = _processes()
        now = time.perf_counter()
        cpu = wait = 0.0
        stack = [proc.pid]
        while stack:
            pid = stack.pop()
            if pid in times:
                before = seen.get(pid, (0, 0))
                cpu += (times[pid][0] - before[0]) / 1e9
                wait += (times[pid][1] - before[1]) / 1e9
                seen[pid] = times[pid]
            stack.extend(children.get(pid, []))
        interval, last = now - last, now
        runnable = (cpu + wait) / interval if interval > 0 else 0.0
        dedicated += cpu / min(cores, runnable) if runnable > 0.05 else interval
        time.sleep(INTERVAL_S)
    return {
        "wall_s": round(time.perf_counter() - started, 1),
        "cpu_s": round(sum(c for c, _ in seen.values()) / 1e9, 1),
        "run_queue_wait_s": round(sum(w for _, w in seen.values()) / 1e9, 1),
        "dedicated_s": round(dedicated, 1),
        "cores": cores,
        "returncode": proc.returncode,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cores", type=float, default=2.0)
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- then the command")
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    result = run(command, args.cores)
    print(json.dumps(result))
    return int(result["returncode"])


if __name__ == "__main__":
    raise SystemExit(main())
