"""Write an eval result as eval.json, eval.md (markdown tables) and eval.png (bar charts)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

# headline metrics, in reading order: (key, what it is)
HEADLINE = (
    ("mesh_map", "mesh -> part mAP, fused geometry + image (+ views rerank), self excluded"),
    ("mesh_map_geometry", "mesh -> part mAP, geometry -> geometry only"),
    ("mesh_map_image", "mesh -> part mAP, image -> image only (mean of the views)"),
    ("mesh_map_views", "mesh -> part mAP, views only (MaxSim over the image's candidates)"),
    ("fused_gain", "mesh_map - best single-modality mAP"),
    ("text_recall_at_1", "text -> part, hit rate at 1"),
    ("text_recall_at_5", "text -> part, hit rate at 5"),
    ("text_recall_at_10", "text -> part, hit rate at 10"),
    ("text_map", "text -> part mAP"),
    ("image_top1", "image -> part, top-1 category (unseen views and sizes)"),
    ("image_top1_excluding_self", "image -> part, top-1 category, the part excluded"),
    ("image_self_top1", "image -> part, the part itself at rank 1"),
    ("image_recall_at_5", "image -> part, hit rate at 5"),
    ("image_map", "image -> part mAP"),
    ("zero_shot_top1", "zero-shot category of the geometry vector"),
    ("zero_shot_top1_image", "zero-shot category of the image vector"),
    ("zero_shot_chance", "zero-shot by chance: 1 / categories"),
    ("predicted_top1", "predicted kind (index's zero-shot, all vectors), parts of seen kinds"),
    ("predicted_score_mean", "mean predicted_score (probability of the predicted kind)"),
    ("top1_chance", "top-1 category by chance: mean category share"),
)
# the unseen families' and KiCad folders' metrics (docs/unseen.md): (key, what it is)
UNSEEN_HEADLINE = (
    ("unseen_text_recall_at_5", "text -> part, hit rate at 5, unseen parts' variants"),
    ("unseen_text_map", "text -> part mAP, unseen parts' variants"),
    ("unseen_zero_shot_top1", "zero-shot category of unseen parts (prompts: every category)"),
    ("unseen_mesh_map", "mesh -> part mAP of unseen parts, fused, self excluded"),
    ("unseen_predicted_top1", "predicted kind of unseen parts (docs/predicted-kind.md)"),
)
UNSEEN_COLUMNS = ("text_recall_at_5", "text_map", "zero_shot_top1", "mesh_map")
# per-category columns of the markdown table and the chart
CATEGORY_COLUMNS = (
    "text_recall_at_5", "text_map", "image_top1", "image_top1_excluding_self", "mesh_map",
    "mesh_map_geometry", "mesh_map_image", "mesh_map_views", "zero_shot_top1",
    "zero_shot_top1_image",
)  # fmt: skip
CHART_COLUMNS = ("text_recall_at_5", "image_top1", "mesh_map", "zero_shot_top1")
JSON_NAME, MARKDOWN_NAME, CHART_NAME = "eval.json", "eval.md", "eval.png"


def jsonable(value: Any, digits: int = 4) -> Any:
    """A result as strict JSON values: floats rounded, nan and inf as None, tuples as lists."""
    if isinstance(value, float):
        return round(value, digits) if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): jsonable(v, digits) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v, digits) for v in value]
    if hasattr(value, "item") and not isinstance(value, str):  # numpy scalars
        return jsonable(value.item(), digits)
    return value


def summary(result: dict[str, Any]) -> dict[str, Any]:
    """The result less its per-query details: what ``cadsearch eval --json`` prints."""
    return jsonable({k: v for k, v in result.items() if k != "queries"})


def _cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def markdown(result: dict[str, Any]) -> str:
    """The result as a markdown page: headline metrics, per-category table, counts, timings."""
    result = jsonable(result)
    trained = ", ".join(f"{k} {'yes' if v else 'no'}" for k, v in result["trained"].items())
    counts = result["counts"]
    lines = [
        f"# Eval of {result['bundle_id']}",
        "",
        f"Catalog `{result['catalog']}`, split `{result['split']}`"
        + (" (quick)" if result["quick"] else "")
        + f", seed {result['seed']}. Trained: {trained}.",
        f"{counts['parts']} parts in {counts['categories']} categories, {counts['query_parts']} "
        f"query parts ({counts['text_queries']} text, {counts['image_queries']} image, "
        f"{counts['mesh_queries']} mesh queries); {counts.get('parts_failed', 0)} parts failed "
        "to index.",
        "",
        "| metric | value | what |",
        "|---|---:|---|",
    ]
    lines += [f"| `{key}` | {_cell(result.get(key))} | {what} |" for key, what in HEADLINE]
    lines += ["", "## Per category", ""]
    header = ["category", "parts", "queries", *CATEGORY_COLUMNS]
    lines.append("| " + " | ".join(header) + " |")
    lines.append("|---|" + "---:|" * (len(header) - 1))
    for category, row in result["per_category"].items():
        cells = [category, *(_cell(row.get(name)) for name in header[1:])]
        lines.append("| " + " | ".join(cells) + " |")
    lines += unseen_section(result)
    lines += ["", "## Timings", "", "| step | seconds |", "|---|---:|"]
    lines += [f"| {name} | {_cell(float(s))} |" for name, s in result["timings"].items()]
    return "\n".join(lines) + "\n"


def unseen_section(result: dict[str, Any]) -> list[str]:
    """Markdown lines of the unseen families and KiCad folders: metrics, then per category."""
    lines = ["", "## Unseen families and KiCad folders", ""]
    parts = result.get("unseen_parts") or 0
    indexed = result["counts"].get("unseen_indexed", 0)
    if not parts:
        return [*lines, f"No query part of an unseen family or KiCad folder ({indexed} indexed)."]
    lines += [
        f"{parts} query parts of {indexed} indexed, from families and KiCad folders no shipped "
        "bundle trains on (docs/unseen.md); queries retrieve over the whole collection.",
        "",
        "| metric | value | what |",
        "|---|---:|---|",
    ]
    lines += [f"| `{key}` | {_cell(result.get(key))} | {what} |" for key, what in UNSEEN_HEADLINE]
    header = ["category", "parts", "queries", *UNSEEN_COLUMNS]
    lines += ["", "| " + " | ".join(header) + " |", "|---|" + "---:|" * (len(header) - 1)]
    for category, row in (result.get("unseen_per_category") or {}).items():
        cells = [category, *(_cell(row.get(name)) for name in header[1:])]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def chart(result: dict[str, Any], path: Path) -> Path:
    """Bar charts: the headline metrics, then per category the main metric of each task."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    result = jsonable(result)
    keys = [key for key, _ in HEADLINE + UNSEEN_HEADLINE if result.get(key) is not None]
    categories = list(result["per_category"])
    height = max(4.0, 0.32 * len(categories) * len(CHART_COLUMNS) / 2 + 1.5)
    fig, (top, bottom) = plt.subplots(
        2, 1, figsize=(11, 4.5 + height), gridspec_kw={"height_ratios": [4.5, height]}
    )
    top.bar(range(len(keys)), [result[key] for key in keys], color="steelblue")
    top.set_xticks(range(len(keys)), keys, rotation=35, ha="right", fontsize=8)
    top.axhline(0.0, color="black", linewidth=0.6)
    top.set_ylim(min(0.0, *(result[k] for k in keys)) - 0.05, 1.05)
    untrained = [name for name, done in result["trained"].items() if not done]
    title = f"{result['bundle_id']} on {Path(result['catalog']).name} ({result['split']})"
    top.set_title(title + (f"\nuntrained: {', '.join(untrained)}" if untrained else ""))
    rows = np.arange(len(categories))
    width = 0.8 / len(CHART_COLUMNS)
    for i, name in enumerate(CHART_COLUMNS):
        values = [result["per_category"][c].get(name) for c in categories]
        values = [np.nan if v is None else v for v in values]
        bottom.barh(rows + (i - (len(CHART_COLUMNS) - 1) / 2) * width, values, width, label=name)
    bottom.set_yticks(rows, categories, fontsize=7)
    bottom.invert_yaxis()
    bottom.set_xlim(0.0, 1.0)
    bottom.legend(fontsize=7, loc="lower right")
    bottom.set_title("per category")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def write_report(result: dict[str, Any], out_dir: str | Path) -> dict[str, Path]:
    """Write eval.json (everything, per-query details included), eval.md and eval.png."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"json": out / JSON_NAME, "markdown": out / MARKDOWN_NAME, "chart": out / CHART_NAME}
    paths["json"].write_text(json.dumps(jsonable(result), indent=2) + "\n", encoding="utf-8")
    paths["markdown"].write_text(markdown(result), encoding="utf-8")
    chart(result, paths["chart"])
    return paths
