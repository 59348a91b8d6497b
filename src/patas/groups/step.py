"""The router step "group" (order 50): a member's message becomes a group post.

Before anything else his backlog is delivered (he just wrote, so his 24-hour window is open).
Then: interactive/button replies (check-ins, openers) and the program's commands go on to the
program engine (CONTINUE); a held message is kept from the group (DONE); plain text is posted
to the group by its relay mode (DONE). Media is not relayed (CONTINUE: fallback help).
"""

from __future__ import annotations

from collections.abc import Sequence

from patas.core import clock
from patas.core.prepared import Prepared
from patas.messaging.router import Inbound, Result, men_of
from patas.programs.commands import command_of

from . import actions, relay
from .models import Group, Membership

NOT_GROUP_TYPES = frozenset({"interactive", "button"})


def wants_relay(inbound: Inbound) -> bool:
    """Pure: is this message group talk (not a check-in, reply button or command)?"""
    message = inbound.message
    if message.type in NOT_GROUP_TYPES or inbound.reply_id:
        return False
    if message.type != "text" or not inbound.text:
        return False
    return command_of(inbound.text) is None


def handle(inbound: Inbound) -> Result:
    membership = (
        Membership.objects.select_related("group")
        .filter(participant_id=inbound.participant.pk, left_at__isnull=True)
        .first()
    )
    if membership is None:
        return Result.CONTINUE
    membership.participant = inbound.participant  # the router's row: no second read
    # Caught up as of the group row just read: nothing to deliver, so no backlog query (the
    # common case: this runs for every message of every group member).
    if membership.seen_seq < membership.group.deliverable_seq:
        relay.deliver_backlog(
            Membership.objects.filter(pk=membership.pk), clock.now(), assume_window_open=True
        )
        membership.refresh_from_db(fields=["seen_seq"])
    if not wants_relay(inbound):
        return Result.CONTINUE
    actions.post_from_member(membership, inbound.message)
    return Result.DONE


# The router's look for every batch (core.prepared: compiled once per list size).
_MEMBERS = Prepared(
    lambda men: Membership.objects.filter(participant_id__in=men, left_at__isnull=True).values_list(
        "participant_id", "seen_seq", "group__relay_mode", "group__last_seq", "group__digested_seq"
    )
)


def members(inbounds: Sequence[Inbound]) -> set[int]:
    """The batch's messages `handle` may act on (`router.Interested`): group talk from members,
    and any message from a member with a backlog to deliver. A caught-up member's tap or command
    only passes through this step, so later steps may take it in a batch."""
    rows = _MEMBERS(men=men_of(inbounds))
    member: set[int] = set()
    behind: set[int] = set()
    for man, seen, mode, last, digested in rows:
        member.add(man)
        if seen < (digested if mode == Group.RelayMode.DIGEST else last):
            behind.add(man)
    return {
        i.message.pk
        for i in inbounds
        if i.participant.pk in behind or (i.participant.pk in member and wants_relay(i))
    }
