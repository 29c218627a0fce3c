"""Read a KiCad 3D model's file name into parameters, tags and plain-English descriptions.

KiCad names its models by convention, fields joined by "_": ``DIP-8_W7.62mm``,
``R_0805_2012Metric``, ``PinHeader_2x20_P2.54mm_Vertical``, ``QFN-20-1EP_4x4mm_P0.5mm_EP2.5x2.5mm``.
The parser is tolerant: every field it recognises becomes a parameter, the rest is ignored, and
no name is refused. Lengths are in millimetres, as the names give them.
"""

from __future__ import annotations

import re

# package families whose suffix "-N" is a pin count (DIP-8, TSSOP-20, BGA-256, TSOP-II-32)
_PINNED_PACKAGE = re.compile(
    r"^(?P<package>[A-Z]{0,4}(?:DIP|SIP|SOIC|SOP|SO|QFN|DFN|QFP|BGA|LGA|PLCC|SON|CSP|DSUB)"
    r"(?:-I{1,2})?)-?(?P<pins>\d+)(?:-(?P<ep>\d+)EP)?"
)
# designations whose number is part of the name (TO-220, SOT-23, SOD-323, DO-41); TO-220-3: 3 pins
_DESIGNATED_PACKAGE = re.compile(
    r"^(?P<package>(?:TO|SOT|SOD|DO|SC|HC)-?\d+[A-Z]*)(?:-(?P<pins>\d+))?(?:_|-|$)"
)
_NAMED_PACKAGES = frozenset(
    "SMA SMB SMC SMF MELF MiniMELF MicroMELF PowerDI DirectFET PLCC4 PLCC2 PLCC6".split()
)
_SIZE_CODES = frozenset("01005 0201 0402 0603 0805 1206 1210 1806 1812 2010 2220 2512".split())
_NUM = r"(\d+(?:\.\d+)?)"
_FIELD_MM = re.compile(rf"^(?P<key>L|W|H|D|Z|O|Drill|Ball|Pad)(?P<value>{_NUM[1:-1]})mm$")
_PITCH = re.compile(rf"^P(?:itch)?{_NUM}(?:x{_NUM})?mm$")
_PITCH_AXIS = re.compile(rf"^P(?P<axis>[xy]){_NUM}mm$")
_BODY = re.compile(rf"^{_NUM}x{_NUM}(?:x{_NUM})?(?P<mm>mm)?$")
_GRID = re.compile(r"^(?P<rows>\d{1,2})x(?P<per_row>\d{1,3})(?:-(?P<mp>\d+)MP)?$")
_ARRAY = re.compile(r"^(?P<count>\d{1,2})x(?P<code>\d{4,5})$")
_METRIC = re.compile(r"^(?P<metric>\d{4,5})Metric$")
_EIA = re.compile(r"^EIA-(?P<metric>\d{4})(?:-(?P<height>\d+))?$")
_EXPOSED_PAD = re.compile(rf"^EP{_NUM}x{_NUM}mm$")
_LAYOUT = re.compile(r"^Layout(?P<rows>\d+)x(?P<cols>\d+)$")
_SWITCH = re.compile(r"^(?P<kind>SPST|SPDT|DPDT|DPST|4PDT)(?:x(?P<positions>\d+))?$")
_PIN_COUNT = re.compile(r"^(?P<pins>\d+)-?Pin$")

