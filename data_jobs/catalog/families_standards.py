"""Dimension tables of real standard series (ISO/DIN/EN/ASME) that the part families draw from."""

from __future__ import annotations

# fmt: off

# ISO metric coarse threads M3..M24: pitch; hex across flats s (ISO 4032 / ISO 4017);
# hex bolt head height k (ISO 4017); hex nut height m (ISO 4032); socket head cap screw
# (ISO 4762) head diameter dk and hex key size; flat washer ISO 7089 (d1, d2, h);
# split lock washer DIN 127 B (inner d1, outer d2, section s x b).
METRIC_THREADS: dict[float, dict[str, float]] = {
    3: dict(pitch=0.5, s=5.5, k=2.0, m=2.4, dk=5.5, key=2.5, w_d1=3.2, w_d2=7.0, w_h=0.5,
            lw_d1=3.1, lw_d2=6.2, lw_s=0.8, lw_b=1.0),
    4: dict(pitch=0.7, s=7.0, k=2.8, m=3.2, dk=7.0, key=3.0, w_d1=4.3, w_d2=9.0, w_h=0.8,
            lw_d1=4.1, lw_d2=7.6, lw_s=0.9, lw_b=1.2),
    5: dict(pitch=0.8, s=8.0, k=3.5, m=4.7, dk=8.5, key=4.0, w_d1=5.3, w_d2=10.0, w_h=1.0,
            lw_d1=5.1, lw_d2=9.2, lw_s=1.2, lw_b=1.5),
    6: dict(pitch=1.0, s=10.0, k=4.0, m=5.2, dk=10.0, key=5.0, w_d1=6.4, w_d2=12.0, w_h=1.6,
            lw_d1=6.1, lw_d2=11.8, lw_s=1.6, lw_b=2.5),
    8: dict(pitch=1.25, s=13.0, k=5.3, m=6.8, dk=13.0, key=6.0, w_d1=8.4, w_d2=16.0, w_h=1.6,
            lw_d1=8.2, lw_d2=14.8, lw_s=2.0, lw_b=3.0),
    10: dict(pitch=1.5, s=16.0, k=6.4, m=8.4, dk=16.0, key=8.0, w_d1=10.5, w_d2=20.0, w_h=2.0,
             lw_d1=10.2, lw_d2=18.1, lw_s=2.2, lw_b=3.5),
    12: dict(pitch=1.75, s=18.0, k=7.5, m=10.8, dk=18.0, key=10.0, w_d1=13.0, w_d2=24.0,
             w_h=2.5, lw_d1=12.2, lw_d2=21.1, lw_s=2.5, lw_b=4.0),
    14: dict(pitch=2.0, s=21.0, k=8.8, m=12.8, dk=21.0, key=12.0, w_d1=15.0, w_d2=28.0,
             w_h=2.5, lw_d1=14.2, lw_d2=24.1, lw_s=3.0, lw_b=4.5),
    16: dict(pitch=2.0, s=24.0, k=10.0, m=14.8, dk=24.0, key=14.0, w_d1=17.0, w_d2=30.0,
             w_h=3.0, lw_d1=16.2, lw_d2=27.4, lw_s=3.5, lw_b=5.0),
    20: dict(pitch=2.5, s=30.0, k=12.5, m=18.0, dk=30.0, key=17.0, w_d1=21.0, w_d2=37.0,
             w_h=3.0, lw_d1=20.2, lw_d2=33.6, lw_s=4.0, lw_b=6.0),
    24: dict(pitch=3.0, s=36.0, k=15.0, m=21.5, dk=36.0, key=19.0, w_d1=25.0, w_d2=44.0,
             w_h=4.0, lw_d1=24.5, lw_d2=40.0, lw_s=5.0, lw_b=7.0),
}

# Preferred bolt / screw lengths (ISO 888), mm.
BOLT_LENGTHS = (6, 8, 10, 12, 16, 20, 25, 30, 35, 40, 45, 50, 55, 60, 65, 70, 80, 90, 100,
                110, 120, 130, 140, 150, 160)

