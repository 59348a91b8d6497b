"""Simulated facilitators: each works through the console's inbox, with the console's actions.

The inbox is what `console.queries.inbox` lists: men's posts held by triage (a possible
disclosure, kept from the group) or waiting for approval in a moderated group. A facilitator
works 09:00-21:00 in Lima and gets to a post after a delay drawn per post (most within a few
hours). A held post gets a private reply (`groups.actions.reply_privately`, which takes it out
of the inbox); its safety alert stays the supervisor's. A post waiting for approval is approved
(or, one in ten, hidden) and marked answered. The posts she answers feed the dashboard's
response times, and the demo's console shows her replies in the threads.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import numpy as np
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group as Role

from patas.console.queries import inbox, needs_reply
from patas.core.prepared import Prepared
from patas.groups import actions
from patas.groups.models import Group, GroupPost
from patas.programs.schedule import zone

LIMA = "America/Lima"
WORKING_HOURS = range(9, 21)
MEAN_DELAY_HOURS = 2.0
# Asked every tick, and nearly always nobody is waiting: compiled once (core.prepared).
_ANY_WAITING = Prepared(lambda: GroupPost.objects.filter(needs_reply()).values_list("pk")[:1])


class Facilitators:
    def __init__(self, rng: np.random.Generator, replies: list[str]) -> None:
        self.rng = rng
        self.replies = replies
        self.user = _facilitator()
        self.due: dict[int, datetime] = {}  # post id -> when she gets to it

    def step(self, now: datetime) -> int:
        """Answer the posts whose time has come; returns how many."""
        if now.astimezone(zone(LIMA)).hour not in WORKING_HOURS or not _ANY_WAITING():
            return 0
        answered = 0
        for item in inbox(Group.objects.all()):
            post = item.post
            due = self.due.setdefault(post.pk, post.created_at + self._delay())
            if now >= due:
                self._answer(post)
                answered += 1
        return answered

    def _delay(self) -> timedelta:
        return timedelta(hours=float(self.rng.exponential(MEAN_DELAY_HOURS)))

    def _answer(self, post: GroupPost) -> None:
        member = post.author
        if post.status == GroupPost.Status.PENDING_APPROVAL:
            if self.rng.random() < 0.9:
                actions.approve(self.user, post)
            else:
                actions.hide(self.user, post)
            actions.mark_answered(self.user, post)
        elif member is not None and member.active:
            text = self.replies[int(self.rng.integers(len(self.replies)))]
            actions.reply_privately(self.user, member, text, in_reply_to=post)
        else:  # he left the group: nobody to answer
            actions.mark_answered(self.user, post)


def _facilitator() -> Any:
    """The simulator's facilitator (the demo gives the groups to its own login afterwards)."""
    user, _ = get_user_model().objects.get_or_create(username="facilitadora.demo")
    role, _ = Role.objects.get_or_create(name="facilitator")
    user.groups.add(role)
    return user
