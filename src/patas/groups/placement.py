"""Placement rules: which group a newly enrolled man joins (pure functions).

A rule takes the candidate groups (with their current load) and the man's seat facts and
returns the id of the group he joins, or None when no group has room (the shell then opens a
new group). Rules are replaceable: `settings.GROUP_PLACEMENT` names one of `RULES`, or a
dotted path to any function with the same signature (the trial issue randomises with its own).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class GroupLoad:
    group_id: int
    size: int  # active members now
    cap: int
    by_stratum: dict[str, int] = field(default_factory=dict)

    @property
    def has_room(self) -> bool:
        return self.size < self.cap


@dataclass(frozen=True)
class Seat:
    participant_key: str  # his uid: seeds the random rule
    stratum: str = ""


Rule = Callable[[list[GroupLoad], Seat], "int | None"]


def in_order_of_enrolment(groups: list[GroupLoad], seat: Seat) -> int | None:
    """Fill the oldest group with room first (groups come oldest first)."""
    for group in groups:
        if group.has_room:
            return group.group_id
    return None


def random_seeded(groups: list[GroupLoad], seat: Seat, seed: str | None = None) -> int | None:
    """A group with room, drawn at random; the draw is seeded by the setting and his uid."""
    open_groups = [g for g in groups if g.has_room]
    if not open_groups:
        return None
    seed = seed if seed is not None else str(getattr(settings, "GROUP_PLACEMENT_SEED", "patas"))
    rng = random.Random(f"{seed}:{seat.participant_key}")
    return rng.choice(open_groups).group_id


def stratified(groups: list[GroupLoad], seat: Seat) -> int | None:
    """Spread each stratum evenly: the group with room holding fewest of his stratum.

    Ties go to the smaller group, then the older one, so strata stay balanced across groups.
    """
    open_groups = [g for g in groups if g.has_room]
    if not open_groups:
        return None
    best = min(
        enumerate(open_groups),
        key=lambda pair: (pair[1].by_stratum.get(seat.stratum, 0), pair[1].size, pair[0]),
    )
    return best[1].group_id


RULES: dict[str, Rule] = {
    "enrolment": in_order_of_enrolment,
    "random": random_seeded,
    "stratified": stratified,
}


def current_rule() -> tuple[str, Rule]:
    name = str(getattr(settings, "GROUP_PLACEMENT", "enrolment"))
    if name in RULES:
        return name, RULES[name]
    if "." in name:
        return name, import_string(name)
    raise ValueError(
        f"GROUP_PLACEMENT={name!r} is not a placement rule: use one of "
        f"{', '.join(sorted(RULES))} or a dotted path to a function"
    )
