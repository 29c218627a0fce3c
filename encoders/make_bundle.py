"""cad-mini's untrained architecture from a seed: ``python -m encoders.make_bundle --out DIR``.

This is where ``cadsearch train`` starts: the same seed, torch version and text tower package give
byte-identical weight files and the same bundle id. The shipped ``encoders/bundles/cad-mini`` is
the trained bundle (see its MODEL_CARD.md); ``--check`` verifies that it has exactly this
architecture (model configs, text tower pin, preprocessing, point count, view set).
"""

from __future__ import annotations

import argparse
import filecmp
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from encoders.bundle import (
    BUNDLE_FILE,
    MODEL_CARD_FILE,
    SHIPPED_DIR,
    ModelBundle,
    load_bundle,
    save_bundle,
)

NAME = "cad-mini"
SEED = 0  # torch seed of the random initialisation
EMBED_DIM = 256  # vector length of every modality
NUM_POINTS = 512  # points per part: half of DGCNN's usual 1024, to train on a CPU (docs/tuning.md)
VIEW_SET = "canonical10"  # rendered views per part
STORAGE_DTYPE = "float16"  # halves the repository size; loading upcasts to float32
# a narrow DGCNN (k 16, half the default widths), several times faster to train on a CPU than
# the default (docs/tuning.md#model-architecture)
GEOMETRY = {"arch": "dgcnn", "k": 16, "edge_widths": [32, 32, 64, 128], "emb_dim": 512}
UNTRAINED = {  # what the training job replaces; False: random weights
    "image_tower": False,
    "text_tower": True,  # all-MiniLM-L6-v2, pretrained and locked
    "text_projection": False,
    "geometry_encoder": False,
}


def clip_config(embed_dim: int = EMBED_DIM) -> dict[str, Any]:
    """open_clip config of cad-mini: a small ViT and a MiniLM text tower from its package folder.

    hf_model_name and hf_tokenizer_name are filled in at load time with the package's folder.
    """
    return {
        "embed_dim": embed_dim,
        "custom_text": True,
        "quick_gelu": False,
        "vision_cfg": {  # a small ResNet (open_clip's ModifiedResNet, attention pooling)
            # trained from scratch on the project's renders: convolutions learn from a few
            # thousand parts where a ViT (4 layers, patch 32) barely moved in the same epochs
            "image_size": 224,
            "layers": [2, 2, 2, 2],
            "width": 16,  # stem width; stages 64, 128, 256, 512 channels out
            "head_width": 32,  # attention-pool heads: 16
        },
        "text_cfg": {
            "context_length": 77,  # longest text in tokens; shorter batches are trimmed
            "hf_pooler_type": "mean_pooler",  # as all-MiniLM-L6-v2 was trained
            "hf_proj_type": "linear",  # a random linear map keeps MiniLM's neighbourhoods
            "hf_model_pretrained": True,
        },
    }


def build_cad_mini(directory: str | Path, seed: int = SEED) -> ModelBundle:
    """Writes cad-mini (random image tower, projection and geometry encoder) into ``directory``."""
    import torch

    from encoders.clip import ClipEncoder, hf_folder_text_tower
    from encoders.point_encoders import build_geometry_encoder

    torch.manual_seed(seed)  # the image tower is built first, from this seed only
    clip = ClipEncoder.from_config(clip_config(), text_tower=hf_folder_text_tower())
    torch.manual_seed(seed + 1)  # independent of what loading the text tower draws
    clip.model.text.proj.reset_parameters()
    torch.manual_seed(seed + 2)
    hparams = {key: value for key, value in GEOMETRY.items() if key != "arch"}
    geometry = build_geometry_encoder(GEOMETRY["arch"], EMBED_DIM, **hparams)
    bundle = save_bundle(
        directory,
        name=NAME,
        clip=clip,
        geometry=geometry,
        num_points=NUM_POINTS,
        view_set=VIEW_SET,
        trained=UNTRAINED,
        locked={"image": False, "text": True},
        storage_dtype=STORAGE_DTYPE,
        overwrite=True,
    )
    counts = {
        "image tower": sum(p.numel() for p in clip.model.visual.parameters()),
        "text projection": sum(p.numel() for p in clip.model.text.proj.parameters()),
        "text tower (MiniLM, from the package)": sum(
            p.numel() for p in clip.model.text.transformer.parameters()
        ),
        "geometry encoder": sum(p.numel() for p in geometry.parameters()),
    }
    card = model_card(bundle, counts, seed, torch.__version__)
    (Path(directory) / MODEL_CARD_FILE).write_text(card, encoding="utf-8")
    return bundle


