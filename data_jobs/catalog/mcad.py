"""Build a catalog of real CAD parts from OpenSCAD's MCAD library: meshes in mm + manifest.jsonl.

MCAD (Debian's ``openscad-mcad``, ``/usr/share/openscad/libraries/MCAD``) models gears,
bearings, metric fasteners, stepper motors, servos and more as parametric OpenSCAD modules. Each
part here is one module call with a real parameter set (``mcad_parts``), written as a small
.scad file and rendered with ``openscad -o part.stl``; the mesh is checked as the indexer does
and written as binary STL or PLY. The folder has the layout of the sample catalog
(``manifest.jsonl`` + ``parts/``); a part that fails or times out is a row of ``errors.jsonl``,
never the end of the job.
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from data_jobs.catalog.attributes import ShapeAttributes
from data_jobs.catalog.generate import (
    ERRORS_NAME,
    MANIFEST_KEYS,
    PARTS_DIR,
    write_converted_catalog,
)

PACKAGE = "openscad-mcad"
DEFAULT_LIBRARY = Path("/usr/share/openscad/libraries/MCAD")
MESH_FORMATS = ("stl", "ply")
SOURCE_URI = "https://github.com/openscad/MCAD/blob/master/"
RENDER_TIMEOUT_S = 180.0
# licences of the files used, as Debian's copyright file gives them (all allow LGPL-2.1)
LICENSES = {
    "involute_gears.scad": "CC or LGPL-2.1",
    "bearing.scad": "CC-BY-SA-3.0 or LGPL-2 or LGPL-2.1",
    "stepper.scad": "CC-BY-SA-3.0 or LGPL-2 or LGPL-2.1",
    "metric_fastners.scad": "GPL-3 or LGPL-2.1",
    "servos.scad": "LGPL-2.1",
    "lego_compatibility.scad": "PD-nefercheprure or LGPL-2.1",
    "screw.scad": "LGPL-2.1",
}
LICENSE = "LGPL-2.1 (some files dual-licensed: see each row's license)"
# bearing series 6xx: bore, outer diameter, width in mm (MCAD's bearingDimensions table)
BEARINGS = {
    604: (4, 12, 4), 606: (6, 17, 6), 608: (8, 22, 7), 609: (9, 24, 7), 623: (3, 10, 4),
    625: (5, 16, 5), 626: (6, 19, 6), 628: (8, 24, 8), 635: (5, 19, 6), 638: (8, 28, 9),
    686: (6, 13, 5), 688: (8, 16, 5),
}  # fmt: skip
# stepper frame: NEMA size -> (flange side mm, body lengths short/medium/long mm)
STEPPERS = {
    8: (20, (33, 43, 43)), 11: (28, (32, 40, 52)), 14: (35.3, (26, 28, 34)),
    17: (42.2, (33, 39, 47)), 23: (56.4, (39, 54, 76)), 34: (85, (66, 96, 126)),
}  # fmt: skip
METRIC_SIZES = (3, 4, 5, 6, 8, 10, 12, 16, 20)


@dataclass(frozen=True)
class McadPart:
    """One MCAD module call with a parameter set.

    key : short stable name made of [a-z0-9-] (``spur-gear-z20-m1``), the part id without "mcad-"
    module_file : the MCAD file that defines the module (``involute_gears.scad``)
    call : the OpenSCAD statement that builds the part, in mm
    category, parent : the part's kind and its broader kind (``spur_gear``, ``gear``)
    descriptions : engineer's phrasings, the first the plainest
    """

    key: str
    name: str
    module_file: str
    call: str
    category: str
    parent: str
    parameters: dict
    descriptions: tuple[str, ...]
    tags: tuple[str, ...] = ()
    use: bool = True  # ``use <...>`` (modules only); False: ``include`` for its variables too

    @property
    def part_id(self) -> str:
        return f"mcad-{self.key}"


def num(value: float) -> str:
    """A number as a person writes it: 2.0 -> "2", 1.25 -> "1.25"."""
    return f"{value:.3f}".rstrip("0").rstrip(".")


# ---------------------------------------------------------------- the parts


def spur_gears() -> list[McadPart]:
    """Involute spur gears, pressure angle 20 degrees, some with lightening holes in the web."""
    sets = [  # teeth, module, bore, web holes
        (12, 1.0, 4, 0), (18, 1.0, 5, 0), (24, 1.5, 6, 0), (30, 1.5, 8, 4), (36, 2.0, 8, 5),
        (48, 1.0, 6, 6), (20, 2.5, 10, 0), (60, 1.0, 8, 6), (16, 2.0, 8, 0),
    ]  # fmt: skip
    parts = []
    for teeth, module, bore, holes in sets:
        face = 6 * module
        call = _gear_call(teeth, module, bore, face, holes)
        d = teeth * module
        words = f"{teeth} teeth, module {num(module)}"
        web = f", {holes} lightening holes in the web" if holes else ""
        parts.append(
            McadPart(
                key=f"spur-gear-z{teeth}-m{num(module).replace('.', '-')}",
                name=f"Spur gear {teeth}T m{num(module)}",
                module_file="involute_gears.scad",
                call=call,
                category="spur_gear",
                parent="gear",
                parameters=dict(
                    teeth=teeth, module=module, bore=bore, face_width=face, holes=holes
                ),
                descriptions=(
                    f"spur gear with {words}",
                    f"involute spur gear, {teeth} teeth, m{num(module)}, pitch diameter "
                    f"{num(d)} mm, {num(face)} mm face width{web}",
                    f"straight cut gear wheel, {num(d)} mm pitch circle, {bore} mm bore with hub",
                    f"{teeth}-tooth 20 degree pressure angle spur gear on a hub, {bore} mm bore",
                ),
                tags=("gear", "spur gear", "toothed", "hub", "bore"),
            )
        )
    return parts


def helical_gears() -> list[McadPart]:
    """Involute helical gears: the spur gear's tooth twisted over the face by the helix angle."""
    sets = [(20, 1.0, 5, 15), (30, 1.5, 8, 20), (24, 2.0, 8, 15), (40, 1.0, 6, 30)]
    parts = []
    for teeth, module, bore, helix in sets:
        face = 8 * module
        radius = teeth * module / 2
        twist = math.degrees(face * math.tan(math.radians(helix)) / radius)
        call = _gear_call(teeth, module, bore, face, 0, twist=twist)
        parts.append(
            McadPart(
                key=f"helical-gear-z{teeth}-m{num(module).replace('.', '-')}-b{helix}",
                name=f"Helical gear {teeth}T m{num(module)} {helix} deg",
                module_file="involute_gears.scad",
                call=call,
                category="helical_gear",
                parent="gear",
                parameters=dict(
                    teeth=teeth, module=module, bore=bore, face_width=face, helix_angle=helix
                ),
                descriptions=(
                    f"helical gear with {teeth} teeth, module {num(module)}",
                    f"helical gear, {helix} degree helix angle, {teeth} teeth, m{num(module)}, "
                    f"{num(2 * radius)} mm pitch diameter",
                    f"gear wheel with angled (helical) teeth, {num(face)} mm wide, {bore} mm bore",
                    f"{teeth}-tooth helical spur gear on a hub",
                ),
                tags=("gear", "helical gear", "toothed", "hub", "bore"),
            )
        )
    return parts


