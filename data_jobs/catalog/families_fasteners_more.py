"""More fasteners: countersunk, button, set and shoulder screws, studs, rivets, nuts, pins, keys."""

from __future__ import annotations

from data_jobs.catalog.families_base import Family

FAMILY_LIST: tuple[Family, ...] = ()
