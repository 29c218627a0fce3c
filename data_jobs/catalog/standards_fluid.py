"""Dimension tables of fluid parts: ASME B16.5 flanges, B16.9 fittings, pipe and hose threads."""

from __future__ import annotations

# ASME B16.5 Class 150 flanges, by DN: (outside O, thickness tf incl. 1.6 raised face,
# raised face R, hub at base X, weld-neck length through hub Y, slip-on length through hub Y,
# bolt circle, bolt holes, hole diameter), mm.
CLASS150: dict[int, tuple[float, float, float, float, float, float, float, int, float]] = {
    15: (88.9, 11.2, 34.9, 30.2, 47.8, 15.7, 60.3, 4, 15.7),
    20: (98.6, 12.7, 42.9, 38.1, 52.3, 15.7, 69.8, 4, 15.7),
    25: (108.0, 14.2, 50.8, 49.3, 55.6, 17.5, 79.4, 4, 15.7),
    32: (117.3, 15.7, 63.5, 58.7, 57.2, 20.6, 88.9, 4, 15.7),
    40: (127.0, 17.5, 73.2, 65.0, 62.0, 22.4, 98.6, 4, 15.7),
    50: (152.4, 19.1, 91.9, 77.7, 63.5, 25.4, 120.7, 4, 19.1),
    65: (177.8, 22.4, 104.6, 90.4, 69.9, 28.4, 139.7, 4, 19.1),
    80: (190.5, 23.9, 127.0, 108.0, 69.9, 30.2, 152.4, 4, 19.1),
    100: (228.6, 23.9, 157.2, 134.9, 76.2, 33.3, 190.5, 8, 19.1),
    125: (254.0, 23.9, 185.7, 163.6, 88.9, 36.6, 215.9, 8, 22.4),
    150: (279.4, 25.4, 215.9, 192.0, 88.9, 39.6, 241.3, 8, 22.4),
}

# ASME B16.5 Class 300 blind flanges, by DN: (outside O, thickness tf incl. 1.6 raised face,
# raised face R, bolt circle, bolt holes, hole diameter), mm.
CLASS300: dict[int, tuple[float, float, float, float, int, float]] = {
    15: (95.2, 14.2, 34.9, 66.5, 4, 15.7),
    20: (117.3, 15.7, 42.9, 82.6, 4, 19.1),
    25: (123.9, 17.5, 50.8, 88.9, 4, 19.1),
    40: (155.4, 20.6, 73.2, 114.3, 4, 22.4),
    50: (165.1, 22.4, 91.9, 127.0, 8, 19.1),
    80: (209.6, 28.4, 127.0, 168.1, 8, 22.4),
    100: (254.0, 31.8, 157.2, 200.2, 8, 22.4),
    150: (317.5, 36.6, 215.9, 269.7, 12, 22.4),
}

# ASME B16.9 concentric/eccentric reducers: large DN -> (end-to-end H, smaller DNs offered), mm.
REDUCERS: dict[int, tuple[float, tuple[int, ...]]] = {
    20: (38, (15,)),
    25: (51, (15, 20)),
    32: (51, (20, 25)),
    40: (64, (20, 25, 32)),
    50: (76, (25, 32, 40)),
    65: (89, (32, 40, 50)),
    80: (89, (40, 50, 65)),
    100: (102, (50, 65, 80)),
    125: (127, (65, 80, 100)),
    150: (140, (80, 100, 125)),
}

# ASME B16.9 butt-weld caps: DN -> length E (wall up to the standard thickness), mm.
CAP_LENGTHS: dict[int, float] = {
    15: 25, 20: 25, 25: 38, 32: 38, 40: 38, 50: 38, 65: 38, 80: 51, 100: 64, 125: 76, 150: 89,
}  # fmt: skip

# ISO 228-1 / ISO 7-1 pipe threads: size -> (major diameter, threads per inch).
BSP_THREADS: dict[str, tuple[float, int]] = {
    "1/8": (9.728, 28), "1/4": (13.157, 19), "3/8": (16.662, 19), "1/2": (20.955, 14),
    "3/4": (26.441, 14), "1": (33.249, 11), "1-1/4": (41.910, 11), "1-1/2": (47.803, 11),
    "2": (59.614, 11),
}  # fmt: skip

# EN 10241 steel sockets (round body): size -> (outside diameter, length), mm.
EN10241_SOCKETS: dict[str, tuple[float, float]] = {
    "1/8": (14.0, 17), "1/4": (18.5, 25), "3/8": (21.3, 26), "1/2": (26.4, 34), "3/4": (31.8, 36),
    "1": (39.5, 43), "1-1/4": (48.3, 48), "1-1/2": (54.5, 48), "2": (66.3, 56),
}  # fmt: skip

# Hose barb tails by hose bore: hose ID -> (BSP thread of the male end, hex across flats), mm.
HOSE_TAILS: dict[float, tuple[str, float]] = {
    6: ("1/8", 14), 8: ("1/4", 19), 10: ("3/8", 22), 13: ("1/2", 27), 16: ("1/2", 27),
    19: ("3/4", 32), 25: ("1", 41),
}  # fmt: skip

# ISO 8434-1 (DIN 2353) 24 degree cone fittings, light series: tube OD -> (thread major
# diameter, pitch, hex across flats of the body), mm.
ISO8434_L: dict[int, tuple[float, float, float]] = {
    6: (12, 1.5, 14), 8: (14, 1.5, 17), 10: (16, 1.5, 19), 12: (18, 1.5, 22), 15: (22, 1.5, 27),
    18: (26, 1.5, 32), 22: (30, 2.0, 36), 28: (36, 2.0, 41), 35: (45, 2.0, 50), 42: (52, 2.0, 60),
}  # fmt: skip

# ISO 5211 actuator mounting flanges: name -> (flange diameter, bolt circle, bolt size), mm.
ISO5211_PADS: dict[str, tuple[float, float, float]] = {
    "F03": (46, 36, 5), "F04": (54, 42, 5), "F05": (65, 50, 6), "F07": (90, 70, 8),
}  # fmt: skip
