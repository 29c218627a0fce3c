"""The ``cadsearch`` command line."""

from __future__ import annotations

import argparse
import functools
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from .settings import load_settings


def _ray_on_loopback(*addresses: str | None) -> None:
    """A Ray that a command starts itself listens on loopback only, as the service's does
    (docs/security.md#rays-ports); a cluster it joins (an address, $RAY_ADDRESS) is left as is."""
    from serve.local import joins_cluster, loopback_ray

    if not joins_cluster(*addresses):
        loopback_ray()


def _catalog_generate(args: argparse.Namespace) -> int:
    from data_jobs.catalog.generate import generate_catalog

    settings = load_settings(args.config)
    n = args.n if args.n is not None else settings.catalog.n
    seed = args.seed if args.seed is not None else settings.catalog.seed
    fmt = args.format or settings.catalog.mesh_format
    started = time.perf_counter()
    exclude_unseen = getattr(args, "exclude_unseen", False)  # the demo's namespace lacks it
    parts = generate_catalog(
        args.out, n=n, seed=seed, mesh_format=fmt, exclude_unseen=exclude_unseen
    )
    categories = sorted({p["category"] for p in parts})
    print(
        f"wrote {len(parts)} parts in {len(categories)} categories to {args.out} "
        f"({time.perf_counter() - started:.1f} s): {', '.join(categories)}"
    )
    return 0


def _catalog_preview(args: argparse.Namespace) -> int:
    from data_jobs.catalog.preview import contact_sheet

    out = contact_sheet(args.catalog, args.out, columns=args.columns)
    print(f"wrote contact sheet {out}")
    return 0


