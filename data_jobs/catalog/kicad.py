"""Build a catalog of real CAD models from Debian's kicad-packages3d: meshes in mm + manifest.jsonl.

The package holds about 6,200 VRML models in about 90 category folders
(``usr/share/kicad/3dmodels/<Category>.3dshapes``, 5 GB unpacked). A seeded subset (or every
model) is chosen from the package's member list, only those ``.wrl`` files are extracted, in
batches during one streaming pass over the package's data archive, and each batch is converted
with pymeshlab to binary PLY or STL in millimetres (KiCad's VRML unit is 0.1 inch) and deleted
before the next is extracted, so disk and memory stay bounded by a batch. The folder written has
the layout of the sample catalog (``manifest.jsonl`` + ``parts/``), so the reindex job reads it
as is; models that fail to convert are rows of ``errors.jsonl``, never the end of the job.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
import time
import zlib
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from data_jobs.catalog.generate import (
    ERRORS_NAME,
    MANIFEST_KEYS,
    PARTS_DIR,
    write_converted_catalog,
)
from data_jobs.catalog.kicad_names import describe_model, model_tags, parse_model_name

PACKAGE = "kicad-packages3d"
DEFAULT_CACHE = Path("~/.cache/cadsearch/kicad")
KICAD_SCALE = 2.54  # millimetres per KiCad VRML unit (0.1 inch)
MESH_FORMATS = ("ply", "stl")
TASKS_PER_CHILD = 25  # models a conversion process converts before it is replaced
LICENSE = "CC-BY-SA-4.0 with the KiCad libraries exception"
_MODEL_PATH = re.compile(
    r"^(?:\./)?usr/share/kicad/3dmodels/(?P<category>[^/]+)\.3dshapes/(?P<name>[^/]+)\.wrl$"
)


@dataclass(frozen=True)
class KicadModel:
    """One VRML model of the package.

    member : its path inside the package's data archive (``./usr/share/kicad/3dmodels/...``)
    category : its folder without ".3dshapes" (``Package_DIP``)
    name : its file name without ".wrl" (``DIP-8_W7.62mm``)
    """

    member: str
    category: str
    name: str

    @property
    def part_id(self) -> str:
        """Stable id made of [a-z0-9_-]: ``kicad-dip-8_w7-62mm``."""
        return "kicad-" + re.sub(r"[^a-z0-9_-]+", "-", self.name.lower()).strip("-")


@dataclass
class KicadSummary:
    """What a run did: parts written per category, failures, seconds per stage."""

    out_dir: Path
    deb: Path
    per_category: dict[str, int] = field(default_factory=dict)
    errors: int = 0
    skipped_categories: dict[str, int] = field(default_factory=dict)  # too few models: count
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def parts(self) -> int:
        return sum(self.per_category.values())

    def lines(self) -> list[str]:
        """A printable report."""
        width = max((len(c) for c in self.per_category), default=8)
        rows = [f"  {c:<{width}} {n:>4}" for c, n in sorted(self.per_category.items())]
        took = ", ".join(f"{stage} {s:.1f} s" for stage, s in self.seconds.items())
        report = [
            f"wrote {self.parts} KiCad models in {len(self.per_category)} categories to "
            f"{self.out_dir} ({took})",
            *rows,
        ]
        if self.skipped_categories:
            report.append(
                f"skipped {len(self.skipped_categories)} categories with too few models "
                f"({sum(self.skipped_categories.values())} models)"
            )
        if self.errors:
            report.append(f"{self.errors} models failed: see {self.out_dir / ERRORS_NAME}")
        return report


# ---------------------------------------------------------------- the package


def fetch_deb(cache_dir: str | Path = DEFAULT_CACHE) -> Path:
    """The kicad-packages3d .deb in cache_dir, downloaded with ``apt-get download`` when missing."""
    cache = Path(cache_dir).expanduser()
    cache.mkdir(parents=True, exist_ok=True)
    cached = sorted(cache.glob(f"{PACKAGE}_*.deb"))
    if cached:
        return cached[-1]
    if shutil.which("apt-get") is None:
        raise RuntimeError(
            f"apt-get is not available to download {PACKAGE}; download the .deb from "
            f"https://packages.debian.org/stable/{PACKAGE} and pass --deb PATH"
        )
    run = subprocess.run(
        ["apt-get", "download", PACKAGE], cwd=cache, capture_output=True, text=True
    )
    cached = sorted(cache.glob(f"{PACKAGE}_*.deb"))
    if run.returncode != 0 or not cached:
        raise RuntimeError(
            f"apt-get download {PACKAGE} failed (exit {run.returncode}): "
            f"{run.stderr.strip()[-500:]}; pass --deb PATH to use a downloaded package"
        )
    return cached[-1]


def deb_version(deb: str | Path) -> str:
    """The package version from a Debian file name (``kicad-packages3d_6.0.10-1_all.deb``)."""
    fields = Path(deb).name.split("_")
    return fields[1] if len(fields) == 3 and fields[2].endswith(".deb") else ""


class _Bounded:
    """A read-only view of ``size`` bytes of a file from its current position."""

    def __init__(self, f, size: int):
        self.f, self.left = f, size

    def read(self, n: int = -1) -> bytes:
        n = self.left if n is None or n < 0 else min(n, self.left)
        data = self.f.read(n)
        self.left -= len(data)
        return data


def _ar_data_member(f) -> tuple[str, int]:
    """Seek f (a .deb, an ar archive) to its data.tar.* member; its name and size."""
    if f.read(8) != b"!<arch>\n":
        raise ValueError("not a Debian package (no ar archive header)")
    while header := f.read(60):
        if len(header) < 60:
            break
        name = header[:16].decode("ascii").strip().rstrip("/")
        size = int(header[48:58].decode("ascii").strip())
        if name.startswith("data.tar"):
            return name, size
        f.seek(size + size % 2, os.SEEK_CUR)
    raise ValueError("the package has no data.tar member")


@contextmanager
def open_deb_data(deb: str | Path) -> Iterator[tarfile.TarFile]:
    """The package's data archive as a streaming tarfile (members in archive order).

    ``dpkg-deb --fsys-tarfile`` when it is installed (any compression); else the .deb is read
    in Python, which knows data.tar, data.tar.gz, .bz2 and .xz (not .zst).
    """
    deb = Path(deb)
    if not deb.is_file():
        raise FileNotFoundError(f"no such package file: {deb}")
    if shutil.which("dpkg-deb"):
        proc = subprocess.Popen(
            ["dpkg-deb", "--fsys-tarfile", str(deb)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        try:
            with tarfile.open(fileobj=proc.stdout, mode="r|") as archive:
                yield archive
        finally:
            proc.kill()  # before closing its pipe: a reader that stopped early is no error
            proc.stdout.close()
            stderr = proc.stderr.read().decode(errors="replace").strip()
            proc.stderr.close()
            if proc.wait() not in (0, -9) and stderr:
                raise RuntimeError(f"dpkg-deb could not read {deb}: {stderr[-500:]}")
        return
    with open(deb, "rb") as f:
        name, size = _ar_data_member(f)
        if name.endswith(".zst"):
            raise RuntimeError(f"{deb} holds {name}: install dpkg-deb to read zstd packages")
        with tarfile.open(fileobj=_Bounded(f, size), mode="r|*") as archive:
            yield archive


def list_models(deb: str | Path) -> list[KicadModel]:
    """Every VRML model in the package, sorted by category and name."""
    models = []
    with open_deb_data(deb) as archive:
        for member in archive:
            match = _MODEL_PATH.match(member.name) if member.isfile() else None
            if match:
                models.append(KicadModel(member.name, match["category"], match["name"]))
    return sorted(models, key=lambda m: (m.category, m.name))


def select_models(
    models: Sequence[KicadModel],
    per_category: int | None = 40,
    min_per_category: int = 8,
    categories: Sequence[str] | None = None,
    limit: int | None = None,
    seed: int = 0,
) -> tuple[list[KicadModel], dict[str, int]]:
    """A deterministic subset: up to per_category models from each category that has at least
    min_per_category, drawn with seed; limit caps the total, taken round-robin over categories.

    per_category : None takes every model of each category kept

    A category's draw depends only on the seed and its own models, so adding or removing
    categories does not change the models chosen in the others.
    returns: the chosen models sorted by (category, name); categories left out for having too few
        models, with their counts
    Raises ValueError for unknown names in categories, or a named category with too few models.
    """
    if (per_category is not None and per_category < 1) or min_per_category < 1:
        raise ValueError(
            "per_category and min_per_category must be >= 1, "
            f"got {per_category} and {min_per_category}"
        )
    by_category: dict[str, list[KicadModel]] = {}
    for model in sorted(models, key=lambda m: (m.category, m.name)):
        by_category.setdefault(model.category, []).append(model)
    if categories is not None:
        unknown = sorted(set(categories) - set(by_category))
        if unknown:
            raise ValueError(f"unknown KiCad categories: {unknown}; known: {sorted(by_category)}")
        counts = {c: len(by_category[c]) for c in categories}
        thin = {c: n for c, n in counts.items() if n < min_per_category}
        if thin:
            raise ValueError(
                f"categories with fewer than --min-per-category {min_per_category} models: "
                f"{thin}; lower the minimum to include them"
            )
        by_category = {c: by_category[c] for c in sorted(set(categories))}
    skipped = {c: len(ms) for c, ms in by_category.items() if len(ms) < min_per_category}
    if per_category is None:
        per_category = max((len(ms) for ms in by_category.values()), default=0)
    drawn = []
    for category, members in by_category.items():
        if category in skipped:
            continue
        rng = np.random.default_rng(np.random.SeedSequence([seed, zlib.crc32(category.encode())]))
        order = rng.permutation(len(members))[:per_category]
        drawn.append([members[i] for i in order])
    # round-robin over categories, so a limit spreads over all of them
    chosen = [ms[rank] for rank in range(per_category) for ms in drawn if rank < len(ms)]
    if limit is not None:
        chosen = chosen[: max(limit, 0)]
    return sorted(chosen, key=lambda m: (m.category, m.name)), skipped


def extract_in_batches(
    deb: str | Path, models: Sequence[KicadModel], into: str | Path, batch_size: int
) -> Iterator[dict[str, Path]]:
    """Extract the chosen models' .wrl files into a folder in one pass over the package, a batch
    at a time: the archive waits while the caller converts a batch (and deletes its files).

    yields: member path -> extracted file, up to batch_size a batch, in archive order; members
        not found in the package are in no batch
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    wanted = {m.member for m in models}
    if not wanted:
        return
    into = Path(into)
    into.mkdir(parents=True, exist_ok=True)
    batch: dict[str, Path] = {}
    found = 0
    with open_deb_data(deb) as archive:
        for member in archive:
            if member.name not in wanted or not member.isfile():
                continue
            path = into / f"{found:05d}.wrl"
            with archive.extractfile(member) as src, open(path, "wb") as dst:
                shutil.copyfileobj(src, dst)
            batch[member.name] = path
            found += 1
            if len(batch) == batch_size or found == len(wanted):
                yield batch
                batch = {}
            if found == len(wanted):
                return
    if batch:
        yield batch