# Deep groove ball bearings: designation -> (bore d, outside D, width B), mm.
BALL_BEARINGS: dict[str, tuple[float, float, float]] = {
    "623": (3, 10, 4), "625": (5, 16, 5), "626": (6, 19, 6), "608": (8, 22, 7),
    "609": (9, 24, 7), "6000": (10, 26, 8), "6001": (12, 28, 8), "6002": (15, 32, 9),
    "6003": (17, 35, 10), "6004": (20, 42, 12), "6005": (25, 47, 12), "6006": (30, 55, 13),
    "6200": (10, 30, 9), "6201": (12, 32, 10), "6202": (15, 35, 11), "6203": (17, 40, 12),
    "6204": (20, 47, 14), "6205": (25, 52, 15), "6206": (30, 62, 16), "6207": (35, 72, 17),
    "6300": (10, 35, 11), "6301": (12, 37, 12), "6302": (15, 42, 13), "6303": (17, 47, 14),
    "6304": (20, 52, 15), "6305": (25, 62, 17),
}

# Parallel keys DIN 6885-1 / ISO 773: shaft diameter range (over, up to] ->
# key width b, key height h, shaft keyseat depth t1, hub keyway depth t2 (mm).
PARALLEL_KEYS: tuple[tuple[float, float, float, float, float, float], ...] = (
    (6, 8, 2, 2, 1.2, 1.0), (8, 10, 3, 3, 1.8, 1.4), (10, 12, 4, 4, 2.5, 1.8),
    (12, 17, 5, 5, 3.0, 2.3), (17, 22, 6, 6, 3.5, 2.8), (22, 30, 8, 7, 4.0, 3.3),
    (30, 38, 10, 8, 5.0, 3.3), (38, 44, 12, 8, 5.0, 3.3), (44, 50, 14, 9, 5.5, 3.8),
    (50, 58, 16, 10, 6.0, 4.3), (58, 65, 18, 11, 7.0, 4.4), (65, 75, 20, 12, 7.5, 4.9),
)


def parallel_key(shaft_d: float) -> dict[str, float]:
    """DIN 6885 key for a shaft diameter: {"b", "h", "t1", "t2"} in mm."""
    for lo, hi, b, h, t1, t2 in PARALLEL_KEYS:
        if lo < shaft_d <= hi:
            return dict(b=b, h=h, t1=t1, t2=t2)
    raise ValueError(f"no DIN 6885 key for shaft diameter {shaft_d} mm")


# Gear modules, ISO 54 first choice (plus 1.25 and 2.5 second choice that are common).
GEAR_MODULES = (0.5, 0.8, 1.0, 1.25, 1.5, 2.0, 2.5, 3.0, 4.0)

# Steel pipe (ASME B36.10 Sch 40 / EN 10220 outside diameters): DN -> (NPS, OD, wall).
PIPE_SIZES: dict[int, tuple[str, float, float]] = {
    15: ('1/2"', 21.3, 2.77), 20: ('3/4"', 26.7, 2.87), 25: ('1"', 33.4, 3.38),
    32: ('1-1/4"', 42.2, 3.56), 40: ('1-1/2"', 48.3, 3.68), 50: ('2"', 60.3, 3.91),
    65: ('2-1/2"', 73.0, 5.16), 80: ('3"', 88.9, 5.49), 100: ('4"', 114.3, 6.02),
    125: ('5"', 141.3, 6.55), 150: ('6"', 168.3, 7.11),
}

# Butt-weld fittings ASME B16.9: DN -> (90 deg long-radius elbow centre-to-end A,
# straight tee centre-to-end C), mm.
BUTT_WELD_FITTINGS: dict[int, tuple[float, float]] = {
    15: (38, 25), 20: (29, 29), 25: (38, 38), 32: (48, 48), 40: (57, 57), 50: (76, 64),
    65: (95, 76), 80: (114, 86), 100: (152, 105), 125: (190, 124), 150: (229, 143),
}

