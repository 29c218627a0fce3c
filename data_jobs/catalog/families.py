"""Registry of the mechanical part families of the sample catalog (name -> Family)."""

from __future__ import annotations

from data_jobs.catalog import families_bearings as bearings
from data_jobs.catalog import families_drive as drive
from data_jobs.catalog import families_fasteners as fasteners
from data_jobs.catalog import families_hardware as hardware
from data_jobs.catalog import families_piping as piping
from data_jobs.catalog import families_structural as structural
from data_jobs.catalog.families_base import Family, GeneratedPart

_FAMILY_LIST = (
    # fasteners
    Family("hex_bolt", "bolt", fasteners.hex_bolt),
    Family("socket_head_cap_screw", "screw", fasteners.socket_head_cap_screw),
    Family("hex_nut", "nut", fasteners.hex_nut),
    Family("flat_washer", "washer", fasteners.flat_washer),
    Family("spring_lock_washer", "washer", fasteners.spring_lock_washer),
    Family("dowel_pin", "pin", fasteners.dowel_pin),
    Family("hex_standoff", "spacer", fasteners.hex_standoff),
    Family("retaining_ring", "retaining_ring", fasteners.retaining_ring),
    # power transmission
    Family("spur_gear", "gear", drive.spur_gear),
    Family("chain_sprocket", "sprocket", drive.chain_sprocket),
    Family("vbelt_pulley", "pulley", drive.vbelt_pulley),
    Family("keyed_shaft", "shaft", drive.keyed_shaft),
    Family("shaft_collar", "collar", drive.shaft_collar),
    # bearings, seals, springs
    Family("ball_bearing", "bearing", bearings.ball_bearing),
    Family("flanged_bushing", "bushing", bearings.flanged_bushing),
    Family("o_ring", "seal", bearings.o_ring),
    Family("compression_spring", "spring", bearings.compression_spring),
    # structural sections
    Family("i_beam", "beam", structural.i_beam),
    Family("c_channel", "channel", structural.c_channel),
    Family("angle_section", "angle", structural.angle_section),
    Family("rectangular_hollow_section", "hollow_section", structural.rectangular_hollow_section),
    Family("t_slot_profile", "extrusion", structural.t_slot_profile),
    # piping
    Family("straight_pipe", "pipe", piping.straight_pipe),
    Family("pipe_elbow", "pipe_fitting", piping.pipe_elbow),
    Family("pipe_tee", "pipe_fitting", piping.pipe_tee),
    Family("pipe_flange", "flange", piping.pipe_flange),
    # machine hardware
    Family("l_bracket", "bracket", hardware.l_bracket),
    Family("mounting_plate", "plate", hardware.mounting_plate),
    Family("butt_hinge", "hinge", hardware.butt_hinge),
    Family("star_knob", "knob", hardware.star_knob),
)

FAMILIES: dict[str, Family] = {f.name: f for f in _FAMILY_LIST}
CATEGORIES: tuple[str, ...] = tuple(sorted({f.category for f in _FAMILY_LIST}))

__all__ = ["CATEGORIES", "FAMILIES", "Family", "GeneratedPart"]
