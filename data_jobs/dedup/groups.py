"""Duplicate groups from checked pairs, and the files a person reads: JSONL, CSV and HTML."""

from __future__ import annotations

import base64
import csv
import html
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

GROUPS_NAME = "groups.jsonl"
PAIRS_NAME = "pairs.csv"
REPORT_NAME = "report.html"
PAIR_COLUMNS = ("a", "b", "relation", "scale", "distance", "outliers", "vector", "cosine")
NOT_DUPLICATES = ("different", "error")


def duplicate_groups(facts: Sequence[Any], records: Sequence[dict]) -> list[dict]:
    """Connected parts (union-find over duplicate pairs), largest group first.

    facts   : the parts (each with ``part_id``)
    records : checked pairs (``a``, ``b``, ``relation``, ...)
    returns : ``{"group": n, "parts": [part ids, sorted], "pairs": [pair records]}``
    """
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    duplicates = [r for r in records if r["relation"] not in NOT_DUPLICATES]
    for r in duplicates:
        ra, rb = find(r["a"]), find(r["b"])
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    members: dict[str, list[str]] = {}
    for part_id in parent:
        members.setdefault(find(part_id), []).append(part_id)
    groups = sorted((sorted(m) for m in members.values()), key=lambda m: (-len(m), m[0]))
    index = {pid: n for n, group in enumerate(groups) for pid in group}
    pairs: list[list[dict]] = [[] for _ in groups]
    for r in duplicates:
        pairs[index[r["a"]]].append({k: r[k] for k in PAIR_COLUMNS if k in r})
    return [{"group": n, "parts": g, "pairs": pairs[n]} for n, g in enumerate(groups)]


def write_outputs(out: Path, facts, groups: list[dict], records, view_store=None) -> None:
    """groups.jsonl (one group a line), pairs.csv (every checked pair) and report.html."""
    by_id = {f.part_id: f for f in facts}
    with open(out / GROUPS_NAME, "w", encoding="utf-8") as f:
        for group in groups:
            parts = [_part_entry(by_id[pid]) for pid in group["parts"] if pid in by_id]
            f.write(json.dumps({**group, "members": parts}) + "\n")
    with open(out / PAIRS_NAME, "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=PAIR_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(records)
    (out / REPORT_NAME).write_text(_report(groups, by_id, view_store), encoding="utf-8")


def _part_entry(fact) -> dict:
    return {
        "part_id": fact.part_id,
        "name": fact.name,
        "category": fact.category,
        "extents": fact.extents,
        "view_urls": fact.view_urls[:1],
    }


def _thumbnail(fact, view_store) -> str:
    """An <img> of the part's first view: inline from the view store, else by its URL."""
    if not fact.view_urls:
        return '<div class="nothumb">no view</div>'
    src = fact.view_urls[0]
    if view_store is not None:
        try:
            key = src.rsplit("/", 2)
            data = view_store.get(f"{view_store.prefix}{key[-2]}/{key[-1]}")
            src = "data:image/png;base64," + base64.b64encode(data).decode()
        except Exception:
            pass  # linked by URL: the service serves it when running
    return f'<img src="{html.escape(src)}" alt="{html.escape(fact.part_id)}" width="128">'


def _report(groups: list[dict], by_id: dict, view_store) -> str:
    rows = []
    for group in groups:
        cards = []
        for pid in group["parts"]:
            fact = by_id.get(pid)
            if fact is None:
                continue
            size = " x ".join(f"{e:g}" for e in fact.extents) + " mm" if fact.extents else ""
            cards.append(
                f"<figure>{_thumbnail(fact, view_store)}<figcaption><b>{html.escape(fact.name)}"
                f"</b><br>{html.escape(pid)}<br>{html.escape(fact.category)}<br>{size}"
                "</figcaption></figure>"
            )
        relations = "".join(
            f"<li>{html.escape(p['a'])} &harr; {html.escape(p['b'])}: <b>{p['relation']}</b>"
            f" (scale {p.get('scale', 1):g}, distance {p.get('distance', 0):g})</li>"
            for p in group["pairs"]
        )
        rows.append(
            f'<section id="group-{group["group"]}"><h2>Group {group["group"] + 1}: '
            f"{len(group['parts'])} parts</h2><div class=cards>{''.join(cards)}</div>"
            f"<ul>{relations}</ul></section>"
        )
    body = "".join(rows) or "<p>No duplicates found.</p>"
    return (
        "<!doctype html><html><head><meta charset=utf-8><title>cadsearch duplicate groups</title>"
        "<style>body{font-family:sans-serif;margin:2em}figure{display:inline-block;margin:.5em;"
        "text-align:center;font-size:12px}.cards{display:flex;flex-wrap:wrap}"
        "section{border-bottom:1px solid #ccc;padding:1em 0}</style></head><body>"
        f"<h1>Duplicate groups</h1><p>{len(groups)} groups</p>{body}</body></html>"
    )