# EN 1092-1 PN16 flanges: DN -> (outside D, bolt circle K, bolts, hole L, thickness C,
# hub diameter N1 of the weld-neck type 11), mm. Neck bore is the pipe OD.
PN16_FLANGES: dict[int, tuple[float, float, int, float, float, float]] = {
    15: (95, 65, 4, 14, 16, 35), 20: (105, 75, 4, 14, 18, 40), 25: (115, 85, 4, 14, 18, 46),
    32: (140, 100, 4, 18, 18, 56), 40: (150, 110, 4, 18, 18, 64), 50: (165, 125, 4, 18, 18, 74),
    65: (185, 145, 8, 18, 18, 92), 80: (200, 160, 8, 18, 20, 105), 100: (220, 180, 8, 18, 20, 131),
    125: (250, 210, 8, 18, 22, 156), 150: (285, 240, 8, 22, 22, 184),
    200: (340, 295, 12, 22, 24, 235),
}

# European I/H beams: name -> (height h, flange width b, web tw, flange tf, root radius r).
IPE_BEAMS: dict[str, tuple[float, float, float, float, float]] = {
    "IPE 80": (80, 46, 3.8, 5.2, 5), "IPE 100": (100, 55, 4.1, 5.7, 7),
    "IPE 120": (120, 64, 4.4, 6.3, 7), "IPE 140": (140, 73, 4.7, 6.9, 7),
    "IPE 160": (160, 82, 5.0, 7.4, 9), "IPE 180": (180, 91, 5.3, 8.0, 9),
    "IPE 200": (200, 100, 5.6, 8.5, 12), "IPE 240": (240, 120, 6.2, 9.8, 15),
    "HEA 100": (96, 100, 5.0, 8.0, 12), "HEA 120": (114, 120, 5.0, 8.0, 12),
    "HEA 140": (133, 140, 5.5, 8.5, 12), "HEA 160": (152, 160, 6.0, 9.0, 15),
    "HEB 100": (100, 100, 6.0, 10.0, 12), "HEB 120": (120, 120, 6.5, 11.0, 12),
}

# European channels UPN (tapered flanges, 8 %): name -> (h, b, tw, tf, r1).
UPN_CHANNELS: dict[str, tuple[float, float, float, float, float]] = {
    "UPN 50": (50, 38, 5.0, 7.0, 7.0), "UPN 65": (65, 42, 5.5, 7.5, 7.5),
    "UPN 80": (80, 45, 6.0, 8.0, 8.0), "UPN 100": (100, 50, 6.0, 8.5, 8.5),
    "UPN 120": (120, 55, 7.0, 9.0, 9.0), "UPN 140": (140, 60, 7.0, 10.0, 10.0),
    "UPN 160": (160, 65, 7.5, 10.5, 10.5), "UPN 200": (200, 75, 8.5, 11.5, 11.5),
}

# Hot-rolled angles EN 10056-1: (leg a, leg b, thickness t, root radius r1).
ANGLES: tuple[tuple[float, float, float, float], ...] = (
    (20, 20, 3, 3.5), (25, 25, 3, 3.5), (30, 30, 3, 5), (40, 40, 4, 6), (50, 50, 5, 7),
    (60, 60, 6, 8), (70, 70, 7, 9), (80, 80, 8, 10), (100, 100, 10, 12),
    (60, 40, 5, 6), (80, 40, 6, 7), (100, 50, 6, 8), (100, 65, 7, 10),
)

# Rectangular / square hollow sections EN 10219: (height, width, wall).
HOLLOW_SECTIONS: tuple[tuple[float, float, float], ...] = (
    (20, 20, 2), (30, 30, 2), (40, 20, 2), (40, 40, 3), (50, 30, 3), (50, 50, 3),
    (60, 40, 3), (60, 60, 4), (80, 40, 4), (80, 80, 4), (100, 50, 4), (100, 100, 5),
    (120, 60, 5),
)

