"""Prepare stage (CPU tasks): each part of a batch through ``encoders.parts.prepare.prepare_row``
(load, validate, normalize, sample points, render views, describe, light GLB)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from encoders.parts.prepare import prepare_row
from store.rows import PREPARED_COLUMNS, batch_to_rows, rows_to_batch

if TYPE_CHECKING:
    from cadsearch.settings import Settings


def prepare_batch(batch: dict[str, Any], settings: Settings, uses_b2: bool = False) -> dict:
    """Ray Data batch function of the prepare stage.

    settings : reach the worker without secrets (its environment supplies them); the renderer
        and the B2 client are cached per worker process, so each creates its plotter once
    """
    from store.b2 import resolve_b2_api

    b2_api = resolve_b2_api(None, settings) if uses_b2 else None
    rows = [prepare_row(row, settings, b2_api) for row in batch_to_rows(batch)]
    return rows_to_batch(rows, PREPARED_COLUMNS)
