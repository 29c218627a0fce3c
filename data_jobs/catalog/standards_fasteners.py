"""Dimension tables of fastener standards (ISO/DIN/EN) used by ``families_fasteners_more``."""

from __future__ import annotations

# fmt: off

# Hexagon socket countersunk head screws ISO 10642: thread -> (head diameter dk (theoretical),
# head height k, hex key s), mm; 90 degree head.
COUNTERSUNK_SCREWS: dict[float, tuple[float, float, float]] = {
    3: (6.72, 1.86, 2.0), 4: (8.96, 2.48, 2.5), 5: (11.2, 3.1, 3.0), 6: (13.44, 3.72, 4.0),
    8: (17.92, 4.96, 5.0), 10: (22.4, 6.2, 6.0), 12: (26.88, 7.44, 8.0), 16: (33.6, 8.8, 10.0),
    20: (40.32, 10.16, 12.0),
}

# Hexagon socket button head screws ISO 7380-1: thread -> (dk, k, s), mm.
BUTTON_HEAD_SCREWS: dict[float, tuple[float, float, float]] = {
    3: (5.7, 1.65, 2.0), 4: (7.6, 2.2, 2.5), 5: (9.5, 2.75, 3.0), 6: (10.5, 3.3, 4.0),
    8: (14.0, 4.4, 5.0), 10: (17.5, 5.5, 6.0), 12: (21.0, 6.6, 8.0), 16: (28.0, 8.8, 10.0),
}

# Hexagon socket set screws ISO 4026 (flat) / 4027 (cone) / 4029 (cup): thread ->
# (hex key s, flat point diameter dp, cup point diameter dz, lengths), mm.
SET_SCREWS: dict[float, tuple[float, float, float, tuple[int, ...]]] = {
    3: (1.5, 2.0, 1.4, (3, 4, 5, 6, 8, 10, 12, 16)),
    4: (2.0, 2.5, 2.0, (4, 5, 6, 8, 10, 12, 16, 20)),
    5: (2.5, 3.5, 2.5, (5, 6, 8, 10, 12, 16, 20, 25)),
    6: (3.0, 4.0, 3.0, (6, 8, 10, 12, 16, 20, 25, 30)),
    8: (4.0, 5.5, 5.0, (8, 10, 12, 16, 20, 25, 30, 40)),
    10: (5.0, 7.0, 6.0, (10, 12, 16, 20, 25, 30, 40, 50)),
    12: (6.0, 8.5, 8.0, (12, 16, 20, 25, 30, 40, 50, 60)),
    16: (8.0, 12.0, 10.0, (16, 20, 25, 30, 40, 50, 60)),
    20: (10.0, 15.0, 14.0, (20, 25, 30, 40, 50, 60)),
}

# Hexagon socket head shoulder screws ISO 7379: shoulder diameter ds -> (thread d,
# head diameter dk, head height k, hex key s, thread length e), mm.
SHOULDER_SCREWS: dict[float, tuple[float, float, float, float, float]] = {
    6: (5, 10.0, 4.5, 3.0, 9.5), 8: (6, 13.0, 5.5, 4.0, 11.0), 10: (8, 16.0, 7.0, 5.0, 13.0),
    12: (10, 18.0, 8.0, 6.0, 16.0), 16: (12, 24.0, 10.0, 8.0, 18.0),
    20: (16, 30.0, 14.0, 10.0, 22.0), 24: (20, 36.0, 16.0, 12.0, 27.0),
}
SHOULDER_LENGTHS = (10, 12, 16, 20, 25, 30, 35, 40, 50, 60, 70, 80, 100, 120)

# Slotted cheese head screws ISO 1207: thread -> (dk, k, slot width n, slot depth t), mm.
CHEESE_HEAD_SCREWS: dict[float, tuple[float, float, float, float]] = {
    3: (5.5, 2.0, 0.8, 0.85), 4: (7.0, 2.6, 1.2, 1.1), 5: (8.5, 3.3, 1.2, 1.3),
    6: (10.0, 3.9, 1.6, 1.6), 8: (13.0, 5.0, 2.0, 2.0), 10: (16.0, 6.0, 2.5, 2.4),
}
# Cross recessed cheese head screws ISO 7048 (same dk as ISO 1207): thread -> (k, recess
# diameter m), mm.
CHEESE_HEAD_CROSS: dict[float, tuple[float, float]] = {
    3: (2.4, 3.0), 4: (3.1, 4.4), 5: (3.8, 4.9), 6: (4.6, 6.9), 8: (6.0, 9.0),
}