def _gear_call(
    teeth: int, module: float, bore: float, face: float, holes: int, twist: float = 0.0
) -> str:
    """MCAD's ``gear``: circular_pitch is in its units (180 x module); the hub fits the root."""
    root = module * (teeth - 2.5)
    hub = min(2 * bore + 4, 0.85 * root)
    web = face * 0.6 if holes else face
    return (
        f"gear(number_of_teeth={teeth}, circular_pitch={num(180 * module)}, "
        f"pressure_angle=20, clearance={num(0.25 * module)}, gear_thickness={num(web)}, "
        f"rim_thickness={num(face)}, rim_width={num(3 * module)}, "
        f"hub_thickness={num(face + 2 * module)}, hub_diameter={num(hub)}, "
        f"bore_diameter={num(bore)}, circles={holes}, twist={num(twist)});"
    )


def bevel_gears() -> list[McadPart]:
    """Straight bevel gears of a 1:1 mitre pair (pitch cone 45 degrees)."""
    parts = []
    for teeth, module, bore in ((16, 1.5, 5), (20, 2.0, 6), (24, 1.5, 6), (30, 1.0, 5)):
        pitch_radius = teeth * module / 2
        cone = pitch_radius / math.sin(math.radians(45))
        face = cone / 3
        call = (
            f"bevel_gear(number_of_teeth={teeth}, cone_distance={num(cone)}, "
            f"face_width={num(face)}, outside_circular_pitch={num(180 * module)}, "
            f"pressure_angle=20, bore_diameter={bore}, gear_thickness={num(3 * module + 2)});"
        )
        parts.append(
            McadPart(
                key=f"bevel-gear-z{teeth}-m{num(module).replace('.', '-')}",
                name=f"Bevel gear {teeth}T m{num(module)}",
                module_file="involute_gears.scad",
                call=call,
                category="bevel_gear",
                parent="gear",
                parameters=dict(teeth=teeth, module=module, bore=bore, pitch_angle=45),
                descriptions=(
                    f"bevel gear with {teeth} teeth, module {num(module)}",
                    f"straight bevel gear (mitre gear, 1:1, 90 degree shafts), {teeth} teeth, "
                    f"{num(2 * pitch_radius)} mm pitch diameter",
                    f"conical gear wheel with straight teeth, {bore} mm bore",
                    f"{teeth}-tooth mitre gear",
                ),
                tags=("gear", "bevel gear", "toothed", "cone", "bore"),
            )
        )
    return parts