ORIENTATIONS = {"Vertical": "vertical", "Horizontal": "horizontal", "Angled": "angled"}
MOUNTINGS = {"SMD": "surface-mount", "THT": "through-hole"}
MANUFACTURERS = {
    "PhoenixContact": "Phoenix Contact", "Phoenix": "Phoenix Contact", "Molex": "Molex",
    "JST": "JST", "TE": "TE Connectivity", "Wuerth": "Würth Elektronik", "Keystone": "Keystone",
    "Omron": "Omron", "Kemet": "Kemet", "AVX": "AVX", "muRata": "Murata", "Murata": "Murata",
    "MuRATA": "Murata", "muRATA": "Murata", "TDK": "TDK", "Bourns": "Bourns", "Vishay": "Vishay",
    "Panasonic": "Panasonic", "Fastron": "Fastron", "Neosid": "Neosid", "Osram": "Osram",
    "Finder": "Finder", "Schurter": "Schurter", "BelFuse": "Bel Fuse", "CUI": "CUI",
    "Qorvo": "Qorvo", "TRACO": "TRACO Power", "RECOM": "RECOM", "XP": "XP Power",
    "Littelfuse": "Littelfuse", "Samtec": "Samtec", "Hirose": "Hirose", "Amphenol": "Amphenol",
    "CTS": "CTS", "Diotec": "Diotec", "SeikoEpson": "Seiko Epson", "Inolux": "Inolux",
    "EPCOS": "EPCOS", "Coilcraft": "Coilcraft", "Sumida": "Sumida", "Texas": "Texas Instruments",
    "NXP": "NXP", "Infineon": "Infineon", "Altech": "Altech", "Stocko": "Stocko",
    "StandexMeder": "Standex-Meder", "Schrack": "Schrack", "Kingbright": "Kingbright",
    "Copal": "Copal", "Bosch": "Bosch", "MeanWell": "Mean Well", "Abracon": "Abracon",
    "Sanyo": "Sanyo", "Sharp": "Sharp", "Mallory": "Mallory", "Kobitone": "Kobitone",
    "Vigortronix": "Vigortronix", "IDT": "IDT", "Pulse": "Pulse", "Nexperia": "Nexperia",
}  # fmt: skip
# category (folder name without ".3dshapes") -> what one of its models is
CATEGORY_KINDS = {
    "Battery": "battery holder", "Button_Switch_SMD": "switch", "Button_Switch_THT": "switch",
    "Buzzer_Beeper": "buzzer", "Capacitor_SMD": "chip capacitor", "Capacitor_THT": "capacitor",
    "Capacitor_Tantalum_SMD": "tantalum capacitor", "Connector_Dsub": "D-sub connector",
    "Connector_FFC-FPC": "FFC/FPC connector", "Connector_IDC": "IDC box header",
    "Connector_JST": "JST wire-to-board connector", "Connector_Molex": "Molex connector",
    "Connector_Pin": "solder pin", "Connector_Stocko": "Stocko connector",
    "Converter_ACDC": "AC/DC converter module", "Converter_DCDC": "DC/DC converter module",
    "Crystal": "quartz crystal", "Diode_SMD": "diode", "Diode_THT": "diode",
    "Display": "display module", "Display_7Segment": "7-segment display", "Filter": "filter",
    "Fuse": "fuse", "Inductor_SMD": "inductor", "Inductor_THT": "inductor", "LED_SMD": "LED",
    "LED_THT": "LED", "Mounting_Wuerth": "PCB standoff", "OptoDevice": "optoelectronic device",
    "Oscillator": "oscillator", "Package_BGA": "ball grid array package",
    "Package_DFN_QFN": "no-lead package", "Package_DIP": "package",
    "Package_DirectFET": "power transistor package", "Package_LGA": "land grid array package",
    "Package_QFP": "quad flat package", "Package_SIP": "single in-line package",
    "Package_SO": "small-outline package", "Package_SON": "small-outline no-lead package",
    "Package_TO_SOT_SMD": "transistor package", "Package_TO_SOT_THT": "transistor package",
    "Potentiometer_THT": "potentiometer", "RF_Module": "RF module", "Relay_SMD": "relay",
    "Relay_THT": "relay", "Resistor_SMD": "chip resistor", "Resistor_THT": "resistor",
    "TestPoint": "test point", "Transformer_THT": "transformer", "Varistor": "varistor",
}  # fmt: skip
# a name's leading fields -> a more precise kind than the category's
NAME_KINDS = (
    ("R_Array", "chip resistor array"), ("R_Axial", "axial resistor"), ("R_LDR", "photoresistor"),
    ("CP_Elec", "aluminium electrolytic capacitor"), ("C_Elec", "electrolytic capacitor"),
    ("CP_Radial", "radial electrolytic capacitor"), ("CP_Axial", "axial electrolytic capacitor"),
    ("CP_EIA", "tantalum capacitor"), ("C_Trimmer", "trimmer capacitor"),
    ("C_Axial", "axial capacitor"), ("C_Disc", "ceramic disc capacitor"),
    ("C_Rect", "film capacitor"), ("C_Radial", "radial capacitor"),
    ("L_Radial", "radial inductor"), ("L_Axial", "axial inductor"), ("L_Toroid", "toroid inductor"),
    ("SW_DIP", "DIP switch"), ("SW_Push", "push button"), ("SW_Slide", "slide switch"),
    ("SW_Tactile", "tactile switch"), ("RV_Disc", "disc varistor"),
    ("Fuseholder", "fuse holder"), ("BatteryHolder", "battery holder"),
    ("Resonator", "ceramic resonator"), ("Crystal_SMD", "SMD crystal"),
    ("Diode_Bridge", "bridge rectifier"), ("PinHeader", "pin header"),
    ("PinSocket", "pin socket"), ("TerminalBlock", "screw terminal block"),
    ("IDC-Header", "IDC box header"), ("MagneticBuzzer", "magnetic buzzer"),
    ("PhoenixContact", "pluggable terminal block connector"),
)  # fmt: skip
# categories whose parts are all surface-mount or all through-hole
CATEGORY_MOUNTINGS = {
    "Package_DIP": "through-hole", "Package_SIP": "through-hole", "Package_SO": "surface-mount",
    "Package_QFP": "surface-mount", "Package_DFN_QFN": "surface-mount",
    "Package_BGA": "surface-mount", "Package_LGA": "surface-mount",
    "Package_SON": "surface-mount", "Package_DirectFET": "surface-mount",
    "Connector_PinHeader": "through-hole", "Connector_PinSocket": "through-hole",
}  # fmt: skip
STANDARD_PITCHES = {"DIP": 2.54, "SIP": 2.54}  # when a name leaves the pitch out