def model_card(bundle: ModelBundle, counts: dict[str, int], seed: int, torch_version: str) -> str:
    """MODEL_CARD.md of cad-mini: status, architecture, sizes, hashes, how to rebuild."""
    clip, tower = bundle.clip, bundle.clip["text_tower"]
    vision = clip["model"]["vision_cfg"]
    sizes = {name: (bundle.path / name).stat().st_size for name in bundle.files}
    lines = [
        f"# {bundle.name}: offline default bundle (UNTRAINED)",
        "",
        f"Bundle id: `{bundle.id}`",
        "",
        "## Status: untrained",
        "",
        "The **image tower**, the **text projection** and the **geometry encoder** are",
        f"**random** (initialised from seed {seed}), not trained. Until the training job replaces",
        "them, image search and geometry search with this bundle return **noise**, and text",
        "vectors do not line up with image or geometry vectors. Only text-to-text similarity is",
        "meaningful: the text tower is the pretrained all-MiniLM-L6-v2 (locked), and a random",
        "linear projection roughly keeps its cosine similarities (Johnson-Lindenstrauss; for",
        "seed 0, pairwise cosines of 65 short part descriptions correlate at 0.97 with MiniLM's",
        "own, and 83% keep the same nearest neighbour).",
        "",
        "## Architecture",
        "",
        f"- Vectors: {bundle.embed_dim} dims, L2-normalized, for text, images and geometry.",
        "  1 KiB per float32 vector (a part carries one per view); below MiniLM's 384, so the",
        "  projection compresses rather than pads; sized for what the project's own catalogs can",
        "  train. 512 (ViT-B-32's size) would double storage and search cost for a 384-wide",
        "  text tower.",
        f"- Image tower: open_clip ModifiedResNet, {vision['image_size']}px, blocks "
        f"{vision['layers']}, stem width {vision['width']}, attention pooling.",
        "- Text tower: all-MiniLM-L6-v2 (6 layers, 384 wide, mean pooling) loaded as an",
        f"  open_clip HF text tower from the `{tower['package']}` package folder, locked, then a",
        f"  linear projection 384 -> {bundle.embed_dim}.",
        f"- Geometry encoder: {json.dumps(bundle.geometry)} on {bundle.num_points} points.",
        f"- Views: `{bundle.view_set}`, {bundle.image_size} x {bundle.image_size}; preprocessing:",
        f"  `{json.dumps(clip['preprocess'])}`.",
        "",
        "| component | parameters |",
        "|---|---|",
        *(f"| {name} | {count:,} |" for name, count in counts.items()),
        "",
        "## Files",
        "",
        f"Weights are stored as {bundle.storage_dtype} safetensors (loading upcasts to float32);",
        "the MiniLM weights are not copied: they come from the package, pinned by sha256.",
        "",
        "| file | bytes | sha256 |",
        "|---|---|---|",
        *(f"| {name} | {sizes[name]:,} | `{sha}` |" for name, sha in sorted(bundle.files.items())),
        f"| {tower['package']}/{tower['subdir']}/{tower['weights']} (pinned) | | "
        f"`{tower['sha256']}` |",
        "",
        "## Rebuild",
        "",
        "```",
        f"python -m encoders.make_bundle --seed {seed} --out DIR",
        "python -m encoders.make_bundle --check   # the shipped cad-mini has this architecture",
        "```",
        "",
        f"Byte-identical with the same seed, torch ({torch_version} here) and text tower package.",
        "",
    ]
    return "\n".join(lines)


ARCHITECTURE_KEYS = ("embed_dim", "num_points", "view_set", "image_size", "geometry")


def architecture_differences(a: ModelBundle, b: ModelBundle) -> list[str]:
    """What differs between two bundles' architectures (weights aside); empty: the same."""
    problems = [
        f"{key}: {getattr(a, key)!r} != {getattr(b, key)!r}"
        for key in ARCHITECTURE_KEYS
        if getattr(a, key) != getattr(b, key)
    ]
    for key in ("model", "text_tower", "preprocess", "locked"):
        if a.clip.get(key) != b.clip.get(key):
            problems.append(f"clip.{key} differs")
    return problems


def check_shipped(seed: int = SEED) -> list[str]:
    """Differences between the shipped cad-mini's architecture and a fresh build of it, and
    between two fresh builds' bytes (empty: the shipped bundle is this architecture, trained)."""
    shipped = load_bundle(NAME)
    with tempfile.TemporaryDirectory(prefix="cad-mini-") as tmp:
        first = build_cad_mini(Path(tmp) / "a", seed=seed)
        again = build_cad_mini(Path(tmp) / "b", seed=seed)
        problems = architecture_differences(shipped, first)
        if first.id != again.id:
            problems.append(f"rebuild id {first.id} != {again.id}")
        for name in sorted({*first.files, BUNDLE_FILE}):
            if not filecmp.cmp(first.path / name, again.path / name, shallow=False):
                problems.append(f"rebuild {name} differs")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, help="bundle directory (not the shipped cad-mini)")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--check", action="store_true", help="compare a rebuild with the shipped")
    args = parser.parse_args(argv)
    if args.check:
        problems = check_shipped(args.seed)
        print("identical" if not problems else "\n".join(problems))
        return 1 if problems else 0
    if args.out is None or args.out.resolve() == (SHIPPED_DIR / NAME).resolve():
        parser.error("--out: a directory other than the shipped (trained) cad-mini")
    bundle = build_cad_mini(args.out, seed=args.seed)
    total = sum((bundle.path / name).stat().st_size for name in bundle.files)
    print(f"{bundle.id}: {bundle.path} ({total / 1e6:.1f} MB of weights)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