def ball_bearings() -> list[McadPart]:
    """Shielded deep groove ball bearings of the 6xx miniature series (rings and shields)."""
    parts = []
    for model, (bore, outer, width) in sorted(BEARINGS.items()):
        skate = " (skate bearing)" if model == 608 else ""
        parts.append(
            McadPart(
                key=f"ball-bearing-{model}",
                name=f"Ball bearing {model}",
                module_file="bearing.scad",
                call=f"bearing(model={model});",
                category="ball_bearing",
                parent="bearing",
                parameters=dict(
                    designation=str(model), bore=bore, outer_diameter=outer, width=width
                ),
                descriptions=(
                    f"{model} deep groove ball bearing{skate}",
                    f"ball bearing {model}-2Z, {bore} x {outer} x {width} mm, shielded",
                    f"radial ball bearing, {bore} mm bore, {outer} mm outside diameter, "
                    f"{width} mm wide",
                    f"miniature bearing {model}: a ring {outer} mm across with a {bore} mm bore",
                ),
                tags=("bearing", "ball bearing", "ring", "bore"),
                use=False,
            )
        )
    return parts


def fasteners() -> list[McadPart]:
    """MCAD's metric fasteners (plain shanks, no modelled threads): nuts, bolts, screws, washers."""
    parts = []
    for d in METRIC_SIZES[:8]:
        af = 1.8 * d
        parts.append(
            _fastener(
                f"hex-nut-m{d}",
                f"Hex nut M{d}",
                f"flat_nut({d});",
                "hex_nut",
                "nut",
                dict(thread=f"M{d}", diameter=d, thickness=0.8 * d, across_corners=af),
                (
                    f"M{d} hex nut",
                    f"hexagon nut M{d}, {num(0.8 * d)} mm thick, chamfered",
                    f"six-sided nut for an M{d} bolt, {num(af)} mm across corners",
                    f"metric hex nut, {d} mm hole, no thread modelled",
                ),
                ("nut", "hex", "bore", "fastener"),
            )
        )
    for d, length in ((4, 20), (5, 25), (6, 30), (8, 40), (10, 50), (12, 60), (16, 80)):
        parts.append(
            _fastener(
                f"hex-bolt-m{d}x{length}",
                f"Hex bolt M{d}x{length}",
                f"bolt({d}, {length});",
                "hex_bolt",
                "bolt",
                dict(thread=f"M{d}", diameter=d, length=length, head_height=0.7 * d),
                (
                    f"M{d} x {length} hex bolt",
                    f"hex head bolt M{d}x{length}, plain shank, {num(0.7 * d)} mm head",
                    f"hexagon head cap screw, {d} mm diameter, {length} mm long",
                    f"metric bolt with a six-sided head, M{d}, length {length} mm",
                ),
                ("bolt", "hex head", "shaft", "fastener"),
            )
        )
    for d, length in ((3, 12), (4, 16), (5, 20), (6, 25), (8, 30), (10, 40)):
        parts.append(
            _fastener(
                f"cap-screw-m{d}x{length}",
                f"Cap screw M{d}x{length}",
                f"cap_bolt({d}, {length});",
                "cap_screw",
                "screw",
                dict(thread=f"M{d}", diameter=d, length=length, head_diameter=1.5 * d),
                (
                    f"M{d} x {length} cap screw",
                    f"cylinder head cap screw M{d}x{length}, round head {num(1.5 * d)} mm across",
                    f"cheese head bolt, {d} mm shank, {length} mm long, plain head (no drive)",
                    f"metric cap screw, round cylindrical head, M{d}",
                ),
                ("screw", "cylinder head", "shaft", "fastener"),
            )
        )
    for d, length in ((3, 12), (4, 16), (5, 20), (6, 25), (8, 35)):
        parts.append(
            _fastener(
                f"countersunk-screw-m{d}x{length}",
                f"Countersunk screw M{d}x{length}",
                f"csk_bolt({d}, {length});",
                "countersunk_screw",
                "screw",
                dict(thread=f"M{d}", diameter=d, length=length, head_diameter=2 * d),
                (
                    f"M{d} x {length} countersunk screw",
                    f"flat head countersunk bolt M{d}x{length}, {2 * d} mm conical head",
                    f"countersunk machine screw, {d} mm shank, {length} mm overall",
                    f"flat head screw with a cone-shaped head, M{d}",
                ),
                ("screw", "countersunk head", "cone", "shaft", "fastener"),
            )
        )
    for d in METRIC_SIZES[1:]:
        parts.append(
            _fastener(
                f"flat-washer-m{d}",
                f"Flat washer M{d}",
                f"washer({d});",
                "flat_washer",
                "washer",
                dict(size=f"M{d}", inner_diameter=d, outer_diameter=2 * d, thickness=0.1 * d),
                (
                    f"M{d} flat washer",
                    f"plain washer for M{d}, {2 * d} mm outside, {num(0.1 * d)} mm thick",
                    f"thin ring washer, {d} mm hole, {2 * d} mm across",
                    f"flat metric washer, a disc with a centre hole, size {d}",
                ),
                ("washer", "ring", "disc", "bore", "fastener"),
            )
        )
    return parts


