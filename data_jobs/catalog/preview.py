"""Contact sheet of a generated catalog: one labelled rendered thumbnail per part, as a PNG."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import trimesh
from PIL import Image, ImageDraw, ImageFont

from data_jobs.catalog.generate import load_manifest

LABEL_LINES = 2
LINE_HEIGHT = 12
PAD = 4


def normalize_for_view(mesh: trimesh.Trimesh) -> trimesh.Trimesh:
    """Copy of a mesh centred on its bounding-box centre and scaled so max |vertex| is 1."""
    v = np.asarray(mesh.vertices, dtype=np.float64)
    centred = v - (v.min(axis=0) + v.max(axis=0)) / 2.0
    radius = float(np.sqrt((centred**2).sum(axis=1)).max())
    scaled = centred / radius if radius > 0 else centred
    return trimesh.Trimesh(vertices=scaled, faces=np.asarray(mesh.faces), process=False)


def _fit_text(draw: ImageDraw.ImageDraw, text: str, width: int, font) -> str:
    """``text`` cut (with an ellipsis) to fit ``width`` pixels."""
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "...", font=font) > width:
        text = text[:-1]
    return text + "..."


def tile_images(
    images: Sequence[np.ndarray], labels: Sequence[tuple[str, str]], columns: int, thumb: int
) -> Image.Image:
    """Grid of thumbnails with two label lines (name, category) under each.

    images : each (thumb, thumb, 3) uint8; labels : (title, subtitle) per image
    returns: RGB image of (columns * thumb) x (rows * (thumb + label band)) pixels
    """
    band = LABEL_LINES * LINE_HEIGHT + PAD
    rows = max(1, -(-len(images) // columns))
    sheet = Image.new("RGB", (columns * thumb, rows * (thumb + band)), "white")
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.load_default()
    for i, (rgb, (title, subtitle)) in enumerate(zip(images, labels, strict=True)):
        r, c = divmod(i, columns)
        x, y = c * thumb, r * (thumb + band)
        sheet.paste(Image.fromarray(np.ascontiguousarray(rgb, dtype=np.uint8)), (x, y))
        draw.rectangle([x, y, x + thumb - 1, y + thumb + band - 1], outline=(225, 225, 225))
        draw.text((x + 3, y + thumb), _fit_text(draw, title, thumb - 6, font), (0, 0, 0), font)
        sub = _fit_text(draw, subtitle, thumb - 6, font)
        draw.text((x + 3, y + thumb + LINE_HEIGHT), sub, (90, 90, 140), font)
    return sheet


def render_thumbnails(
    meshes: Sequence[trimesh.Trimesh], thumb: int = 160, view: str = "iso_front_right"
) -> list[np.ndarray]:
    """One (thumb, thumb, 3) uint8 rendering per mesh from the named canonical view."""
    from encoders.geometry.render import ViewRenderer, get_view_set

    spec = [s for s in get_view_set("canonical10") if s.name == view]
    if not spec:
        raise ValueError(f"unknown view {view!r}")
    renderer = ViewRenderer(image_size=thumb, views=spec, background="white")
    try:
        return [renderer.render(normalize_for_view(m), views=spec)[0].rgb for m in meshes]
    finally:
        renderer.close()


def contact_sheet(
    catalog_dir: str | Path,
    out_png: str | Path,
    columns: int = 8,
    thumb: int = 160,
    view: str = "iso_front_right",
) -> Path:
    """Render every part of a generated catalog into one labelled PNG grid; returns its path."""
    catalog_dir = Path(catalog_dir)
    records = load_manifest(catalog_dir)
    meshes = [trimesh.load(catalog_dir / r["file"], force="mesh") for r in records]
    images = render_thumbnails(meshes, thumb=thumb, view=view)
    labels = [(r["name"], f"{r['category']} / {r['family']}") for r in records]
    out_png = Path(out_png)
    out_png.parent.mkdir(parents=True, exist_ok=True)
    tile_images(images, labels, columns, thumb).save(out_png, format="PNG")
    return out_png


def main(argv: Sequence[str] | None = None) -> None:
    """CLI: python -m data_jobs.catalog.preview CATALOG_DIR OUT_PNG [--columns N --thumb PX]."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("catalog_dir")
    ap.add_argument("out_png")
    ap.add_argument("--columns", type=int, default=8)
    ap.add_argument("--thumb", type=int, default=160)
    ap.add_argument("--view", default="iso_front_right")
    args = ap.parse_args(argv)
    print(contact_sheet(args.catalog_dir, args.out_png, args.columns, args.thumb, args.view))


if __name__ == "__main__":
    main()