# ---------------------------------------------------------------- conversion


def _pymeshlab():
    try:
        import pymeshlab
    except ImportError as e:
        raise ImportError(
            "converting KiCad VRML models needs pymeshlab: pip install 'cadsearch[kicad]'"
        ) from e
    return pymeshlab


def convert_wrl(source: str | Path, target: str | Path, scale: float = KICAD_SCALE) -> dict:
    """Convert a VRML file to a binary PLY or STL (by target's extension), scaled to mm.

    The mesh is checked and cleaned as the indexer does (``validate_mesh``): no triangles, NaN
    coordinates or zero extent raise a MeshError. The file appears only when complete.
    returns: faces (int) and extents_mm (3 floats, x y z) of the written mesh
    """
    import trimesh

    from encoders.geometry.errors import UnreadableMeshError
    from encoders.geometry.validate import validate_mesh

    pymeshlab = _pymeshlab()
    meshes = pymeshlab.MeshSet()
    try:
        meshes.load_new_mesh(str(source))
    except pymeshlab.PyMeshLabException as e:
        message = " ".join(str(e).split())
        raise UnreadableMeshError(f"pymeshlab could not read it: {message}") from e
    mesh = meshes.current_mesh()
    vertices = np.asarray(mesh.vertex_matrix(), dtype=np.float64) * scale
    faces = np.asarray(mesh.face_matrix(), dtype=np.int64)
    cleaned, _ = validate_mesh(trimesh.Trimesh(vertices, faces, process=False))
    target = Path(target)
    kind = target.suffix.lower().lstrip(".")
    if kind not in MESH_FORMATS:
        raise ValueError(f"target must end in one of {MESH_FORMATS}, got {target.name!r}")
    partial = target.with_name(f".{target.name}.partial")
    partial.write_bytes(cleaned.export(file_type=kind))
    partial.replace(target)
    return {"faces": len(cleaned.faces), "extents_mm": [float(v) for v in cleaned.extents]}


