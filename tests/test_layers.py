"""Layers import downward: the import-linter contracts of pyproject.toml hold."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_are_kept():
    lint_imports = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run(
        [str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 kept, 0 broken" in done.stdout, done.stdout  # both contracts ran


def test_lower_layers_import_no_settings_at_run_time():
    # a fresh interpreter: importing the lower layers' modules leaves cadsearch unloaded
    modules = [
        "encoders.bundle",
        "encoders.geometry.prepare",
        "encoders.train.job",
        "store.factory",
        "store.views",
        "data_jobs.index.pipeline",
        "data_jobs.training_data",
        "data_jobs.evaluate.run",
    ]
    code = (
        f"import sys, importlib\nfor m in {modules!r}: importlib.import_module(m)\n"
        "print(sorted(m for m in sys.modules if m == 'cadsearch' or m.startswith('cadsearch.')))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]", done.stdout