def _fastener(key, name, call, category, parent, parameters, descriptions, tags) -> McadPart:
    return McadPart(
        key, name, "metric_fastners.scad", call, category, parent, parameters, descriptions, tags
    )


def steppers() -> list[McadPart]:
    """NEMA frame stepper motors with a front shaft, one per frame and body length."""
    parts = []
    lengths = {"short": "NemaShort", "medium": "NemaMedium", "long": "NemaLong"}
    for frame, (side, bodies) in sorted(STEPPERS.items()):
        for (word, constant), body in zip(lengths.items(), bodies, strict=True):
            if body in bodies[: ["short", "medium", "long"].index(word)]:
                continue  # the same length as a shorter one in MCAD's table
            parts.append(
                McadPart(
                    key=f"stepper-motor-nema{frame}-{word}",
                    name=f"NEMA {frame} stepper motor, {word}",
                    module_file="stepper.scad",
                    call=f"motor(Nema{frame:02d}, {constant});",
                    category="stepper_motor",
                    parent="motor",
                    parameters=dict(frame=f"NEMA {frame}", flange=side, body_length=body),
                    descriptions=(
                        f"NEMA {frame} stepper motor",
                        f"stepper motor, NEMA {frame} frame ({num(side)} mm square), {body} mm "
                        "long body, round shaft",
                        f"{word} NEMA {frame} stepping motor with a front shaft and mounting holes",
                        f"square-bodied electric motor, {num(side)} x {num(side)} mm flange",
                    ),
                    tags=("motor", "stepper", "square", "shaft"),
                    use=False,
                )
            )
    return parts


def servos() -> list[McadPart]:
    """Hobby RC servos (outline models)."""
    specs = [
        ("alignds420", "Align DS420", "digital micro servo, about 23 x 12 x 29 mm"),
        ("futabas3003", "Futaba S3003", "standard size servo, about 40 x 20 x 36 mm"),
    ]
    return [
        McadPart(
            key=f"servo-{module}",
            name=f"{label} servo",
            module_file="servos.scad",
            call=f"{module}([0, 0, 0], [0, 0, 0]);",
            category="servo_motor",
            parent="motor",
            parameters=dict(model=label),
            descriptions=(
                f"{label} RC servo",
                f"{label} {size}, with mounting ears",
                f"hobby servo motor {label}: a box with mounting tabs and an output shaft",
            ),
            tags=("motor", "servo", "box"),
        )
        for module, label, size in specs
    ]


