"""Size tables of gears, belts, couplings, bearings and linear motion parts."""

from __future__ import annotations

# Helix angles (deg) of catalogue helical gears.
HELIX_ANGLES = (15.0, 20.0, 23.0, 25.0, 30.0)

# Belt tooth profiles: name -> (pitch, pitch line differential PLD, groove depth, belt width)
# pulley OD = z * pitch / pi - 2 * PLD.
TIMING_BELTS: dict[str, tuple[float, float, float, float]] = {
    "GT2": (2.0, 0.254, 0.75, 6.0),
    "T5": (5.0, 0.3, 1.2, 10.0),
    "HTD 5M": (5.0, 0.5715, 2.06, 15.0),
}
TIMING_PULLEY_TEETH = (16, 20, 24, 30, 36, 40, 48, 60)

# DIN 3962 / catalogue gear racks: module -> (face width, bar height to the back) mm
GEAR_RACKS: dict[float, tuple[float, float]] = {
    1.0: (15.0, 15.0),
    1.5: (17.0, 17.0),
    2.0: (20.0, 20.0),
    2.5: (25.0, 25.0),
    3.0: (30.0, 30.0),
    4.0: (40.0, 40.0),
}
RACK_LENGTHS = (100.0, 150.0, 200.0, 250.0, 300.0, 500.0)

# Worm gear sets DIN 3976: module -> worm pitch diameter d1 (mm)
WORM_PITCH_DIAMETERS: dict[float, float] = {
    1.0: 16.0,
    1.5: 20.0,
    2.0: 22.4,
    2.5: 25.0,
    3.0: 31.5,
    4.0: 40.0,
}

# Jaw couplings L series: size -> (hub OD, hub length incl. jaws, jaw length, max bore) mm
JAW_COUPLINGS: dict[str, tuple[float, float, float, float]] = {
    "L035": (15.9, 10.4, 5.1, 9.5),
    "L050": (27.4, 15.7, 6.6, 15.9),
    "L070": (34.5, 19.3, 9.1, 19.1),
    "L075": (44.5, 21.6, 10.7, 22.2),
    "L090": (53.8, 21.6, 10.7, 25.4),
    "L100": (64.3, 27.9, 14.2, 35.0),
    "L110": (84.1, 38.1, 19.1, 42.0),
}

# Rigid couplings (sleeve): bore -> (outer diameter, length) mm
RIGID_COUPLINGS: dict[float, tuple[float, float]] = {
    5.0: (16.0, 25.0),
    6.0: (16.0, 25.0),
    8.0: (20.0, 30.0),
    10.0: (25.0, 35.0),
    12.0: (28.0, 40.0),
    15.0: (32.0, 50.0),
    20.0: (40.0, 60.0),
    25.0: (45.0, 70.0),
    30.0: (55.0, 80.0),
}

# Tapered roller bearings ISO 355 / DIN 720: designation -> (d, D, T, B, C) mm
TAPERED_ROLLER_BEARINGS: dict[str, tuple[float, float, float, float, float]] = {
    "30203": (17, 40, 13.25, 12, 11),
    "30204": (20, 47, 15.25, 14, 12),
    "30205": (25, 52, 16.25, 15, 13),
    "30206": (30, 62, 17.25, 16, 14),
    "30207": (35, 72, 18.25, 17, 15),
    "30208": (40, 80, 19.75, 18, 16),
    "30209": (45, 85, 20.75, 19, 16),
    "30210": (50, 90, 21.75, 20, 17),
    "32205": (25, 52, 19.25, 18, 16),
    "32206": (30, 62, 21.25, 20, 17),
    "32207": (35, 72, 24.25, 23, 19),
    "32208": (40, 80, 24.75, 23, 19),
    "32210": (50, 90, 24.75, 23, 19),
    "32212": (60, 110, 29.75, 28, 24),
}

