"""The README stays a short front door, and every relative link in it and in docs/ resolves."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
MAX_README_LINES = 150
MAX_LINE_CHARS = 200
# [text](target) and ![alt](target), not inside inline code; the target ends at a space or ")"
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
ABSOLUTE = ("http://", "https://", "mailto:")


def markdown_pages() -> list[Path]:
    return [README, *sorted((ROOT / "docs").glob("*.md"))]


def links(page: Path) -> list[str]:
    """Every link target of a page outside fenced code blocks and inline code."""
    text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.S)
    text = re.sub(r"`[^`\n]*`", "", text)
    return LINK.findall(text)


def anchor(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens."""
    slug = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return slug.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.S)
    return {anchor(m) for m in re.findall(r"^#{1,6}\s+(.+?)\s*$", text, flags=re.M)}


def test_readme_is_short_with_short_lines():
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= MAX_README_LINES, len(lines)
    long = [(n, len(line)) for n, line in enumerate(lines, 1) if len(line) > MAX_LINE_CHARS]
    assert not long, f"README lines over {MAX_LINE_CHARS} characters (line, length): {long}"


def test_every_doc_page_is_reachable():
    """Each docs/*.md is linked from the README or from another page of docs/."""
    linked = {
        (page.parent / target.split("#")[0]).resolve()
        for page in markdown_pages()
        for target in links(page)
        if not target.startswith(ABSOLUTE) and target.split("#")[0]
    }
    orphans = [p.name for p in markdown_pages()[1:] if p.resolve() not in linked]
    assert not orphans, f"docs pages nothing links to: {orphans}"


@pytest.mark.parametrize("page", markdown_pages(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_relative_links_resolve(page):
    broken = []
    for target in links(page):
        if target.startswith(ABSOLUTE):
            continue
        path, _, fragment = target.partition("#")
        resolved = (page.parent / path).resolve() if path else page
        if not resolved.exists():
            broken.append(f"{target}: no file {resolved.relative_to(ROOT)}")
        elif fragment and resolved.suffix == ".md" and fragment not in anchors(resolved):
            broken.append(f"{target}: no heading #{fragment} in {resolved.name}")
    assert not broken, broken


CODE_DIRS = ("cadsearch", "serve", "store", "encoders", "data_jobs", "bench")
DOC_POINTER = re.compile(r"docs/([\w\-/]+\.md)(?:#([\w\-]+))?")


def test_code_points_at_doc_sections_that_exist():
    """A comment's pointer such as docs/tuning.md#rerank names a page and a heading that exist."""
    broken, seen = [], 0
    for folder in CODE_DIRS:
        for source in sorted((ROOT / folder).rglob("*.py")):
            for name, fragment in DOC_POINTER.findall(source.read_text(encoding="utf-8")):
                seen += 1
                page = ROOT / "docs" / name
                if not page.exists():
                    broken.append(f"{source.relative_to(ROOT)}: docs/{name} is missing")
                elif fragment and fragment not in anchors(page):
                    broken.append(f"{source.relative_to(ROOT)}: no #{fragment} in docs/{name}")
    assert seen, "no docs/ pointer found in the code"
    assert not broken, broken


def test_link_checker_sees_links_and_anchors(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(
        "# A `code` title\n[ok](page.md#a-code-title) ![img](img/x.png) `[not](a-link.md)`\n"
        "```\n[nor](this.md)\n```\n",
        encoding="utf-8",
    )
    assert links(page) == ["page.md#a-code-title", "img/x.png"]
    assert anchors(page) == {"a-code-title"}
