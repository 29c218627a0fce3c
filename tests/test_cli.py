"""The cadsearch command line, run the way a user runs it."""

from __future__ import annotations

import ipaddress
import json
import subprocess
import sys
import threading
import time

import trimesh
from PIL import Image

from cadsearch.cli import main


def test_catalog_generate_is_deterministic(tmp_path, capsys):
    for name in ("a", "b"):
        assert (
            main(
                ["catalog", "generate", "--out", str(tmp_path / name), "--n", "100", "--seed", "1"]
            )
            == 0
        )
    out = capsys.readouterr().out
    assert "wrote 100 parts" in out
    manifest = (tmp_path / "a" / "manifest.jsonl").read_bytes()
    assert manifest == (tmp_path / "b" / "manifest.jsonl").read_bytes()
    rows = [json.loads(line) for line in manifest.decode().splitlines()]
    assert len(rows) == 100 and len({r["category"] for r in rows}) >= 20
    assert all((tmp_path / "a" / r["file"]).is_file() for r in rows)


def test_catalog_preview(tmp_path):
    main(["catalog", "generate", "--out", str(tmp_path / "cat"), "--n", "12", "--seed", "3"])
    assert (
        main(["catalog", "preview", str(tmp_path / "cat"), "--out", str(tmp_path / "sheet.png")])
        == 0
    )
    sheet = Image.open(tmp_path / "sheet.png")
    assert sheet.width > 500 and sheet.height > 100


def test_inspect_reports_facts_and_writes_views(tmp_path, capsys, plate_with_holes):
    plate_with_holes.export(tmp_path / "plate.stl")
    assert main(["inspect", str(tmp_path / "plate.stl"), "--views", str(tmp_path / "views")]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["through_holes"] == 4 and report["extents"] == [60.0, 40.0, 5.0]
    assert len(report["views"]) == 10 and all(
        Image.open(v).size == (224, 224) for v in report["views"]
    )


def test_inspect_bad_file_exits_2_with_typed_message(tmp_path, capsys):
    (tmp_path / "bad.stl").write_bytes(b"\x00" * 120)
    assert main(["inspect", str(tmp_path / "bad.stl")]) == 2
    assert "error [unreadable]" in capsys.readouterr().err


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _listen_addresses(root: int) -> set[str]:
    """The addresses that root and every process under it listen on (TCP)."""
    import psutil

    try:
        processes = [psutil.Process(root), *psutil.Process(root).children(recursive=True)]
    except psutil.NoSuchProcess:
        return set()
    found = set()
    for process in processes:
        try:
            connections = process.net_connections(kind="inet")
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        found |= {c.laddr.ip for c in connections if c.status == psutil.CONN_LISTEN}
    return found


def _is_loopback(text: str) -> bool:
    address = ipaddress.ip_address(text)
    return (getattr(address, "ipv4_mapped", None) or address).is_loopback


def test_console_script_demo_runs(tmp_path):
    """`cadsearch demo` as installed, in a fresh process, on a small catalog: quiet without -v,
    with the reindex job's summary table as `cadsearch index` prints it, every step's result;
    its Ray (the job's, then the service's) listens on loopback only."""
    process = subprocess.Popen(
        [sys.executable, "-m", "cadsearch.cli", "demo", "--once"],
        cwd=tmp_path,
        env={
            "PATH": "/usr/bin:/bin",
            "CADSEARCH_CATALOG__N": "24",
            "CADSEARCH_DATA_DIR": str(tmp_path / "data"),
            "HOME": str(tmp_path),
            "CADSEARCH_SERVE__HTTP_PORT": str(_free_port()),
            "CADSEARCH_SERVE__GRPC_PORT": str(_free_port()),
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    addresses: set[str] = set()

    def watch() -> None:
        while process.poll() is None:
            addresses.update(_listen_addresses(process.pid))
            time.sleep(0.5)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        stdout, stderr = process.communicate(timeout=600)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    watcher.join(timeout=30)
    result = subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
    assert addresses and all(_is_loopback(a) for a in addresses), addresses
    assert result.returncode == 0, result.stderr[-2000:]
    assert "wrote 24 parts" in result.stdout
    # quiet without -v: no Ray INFO lines or actor ERROR; the index step's summary table
    noisy = [
        line
        for line in result.stderr.splitlines()
        if " INFO " in line or "constructor arguments in the object store" in line
    ]
    assert not noisy, noisy[:5]
    lines = result.stdout.splitlines()
    summary = next(i for i, line in enumerate(lines) if line.startswith("indexed 24, skipped 0"))
    assert lines[summary].startswith("indexed 24, skipped 0, failed 0")
    table = "\n".join(lines[max(0, summary - 12) : summary])
    assert "discovered" in table and "parts/s" in table and lines[summary - 1].startswith("---")
    assert "-- text 'M12 hex bolt'" in result.stdout and "-- mesh " in result.stdout
    assert "API docs: http://" in result.stdout
    assert (tmp_path / "data" / "catalog" / "sheet.png").is_file()
    assert trimesh.load(next((tmp_path / "data" / "catalog" / "parts").iterdir())).is_watertight