def bricks() -> list[McadPart]:
    """Interlocking toy bricks (LEGO-compatible, 8 mm stud pitch)."""
    parts = []
    for width, length, height in ((1, 2, 1), (2, 2, 1), (2, 4, 1), (1, 4, 1), (2, 3, 1)):
        parts.append(
            McadPart(
                key=f"brick-{width}x{length}",
                name=f"Brick {width}x{length}",
                module_file="lego_compatibility.scad",
                call=f"block({width}, {length}, {height}, reinforcement=true);",
                category="toy_brick",
                parent="toy_brick",
                parameters=dict(studs_wide=width, studs_long=length, height=9.6 * height),
                descriptions=(
                    f"{width} x {length} building brick",
                    f"LEGO-compatible brick, {width} by {length} studs",
                    f"interlocking toy block with {width * length} studs on top, hollow below",
                ),
                tags=("brick", "studs", "box"),
            )
        )
    return parts


def augers() -> list[McadPart]:
    """Auger screws (a helical flight on a core)."""
    parts = []
    for pitch, length, outer, inner in ((20, 60, 15, 4), (10, 40, 8, 3), (30, 90, 20, 6)):
        parts.append(
            McadPart(
                key=f"auger-d{2 * outer}-p{pitch}",
                name=f"Auger {2 * outer} mm pitch {pitch}",
                module_file="screw.scad",
                call=(
                    f"auger(pitch={pitch}, length={length}, outside_radius={outer}, "
                    f"inner_radius={inner});"
                ),
                category="auger",
                parent="screw_conveyor",
                parameters=dict(pitch=pitch, length=length, diameter=2 * outer, core=2 * inner),
                descriptions=(
                    f"auger screw {2 * outer} mm diameter",
                    f"screw conveyor flight, {pitch} mm pitch, {length} mm long, "
                    f"{2 * inner} mm core",
                    "helical auger: a spiral blade wound around a central shaft",
                ),
                tags=("auger", "helix", "shaft"),
            )
        )
    return parts


def mcad_parts() -> list[McadPart]:
    """Every part of the catalog, in a fixed order."""
    return [
        *spur_gears(), *helical_gears(), *bevel_gears(), *ball_bearings(), *fasteners(),
        *steppers(), *servos(), *bricks(), *augers(),
    ]  # fmt: skip


# ---------------------------------------------------------------- scad text and rows


# the shared shape words of each kind (no thread is modelled in MCAD's fasteners)
_SHAPES = {
    "ball_bearing": dict(form="ring", holes=1, symmetry="axisymmetric"),
    "hex_nut": dict(form="ring", drive="external hex", holes=1, symmetry="polar"),
    "hex_bolt": dict(form="shaft", head="hex", drive="external hex", symmetry="polar"),
    "cap_screw": dict(form="shaft", head="cheese", symmetry="axisymmetric"),
    "countersunk_screw": dict(form="shaft", head="countersunk", symmetry="axisymmetric"),
    "flat_washer": dict(form="ring", holes=1, symmetry="axisymmetric"),
    "stepper_motor": dict(form="housing", symmetry="polar"),
    "servo_motor": dict(form="housing", symmetry="mirror"),
    "toy_brick": dict(form="block", symmetry="mirror"),
    "auger": dict(form="shaft", symmetry="none"),
}


def shape_of(part: McadPart, proportions: str | None = None) -> ShapeAttributes:
    """The part's attributes in the library's shared shape vocabulary.

    proportions : measured from the rendered mesh (``attributes.proportions_of``), or None
    """
    if part.category.endswith("_gear"):
        holes = 1 + int(part.parameters.get("holes", 0))  # the bore and the web's holes
        words = dict(form="wheel", toothed_rim=True, teeth=part.parameters["teeth"], holes=holes)
        return ShapeAttributes(**words, symmetry="polar", proportions=proportions)
    return ShapeAttributes(**_SHAPES[part.category], proportions=proportions)


