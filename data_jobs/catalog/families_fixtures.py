"""Machine fixtures: handles, latches, casters, clamps, torsion and extension springs."""

from __future__ import annotations

from data_jobs.catalog.families_base import Family

FAMILY_LIST: tuple[Family, ...] = ()