# Eye bolts DIN 580: thread -> (eye outer d1, eye inner d2, collar d4, overall height h above
# the collar face, thread length l, collar height k), mm.
EYE_BOLTS: dict[float, tuple[float, float, float, float, float, float]] = {
    8: (36, 20, 20, 36, 13, 6), 10: (45, 25, 25, 45, 17, 8), 12: (54, 30, 30, 53, 20.5, 10),
    16: (63, 35, 35, 62, 27, 12), 20: (72, 40, 40, 71, 30, 14), 24: (90, 50, 50, 90, 36, 18),
}

# Cup square neck bolts DIN 603: thread -> (head dk, head k, square v, neck depth f), mm.
CARRIAGE_BOLTS: dict[float, tuple[float, float, float, float]] = {
    5: (13.55, 3.3, 5.48, 4.1), 6: (16.55, 3.88, 6.48, 4.6), 8: (20.65, 4.88, 8.58, 5.6),
    10: (24.65, 5.38, 10.58, 6.6), 12: (30.65, 6.95, 12.7, 8.75), 16: (38.8, 8.95, 16.7, 12.9),
    20: (46.8, 11.05, 20.84, 15.9),
}

# Open end blind rivets ISO 15977 (aluminium / steel): body d -> (head dk, head k,
# mandrel diameter), mm.
BLIND_RIVETS: dict[float, tuple[float, float, float]] = {
    2.4: (5.0, 0.55, 1.45), 3.2: (6.4, 0.8, 1.85), 4.0: (8.0, 1.0, 2.25),
    4.8: (9.6, 1.1, 2.8), 6.4: (12.8, 1.4, 3.6),
}
BLIND_RIVET_LENGTHS = (6, 8, 10, 12, 14, 16, 18, 20, 25)

# Round head solid rivets DIN 660: d -> (head dk, head k), mm.
SOLID_RIVETS: dict[float, tuple[float, float]] = {
    2: (3.5, 1.2), 2.5: (4.4, 1.5), 3: (5.2, 1.8), 4: (7.0, 2.4), 5: (8.8, 3.0),
    6: (10.5, 3.6), 8: (14.0, 4.8),
}

# Wing nuts DIN 315 (American form): thread -> (wing span e, height h, hub diameter d2,
# hub height m), mm.
WING_NUTS: dict[float, tuple[float, float, float, float]] = {
    4: (20, 10.5, 8, 4.6), 5: (26, 13, 11, 6.5), 6: (33, 17, 13, 8), 8: (39, 20, 16, 10),
    10: (51, 25, 20, 12), 12: (65, 33.5, 23, 14), 16: (73, 37.5, 29, 17), 20: (90, 46.5, 35, 21),
}

# T-slot nuts DIN 508: slot width a -> (thread d, foot width b, height h, foot height k,
# length l), mm.
T_SLOT_NUTS: dict[float, tuple[float, float, float, float, float]] = {
    6: (5, 10, 8, 4, 10), 8: (6, 13, 10, 6, 13), 10: (8, 15, 12, 6, 15), 12: (10, 18, 14, 7, 18),
    14: (12, 22, 16, 8, 22), 18: (16, 28, 20, 10, 28), 22: (20, 35, 28, 14, 35),
}

# Prevailing torque nylon insert nuts, regular height ISO 7040: thread -> height h, mm
# (the thin ISO 10511 / DIN 985 heights are in ``families_standards``).
NYLON_NUT_HEIGHTS_REGULAR: dict[float, float] = {
    3: 4.5, 4: 6.0, 5: 6.8, 6: 8.0, 8: 9.5, 10: 11.5, 12: 14.0, 16: 18.0, 20: 22.0, 24: 26.0,
}

# Domed cap nuts DIN 1587: thread -> (across flats s, overall height h, hex height m,
# dome diameter dk, thread depth t), mm.
CAP_NUTS: dict[float, tuple[float, float, float, float, float]] = {
    4: (7, 8, 3.2, 6.5, 5.0), 5: (8, 10, 4, 7.5, 6.5), 6: (10, 12, 5, 9.5, 8.0),
    8: (13, 15, 6.5, 12.5, 10.0), 10: (17, 18, 8, 15, 12.0), 12: (19, 22, 10, 17, 15.0),
    16: (24, 28, 13, 23, 19.0), 20: (30, 34, 16, 28, 23.0),
}

# Hexagon flange nuts EN 1661: thread -> (across flats s, flange diameter dc, height m,
# flange edge thickness c), mm.
FLANGE_NUTS: dict[float, tuple[float, float, float, float]] = {
    5: (8, 11.8, 5.0, 1.0), 6: (10, 14.2, 6.0, 1.1), 8: (13, 17.9, 8.0, 1.2),
    10: (15, 21.8, 10.0, 1.5), 12: (18, 26.0, 12.0, 1.8), 16: (24, 34.5, 16.0, 2.4),
    20: (30, 42.8, 20.0, 3.0),
}