def shape_sentence(attributes: ShapeAttributes) -> str:
    """ "wheel-shaped part with toothed rim with 20 teeth, one through hole and flat"."""
    first, *rest = attributes.phrases()
    if not rest:
        return f"{first} part"
    tail = rest[0] if len(rest) == 1 else ", ".join(rest[:-1]) + " and " + rest[-1]
    return f"{first} part with {tail}"


def scad_text(part: McadPart) -> str:
    """The .scad file that builds the part: the library line, the resolution, the call."""
    verb = "use" if part.use else "include"
    return f"{verb} <MCAD/{part.module_file}>\n$fn = 48;\n{part.call}\n"


def part_record(
    part: McadPart, file: str, version: str = "", proportions: str | None = None
) -> dict:
    """The manifest record of a rendered part (the sample catalog's keys, plus provenance).

    proportions : measured from the rendered mesh; the shape attributes and a description in
        their words follow from it
    """
    attributes = shape_of(part, proportions)
    descriptions = [*part.descriptions, shape_sentence(attributes)]
    record = dict(
        part_id=part.part_id,
        file=file,
        name=part.name,
        category=part.category,
        parent=part.parent,
        family=f"mcad_{part.category}",
        tags=list(part.tags),
        parameters=dict(part.parameters),
        attributes=attributes.as_dict(),
        description=descriptions[0],
        descriptions=descriptions,
        units="mm",
    )
    provenance = dict(
        source=PACKAGE,
        source_file=part.module_file,
        source_uri=SOURCE_URI + part.module_file,
        source_version=version,
        scad=part.call,
        license=LICENSES.get(part.module_file, LICENSE),
    )
    return {**{k: record[k] for k in MANIFEST_KEYS}, **provenance}


def error_row(part: McadPart, stage: str, message: str) -> dict:
    """A row of errors.jsonl: which part, which stage (render, mesh), why."""
    return {
        "part_id": part.part_id,
        "file": part.module_file,
        "call": part.call,
        "stage": stage,
        "message": " ".join(message.split())[-500:],
    }


# ---------------------------------------------------------------- rendering


def render_scad(
    text: str,
    target: str | Path,
    library_dir: str | Path = DEFAULT_LIBRARY,
    timeout: float = RENDER_TIMEOUT_S,
) -> dict:
    """Render .scad text with openscad and write the checked mesh to target (.stl or .ply, mm).

    library_dir : the MCAD folder; its parent goes on OPENSCADPATH
    returns: faces (int), extents_mm (3 floats) and proportions (a word) of the written mesh
    Raises RuntimeError when openscad fails or times out, MeshError when the mesh is unusable.
    """
    import trimesh

    from data_jobs.catalog.attributes import proportions_of
    from encoders.geometry.validate import validate_mesh

    target = Path(target)
    kind = target.suffix.lower().lstrip(".")
    if kind not in MESH_FORMATS:
        raise ValueError(f"target must end in one of {MESH_FORMATS}, got {target.name!r}")
    openscad = shutil.which("openscad")
    if openscad is None:
        raise RuntimeError("openscad is not installed (apt-get install openscad openscad-mcad)")
    env = {**os.environ, "OPENSCADPATH": str(Path(library_dir).parent)}
    with tempfile.TemporaryDirectory(prefix="mcad-") as scratch:
        source, raw = Path(scratch) / "part.scad", Path(scratch) / "part.stl"
        source.write_text(text, encoding="utf-8")
        try:
            run = subprocess.run(
                [openscad, "-o", str(raw), str(source)],
                capture_output=True, text=True, timeout=timeout, env=env,
            )  # fmt: skip
        except subprocess.TimeoutExpired as e:
            raise RuntimeError(f"openscad took longer than {num(timeout)} s") from e
        if run.returncode != 0 or not raw.is_file():
            raise RuntimeError(f"openscad failed (exit {run.returncode}): {run.stderr[-400:]}")
        warnings = [line for line in run.stderr.splitlines() if "WARNING" in line]
        if any("Can't open library" in w or "Ignoring unknown module" in w for w in warnings):
            raise RuntimeError(f"openscad: {warnings[0]}")
        mesh = trimesh.load(raw, file_type="stl", force="mesh")
    cleaned, _ = validate_mesh(mesh)
    partial = target.with_name(f".{target.name}.partial")
    partial.write_bytes(cleaned.export(file_type=kind))
    partial.replace(target)
    return {
        "faces": len(cleaned.faces),
        "extents_mm": [float(v) for v in cleaned.extents],
        "proportions": proportions_of(cleaned),
    }


