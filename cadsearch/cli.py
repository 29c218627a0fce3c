"""The ``cadsearch`` command line."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from .settings import load_settings


def _catalog_generate(args: argparse.Namespace) -> int:
    from data_jobs.catalog.generate import generate_catalog

    settings = load_settings(args.config)
    n = args.n if args.n is not None else settings.catalog.n
    seed = args.seed if args.seed is not None else settings.catalog.seed
    fmt = args.format or settings.catalog.mesh_format
    started = time.perf_counter()
    parts = generate_catalog(args.out, n=n, seed=seed, mesh_format=fmt)
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
    try:
        summary = run_index(args.source, settings, full=args.full, prune=args.prune)
    except SystemicError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted: finished parts are stored; run again to resume", file=sys.stderr)
        return 130
    print(summary.line())
    if summary.stages:
        print("failures by stage: " + ", ".join(f"{k} {v}" for k, v in summary.stages.items()))
    return 1 if summary.systemic else 0


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


def _search(args: argparse.Namespace) -> int:
    import os

    import httpx

    from .client import CadsearchClient, CadsearchError

    settings = load_settings(args.config)
    url = args.url or f"http://{settings.serve.host}:{settings.serve.http_port}"
    filters: dict = {}
    if args.category:
        filters["categories"] = args.category
    if args.tag:
        filters["tags_all"] = args.tag
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
            f"{rank:>3}  {hit['score']:.4f}  {hit['part_id']:<36} {hit['category']:<16} "
            f"{hit['name']}  [{size} mm]"
        )
    if not answer["results"]:
        print("no results")
    return 0


def _demo(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
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
    text_only = {"text->image": 0.0, "text->geometry": 0.0}
    try:
        with CadsearchClient(url) as client:
            queries = [
                (
                    "text 'M12 hex bolt'",
                    # cad-mini's image and geometry towers are untrained: text against text only
                    {"text": "M12 hex bolt", "weights": text_only},
                ),
                (
                    f"image {views[0].name}" if views else "image",
                    {"image": views[0]} if views else None,
                ),
                (f"mesh {mesh_row['file']}", {"mesh": catalog / mesh_row["file"], "rerank": True}),
            ]
            for label, query in queries:
                if query is None:
                    continue
                answer = client.search(top_k=5, **query)
                print(f"-- {label}")
                for hit in answer["results"]:
                    print(f"   {hit['score']:.4f}  {hit['category']:<16} {hit['name']}")
        print(f'\nAPI docs: {url}/docs  (try: cadsearch search "hex nut M8")')
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
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser(
        "demo", parents=[common], help="generate a sample catalog and run the main job on it"
    )
    demo.add_argument(
        "--once", action="store_true", help="run the example queries, then stop serving"
    )
    demo.set_defaults(func=_demo)

    catalog = commands.add_parser("catalog", parents=[common], help="sample catalogs")
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
    generate.set_defaults(func=_catalog_generate)
    preview = catalog_commands.add_parser(
        "preview", parents=[common], help="render a labelled contact sheet"
    )
    preview.add_argument("catalog", help="catalog folder (with manifest.jsonl)")
    preview.add_argument("--out", required=True, help="PNG file to write")
    preview.add_argument("--columns", type=int, default=8)
    preview.set_defaults(func=_catalog_preview)

    index = commands.add_parser(
        "index", parents=[common], help="index a catalog into the collection (Ray Data)"
    )
    index.add_argument("source", help="a folder, a manifest (.jsonl/.csv) or b2://bucket/prefix")
    index.add_argument("--full", action="store_true", help="re-encode unchanged parts too")
    index.add_argument("--prune", action="store_true", help="remove parts whose source is gone")
    index.set_defaults(func=_index)

    serve = commands.add_parser(
        "serve", parents=[common], help="run the search service (Ray Serve) until Ctrl-C"
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
    search.add_argument("--max-size", type=float, default=None, help="largest extent, mm")
    search.add_argument("--rerank", action="store_true", help="multi-view MaxSim rerank")
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
    # subcommands read the profile themselves; share the global --config with them
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
