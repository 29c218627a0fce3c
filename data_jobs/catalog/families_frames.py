"""Structural parts: gusset and base plates, profiles, brackets."""

from __future__ import annotations

from data_jobs.catalog.families_base import Family

FAMILY_LIST: tuple[Family, ...] = ()
