"""Bearings and linear motion: roller, needle and thrust bearings, housed units, rails, screws."""

from __future__ import annotations

from data_jobs.catalog.families_base import Family

FAMILY_LIST: tuple[Family, ...] = ()