def _number(text: str) -> float | int:
    value = float(text)
    return int(value) if value.is_integer() and "." not in text else value


def _mm(value: float) -> str:
    """A length for text: 7.62, 2.54, 0.5, 40."""
    return f"{value:.3f}".rstrip("0").rstrip(".")


def category_words(category: str) -> list[str]:
    """Lower-case words of a category (``Connector_PinHeader_2.54mm`` -> connector, pin, header)."""
    words = []
    for field in re.split(r"[_\-]", category):
        if re.fullmatch(r"[\d.]+mm", field) or field in MOUNTINGS:
            continue
        words += [w.lower() for w in re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+", field)]
    return words


def model_kind(name: str, category: str) -> str:
    """What a model is, in words: from its name's leading fields, else from its category."""
    for prefix, kind in NAME_KINDS:
        if name == prefix or name.startswith((prefix + "_", prefix + "-")):
            return kind
    if category in CATEGORY_KINDS:
        return CATEGORY_KINDS[category]
    for prefix, kind in NAME_KINDS:
        if category.startswith(("Connector_" + prefix, prefix)):
            return kind
    if category.startswith("Connector_Phoenix"):
        return "pluggable terminal block connector"
    words = category_words(category)
    return " ".join(reversed(words)) if words else "electronic component"


def parse_model_name(name: str, category: str = "") -> dict:
    """Parameters read from a KiCad model's file name (without extension).

    name : e.g. "DIP-8_W7.62mm", "R_0805_2012Metric", "PinHeader_2x20_P2.54mm_Vertical"
    category : the model's folder without ".3dshapes" (``Package_DIP``); refines the mounting
    returns: any of package, pins, rows, pins_per_row, mounting_pads, pitch, pitch_x, pitch_y,
        row_spacing, body ([a, b] or [a, b, c]), length, width, height, diameter, drill,
        size_code, metric_code, array_count, exposed_pad (bool), exposed_pad_size, ball_grid,
        switch, positions, gender, orientation, mounting, manufacturer; lengths in mm
    """
    fields = name.split("_")
    found: dict = {}
    lengths: dict[str, float] = {}
    has_pitch = any(_PITCH.match(f) or _PITCH_AXIS.match(f) for f in fields)
    gridded = has_pitch or category.startswith(("Connector", "TerminalBlock"))
    for index, field in enumerate(fields):
        if "package" not in found:
            match = _PINNED_PACKAGE.match(field) or _DESIGNATED_PACKAGE.match(field)
            if match:
                found["package"] = match["package"]
                if match["pins"] and int(match["pins"]) >= 2:
                    found["pins"] = int(match["pins"])
                if match.groupdict().get("ep"):
                    found["exposed_pad"] = True
                continue
            if field in _NAMED_PACKAGES:
                found["package"] = field
                continue
        if field in ORIENTATIONS:
            found.setdefault("orientation", ORIENTATIONS[field])
        elif field in ("Male", "Female"):
            found["gender"] = field.lower()
        elif field in MOUNTINGS:
            found["mounting"] = MOUNTINGS[field]
        elif field == "1EP":
            found["exposed_pad"] = True
        elif (
            field in _SIZE_CODES
            and index + 1 < len(fields)
            and fields[index + 1].endswith("Metric")
        ):
            found["size_code"] = field
        elif match := _METRIC.match(field):
            found["metric_code"] = match["metric"]
        elif match := _EIA.match(field):
            found["package"] = f"EIA-{match['metric']}"
            found["metric_code"] = match["metric"]
        elif match := _PITCH.match(field):
            if match[2]:
                found["pitch_x"], found["pitch_y"] = _number(match[1]), _number(match[2])
            else:
                found["pitch"] = _number(match[1])
        elif match := _PITCH_AXIS.match(field):
            found[f"pitch_{match['axis']}"] = _number(match[2])
        elif match := _FIELD_MM.match(field):
            lengths[match["key"]] = _number(match["value"])
        elif match := _EXPOSED_PAD.match(field):
            found["exposed_pad"] = True
            found["exposed_pad_size"] = [_number(match[1]), _number(match[2])]
        elif match := _LAYOUT.match(field):
            found["ball_grid"] = [int(match["rows"]), int(match["cols"])]
        elif (match := _ARRAY.match(field)) and match["code"] in _SIZE_CODES:
            found["array_count"] = int(match["count"])
            found["size_code"] = match["code"]
        elif (match := _GRID.match(field)) and gridded:
            rows, per_row = int(match["rows"]), int(match["per_row"])
            found.update(rows=rows, pins_per_row=per_row, pins=rows * per_row)
            if match["mp"]:
                found["mounting_pads"] = int(match["mp"])
        elif match := _BODY.match(field):
            if match["mm"] or "." in field or not gridded:
                found.setdefault("body", [_number(v) for v in match.groups()[:3] if v])
        elif match := _SWITCH.match(field):
            found["switch"] = match["kind"]
            if match["positions"]:
                found["positions"] = int(match["positions"])
        elif match := _PIN_COUNT.match(field):
            found.setdefault("pins", int(match["pins"]))
        else:
            maker = MANUFACTURERS.get(field) or MANUFACTURERS.get(field.split("-")[0])
            if maker:
                found.setdefault("manufacturer", maker)
    if "manufacturer" not in found:
        for word in category.split("_")[1:]:
            if word in MANUFACTURERS:
                found["manufacturer"] = MANUFACTURERS[word]
                break
    if "body" not in found and found.get("metric_code"):
        code = found["metric_code"]
        half = len(code) // 2
        found["body"] = [int(code[:half]) / 10, int(code[half:]) / 10]
    # W is the row spacing of a dual-row part (DIP-8_W7.62mm) unless other sizes make it a width
    if "W" in lengths:
        key = "width" if {"L", "D", "H"} & set(lengths) or "body" in found else "row_spacing"
        found[key] = lengths.pop("W")
    names = {"L": "length", "H": "height", "D": "diameter", "Drill": "drill", "Ball": "ball"}
    for key, value in lengths.items():
        if key in names:
            found[names[key]] = value
    if "pitch" not in found and found.get("package") in STANDARD_PITCHES:
        found["pitch"] = STANDARD_PITCHES[found["package"]]
    if "mounting" not in found:
        if category.endswith("_SMD"):
            found["mounting"] = "surface-mount"
        elif category.endswith("_THT"):
            found["mounting"] = "through-hole"
        else:
            for prefix, mounting in CATEGORY_MOUNTINGS.items():
                if category.startswith(prefix):
                    found["mounting"] = mounting
    return {key: found[key] for key in _ORDER if key in found}


_ORDER = (
    "package", "pins", "rows", "pins_per_row", "mounting_pads", "pitch", "pitch_x", "pitch_y",
    "row_spacing", "size_code", "metric_code", "array_count", "body", "length", "width",
    "height", "diameter", "drill", "ball", "exposed_pad", "exposed_pad_size", "ball_grid",
    "switch", "positions", "gender", "orientation", "mounting", "manufacturer",
)  # fmt: skip


def _letters(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _size(values: list) -> str:
    return " x ".join(_mm(v) for v in values) + " mm"


def _clauses(p: dict) -> list[str]:
    """Facts of the parameters as short clauses, most telling first."""
    clauses = []
    if p.get("rows", 0) > 1:
        clauses.append(f"{p['pins']} pins")
    if "row_spacing" in p:
        clauses.append(f"{_mm(p['row_spacing'])} mm row spacing")
    if "pitch" in p:
        clauses.append(f"{_mm(p['pitch'])} mm pitch")
    elif "pitch_x" in p and "pitch_y" in p:
        clauses.append(f"{_mm(p['pitch_x'])} x {_mm(p['pitch_y'])} mm pitch")
    if "body" in p:
        clauses.append(f"body {_size(p['body'])}")
    if "length" in p:
        clauses.append(f"{_mm(p['length'])} mm long")
    if "diameter" in p:
        clauses.append(f"{_mm(p['diameter'])} mm diameter")
    if "width" in p:
        clauses.append(f"{_mm(p['width'])} mm wide")
    if "height" in p:
        clauses.append(f"{_mm(p['height'])} mm high")
    if "ball_grid" in p:
        clauses.append(f"{p['ball_grid'][0]} x {p['ball_grid'][1]} ball grid")
    if p.get("exposed_pad"):
        pad = f" {_size(p['exposed_pad_size'])}" if "exposed_pad_size" in p else ""
        clauses.append(f"exposed thermal pad{pad}")
    if "drill" in p:
        clauses.append(f"{_mm(p['drill'])} mm drill")
    if "orientation" in p:
        clauses.append(p["orientation"])
    return clauses


def _outline(p: dict) -> str:
    """The size of a part's body in words ("2 x 1.2 mm"), or "" when the name gives none."""
    if "body" in p:
        return _size(p["body"])
    if "length" in p and "diameter" in p:
        return f"{_mm(p['diameter'])} mm diameter and {_mm(p['length'])} mm length"
    for first, second in (("length", "width"), ("width", "height"), ("length", "height")):
        if first in p and second in p:
            return _size([p[first], p[second]])
    if "diameter" in p:
        return f"{_mm(p['diameter'])} mm diameter"
    return ""


def _head(p: dict, kind: str, with_mounting: bool = True) -> str:
    """The noun phrase: "8-pin DIP through-hole package", "0805 (2012 metric) chip resistor"."""
    words = []
    if "array_count" in p:
        words.append(f"{p['array_count']}-element")
    if "pins" in p and p.get("rows", 0) > 1:
        words.append(f"{p['rows']}x{p['pins_per_row']}")
    elif "pins" in p:
        words.append(f"{p['pins']}-pin")
    elif "positions" in p:
        words.append(f"{p['positions']}-position")
    if "package" in p and _letters(p["package"]) not in _letters(kind):
        words.append(p["package"])
    if "switch" in p:
        words.append(p["switch"])
    if "gender" in p:
        words.append(p["gender"])
    if "size_code" in p:
        metric = f" ({p['metric_code']} metric)" if "metric_code" in p else ""
        words.append(p["size_code"] + metric)
    if with_mounting and "mounting" in p and p["mounting"] not in kind:
        words.append(p["mounting"])
    words.append(kind)
    return " ".join(words)


def describe_model(name: str, category: str, parameters: dict) -> list[str]:
    """Three or four plain-English descriptions of a model, the most complete first.

    e.g. "8-pin DIP through-hole package, 7.62 mm row spacing, 2.54 mm pitch"
    """
    kind = model_kind(name, category)
    p = parameters
    clauses = _clauses(p)
    maker = p.get("manufacturer", "")
    maker = f" by {maker}" if maker and _letters(maker) not in _letters(kind) else ""
    texts = [", ".join([_head(p, kind) + maker, *clauses])]
    area = category.replace("_", " ").replace(".3dshapes", "")
    texts.append(f"{name}: {_head(p, kind, with_mounting=False)} from the KiCad {area} library")
    mounting = f"{p['mounting']} " if "mounting" in p and p["mounting"] not in kind else ""
    size = _outline(p)
    spacing = [c for c in clauses if c.endswith(("row spacing", "pitch"))]
    if size:
        texts.append(f"{mounting}{kind} of {size}" + "".join(f", {c}" for c in spacing))
    elif spacing:
        texts.append(f"{mounting}{kind} with {' and '.join(spacing)}")
    else:
        texts.append(f"{mounting}{kind} 3D model{maker} for PCB layout")
    terse = [p.get("package", ""), p.get("size_code", "")]
    terse += [f"{p['pins']} pin" if "pins" in p else "", kind]
    if "pitch" in p:
        terse.append(f"{_mm(p['pitch'])}mm pitch")
    if "mounting" in p:
        terse.append({"surface-mount": "smd", "through-hole": "tht"}[p["mounting"]])
    terse += [p.get("orientation", ""), p.get("manufacturer", "")]
    terse = [t for t in terse if t]
    if len(terse) < 3:  # little parsed: the name's own fields say the rest
        terse += name.split("_")[1:]
    texts.append(" ".join(terse).lower())
    return list(dict.fromkeys(t for t in texts if t.strip()))


def model_tags(name: str, category: str, parameters: dict) -> list[str]:
    """Search tags: the kind, category words, package, mounting, orientation, manufacturer."""
    p = parameters
    tags = [model_kind(name, category)]
    tags += [p[k] for k in ("package", "size_code", "mounting", "orientation") if k in p]
    if "mounting" in p:
        tags.append({"surface-mount": "SMD", "through-hole": "THT"}[p["mounting"]])
    if "manufacturer" in p:
        tags.append(p["manufacturer"])
    tags += category_words(category)
    tags.append("electronics")
    unique: dict[str, str] = {}
    for tag in (str(t).strip() for t in tags):
        if tag:
            unique.setdefault(tag.lower(), tag)
    return list(unique.values())
