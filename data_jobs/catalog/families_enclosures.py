"""Enclosures and electrical hardware: boxes, DIN rail, cable glands, heat sinks."""

from __future__ import annotations

from data_jobs.catalog.families_base import Family

FAMILY_LIST: tuple[Family, ...] = ()