# Aluminium T-slot profiles: name -> (width, height, slot opening, core bore, series).
T_SLOT_PROFILES: dict[str, tuple[float, float, float, float]] = {
    "20x20 B-type slot 6": (20, 20, 6.2, 4.2),
    "30x30 I-type slot 8": (30, 30, 8.2, 6.8),
    "40x40 I-type slot 8": (40, 40, 8.2, 6.8),
    "40x40 B-type slot 10": (40, 40, 10.2, 10.3),
    "45x45 I-type slot 10": (45, 45, 10.2, 10.3),
    "40x80 I-type slot 8": (40, 80, 8.2, 6.8),
    "20x40 B-type slot 6": (20, 40, 6.2, 4.2),
}

# V-belt grooves ISO 4183 / DIN 2211: name -> (datum width, groove depth below datum,
# height above datum, groove spacing e, edge distance f, min datum dia).
VBELT_GROOVES: dict[str, tuple[float, float, float, float, float, float]] = {
    "SPZ": (8.5, 9.0, 2.0, 12.0, 8.0, 63),
    "SPA": (11.0, 11.0, 2.75, 15.0, 10.0, 90),
    "SPB": (14.0, 14.0, 3.5, 19.0, 12.5, 140),
}
# Groove angle 34 degrees up to this datum diameter, 38 degrees above it.
VBELT_34_DEG_UP_TO = {"SPZ": 80, "SPA": 118, "SPB": 190}
PULLEY_DATUM_DIAMETERS = (63, 71, 80, 90, 100, 112, 125, 140, 160, 180, 200, 224, 250)

# Roller chains ISO 606 (European B series): name -> (pitch p, roller d1, inner width b1).
ROLLER_CHAINS: dict[str, tuple[float, float, float]] = {
    "06B-1": (9.525, 6.35, 5.72), "08B-1": (12.7, 8.51, 7.75), "10B-1": (15.875, 10.16, 9.65),
    "12B-1": (19.05, 12.07, 11.68), "16B-1": (25.4, 15.88, 17.02),
}

# Set collars DIN 705 A: bore d -> (outside D, width b, set screw size).
SHAFT_COLLARS: dict[float, tuple[float, float, float]] = {
    6: (12, 8, 3), 8: (16, 8, 4), 10: (20, 10, 5), 12: (22, 12, 6), 14: (25, 12, 6),
    16: (28, 12, 6), 18: (32, 14, 6), 20: (32, 14, 6), 25: (40, 16, 8), 30: (45, 16, 8),
    35: (56, 16, 8), 40: (63, 18, 8), 50: (80, 18, 10),
}

# One-piece clamp collars (typical catalogue sizes): bore d -> (outside D, width b, screw).
CLAMP_COLLARS: dict[float, tuple[float, float, float]] = {
    8: (18, 9, 3), 10: (24, 9, 4), 12: (28, 11, 4), 15: (34, 13, 5), 16: (34, 13, 5),
    20: (40, 13, 5), 25: (45, 14, 6), 30: (54, 14, 6), 35: (60, 16, 6), 40: (64, 16, 8),
}

# Flanged plain bushings ISO 4379 form F: bore d1 -> (outside d2, flange d3, flange b2).
FLANGED_BUSHINGS: dict[float, tuple[float, float, float]] = {
    6: (12, 14, 3), 8: (14, 18, 3), 10: (16, 22, 3), 12: (18, 24, 3), 15: (21, 27, 3),
    16: (22, 28, 3), 20: (26, 32, 3), 25: (32, 38, 4), 30: (38, 44, 4), 35: (45, 55, 5),
    40: (50, 60, 5),
}
BUSHING_LENGTHS = (6, 8, 10, 12, 15, 16, 20, 25, 30, 40)

# Parallel pins ISO 8734 / ISO 2338: diameter -> available lengths.
DOWEL_PINS: dict[float, tuple[float, ...]] = {
    2: (6, 8, 10, 12, 16, 20), 3: (8, 10, 12, 16, 20, 24, 30), 4: (10, 12, 16, 20, 24, 30, 40),
    5: (12, 16, 20, 24, 30, 40, 50), 6: (16, 20, 24, 30, 40, 50, 60),
    8: (20, 24, 30, 40, 50, 60, 80), 10: (24, 30, 40, 50, 60, 80, 100),
    12: (30, 40, 50, 60, 80, 100), 16: (40, 50, 60, 80, 100),
}

