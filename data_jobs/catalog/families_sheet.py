"""Sheet-metal parts: bent, punched and formed parts of constant thickness."""

from __future__ import annotations

from data_jobs.catalog.families_base import Family

FAMILY_LIST: tuple[Family, ...] = ()