def _convert_one(job: tuple[str, str, str]) -> tuple[str, dict | None, str]:
    """(part id, wrl, target) -> (part id, facts or None, error message) for a worker."""
    part_id, source, target = job
    try:
        return part_id, convert_wrl(source, target), ""
    except Exception as e:  # any failure of one model is a row of errors.jsonl
        return part_id, None, f"{type(e).__name__}: {e}"


def convert_in_workers(
    jobs: Sequence[tuple[str, str, str]], workers: int = 1, tasks_per_child: int = TASKS_PER_CHILD
) -> list[tuple[str, dict | None, str]]:
    """Run ``_convert_one`` over jobs in worker processes; results in the order of jobs.

    pymeshlab's VRML reader does not give its memory back (about 8 times the file's size per
    file), so the jobs run in batches of workers x tasks_per_child, each in a fresh pool. A
    batch whose pool dies (a crash in the native reader) is run again one model per process, so
    only the model that crashes becomes an error. (``max_tasks_per_child`` is not used: with
    one worker it can hang on Python 3.11.)
    """
    results: list[tuple[str, dict | None, str]] = []
    step = max(workers, 1) * max(tasks_per_child, 1)
    for start in range(0, len(jobs), step):
        batch = list(jobs[start : start + step])
        try:
            results += _run_pool(batch, workers)
        except BrokenProcessPool:
            for job in batch:
                try:
                    results += _run_pool([job], 1)
                except BrokenProcessPool:
                    results.append((job[0], None, "the converter crashed (its process died)"))
    return results