# Drawn cup needle roller bearings HK (ISO 3245): designation -> (Fw, D, C) mm
NEEDLE_BEARINGS: dict[str, tuple[float, float, float]] = {
    "HK0408": (4, 8, 8),
    "HK0608": (6, 10, 8),
    "HK0808": (8, 12, 8),
    "HK1010": (10, 14, 10),
    "HK1210": (12, 16, 10),
    "HK1412": (14, 20, 12),
    "HK1612": (16, 22, 12),
    "HK2012": (20, 26, 12),
    "HK2516": (25, 32, 16),
    "HK3016": (30, 37, 16),
    "HK3520": (35, 42, 20),
    "HK4020": (40, 47, 20),
}

# Single direction thrust ball bearings ISO 104, 511 series: designation -> (d, D, T) mm
THRUST_BEARINGS: dict[str, tuple[float, float, float]] = {
    "51100": (10, 24, 9),
    "51101": (12, 26, 9),
    "51102": (15, 28, 9),
    "51103": (17, 30, 9),
    "51104": (20, 35, 10),
    "51105": (25, 42, 11),
    "51106": (30, 47, 11),
    "51107": (35, 52, 12),
    "51108": (40, 60, 13),
    "51109": (45, 65, 14),
    "51110": (50, 70, 14),
    "51112": (60, 85, 17),
}

# UC insert bearings (ISO 9628): number -> (bore d, sphere OD D, inner ring width B) mm
UC_INSERTS: dict[str, tuple[float, float, float]] = {
    "201": (12, 40, 27.4),
    "204": (20, 47, 31.0),
    "205": (25, 52, 34.1),
    "206": (30, 62, 38.1),
    "207": (35, 72, 42.9),
    "208": (40, 80, 49.2),
    "209": (45, 85, 49.2),
    "210": (50, 90, 51.6),
}

# UCP pillow blocks: number -> (H centre height, L length, J bolt spacing, A base width,
# N bolt slot width, H1 base thickness, H2 total height) mm
PILLOW_BLOCKS: dict[str, tuple[float, ...]] = {
    "201": (30.2, 127, 95, 38, 13, 14, 62),
    "204": (33.3, 127, 95, 38, 13, 14, 65),
    "205": (36.5, 140, 105, 38, 13, 15, 71),
    "206": (42.9, 165, 121, 48, 17, 17, 83),
    "207": (47.6, 167, 127, 48, 17, 18, 93),
    "208": (49.2, 184, 137, 54, 17, 18, 98),
    "209": (54.0, 190, 146, 54, 17, 20, 106),
    "210": (57.2, 206, 159, 60, 20, 21, 114),
}

# UCF square flange units: number -> (L square side, J bolt spacing, N bolt hole, A2 flange) mm
SQUARE_FLANGE_UNITS: dict[str, tuple[float, float, float, float]] = {
    "201": (86, 64, 12, 11),
    "204": (86, 64, 12, 12),
    "205": (95, 70, 12, 14),
    "206": (108, 83, 12, 14),
    "207": (117, 92, 14, 15),
    "208": (130, 102, 16, 15),
    "209": (137, 105, 16, 16),
    "210": (143, 111, 16, 16),
}
# UCFL oval flange units: number -> (H length, J bolt spacing, L width, N bolt hole, A2) mm
OVAL_FLANGE_UNITS: dict[str, tuple[float, float, float, float, float]] = {
    "201": (113, 90, 60, 12, 11),
    "204": (113, 90, 60, 12, 11),
    "205": (130, 99, 68, 16, 13),
    "206": (148, 117, 80, 16, 13),
    "207": (161, 130, 90, 16, 15),
    "208": (175, 144, 100, 16, 15),
    "209": (188, 148, 108, 19, 16),
    "210": (197, 157, 115, 19, 16),
}

