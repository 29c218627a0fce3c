"""The latest duplicate groups (``cadsearch dedup``'s groups.jsonl) as the service reads them."""

from __future__ import annotations

import json
import os
import threading
from collections import deque
from pathlib import Path
from typing import Any

GROUPS_NAME = "groups.jsonl"  # data_jobs.dedup.groups.GROUPS_NAME, without importing the job
SUMMARY_NAME = "summary.json"


def relation_to(part_id: str, group: dict) -> dict[str, dict[str, Any]]:
    """Each other member's relation to ``part_id``: the checked pair's when there is one, else
    composed along the shortest chain of checked pairs in the group.

    group   : a groups.jsonl record (``parts``, ``pairs`` with a, b, relation, scale, distance)
    returns : member id -> {relation, scale (member's size over the part's), distance, via}
    A chain is mirrored when an odd number of its steps are; scaled when its scale product is
    and any step was; identical only when every step is.
    """
    steps: dict[str, list[tuple[str, dict, float]]] = {}
    for pair in group.get("pairs", []):
        scale = float(pair.get("scale") or 1.0)
        steps.setdefault(pair["a"], []).append((pair["b"], pair, scale))
        steps.setdefault(pair["b"], []).append((pair["a"], pair, 1.0 / scale if scale else 1.0))
    # breadth-first from the part, neighbours in id order: one deterministic shortest chain each
    chain: dict[str, list[tuple[str, dict, float]]] = {part_id: []}
    queue = deque([part_id])
    while queue:
        node = queue.popleft()
        for other, pair, scale in sorted(steps.get(node, []), key=lambda s: s[0]):
            if other not in chain:
                chain[other] = [*chain[node], (other, pair, scale)]
                queue.append(other)
    out = {}
    for member, path in chain.items():
        if member == part_id:
            continue
        relations = [pair["relation"] for _, pair, _ in path]
        scale = 1.0
        for _, _, step in path:
            scale *= step
        if len(path) == 1:
            relation = relations[0]
        elif relations.count("mirrored") % 2:
            relation = "mirrored"
        elif "scaled" in relations and abs(scale - 1.0) > 1e-3:
            relation = "scaled"
        elif all(r == "identical" for r in relations):
            relation = "identical"
        else:
            relation = "identical_within_tolerance"
        distance = path[0][1].get("distance") if len(path) == 1 else None
        out[member] = {
            "relation": relation,
            "scale": round(scale, 5),
            "distance": distance,
            "via": [node for node, _, _ in path[:-1]],
        }
    return out


class DuplicateIndex:
    """part id -> its duplicate group, from ``<out_dir>/groups.jsonl``; read again when the file
    changes (a new dedup run), so the service never restarts for it."""

    def __init__(self, out_dir: str | Path):
        self.path = Path(out_dir) / GROUPS_NAME
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._groups: dict[str, dict] = {}
        self._ran_at: str | None = None

    def _load(self) -> None:
        try:
            stat = os.stat(self.path)
        except FileNotFoundError:
            self._stamp, self._groups, self._ran_at = None, {}, None
            return
        stamp = (stat.st_mtime_ns, stat.st_size)
        if stamp == self._stamp:
            return
        groups: dict[str, dict] = {}
        with open(self.path, encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    group = json.loads(line)
                    for part_id in group["parts"]:
                        groups[part_id] = group
        summary = self.path.with_name(SUMMARY_NAME)
        ran_at = None
        if summary.is_file():
            ran_at = json.loads(summary.read_text(encoding="utf-8")).get("finished_at")
        self._stamp, self._groups, self._ran_at = stamp, groups, ran_at

    def ran(self) -> bool:
        """Whether a dedup run left its groups here."""
        with self._lock:
            self._load()
            return self._stamp is not None

    def count(self, part_id: str) -> int:
        """How many other parts are duplicates of ``part_id`` (0: none, or no run yet)."""
        with self._lock:
            self._load()
            group = self._groups.get(part_id)
        return len(group["parts"]) - 1 if group else 0

    def counts(self, part_ids: list[str]) -> list[int]:
        """``count`` of each id, with one look at the file."""
        with self._lock:
            self._load()
            groups = [self._groups.get(pid) for pid in part_ids]
        return [len(g["parts"]) - 1 if g else 0 for g in groups]

    def of_part(self, part_id: str) -> dict[str, Any]:
        """The duplicates of ``part_id``: the API's answer (serve.api_models.DuplicatesResponse)."""
        with self._lock:
            self._load()
            ran, group, ran_at = self._stamp is not None, self._groups.get(part_id), self._ran_at
        out: dict[str, Any] = {
            "part_id": part_id,
            "dedup_ran": ran,
            "dedup_finished_at": ran_at,
            "group": None,
            "count": 0,
            "duplicates": [],
        }
        if not ran:
            out["message"] = "no duplicate groups yet: run `cadsearch dedup`"
            return out
        if group is None:
            out["message"] = "no duplicates of this part in the latest dedup run"
            return out
        relations = relation_to(part_id, group)
        members = {m["part_id"]: m for m in group.get("members", [])}
        for member_id in group["parts"]:
            if member_id == part_id:
                continue
            member = members.get(member_id, {})
            out["duplicates"].append(
                {
                    "part_id": member_id,
                    "name": member.get("name", member_id),
                    "category": member.get("category", ""),
                    "extents_mm": member.get("extents") or None,
                    "view_urls": list(member.get("view_urls") or []),
                    **relations.get(member_id, {"relation": "unknown", "scale": None}),
                }
            )
        out["group"] = group["group"]
        out["count"] = len(out["duplicates"])
        out["message"] = f"{out['count']} duplicates in the latest dedup run"
        return out