def _run_pool(jobs: list, workers: int) -> list:
    with ProcessPoolExecutor(max(workers, 1)) as pool:
        return list(pool.map(_convert_one, jobs))


# ---------------------------------------------------------------- the catalog


def model_record(model: KicadModel, part_id: str, file: str, version: str = "") -> dict:
    """The manifest record of a converted model (the sample catalog's keys, plus provenance)."""
    parameters = parse_model_name(model.name, model.category)
    descriptions = describe_model(model.name, model.category, parameters)
    record = dict(
        part_id=part_id,
        file=file,
        name=model.name,
        category=model.category,
        parent=model.category,  # a folder is its own parent kind
        family=model.category,
        tags=model_tags(model.name, model.category, parameters),
        parameters=parameters,
        attributes=None,  # the shared shape vocabulary is the generator's; names give none
        description=descriptions[0],
        descriptions=descriptions,
        units="mm",
    )
    provenance = dict(
        source=PACKAGE,
        source_file=f"{model.category}.3dshapes/{model.name}.wrl",
        source_version=version,
        license=LICENSE,
    )
    return {**{k: record[k] for k in MANIFEST_KEYS}, **provenance}


def _unique_ids(models: Sequence[KicadModel]) -> dict[str, str]:
    """member -> part id; a name that slugs like another gets a short hash of its path."""
    ids: dict[str, str] = {}
    taken: set[str] = set()
    for model in models:
        pid = model.part_id
        if pid in taken:
            pid += "-" + hashlib.sha1(model.member.encode()).hexdigest()[:8]
        taken.add(pid)
        ids[model.member] = pid
    return ids