# Taper pins ISO 2339 (taper 1:50): small end diameter d -> lengths, mm.
TAPER_PINS: dict[float, tuple[int, ...]] = {
    2: (10, 12, 16, 20, 25, 30, 35), 3: (12, 16, 20, 25, 30, 40, 45),
    4: (14, 16, 20, 25, 30, 40, 50, 55), 5: (18, 20, 25, 30, 40, 50, 60),
    6: (22, 25, 30, 40, 50, 60, 70, 80), 8: (22, 30, 40, 50, 60, 80, 100),
    10: (26, 30, 40, 50, 60, 80, 100, 120), 12: (32, 40, 50, 60, 80, 100, 140),
    16: (40, 50, 60, 80, 100, 140, 180), 20: (45, 60, 80, 100, 140, 180, 200),
}

# Light duty slotted spring pins ISO 13337: nominal d -> wall thickness s, mm.
SPRING_PINS_LIGHT: dict[float, float] = {
    2: 0.2, 2.5: 0.25, 3: 0.3, 4: 0.5, 5: 0.5, 6: 0.75, 8: 0.75, 10: 1.0, 12: 1.0, 16: 1.5,
}
# Slotted spring pins ISO 8752 (heavy duty): nominal d -> (wall thickness s, lengths), mm.
SPRING_PINS: dict[float, tuple[float, tuple[int, ...]]] = {
    2: (0.4, (6, 8, 10, 12, 16, 20)), 2.5: (0.5, (6, 8, 10, 12, 16, 20, 25)),
    3: (0.6, (8, 10, 12, 16, 20, 25, 30)), 4: (0.8, (10, 12, 16, 20, 25, 30, 40)),
    5: (1.0, (10, 12, 16, 20, 25, 30, 40, 50)), 6: (1.2, (12, 16, 20, 25, 30, 40, 50, 60)),
    8: (1.5, (16, 20, 25, 30, 40, 50, 60, 80)), 10: (2.0, (20, 25, 30, 40, 50, 60, 80, 100)),
    12: (2.5, (25, 30, 40, 50, 60, 80, 100, 120)), 16: (3.0, (30, 40, 50, 60, 80, 100, 140)),
}

# Clevis pins with head ISO 2341 (form B, split pin hole): d -> (head dk, head k,
# split pin hole d1, hole centre to pin end le, lengths), mm.
CLEVIS_PINS: dict[float, tuple[float, float, float, float, tuple[int, ...]]] = {
    3: (5, 1.0, 0.8, 1.6, (6, 8, 10, 12, 16, 20)), 4: (6, 1.0, 1.0, 2.2, (8, 10, 12, 16, 20, 25)),
    5: (8, 1.6, 1.2, 2.9, (10, 12, 16, 20, 25, 30)),
    6: (10, 2.0, 1.6, 3.2, (12, 16, 20, 25, 30, 40)),
    8: (14, 3.0, 2.0, 3.5, (16, 20, 25, 30, 40, 50)),
    10: (18, 4.0, 3.2, 4.5, (20, 25, 30, 40, 50, 60)),
    12: (20, 4.0, 3.2, 5.5, (25, 30, 40, 50, 60, 80)),
    16: (25, 4.5, 4.0, 6.0, (30, 40, 50, 60, 80, 100)),
    20: (30, 5.0, 5.0, 8.0, (40, 50, 60, 80, 100, 120)),
}

# Parallel keys DIN 6885-1: key width b -> (shortest, longest) length, mm; standard lengths.
PARALLEL_KEY_LENGTH_RANGE: dict[float, tuple[int, int]] = {
    2: (6, 20), 3: (6, 36), 4: (8, 45), 5: (10, 56), 6: (14, 70), 8: (18, 90), 10: (22, 110),
    12: (28, 140), 14: (36, 160), 16: (45, 180), 18: (50, 200), 20: (56, 220),
}
KEY_LENGTHS = (6, 8, 10, 12, 14, 16, 18, 20, 22, 25, 28, 32, 36, 40, 45, 50, 56, 63, 70, 80,
               90, 100, 110, 125, 140, 160, 180, 200, 220)

# Woodruff keys DIN 6888: (width b, height h, diameter d1), mm.
WOODRUFF_KEYS: tuple[tuple[float, float, float], ...] = (
    (2, 2.6, 7), (2, 3.7, 10), (3, 5, 13), (3, 6.5, 16), (4, 6.5, 16), (4, 7.5, 19),
    (5, 6.5, 16), (5, 7.5, 19), (5, 9, 22), (6, 9, 22), (6, 10, 25), (6, 11, 28),
    (8, 11, 28), (8, 13, 32), (10, 13, 32), (10, 16, 45),
)

# Double-end studs DIN 938 / 939 / 940: metal end length as a multiple of d.
STUD_METAL_ENDS: dict[str, float] = {"DIN 938": 1.0, "DIN 939": 1.25, "DIN 940": 2.5}
