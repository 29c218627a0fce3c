"""Fluid components: pipe flanges by type, reducers, caps, valve bodies, hose barbs, fittings."""

from __future__ import annotations

from data_jobs.catalog.families_base import Family

FAMILY_LIST: tuple[Family, ...] = ()
