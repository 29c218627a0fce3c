"""Power transmission: helical, bevel and worm gears, racks, timing pulleys, couplings."""

from __future__ import annotations

from data_jobs.catalog.families_base import Family

FAMILY_LIST: tuple[Family, ...] = ()