def build_kicad_catalog(
    out_dir: str | Path,
    deb: str | Path | None = None,
    *,
    per_category: int | None = 40,
    min_per_category: int = 8,
    categories: Sequence[str] | None = None,
    limit: int | None = None,
    seed: int = 0,
    mesh_format: str = "ply",
    workers: int = 1,
    cache_dir: str | Path = DEFAULT_CACHE,
    resume: bool = False,
    log=print,
) -> KicadSummary:
    """Choose, extract and convert KiCad models into out_dir (manifest.jsonl, parts/, errors.jsonl).

    deb : the kicad-packages3d .deb; None: the one in cache_dir, downloaded when missing
    per_category : None takes every model (with min_per_category 1: the whole package)
    workers : conversion processes; a batch of workers x TASKS_PER_CHILD models is extracted,
        converted and deleted at a time
    resume : keep the part files an earlier run wrote (in this format) and convert the rest; a
        file is only there when complete, so a run cut off can go on
    log : called with progress lines
    Part files of an earlier run that this one did not write are removed from out_dir/parts/.
    """
    if mesh_format not in MESH_FORMATS:
        raise ValueError(f"mesh_format must be one of {MESH_FORMATS}, got {mesh_format!r}")
    _pymeshlab()  # fail before the long steps when it is missing
    started = time.perf_counter()
    deb = Path(deb).expanduser() if deb is not None else fetch_deb(cache_dir)
    out_dir = Path(out_dir).expanduser()
    summary = KicadSummary(out_dir=out_dir, deb=deb)
    models = list_models(deb)
    chosen, summary.skipped_categories = select_models(
        models, per_category, min_per_category, categories, limit, seed
    )
    ids = _unique_ids(chosen)
    by_member = {m.member: m for m in chosen}
    summary.seconds["list"] = time.perf_counter() - started
    n_categories = len({m.category for m in chosen})
    log(
        f"{len(models)} models in {deb.name}; converting {len(chosen)} of {n_categories} categories"
    )
    parts_dir = out_dir / PARTS_DIR
    parts_dir.mkdir(parents=True, exist_ok=True)
    version = deb_version(deb)
    records, errors, seen = [], [], set()
    for model in chosen if resume else ():
        pid = ids[model.member]
        if (parts_dir / f"{pid}.{mesh_format}").is_file():
            records.append(model_record(model, pid, f"{PARTS_DIR}/{pid}.{mesh_format}", version))
            summary.per_category[model.category] = summary.per_category.get(model.category, 0) + 1
            seen.add(model.member)
    if seen:
        log(f"kept {len(seen)} part files of an earlier run")
    todo = [m for m in chosen if m.member not in seen]
    summary.seconds.update(extract=0.0, convert=0.0)
    batch_size = max(workers, 1) * TASKS_PER_CHILD
    with tempfile.TemporaryDirectory(dir=out_dir, prefix=".kicad-extract-") as scratch:
        t0 = time.perf_counter()
        for batch in extract_in_batches(deb, todo, scratch, batch_size):
            t1 = time.perf_counter()
            summary.seconds["extract"] += t1 - t0
            jobs = []
            for member, source in batch.items():
                pid = ids[member]
                jobs.append((pid, str(source), str(parts_dir / f"{pid}.{mesh_format}")))
            results = convert_in_workers(jobs, workers)
            for source in batch.values():
                source.unlink()
            for (pid, facts, message), member in zip(results, batch, strict=True):
                model = by_member[member]
                seen.add(member)
                if facts is None:
                    errors.append(_error(pid, model, "convert", message))
                    continue
                file = f"{PARTS_DIR}/{pid}.{mesh_format}"
                records.append(model_record(model, pid, file, version))
                summary.per_category[model.category] = (
                    summary.per_category.get(model.category, 0) + 1
                )
            t0 = time.perf_counter()
            summary.seconds["convert"] += t0 - t1
            log(f"  {len(seen)}/{len(chosen)} done, {len(errors)} failed ({t0 - started:.0f} s)")
    for model in chosen:
        if model.member not in seen:
            errors.append(_error(ids[model.member], model, "extract", "not found in the package"))
    order = {ids[m.member]: i for i, m in enumerate(chosen)}
    records.sort(key=lambda r: order[r["part_id"]])
    errors.sort(key=lambda e: e["part_id"])
    write_converted_catalog(out_dir, records, errors)
    summary.errors = len(errors)
    summary.seconds["total"] = time.perf_counter() - started
    return summary


def _error(part_id: str, model: KicadModel, stage: str, message: str) -> dict:
    file = f"{model.category}.3dshapes/{model.name}.wrl"
    return {"part_id": part_id, "file": file, "stage": stage, "message": message}