# Hex standoffs (female-female): thread -> across flats.
STANDOFF_AF: dict[float, float] = {2.5: 5.0, 3: 5.5, 4: 7.0, 5: 8.0, 6: 10.0, 8: 13.0}
STANDOFF_LENGTHS = (5, 6, 8, 10, 12, 15, 20, 25, 30, 35, 40, 50)

# External retaining rings DIN 471: shaft d1 -> (thickness s, free inner dia d3,
# max radial width a, lug hole d5).
RETAINING_RINGS: dict[float, tuple[float, float, float, float]] = {
    10: (1.0, 9.3, 3.3, 1.5), 12: (1.0, 11.0, 3.3, 1.7), 15: (1.0, 13.8, 3.6, 1.7),
    17: (1.0, 15.7, 3.8, 1.7), 20: (1.2, 18.5, 4.0, 2.0), 25: (1.2, 23.2, 4.4, 2.0),
    30: (1.5, 27.9, 5.0, 2.0), 35: (1.5, 32.2, 5.6, 2.5), 40: (1.75, 36.5, 6.0, 2.5),
    50: (2.0, 45.8, 6.9, 2.5),
}

# O-rings ISO 3601-1 / AS568: cross-section d2 -> typical inside diameters d1.
O_RINGS: dict[float, tuple[float, ...]] = {
    1.78: (4.47, 6.07, 7.65, 9.25, 10.82, 12.42, 15.6, 18.77),
    2.62: (9.19, 12.37, 15.54, 18.72, 21.89, 25.07, 28.24, 31.42, 37.77),
    3.53: (18.64, 21.82, 24.99, 28.17, 34.52, 40.87, 47.22, 53.57),
    5.33: (40.64, 46.99, 53.34, 59.69, 66.04, 72.39, 85.09),
    6.99: (69.85, 82.55, 94.62, 113.67, 132.72),
}

# Spring wire diameters (EN 10270), mm.
SPRING_WIRES = (0.5, 0.6, 0.8, 1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0)

# Star knobs DIN 6336: outside diameter d1 -> (thread, height h, hub dia d4).
STAR_KNOBS: dict[float, tuple[float, float, float]] = {
    25: (5, 16, 12), 32: (6, 20, 15), 40: (8, 25, 18), 50: (10, 32, 22), 63: (12, 40, 28),
}

# Clearance holes ISO 273 medium series: thread -> hole diameter.
CLEARANCE_HOLES: dict[float, float] = {
    3: 3.4, 4: 4.5, 5: 5.5, 6: 6.6, 8: 9.0, 10: 11.0, 12: 13.5, 16: 17.5, 20: 22.0, 24: 26.0,
    27: 30.0, 30: 33.0,
}

# Large flat washers ISO 7093-1: thread -> (outer d2, thickness h); inner as ISO 7089.
LARGE_WASHERS: dict[float, tuple[float, float]] = {
    3: (9, 0.8), 4: (12, 1.0), 5: (15, 1.2), 6: (18, 1.6), 8: (24, 2.0), 10: (30, 2.5),
    12: (37, 3.0), 14: (44, 3.0), 16: (50, 3.0), 20: (60, 4.0), 24: (72, 5.0),
}

# Thin hex nuts (jam nuts) ISO 4035: thread -> height m.
THIN_NUT_HEIGHTS: dict[float, float] = {
    3: 1.8, 4: 2.2, 5: 2.7, 6: 3.2, 8: 4.0, 10: 5.0, 12: 6.0, 14: 7.0, 16: 8.0, 20: 10.0,
    24: 12.0,
}

# Prevailing torque nuts with nylon insert DIN 985: thread -> total height h.
NYLON_INSERT_NUT_HEIGHTS: dict[float, float] = {
    3: 4.0, 4: 5.0, 5: 5.0, 6: 6.0, 8: 8.0, 10: 10.0, 12: 12.0, 14: 14.0, 16: 16.0, 20: 20.0,
    24: 24.0,
}
# fmt: on