def package_version(package: str = PACKAGE) -> str:
    """The installed Debian package's version, or "" where dpkg does not know it."""
    if shutil.which("dpkg-query") is None:
        return ""
    run = subprocess.run(
        ["dpkg-query", "-W", "-f=${Version}", package], capture_output=True, text=True
    )
    return run.stdout.strip() if run.returncode == 0 else ""


@dataclass
class McadSummary:
    """What a run did: parts written per category, failures, seconds."""

    out_dir: Path
    per_category: dict[str, int] = field(default_factory=dict)
    errors: int = 0
    seconds: float = 0.0

    @property
    def parts(self) -> int:
        return sum(self.per_category.values())

    def lines(self) -> list[str]:
        width = max((len(c) for c in self.per_category), default=8)
        report = [
            f"wrote {self.parts} MCAD parts in {len(self.per_category)} categories to "
            f"{self.out_dir} ({self.seconds:.1f} s)",
            *(f"  {c:<{width}} {n:>4}" for c, n in sorted(self.per_category.items())),
        ]
        if self.errors:
            report.append(f"{self.errors} parts failed: see {self.out_dir / ERRORS_NAME}")
        return report


def build_mcad_catalog(
    out_dir: str | Path,
    *,
    parts: Sequence[McadPart] | None = None,
    library_dir: str | Path = DEFAULT_LIBRARY,
    mesh_format: str = "stl",
    workers: int = 1,
    timeout: float = RENDER_TIMEOUT_S,
    log=print,
) -> McadSummary:
    """Render MCAD parts into out_dir (manifest.jsonl, parts/, errors.jsonl).

    parts : None: ``mcad_parts()``
    workers : openscad processes at a time
    Part files of an earlier run that this one did not write are removed from out_dir/parts/.
    """
    if mesh_format not in MESH_FORMATS:
        raise ValueError(f"mesh_format must be one of {MESH_FORMATS}, got {mesh_format!r}")
    library_dir = Path(library_dir).expanduser()
    if not library_dir.is_dir():
        raise FileNotFoundError(
            f"no MCAD library at {library_dir}: apt-get install openscad-mcad, or pass its folder"
        )
    if shutil.which("openscad") is None:
        raise RuntimeError("openscad is not installed: apt-get install openscad")
    started = time.perf_counter()
    parts = mcad_parts() if parts is None else list(parts)
    ids = [p.part_id for p in parts]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ValueError(f"duplicate MCAD part ids: {duplicates}")
    out_dir = Path(out_dir).expanduser()
    (out_dir / PARTS_DIR).mkdir(parents=True, exist_ok=True)
    version = package_version()

    def render(part: McadPart) -> tuple[dict | None, dict | None]:
        if not (library_dir / part.module_file).is_file():
            return None, error_row(part, "render", f"{part.module_file} is not in {library_dir}")
        file = f"{PARTS_DIR}/{part.part_id}.{mesh_format}"
        try:
            facts = render_scad(scad_text(part), out_dir / file, library_dir, timeout)
        except Exception as e:  # any failure of one part is a row of errors.jsonl
            stage = "render" if isinstance(e, RuntimeError) else "mesh"
            return None, error_row(part, stage, f"{type(e).__name__}: {e}")
        return part_record(part, file, version, facts["proportions"]), None

    records, errors = [], []
    with ThreadPoolExecutor(max(workers, 1)) as pool:
        for done, (part, (record, error)) in enumerate(
            zip(parts, pool.map(render, parts), strict=True), start=1
        ):
            if record is not None:
                records.append(record)
            else:
                errors.append(error)
            log(f"  {done}/{len(parts)} {part.part_id}: {'ok' if record else error['message']}")
    summary = McadSummary(out_dir=out_dir, errors=len(errors))
    for record in records:
        summary.per_category[record["category"]] = (
            summary.per_category.get(record["category"], 0) + 1
        )
    write_converted_catalog(out_dir, records, errors)
    summary.seconds = time.perf_counter() - started
    return summary