# Profiled rails ISO 12090-1 (HG / MGN series): size -> (rail width, rail height,
# counterbore D, counterbore depth h, hole d, hole pitch P, end distance E) mm
LINEAR_RAILS: dict[str, tuple[float, ...]] = {
    "MGN7": (7, 5, 4.2, 2.3, 2.4, 15, 5),
    "MGN9": (9, 6.5, 6, 3.5, 3.5, 20, 7.5),
    "MGN12": (12, 8, 6, 4.5, 3.5, 25, 10),
    "MGN15": (15, 10, 6, 4.5, 3.5, 40, 15),
    "HGR15": (15, 15, 7.5, 5.3, 4.5, 60, 20),
    "HGR20": (20, 17.5, 9.5, 8.5, 6, 60, 20),
    "HGR25": (23, 22, 11, 9, 7, 60, 20),
    "HGR30": (28, 26, 14, 12, 9, 80, 20),
}
# Carriages for those rails: size -> (total height H from rail foot, clearance H1,
# block width W, block length L, hole spacing B across, C along, thread M) mm
LINEAR_CARRIAGES: dict[str, tuple[float, ...]] = {
    "MGN7": (8, 1.5, 17, 23.5, 12, 8, 2),
    "MGN9": (10, 2, 20, 39.9, 15, 16, 3),
    "MGN12": (13, 3, 27, 45.4, 20, 20, 3),
    "MGN15": (16, 4, 32, 58.8, 25, 25, 3),
    "HGR15": (28, 4.3, 34, 61.4, 26, 26, 4),
    "HGR20": (30, 4.6, 44, 77.5, 32, 36, 5),
    "HGR25": (40, 5.5, 48, 84, 35, 35, 6),
    "HGR30": (45, 6, 60, 97.4, 40, 40, 8),
}

# Trapezoidal threads DIN 103 (ISO 2904): label -> (nominal d, pitch P, lead) mm
TRAPEZOIDAL_THREADS: dict[str, tuple[float, float, float]] = {
    "Tr8x1.5": (8, 1.5, 1.5),
    "Tr8x8(P2)": (8, 2, 8),
    "Tr10x2": (10, 2, 2),
    "Tr12x3": (12, 3, 3),
    "Tr16x4": (16, 4, 4),
    "Tr20x4": (20, 4, 4),
    "Tr24x5": (24, 5, 5),
    "Tr30x6": (30, 6, 6),
    "Tr36x6": (36, 6, 6),
    "Tr40x7": (40, 7, 7),
}


def trapezoidal_clearance(pitch: float) -> float:
    """DIN 103 crest clearance a_c (mm) for a pitch."""
    return 0.15 if pitch <= 1.5 else 0.25 if pitch <= 5 else 0.5


# Linear ball bushings ISO 10285 (LM..UU): shaft d -> (outer D, length L, groove spacing B,
# groove diameter D1, groove width W) mm
LINEAR_BUSHINGS: dict[float, tuple[float, float, float, float, float]] = {
    3: (7, 10, 0, 0, 0),
    4: (8, 12, 0, 0, 0),
    5: (10, 15, 10.2, 9.6, 1.1),
    6: (12, 19, 13.5, 11.5, 1.1),
    8: (15, 24, 17.5, 14.3, 1.1),
    10: (19, 29, 22, 18, 1.3),
    12: (21, 30, 23, 20, 1.3),
    16: (28, 37, 26.5, 27, 1.6),
    20: (32, 42, 30.5, 30.5, 1.6),
    25: (40, 59, 41, 38, 1.85),
    30: (45, 64, 44.5, 43, 1.85),
    40: (60, 80, 60.5, 57, 2.1),
}

# Flanged trapezoidal lead screw nuts (DIN 103 thread): nominal d -> (body D, length L,
# flange diameter, flange thickness, flange hole d, hole circle) mm
LEAD_SCREW_NUTS: dict[float, tuple[float, float, float, float, float, float]] = {
    8: (10.2, 15, 22, 3.5, 3.5, 16),
    10: (15, 25, 34, 5, 4.5, 25),
    12: (18, 30, 38, 8, 5.5, 28),
    16: (28, 44, 48, 10, 6, 38),
    20: (32, 44, 55, 10, 7, 45),
    24: (36, 50, 62, 10, 7, 50),
    30: (45, 56, 72, 12, 7, 58),
    36: (52, 60, 80, 12, 9, 65),
    40: (60, 65, 90, 14, 9, 75),
}
