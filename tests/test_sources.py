"""Catalog discovery: folders, manifests (JSONL, CSV), B2 prefixes via b2sdk's RawSimulator."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest
from b2_simulator import simulated_b2_api

from data_jobs.catalog.generate import generate_catalog, load_manifest
from data_jobs.sources import discover, parse_manifest
from encoders.parts.source import PartSource, read_part_bytes
from store.b2 import B2ConfigError
from store.part_ids import MAX_PART_ID_CHARS, validate_part_id

BUCKET = "cad-parts"


@pytest.fixture(scope="module")
def catalog_template(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("catalog")
    generate_catalog(out, n=10, seed=7)
    return out


@pytest.fixture
def catalog(catalog_template, tmp_path) -> Path:
    """A fresh copy of a generated 10-part catalog (parts/*.stl + manifest.jsonl)."""
    return Path(shutil.copytree(catalog_template, tmp_path / "catalog"))


def sha256_of(path: Path) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


def write_jsonl(path: Path, records: list[dict]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")


# ---------------------------------------------------------------- folders


def test_folder_with_sidecar_manifest(catalog):
    records = load_manifest(catalog)
    parts = discover(catalog)
    assert [p.part_id for p in parts] == sorted(r["part_id"] for r in records)
    by_id = {p.part_id: p for p in parts}
    for record in records:
        part = by_id[record["part_id"]]
        path = catalog / record["file"]
        assert part.uri == str(path) and os.path.isabs(part.uri)
        assert part.file_type == "stl" and part.supported and part.problem() is None
        assert part.size == path.stat().st_size
        assert part.fingerprint == sha256_of(path)
        assert part.content_sha256 == part.fingerprint.removeprefix("sha256:")
        expected = {k: v for k, v in record.items() if k not in ("part_id", "file")}
        assert part.metadata == expected
        json.dumps(part.metadata)  # JSON-serializable


def test_folder_without_manifest(catalog_template, tmp_path):
    stl = next((catalog_template / "parts").glob("*.stl")).read_bytes()
    root = tmp_path / "lib"
    files = {
        "bolts/M8x40.STL": stl,  # mixed-case extension
        "nuts/deep/n1.Obj": b"v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n",
        "bolts/M8x40.png": b"\x89PNG preview",  # companion: preview image
        "nuts/deep/n1.mtl": b"newmtl steel\n",  # companion: OBJ material
        "README.md": b"# parts\n",
        "LICENSE": b"MIT\n",
        ".hidden/x.stl": stl,  # hidden folder
        "bolts/.y.stl": stl,  # hidden file
        "drawings/flange.dwg": b"AC1032",  # unsupported: reported, not dropped
        "noext": b"solid x\nendsolid x\n",  # no extension: reported
    }
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    parts = {p.part_id: p for p in discover(root)}
    assert sorted(parts) == ["bolts/M8x40", "drawings/flange", "noext", "nuts/deep/n1"]
    bolt = parts["bolts/M8x40"]
    assert bolt.file_type == "stl" and bolt.problem() is None
    assert bolt.metadata == {"name": "M8x40"}
    assert bolt.uri == str(root / "bolts/M8x40.STL")
    assert parts["nuts/deep/n1"].file_type == "obj"
    dwg = parts["drawings/flange"]
    assert not dwg.supported and dwg.exists
    assert dwg.problem().code == "unsupported_format" and "'dwg'" in str(dwg.problem())
    assert parts["noext"].file_type == "" and parts["noext"].problem().code == "unsupported_format"


def test_folder_manifest_partial_and_missing(catalog):
    records = load_manifest(catalog)
    stl = (catalog / records[0]["file"]).read_bytes()
    (catalog / "extra").mkdir()
    (catalog / "extra" / "widget.stl").write_bytes(stl)  # not in the manifest
    records.append({"part_id": "GONE-1", "file": "parts/gone.stl", "name": "Gone"})
    write_jsonl(catalog / "manifest.jsonl", records)
    parts = {p.part_id: p for p in discover(catalog)}
    assert len(parts) == 12
    widget = parts["extra/widget"]
    assert widget.metadata == {"name": "widget"} and widget.fingerprint == sha256_of(
        catalog / "extra/widget.stl"
    )
    gone = parts["GONE-1"]
    assert not gone.exists and gone.size == -1 and gone.fingerprint == ""
    assert gone.problem().code == "unreadable" and "no such file" in str(gone.problem())
    # the files named in the manifest are not listed a second time under their path ids
    assert not any(pid.startswith("parts/") for pid in parts)


def test_folder_duplicate_ids_and_two_manifests(catalog_template, tmp_path):
    stl = next((catalog_template / "parts").glob("*.stl")).read_bytes()
    (tmp_path / "a.stl").write_bytes(stl)
    (tmp_path / "a.ply").write_bytes(b"ply\n")
    with pytest.raises(ValueError, match=r"'a' from .*a\.ply, .*a\.stl"):
        discover(tmp_path)
    (tmp_path / "a.ply").unlink()
    (tmp_path / "manifest.jsonl").write_text("")
    (tmp_path / "manifest.csv").write_text("part_id,file\n")
    with pytest.raises(ValueError, match="both manifest.jsonl and manifest.csv"):
        discover(tmp_path)


def test_fingerprint_changes_iff_content_changes(catalog):
    before = {p.part_id: p.fingerprint for p in discover(catalog)}
    first, second = sorted(before)[:2]
    path = Path(next(p.uri for p in discover(catalog) if p.part_id == first))
    os.utime(path, (1, 1))  # new mtime, same bytes
    path.write_bytes(path.read_bytes())  # rewritten, same bytes
    assert {p.part_id: p.fingerprint for p in discover(catalog)} == before
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))
    after = {p.part_id: p.fingerprint for p in discover(catalog)}
    assert after[first] != before[first]
    assert {k: v for k, v in after.items() if k != first} == {
        k: v for k, v in before.items() if k != first
    }
    assert after[second] == before[second]


# ---------------------------------------------------------------- manifests


def test_manifest_jsonl_source(catalog, tmp_path):
    from_folder = discover(catalog)
    assert discover(catalog / "manifest.jsonl") == from_folder
    # absolute paths, a manifest elsewhere, relative paths that climb
    records = load_manifest(catalog)
    records[0]["file"] = str(catalog / records[0]["file"])
    records[1]["file"] = "../catalog/" + records[1]["file"]
    other = tmp_path / "elsewhere"
    other.mkdir()
    for record in records[2:]:
        record["file"] = str(Path("..") / "catalog" / record["file"])
    write_jsonl(other / "list.jsonl", records)
    assert discover(other / "list.jsonl") == from_folder


def test_manifest_csv(catalog, tmp_path):
    records = load_manifest(catalog)
    bolt = catalog / records[0]["file"]
    nut = catalog / records[1]["file"]
    csv_text = (
        "part_id,file,name,category,tags,parameters,units,scale,supplier\n"
        f'B-1,{bolt.relative_to(catalog)},Hex bolt,fastener,"hex; metric ;m8",'
        '"{""d"": 8, ""l"": 40}",mm,,ACME\n'
        "\n"
        f'N-1,{nut},,nut,"a, b",,,25.4,\n'
        f'N-2,{nut},Nut two,nut,"[""x"", ""y""]",,,oops,\n'
    )
    path = catalog / "list.csv"
    path.write_text(csv_text, encoding="utf-8")
    parts = {p.part_id: p for p in discover(path)}
    assert sorted(parts) == ["B-1", "N-1", "N-2"]
    assert parts["B-1"].uri == str(bolt) and parts["N-1"].uri == str(nut)
    assert parts["B-1"].metadata == {
        "name": "Hex bolt",
        "category": "fastener",
        "tags": ["hex", "metric", "m8"],
        "parameters": {"d": 8, "l": 40},
        "units": "mm",
        "supplier": "ACME",
    }
    assert parts["N-1"].metadata == {
        "name": nut.stem,  # defaults to the file stem
        "category": "nut",
        "tags": ["a", "b"],
        "scale": 25.4,
    }
    assert parts["N-2"].metadata["tags"] == ["x", "y"]
    assert parts["N-2"].metadata["scale"] == "oops"  # refused per part when it is prepared
    assert parts["N-1"].fingerprint == parts["N-2"].fingerprint == sha256_of(nut)


A_LINE = '{"part_id": "a", "file": "a.stl"}\n'


@pytest.mark.parametrize(
    "name, text, match",
    [
        ("m.jsonl", A_LINE + '\n{"part_id": "b", "file": "b.stl"}\n' + A_LINE,
         r"duplicate part_id.*'a' \(lines 1, 4\)"),
        ("m.jsonl", A_LINE + '\n{"part_id": "b",\n', r"m.jsonl line 3: not valid JSON"),
        ("m.jsonl", A_LINE + '{"file": "b.stl"}\n', r"line 2: missing 'part_id'"),
        ("m.jsonl", '{"part_id": "a"}\n', r"line 1: missing 'file'"),
        ("m.jsonl", '["a", "a.stl"]\n', r"line 1: expected a JSON object, got list"),
        ("m.jsonl", '{"part_id": "a\\nb", "file": "a.stl"}\n', r"line 1: part_id .* control"),
        ("m.jsonl", '{"part_id": "a", "file": "a.stl", "tags": 3}\n',
         r"line 1: 'tags' must be a list"),
        ("m.csv", "id,file\na,a.stl\n", r"m.csv line 1: missing column\(s\) 'part_id'"),
        ("m.csv", "part_id,file,parameters\na,a.stl,{bad\n", r"line 2: malformed JSON"),
        ("m.csv", "part_id,file\na,a.stl\n,b.stl\n", r"line 3: missing 'part_id'"),
        ("m.csv", "part_id,file\na,a.stl\nb,b.stl,extra\n", r"line 3: more fields than the header"),
        ("m.csv", "part_id,file\nx,a.stl\n\n, \nx,b.stl\n", r"'x' \(lines 2, 5\)"),
    ],
)  # fmt: skip
def test_manifest_errors_name_the_line(name, text, match):
    with pytest.raises(ValueError, match=match):
        parse_manifest(text, name)


def test_manifest_keeps_unicode_line_separators_inside_strings():
    text = json.dumps(
        {"part_id": "a", "file": "a.stl", "description": "x\u2028y"}, ensure_ascii=False
    )
    [entry] = parse_manifest(text + "\n", "m.jsonl")
    assert entry.metadata["description"] == "x\u2028y"


def test_source_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="not found"):
        discover(tmp_path / "nope")
    (tmp_path / "p.stl").write_bytes(b"solid\n")
    with pytest.raises(ValueError, match="not a folder, a manifest"):
        discover(tmp_path / "p.stl")


# ---------------------------------------------------------------- part ids


@pytest.mark.parametrize(
    "bad",
    ["", "   ", "a" * (MAX_PART_ID_CHARS + 1), "a\nb", "a\x00b", "tab\there", "a\x7f", "a\u2028b",
     "a\ud800", 3.5, None, True],
)  # fmt: skip
def test_bad_part_ids_refused(bad):
    with pytest.raises(ValueError, match="part_id"):
        validate_part_id(bad, "here")


@pytest.mark.parametrize(
    "good", ["a" * MAX_PART_ID_CHARS, "bolts/M8 x 40 ü", "../../etc/passwd", "部品-1", " a "]
)
def test_good_part_ids_kept_as_given(good):
    assert validate_part_id(good) == good
    assert validate_part_id(42) == "42"


def test_folder_file_with_control_character_is_refused(tmp_path):
    (tmp_path / "bad\nname.stl").write_bytes(b"solid\n")
    with pytest.raises(ValueError, match=r"file 'bad\\nname.stl'.*control"):
        discover(tmp_path)


# ---------------------------------------------------------------- rows


def test_row_round_trip_through_arrow(catalog):
    pa = pytest.importorskip("pyarrow")
    parts = discover(catalog)
    rows = [p.to_row() for p in parts]
    assert all(isinstance(v, str | int) for row in rows for v in row.values())
    back = [PartSource.from_row(r) for r in pa.Table.from_pylist(rows).to_pylist()]
    assert back == parts
    assert PartSource.from_row({**rows[0], "metadata": parts[0].metadata}) == parts[0]


def test_read_part_bytes_local(catalog):
    part = discover(catalog)[0]
    assert read_part_bytes(part.uri) == Path(part.uri).read_bytes()
    with pytest.raises(FileNotFoundError):
        read_part_bytes(str(catalog / "nope.stl"))


# ---------------------------------------------------------------- B2


@pytest.fixture
def b2_catalog(catalog):
    """A simulated B2 bucket holding the catalog under catalogs/c1/, plus noise around it."""
    api = simulated_b2_api(BUCKET)
    bucket = api.get_bucket_by_name(BUCKET)
    for path in sorted(catalog.rglob("*")):
        if path.is_file():
            bucket.upload_bytes(path.read_bytes(), f"catalogs/c1/{path.relative_to(catalog)}")
    stl = next((catalog / "parts").glob("*.stl")).read_bytes()
    bucket.upload_bytes(stl, "catalogs/c1/extra/Widget.STL")  # not in the manifest
    bucket.upload_bytes(stl, "catalogs/c1/.bzEmpty")  # hidden
    bucket.upload_bytes(b"# notes", "catalogs/c1/README.md")  # companion
    bucket.upload_bytes(b"AC1032", "catalogs/c1/drawings/flange.dwg")  # unsupported
    bucket.upload_bytes(stl, "catalogs/c10/other.stl")  # a sibling prefix
    bucket.upload_bytes(stl, "elsewhere/x.stl")
    return api, bucket, catalog


def test_b2_prefix_discovery(b2_catalog):
    api, bucket, catalog = b2_catalog
    records = load_manifest(catalog)
    parts = discover(f"b2://{BUCKET}/catalogs/c1", b2_api=api)
    assert discover(f"b2://{BUCKET}/catalogs/c1/", b2_api=api) == parts
    by_id = {p.part_id: p for p in parts}
    assert sorted(by_id) == sorted(
        [r["part_id"] for r in records] + ["drawings/flange", "extra/Widget"]
    )
    for record in records:
        part = by_id[record["part_id"]]
        data = (catalog / record["file"]).read_bytes()
        assert part.uri == f"b2://{BUCKET}/catalogs/c1/{record['file']}"
        assert part.fingerprint == "sha1:" + hashlib.sha1(data).hexdigest()
        assert part.size == len(data) and part.file_type == "stl" and part.problem() is None
        assert part.metadata["name"] == record["name"] and part.metadata["tags"] == record["tags"]
        assert read_part_bytes(part.uri, b2_api=api) == data
    assert by_id["extra/Widget"].metadata == {"name": "Widget"}
    assert by_id["extra/Widget"].file_type == "stl"
    assert by_id["drawings/flange"].problem().code == "unsupported_format"


def test_b2_new_upload_changes_only_its_fingerprint(b2_catalog):
    api, bucket, catalog = b2_catalog
    uri = f"b2://{BUCKET}/catalogs/c1"
    before = {p.part_id: p for p in discover(uri, b2_api=api)}
    target = sorted(before)[0]
    key = before[target].uri.removeprefix(f"b2://{BUCKET}/")
    bucket.upload_bytes(b"solid new\nendsolid new\n", key)  # a second version of the key
    after = {p.part_id: p for p in discover(uri, b2_api=api)}
    assert after.keys() == before.keys()  # latest versions only: no duplicates
    assert after[target].fingerprint != before[target].fingerprint
    assert read_part_bytes(after[target].uri, b2_api=api) == b"solid new\nendsolid new\n"
    assert all(after[k].fingerprint == before[k].fingerprint for k in before if k != target)


def test_b2_manifest_and_local_manifest_with_b2_uris(b2_catalog, tmp_path):
    api, bucket, catalog = b2_catalog
    records = load_manifest(catalog)
    from_prefix = {p.part_id: p for p in discover(f"b2://{BUCKET}/catalogs/c1", b2_api=api)}
    from_manifest = discover(f"b2://{BUCKET}/catalogs/c1/manifest.jsonl", b2_api=api)
    assert [p.part_id for p in from_manifest] == sorted(r["part_id"] for r in records)
    assert all(p == from_prefix[p.part_id] for p in from_manifest)
    for record in records:
        record["file"] = f"b2://{BUCKET}/catalogs/c1/{record['file']}"
    records.append({"part_id": "missing", "file": f"b2://{BUCKET}/catalogs/c1/parts/no.stl"})
    write_jsonl(tmp_path / "remote.jsonl", records)
    local = {p.part_id: p for p in discover(tmp_path / "remote.jsonl", b2_api=api)}
    assert all(local[pid] == from_prefix[pid] for pid in local if pid != "missing")
    assert not local["missing"].exists and local["missing"].problem().code == "unreadable"


def test_b2_needs_credentials(monkeypatch, catalog):
    monkeypatch.delenv("B2_APPLICATION_KEY_ID", raising=False)
    monkeypatch.delenv("B2_APPLICATION_KEY", raising=False)
    with pytest.raises(B2ConfigError, match="B2_APPLICATION_KEY_ID and B2_APPLICATION_KEY"):
        discover(f"b2://{BUCKET}/catalogs/c1")
    assert len(discover(catalog)) == 10  # local catalogs never ask for B2 keys


def test_b2_unknown_bucket_and_bad_uri():
    api = simulated_b2_api(BUCKET)
    with pytest.raises(B2ConfigError, match="'no-such-bucket' does not exist"):
        discover("b2://no-such-bucket/x/", b2_api=api)
    with pytest.raises(B2ConfigError, match="bad bucket name"):
        discover("b2:///x/", b2_api=api)
    assert discover(f"b2://{BUCKET}/empty/", b2_api=api) == []
