"""Registry of the mechanical part families of the parts library (name -> Family).

Each ``families_*`` module lists its own families in ``FAMILY_LIST``; this module only joins them.
"""

from __future__ import annotations

from data_jobs.catalog import families_bearings as bearings
from data_jobs.catalog import families_drive as drive
from data_jobs.catalog import families_enclosures as enclosures
from data_jobs.catalog import families_fasteners as fasteners
from data_jobs.catalog import families_fasteners_more as fasteners_more
from data_jobs.catalog import families_fixtures as fixtures
from data_jobs.catalog import families_flanges as flanges
from data_jobs.catalog import families_fluid as fluid
from data_jobs.catalog import families_frames as frames
from data_jobs.catalog import families_hardware as hardware
from data_jobs.catalog import families_heat_sinks as heat_sinks
from data_jobs.catalog import families_motion as motion
from data_jobs.catalog import families_piping as piping
from data_jobs.catalog import families_pulleys_couplings as pulleys_couplings
from data_jobs.catalog import families_rolling_bearings as rolling_bearings
from data_jobs.catalog import families_sheet as sheet
from data_jobs.catalog import families_springs as springs
from data_jobs.catalog import families_structural as structural
from data_jobs.catalog import families_transmission as transmission
from data_jobs.catalog.families_base import Family, GeneratedPart

_MODULES = (
    fasteners, fasteners_more, drive, transmission, pulleys_couplings, bearings, rolling_bearings,
    motion, structural, frames, piping, flanges, fluid, hardware, fixtures,
    springs, enclosures, heat_sinks, sheet,
)  # fmt: skip
_FAMILY_LIST: tuple[Family, ...] = tuple(f for m in _MODULES for f in m.FAMILY_LIST)

FAMILIES: dict[str, Family] = {f.name: f for f in _FAMILY_LIST}
CATEGORIES: tuple[str, ...] = tuple(sorted({f.category for f in _FAMILY_LIST}))
# kind -> its broader kind ("blind_flange" -> "flange"); a kind without one is its own parent
PARENTS: dict[str, str] = {f.category: f.parent or f.category for f in _FAMILY_LIST}

if len(FAMILIES) != len(_FAMILY_LIST):
    raise RuntimeError("two part families share a name")

__all__ = ["CATEGORIES", "FAMILIES", "PARENTS", "Family", "GeneratedPart"]
