"""Qualitative coding: agreement between two coders and the de-identified export."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .models import Code, CodeAssignment

CODEBOOK_FILE = Path(__file__).parent / "data" / "codebook.yaml"


def cohens_kappa(pairs: Sequence[tuple[str, str]]) -> float:
    """Cohen's kappa for two coders' labels of the same items: (p_o - p_e) / (1 - p_e).

    Raises ValueError on an empty sample. Perfect agreement on a single category is 1.0.
    """
    n = len(pairs)
    if n == 0:
        raise ValueError("no items coded by both coders: kappa needs a shared sample")
    observed = sum(1 for a, b in pairs if a == b) / n
    first = Counter(a for a, _ in pairs)
    second = Counter(b for _, b in pairs)
    expected = sum(first[c] * second[c] for c in set(first) | set(second)) / (n * n)
    if expected == 1.0:
        return 1.0
    return (observed - expected) / (1 - expected)


@dataclass(frozen=True)
class Agreement:
    shared: int  # posts both coded
    observed: float  # share of posts with the same code
    kappa: float


def agreement(coder_a: Any, coder_b: Any, group_id: int | None = None) -> Agreement:
    """Kappa between two coders on the posts both of them coded (optionally one group)."""
    rows = CodeAssignment.objects.filter(coder__in=[coder_a, coder_b])
    if group_id is not None:
        rows = rows.filter(post__group_id=group_id)
    codes: dict[int, dict[int, str]] = {}
    for post_id, coder_id, key in rows.values_list("post_id", "coder_id", "code__key"):
        codes.setdefault(post_id, {})[coder_id] = key
    pairs = [
        (by[coder_a.pk], by[coder_b.pk])
        for by in codes.values()
        if coder_a.pk in by and coder_b.pk in by
    ]
    kappa = cohens_kappa(pairs)
    observed = sum(1 for a, b in pairs if a == b) / len(pairs)
    return Agreement(len(pairs), observed, kappa)


def export_rows(group_id: int | None = None) -> Iterator[dict[str, Any]]:
    """Coded posts, de-identified: group and post ids, pseudonym, text, code, coder number."""
    rows = CodeAssignment.objects.select_related("post__group", "post__author", "code")
    if group_id is not None:
        rows = rows.filter(post__group_id=group_id)
    coder_numbers: dict[int, int] = {}
    for row in rows.order_by("post__group_id", "post__created_at", "coder_id"):
        number = coder_numbers.setdefault(row.coder_id, len(coder_numbers) + 1)
        post = row.post
        yield {
            "group": post.group.uid.hex,
            "post": post.uid.hex,
            "author": post.author.pseudonym if post.author else "facilitator",
            "at": post.created_at.isoformat(),
            "text": post.text,
            "code": row.code.key,
            "coder": f"coder-{number}",
        }


def load_codebook(path: Path = CODEBOOK_FILE) -> int:
    """Create or update the codebook from a YAML file (key -> label, description)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    for key, entry in data.items():
        Code.objects.update_or_create(
            key=key,
            defaults={"label": entry["label"], "description": entry.get("description", "")},
        )
    return len(data)