def _catalog_kicad(args: argparse.Namespace) -> int:
    from data_jobs.catalog.kicad import DEFAULT_CACHE, build_kicad_catalog

    if args.all and args.per_category is not None:
        print("error: --all takes every model; leave out --per-category", file=sys.stderr)
        return 1
    per_category = None if args.all else (40 if args.per_category is None else args.per_category)
    if args.min_per_category is not None:
        min_per_category = args.min_per_category
    else:
        min_per_category = 1 if args.all else 8
    try:
        summary = build_kicad_catalog(
            args.out,
            deb=args.deb,
            per_category=per_category,
            min_per_category=min_per_category,
            categories=args.categories,
            limit=args.limit,
            seed=args.seed,
            mesh_format=args.format,
            workers=args.workers,
            cache_dir=args.cache or DEFAULT_CACHE,
            resume=args.resume,
        )
    except (ImportError, OSError, RuntimeError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print("\n".join(summary.lines()))
    return 0 if summary.parts else 1


def _catalog_mcad(args: argparse.Namespace) -> int:
    from data_jobs.catalog.mcad import DEFAULT_LIBRARY, build_mcad_catalog

    try:
        summary = build_mcad_catalog(
            args.out,
            library_dir=args.library or DEFAULT_LIBRARY,
            mesh_format=args.format,
            workers=args.workers,
            timeout=args.timeout,
        )
    except (OSError, RuntimeError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print("\n".join(summary.lines()))
    return 0 if summary.parts else 1


def _inspect(args: argparse.Namespace) -> int:
    from encoders.geometry.errors import MeshError
    from encoders.geometry.prepare import prepare_part

    settings = load_settings(args.config)
    metadata = {"units": args.units} if args.units else {}
    try:
        prepared = prepare_part(
            args.file, Path(args.file).stem, metadata, settings, render=bool(args.views)
        )
    except MeshError as e:
        print(f"error [{e.code}]: {e}", file=sys.stderr)
        return 2
    facts = prepared.facts
    report = {
        "file": str(args.file),
        "faces": facts.faces,
        "bodies": facts.bodies,
        "watertight": facts.watertight,
        "through_holes": facts.through_holes,
        **prepared.part.bbox.to_payload(),
        "cleaned": vars(prepared.clean),
        "description": prepared.description,
    }
    if args.views:
        out = Path(args.views)
        out.mkdir(parents=True, exist_ok=True)
        for view in prepared.views:
            (out / f"{view.name}.png").write_bytes(view.png())
        report["views"] = [str(out / f"{v.name}.png") for v in prepared.views]
    print(json.dumps(report, indent=2))
    return 0


def _index(args: argparse.Namespace) -> int:
    from data_jobs.index.pipeline import SystemicError, run_index

    settings = load_settings(args.config)
    _ray_on_loopback(settings.index.ray_address)
    try:
        summary = run_index(args.source, settings, full=args.full, prune=args.prune)
    except SystemicError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted: finished parts are stored; run again to resume", file=sys.stderr)
        return 130
    print(summary.table())
    print(summary.line())
    return 1 if summary.systemic else 0


def _threshold_pairs(items: list[str]) -> dict[str, float]:
    """``NAME=COS`` arguments -> {name: cosine}."""
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        try:
            if not sep:
                raise ValueError
            out[name.strip()] = float(value)
        except ValueError:
            raise ValueError(f"--threshold {item!r}: write NAME=COS, e.g. geometry=0.9") from None
    return out


def _dedup(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from data_jobs.dedup.check import Tolerances
    from data_jobs.dedup.groups import GROUPS_NAME, PAIRS_NAME, REPORT_NAME
    from data_jobs.dedup.pipeline import run_dedup
    from store.errors import CollectionNotFoundError, StoreError
    from store.factory import open_store
    from store.views import open_view_store

    try:
        settings = load_settings(args.config)
        section = {"k": args.k} if args.k is not None else {}
        if args.threshold:  # each given vector's threshold; the others keep the profile's
            section["thresholds"] = {
                **settings.dedup.thresholds,
                **_threshold_pairs(args.threshold),
            }
        settings = load_settings(args.config, dedup=section)
    except ValueError as e:  # a pydantic ValidationError is a ValueError
        print(f"error: {e}", file=sys.stderr)
        return 2
    dedup = settings.dedup
    out = Path(args.out or dedup.out_dir)
    try:
        store = open_store(settings.store)  # no spec: an existing collection, never a new one
    except CollectionNotFoundError as e:
        print(f"error: {e}: run `cadsearch index SRC` first", file=sys.stderr)
        return 1
    except (StoreError, OSError, ValueError) as e:  # WriterLockedError: the service holds it
        print(f"error: cannot open the collection: {e}", file=sys.stderr)
        return 1
    try:
        _ray_on_loopback(settings.index.ray_address)
        if settings.index.ray_address:
            import ray

            ray.init(address=settings.index.ray_address, log_to_driver=False)
        summary = run_dedup(
            store,
            out,
            k=dedup.k,
            thresholds=dict(dedup.thresholds),
            tolerances=Tolerances(**dedup.tolerances.model_dump()),
            samples=dedup.samples,
            view_store=open_view_store(settings.views),
        )
    except KeyboardInterrupt:
        print("interrupted: pairs checked so far are not kept", file=sys.stderr)
        return 130
    finally:
        store.close()
    if args.json:
        print(json.dumps(asdict(summary)))
        return 0
    print(summary.line())
    if summary.relations:
        print("relations: " + ", ".join(f"{k} {v}" for k, v in sorted(summary.relations.items())))
    print(f"groups: {out / GROUPS_NAME}\npairs:  {out / PAIRS_NAME}\nreport: {out / REPORT_NAME}")
    return 0


def _eval(args: argparse.Namespace) -> int:
    from data_jobs.evaluate.report import HEADLINE, summary, write_report
    from data_jobs.evaluate.run import EvalError, run_eval
    from data_jobs.index.pipeline import SystemicError
    from encoders.bundle import BundleError

    settings = load_settings(args.config)
    _ray_on_loopback(settings.index.ray_address)
    try:
        result = run_eval(
            args.bundle or settings.model.bundle,
            args.catalog,
            split=args.split,
            quick=args.quick,
            seed=args.seed,
            settings=settings,
        )
    except (EvalError, SystemicError, BundleError, OSError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    out = Path(args.out or Path(settings.data_dir) / "eval" / f"{result['bundle']}-{stamp}")
    paths = write_report(result, out)
    line = summary(result)
    if not args.json:
        counts = line["counts"]
        print(
            f"{result['bundle_id']}: {counts['query_parts']} {args.split} query parts against "
            f"{counts['parts']} parts in {counts['categories']} categories "
            f"({line['timings']['total_s']:.1f} s)"
        )
        for key, _ in HEADLINE:
            value = line.get(key)
            print(f"  {key:<28} {'-' if value is None else f'{value:.3f}'}")
        print(f"report: {paths['markdown']}, {paths['json']}, {paths['chart']}")
        return 0
    print(f"report: {paths['markdown']}", file=sys.stderr)
    print(json.dumps({**line, "report_dir": str(out)}))  # the last stdout line
    return 0


def _train(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from data_jobs.training_data import build_training_data, training_shards
    from encoders.bundle import BundleError
    from encoders.train.job import run_training

    settings = load_settings(args.config)
    train = settings.train.model_copy(
        update={
            key: value
            for key, value in {
                "mode": args.mode,
                "epochs": args.epochs,
                "batch_size": args.batch_size,
                "num_workers": args.workers,
                "use_gpu": True if args.gpu else None,
            }.items()
            if value is not None
        }
    )
    settings = settings.model_copy(update={"train": train})
    data = list(args.data)
    try:
        if args.merge:
            return _merge_pack(args)
        if not data:
            raise ValueError("--data (a training data folder) is required")
        if args.catalog:
            if len(data) != 1:
                raise ValueError("with --catalog give exactly one --data folder to write")
            summary = build_training_data(
                args.catalog,
                data[0],
                bundle=args.init or "cad-mini",
                settings=settings,
                extra_views=args.extra_views,
                limit=args.limit,
            )
            print(json.dumps({"training_data": asdict(summary)}))
            if args.prepare_only:
                return 0 if summary.rows else 1
        if args.pack:
            return _pack(args, data)
        if not args.out:
            raise ValueError("--out (the bundle directory to write) is required")
        result = run_training(
            training_shards(data),
            args.out,
            train=settings.train,
            name=args.name,
            init=args.init,
            run_dir=args.run_dir,
            resume_from=args.resume_from,
            overwrite=args.overwrite,
        )
    except (BundleError, FileExistsError, FileNotFoundError, ValueError, RuntimeError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    last = result.history[-1] if result.history else {}
    print(
        json.dumps(
            {k: v for k, v in asdict(result).items() if k != "history"} | {"last_epoch": last}
        )
    )
    return 0


def _pack(args: argparse.Namespace, data: list[str]) -> int:
    """``train --pack``: the geometry-only pack of the training shards (encoders.train.pack)."""
    from data_jobs.training_data import training_shards
    from encoders.bundle import load_bundle
    from encoders.train.pack import pack_shards

    folders = training_shards(data)
    files = sorted(str(f) for folder in folders for f in Path(folder).glob("*.parquet"))
    bundle = load_bundle(args.init or "cad-mini")
    say = functools.partial(print, file=sys.stderr)
    summary = pack_shards(files, bundle, args.pack, max_mb=args.pack_mb, say=say)
    print(json.dumps({"pack": str(args.pack), **summary}))
    return 0


def _merge_pack(args: argparse.Namespace) -> int:
    """``train --merge``: --init with the geometry encoder a pack's run trained."""
    from encoders.bundle import load_bundle
    from encoders.train.pack import merge_geometry

    if not args.out:
        raise ValueError("--out (the bundle directory to write) is required")
    base = load_bundle(args.init or "cad-mini")
    bundle = merge_geometry(
        base, args.merge, args.out, name=args.name, pack=args.pack, overwrite=args.overwrite
    )
    print(json.dumps({"bundle_path": str(bundle.path), "bundle_id": bundle.id}))
    return 0


def _serve(args: argparse.Namespace) -> int:
    if args.serve_config:
        # a Serve config (configs/serve.yaml): Ray Serve's own `serve run` deploys it
        import shutil

        serve_cli = shutil.which("serve") or str(Path(sys.executable).with_name("serve"))
        return subprocess.call([serve_cli, "run", args.serve_config])
    from serve.local import run_forever

    overrides = {"serve": {k: v for k, v in (("http_port", args.port), ("host", args.host)) if v}}
    run_forever(args.config, overrides)
    return 0


def kind_label(hit: dict) -> str:
    """A result's category, or its predicted kind when it has none: ``likely spur gear, 72%``."""
    category = hit.get("category") or ""
    predicted = hit.get("predicted_category")
    if predicted and category in ("", "uncategorized"):
        words = predicted.replace("_", " ")
        return f"likely {words}, {round(100 * (hit.get('predicted_score') or 0))}%"
    return category


def match_label(hit: dict) -> str:
    """A result's similarity percentage: ``87%`` (``-`` when it has none)."""
    percent = hit.get("similarity_percent")
    return "-" if percent is None else f"{percent:.0f}%"


def _search(args: argparse.Namespace) -> int:
    import httpx

    from .client import CadsearchClient, CadsearchError

    settings = load_settings(args.config)
    url = args.url or f"http://{settings.serve.host}:{settings.serve.http_port}"
    filters: dict = {}
    if args.category:
        filters["categories"] = args.category
    if args.tag:
        filters["tags_all"] = args.tag
    if args.predicted:
        filters["predicted_categories"] = args.predicted
    if args.max_size is not None:
        filters["extent_max"] = {"lte": args.max_size}
    api_key = args.api_key or os.environ.get("CADSEARCH_API_KEY")
    if not (args.text or args.image or args.mesh or args.like):
        print("error: give a text, --image, --mesh or --like", file=sys.stderr)
        return 2
    try:
        with CadsearchClient(url, api_key=api_key) as client:
            answer = client.search(
                args.text,
                image=args.image,
                mesh=args.mesh,
                like=args.like,
                filters=filters or None,
                top_k=args.top_k,
                rerank=args.rerank,
                min_similarity=args.min_similarity,
                same_size=args.same_size,
            )
    except CadsearchError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except (OSError, httpx.HTTPError) as e:  # a missing file, or no service at the URL
        print(f"error: {e}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(answer, indent=2))
        return 0
    for rank, hit in enumerate(answer["results"], 1):
        size = " x ".join(f"{v:g}" for v in hit["extents_mm"] or [])
        print(
            f"{rank:>3}  {match_label(hit):>5}  {hit['score']:.4f}  {hit['part_id']:<36} "
            f"{kind_label(hit):<16} {hit['name']}  [{size} mm]"
        )
    if answer["results"] and not answer.get("similarity_calibrated", True):
        note = "match % uncalibrated: the bundle has no similarity.json (docs/similarity.md)"
        print(note, file=sys.stderr)
    if not answer["results"]:
        print("no results")
    return 0


def _demo(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    # the job's Ray is then the service's: on loopback unless either joins a cluster
    _ray_on_loopback(settings.index.ray_address, settings.serve.ray_address)
    catalog = Path(settings.data_dir) / "catalog"
    print(f"== generating a sample catalog of {settings.catalog.n} parts in {catalog}")
    _catalog_generate(
        argparse.Namespace(config=args.config, out=str(catalog), n=None, seed=None, format=None)
    )
    print("== rendering its contact sheet")
    _catalog_preview(
        argparse.Namespace(catalog=str(catalog), out=str(catalog / "sheet.png"), columns=10)
    )
    print("== indexing it (Ray Data: prepare tasks -> encoder actors -> Qdrant Edge)")
    from data_jobs.index.pipeline import run_index

    summary = run_index(str(catalog), settings)
    print(summary.table())
    print(summary.line())
    if summary.systemic:
        return 1
    print(f"open {catalog / 'sheet.png'} to look at the catalog")
    return _demo_serve(args, settings, catalog)


def _demo_serve(args: argparse.Namespace, settings, catalog: Path) -> int:
    """Start the service on the demo collection, run a text, an image and a mesh query."""
    import json as json_module

    from ray import serve

    from serve.local import start_service

    from .client import CadsearchClient

    print("== starting the search service (Ray Serve)")
    settings, _ = start_service(args.config)
    url = f"http://{settings.serve.host}:{settings.serve.http_port}"
    rows = [json_module.loads(line) for line in (catalog / "manifest.jsonl").open()]
    mesh_row = next((r for r in rows if r["category"] == "gear"), rows[0])
    views = sorted(Path(settings.views.path).glob("*/iso_front_right.png"))
    try:
        with CadsearchClient(url) as client:
            queries = [
                ("text 'M12 hex bolt'", {"text": "M12 hex bolt"}),
                (
                    f"image {views[0].name}" if views else "image",
                    {"image": views[0]} if views else None,
                ),
                (f"mesh {mesh_row['file']}", {"mesh": catalog / mesh_row["file"]}),
            ]
            for label, query in queries:
                if query is None:
                    continue
                answer = client.search(top_k=5, **query)
                print(f"-- {label}")
                for hit in answer["results"]:
                    print(f"   {hit['score']:.4f}  {hit['category']:<16} {hit['name']}")
        print(f"\nsearch page: {url}/   API docs: {url}/docs")
        print('try: cadsearch search "hex nut M8"')
        if args.once:
            return 0
        print("serving until Ctrl-C")
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        return 0
    finally:
        serve.shutdown()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cadsearch", description=__doc__)
    parser.add_argument(
        "--config", default=None, help="settings profile: a name in configs/ or a YAML path"
    )
    # --config is accepted before or after the subcommand (`cadsearch index SRC --config F`)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config", default=argparse.SUPPRESS, help="settings profile (name or YAML path)"
    )
    for where, default in ((parser, False), (common, argparse.SUPPRESS)):
        where.add_argument(
            "-v", "--verbose", action="store_true", default=default, help="Ray's own INFO logs"
        )
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser(
        "demo", parents=[common], help="generate a sample catalog and run the main job on it"
    )
    demo.add_argument(
        "--once", action="store_true", help="run the example queries, then stop serving"
    )
    demo.set_defaults(func=_demo)

    catalog = commands.add_parser("catalog", parents=[common], help="sample and real catalogs")
    catalog_commands = catalog.add_subparsers(dest="catalog_command", required=True)
    generate = catalog_commands.add_parser(
        "generate", parents=[common], help="write a sample catalog of parts"
    )
    generate.add_argument("--out", required=True, help="output folder")
    generate.add_argument("--n", type=int, default=None, help="number of parts")
    generate.add_argument("--seed", type=int, default=None, help="random seed")
    generate.add_argument(
        "--format", default=None, help="mesh file format (stl, ply, obj, glb, off)"
    )
    generate.add_argument(
        "--exclude-unseen",
        action="store_true",
        help="leave out the families no shipped bundle trains on (docs/unseen.md): training "
        "catalogs are made with it",
    )
    generate.set_defaults(func=_catalog_generate)
    preview = catalog_commands.add_parser(
        "preview", parents=[common], help="render a labelled contact sheet"
    )
    preview.add_argument("catalog", help="catalog folder (with manifest.jsonl)")
    preview.add_argument("--out", required=True, help="PNG file to write")
    preview.add_argument("--columns", type=int, default=8)
    preview.set_defaults(func=_catalog_preview)
    kicad = catalog_commands.add_parser(
        "kicad", parents=[common], help="a catalog of real models from Debian's kicad-packages3d"
    )
    kicad.add_argument("--out", required=True, help="output folder")
    kicad.add_argument(
        "--deb", default=None, help="the kicad-packages3d .deb (default: apt-get download, cached)"
    )
    kicad.add_argument("--cache", default=None, help="download folder (~/.cache/cadsearch/kicad)")
    kicad.add_argument(
        "--all", action="store_true", help="every model of every category (about 6,200)"
    )
    kicad.add_argument(
        "--per-category", type=int, default=None, help="most models per category (40)"
    )
    kicad.add_argument(
        "--min-per-category",
        type=int,
        default=None,
        help="leave out categories with fewer models (8; 1 with --all)",
    )
    kicad.add_argument("--categories", nargs="+", default=None, help="only these (Package_DIP ...)")
    kicad.add_argument("--limit", type=int, default=None, help="most models in all")
    kicad.add_argument("--seed", type=int, default=0, help="random seed of the choice")
    kicad.add_argument("--format", default="ply", choices=("ply", "stl"), help="mesh file format")
    kicad.add_argument("--workers", type=int, default=1, help="conversion processes")
    kicad.add_argument(
        "--resume", action="store_true", help="keep part files of an earlier run, convert the rest"
    )
    kicad.set_defaults(func=_catalog_kicad)
    mcad = catalog_commands.add_parser(
        "mcad", parents=[common], help="a catalog of real parts from OpenSCAD's MCAD library"
    )
    mcad.add_argument("--out", required=True, help="output folder")
    mcad.add_argument(
        "--library", default=None, help="MCAD folder (/usr/share/openscad/libraries/MCAD)"
    )
    mcad.add_argument("--format", default="stl", choices=("stl", "ply"), help="mesh file format")
    mcad.add_argument("--workers", type=int, default=1, help="openscad processes at a time")
    mcad.add_argument("--timeout", type=float, default=180.0, help="seconds per part")
    mcad.set_defaults(func=_catalog_mcad)

    index = commands.add_parser(
        "index", parents=[common], help="index a catalog into the collection (Ray Data)"
    )
    index.add_argument("source", help="a folder, a manifest (.jsonl/.csv) or b2://bucket/prefix")
    index.add_argument("--full", action="store_true", help="re-encode unchanged parts too")
    index.add_argument("--prune", action="store_true", help="remove parts whose source is gone")
    index.set_defaults(func=_index)

    dedup = commands.add_parser(
        "dedup", parents=[common], help="duplicate groups of the collection (Ray Data)"
    )
    dedup.add_argument("--out", default=None, help="output folder (default: dedup.out_dir)")
    dedup.add_argument(
        "--k", type=int, default=None, help="nearest neighbours per part and vector (dedup.k)"
    )
    dedup.add_argument(
        "--threshold",
        action="append",
        default=[],
        metavar="NAME=COS",
        help="candidate cosine of a vector: geometry, image, text or shape (repeatable; "
        "the others keep dedup.thresholds)",
    )
    dedup.add_argument("--json", action="store_true", help="print the summary as one JSON line")
    dedup.set_defaults(func=_dedup)

    evaluate = commands.add_parser(
        "eval", parents=[common], help="retrieval quality of a model bundle on held-out parts"
    )
    evaluate.add_argument(
        "--bundle", default=None, help="bundle name or directory (default: model.bundle)"
    )
    evaluate.add_argument("--catalog", required=True, help="catalog folder (with manifest.jsonl)")
    evaluate.add_argument(
        "--split",
        default="heldout",
        choices=["heldout", "train", "all"],
        help="query parts (every part is indexed): held-out split, train split or all",
    )
    evaluate.add_argument("--quick", action="store_true", help="at most 40 query parts")
    evaluate.add_argument("--seed", type=int, default=0, help="query cameras and --quick sample")
    evaluate.add_argument(
        "--out", default=None, help="report folder (default: <data_dir>/eval/<bundle>-<time>)"
    )
    evaluate.add_argument(
        "--json", action="store_true", help="print the metrics as one JSON line (the last)"
    )
    evaluate.set_defaults(func=_eval)

    train = commands.add_parser(
        "train", parents=[common], help="train a bundle (Ray Train): geometry and image towers"
    )
    train.add_argument(
        "--data",
        action="append",
        default=[],
        help="training data folder (repeatable); written first when --catalog is given",
    )
    train.add_argument(
        "--catalog",
        action="append",
        default=[],
        help="catalog folder or name=folder (repeatable): run the training data job into --data",
    )
    train.add_argument("--out", help="bundle directory to write (required unless --prepare-only)")
    train.add_argument("--name", default="cad-mini", help="bundle name")
    train.add_argument(
        "--init",
        default=None,
        help="bundle to start from (default: cad-mini's untrained architecture)",
    )
    train.add_argument(
        "--mode", choices=["A", "B"], default=None, help="A: geometry only; B: image tower too"
    )
    train.add_argument("--epochs", type=int, default=None)
    train.add_argument("--batch-size", type=int, default=None)
    train.add_argument("--workers", type=int, default=None, help="Ray Train workers")
    train.add_argument("--gpu", action="store_true", help="one GPU per worker, mixed precision")
    train.add_argument("--run-dir", default=None, help="checkpoints; the same folder resumes")
    train.add_argument("--resume-from", default=None, help="a checkpoint folder to start from")
    train.add_argument("--extra-views", type=int, default=4, help="random-angle views per part")
    train.add_argument("--limit", type=int, default=None, help="parts per catalog (quick runs)")
    train.add_argument("--prepare-only", action="store_true", help="stop after the data job")
    train.add_argument("--overwrite", action="store_true", help="replace a bundle in --out")
    train.add_argument(
        "--pack",
        default=None,
        help="write a geometry-only training pack of --data into this folder and stop "
        "(python -m encoders.train.pack trains on it anywhere torch runs)",
    )
    train.add_argument("--pack-mb", type=float, default=64.0, help="size limit of --pack, MiB")
    train.add_argument(
        "--merge",
        default=None,
        help="a pack's run folder: write --out as --init with the geometry encoder trained there "
        "(with --pack: the pack it trained on, for training.json)",
    )
    train.set_defaults(func=_train)

    serve = commands.add_parser(
        "serve", parents=[common], help="run the search service (Ray Serve) until Ctrl-C or SIGTERM"
    )
    serve.add_argument("--port", type=int, default=None, help="HTTP port (serve.http_port)")
    serve.add_argument("--host", default=None, help="HTTP host (serve.host)")
    serve.add_argument(
        "--serve-config", default=None, help="a Serve config YAML (configs/serve.yaml) instead"
    )
    serve.set_defaults(func=_serve)

    search = commands.add_parser(
        "search", parents=[common], help="search a running service (HTTP API)"
    )
    search.add_argument("text", nargs="?", default=None, help='e.g. "hex nut M8"')
    search.add_argument("--image", default=None, help="an image file (photo, sketch, view)")
    search.add_argument("--mesh", default=None, help="a part file (stl, obj, step, ...)")
    search.add_argument("--like", default=None, help="more like this part id")
    search.add_argument("--top-k", type=int, default=10)
    search.add_argument("--category", action="append", default=[], help="repeatable")
    search.add_argument("--tag", action="append", default=[], help="repeatable (all must match)")
    search.add_argument(
        "--predicted",
        action="append",
        default=[],
        help="predicted kind of parts without a category (repeatable, any of)",
    )
    search.add_argument("--max-size", type=float, default=None, help="largest extent, mm")
    search.add_argument(
        "--min-similarity",
        type=float,
        default=None,
        metavar="PERCENT",
        help="drop results below this match percentage, 0..100 (docs/similarity.md)",
    )
    search.add_argument(
        "--same-size",
        type=float,
        default=None,
        metavar="PERCENT",
        help="with --mesh or --like: parts whose sorted extents are within this tolerance",
    )
    search.add_argument(
        "--rerank",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="multi-view MaxSim rerank (default: the service's, on for --image and --mesh)",
    )
    search.add_argument("--url", default=None, help="service URL (default from settings)")
    search.add_argument("--api-key", default=None, help="default: $CADSEARCH_API_KEY")
    search.add_argument("--json", action="store_true", help="print the raw JSON answer")
    search.set_defaults(func=_search)

    inspect = commands.add_parser(
        "inspect", parents=[common], help="load, validate and describe one part file"
    )
    inspect.add_argument("file")
    inspect.add_argument("--units", default=None, help="file units (mm, cm, m, in, ...)")
    inspect.add_argument("--views", default=None, help="folder to write its rendered views to")
    inspect.set_defaults(func=_inspect)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.verbose:  # read by data_jobs.ray_setup, in this process and the jobs it starts
        import os

        os.environ["CADSEARCH_VERBOSE"] = "1"
    # subcommands read the profile themselves; share the global --config with them
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
