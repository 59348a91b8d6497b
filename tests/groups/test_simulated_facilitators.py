"""The simulator's facilitators (`simulation.facilitators`) work through the console's inbox
with the console's actions (here for the groups fixtures)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from groups.factories import make_group, make_member
from patas.console.queries import inbox
from patas.groups.models import Group, GroupPost
from patas.messaging.models import Message
from patas.simulation.facilitators import Facilitators

pytestmark = pytest.mark.django_db

REPLIES = ["Te leo, conversemos por aquí."]


def held_post(group: Group, member, at: datetime) -> GroupPost:
    return GroupPost.objects.create(
        group=group, author=member, text="algo grave", created_at=at, status="held"
    )


def test_a_held_post_gets_a_private_reply_in_working_hours_only(pack, vclock):
    vclock.set(datetime(2026, 3, 2, 15, 0, tzinfo=UTC))  # 10:00 in Lima
    group = make_group()
    member = make_member(group)
    post = held_post(group, member, vclock.now())
    staff = Facilitators(np.random.default_rng(1), REPLIES)
    assert staff.step(vclock.now()) == 0  # just posted: her delay has not passed
    night = datetime(2026, 3, 3, 6, 0, tzinfo=UTC)  # 01:00 in Lima, long after the post
    assert staff.step(night) == 0 and [i.post for i in inbox(Group.objects.all())] == [post]
    vclock.set(datetime(2026, 3, 3, 14, 0, tzinfo=UTC))  # 09:00 in Lima
    assert staff.step(vclock.now()) == 1
    post.refresh_from_db()
    assert post.answered_at == vclock.now() and post.status == "held"  # still kept from the group
    reply = GroupPost.objects.get(in_reply_to=post)
    assert (reply.status, reply.private_to, reply.text) == ("private", member, REPLIES[0])
    assert reply.facilitator.username == "facilitadora.demo"
    sent = Message.objects.get(participant=member.participant, purpose="facilitator")
    assert REPLIES[0] in sent.text
    assert inbox(Group.objects.all()) == [] and staff.step(vclock.now()) == 0


def test_a_post_waiting_for_approval_is_approved_or_hidden_and_leaves_the_inbox(pack, vclock):
    vclock.set(datetime(2026, 3, 2, 15, 0, tzinfo=UTC))
    group = make_group(relay_mode=Group.RelayMode.MODERATED)
    author, other = make_member(group), make_member(group)
    posts = [
        GroupPost.objects.create(
            group=group,
            author=author,
            text=f"idea {i}",
            created_at=vclock.now() - timedelta(days=1),
            status="pending_approval",
        )
        for i in range(20)
    ]
    staff = Facilitators(np.random.default_rng(2), REPLIES)
    assert staff.step(vclock.now()) == 20
    statuses = {p.status for p in GroupPost.objects.filter(pk__in=[p.pk for p in posts])}
    assert statuses == {"relayed", "hidden"}  # mostly approved, a few hidden
    assert not GroupPost.objects.filter(author=author, answered_at__isnull=True).exists()
    assert Message.objects.filter(participant=other.participant, direction="out").exists()
