"""Relaying group posts to members: live lines and digests.

The rule (DESIGN.md section 6, docs/facilitator-guide.md "How relay works"):
- A post enters the relay stream when it is released (live: at once; moderated: on approval;
  digest: at once, but delivered only by digests). Releasing gives it the group's next `seq`.
- live / moderated: members who are caught up (`seen_seq` is the previous seq) and whose
  24-hour window is open get the one line now, in one bulk insert, and move their cursor.
- Everyone else (window closed, or already behind) keeps a backlog, delivered as ONE digest
  message when his window is open: when he next writes (any message, e.g. the tap on the
  day's opener) or when the periodic job finds his window open again.
- digest groups: posts become deliverable only at each digest run (every
  `digest_every_hours`); members with an open window get the digest then, the others when
  they next write. A digest holds at most 4,096 characters; what does not fit stays for the
  next digest (`digest_more` says how many).
- Opted-out, paused, removed or erased men get nothing, and their backlog is never sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import F, Q, QuerySet

from patas.core import clock
from patas.core.prepared import Prepared
from patas.messaging.models import Message
from patas.messaging.outbox import Outgoing, enqueue_many, text_payload
from patas.participants.models import SERVICE_WINDOW, Participant
from patas.programs.pack import Pack, get_pack
from patas.programs.texts import render

from .models import Group, GroupPost, Membership

WHATSAPP_TEXT_LIMIT = 4096
RELAYABLE = [GroupPost.Status.QUEUED, GroupPost.Status.RELAYED]
NOT_RECEIVING = [
    Participant.Status.PAUSED,
    Participant.Status.REMOVED,
    Participant.Status.ERASED,
]


def receiving() -> Q:
    """Memberships whose man may receive group messages at all."""
    return Q(left_at__isnull=True, participant__opted_out_at__isnull=True) & ~Q(
        participant__status__in=NOT_RECEIVING
    )


def window_open(now: datetime) -> Q:
    return Q(participant__last_inbound_at__gt=now - SERVICE_WINDOW)


def pack_for(group: Group) -> Pack:
    return get_pack(group.program or None)


def language(pack: Pack, wanted: str) -> str:
    return wanted if wanted in pack.program.languages else pack.program.default_language


def line_for(pack: Pack, lang: str, pseudonym: str | None, text: str) -> str:
    """How a post reads to a member: "Pseudonym: text", or the facilitator's line."""
    if pseudonym is None:
        return render(pack.text("facilitator_line", lang), text=text)
    return render(pack.text("relay_line", lang), pseudonym=pseudonym, text=text)


# --- the pure core of digests ----------------------------------------------------------------


@dataclass(frozen=True)
class DigestEntry:
    seq: int
    line: str


def compose_digest(
    entries: list[DigestEntry], header: str, more_template: str, limit: int = WHATSAPP_TEXT_LIMIT
) -> tuple[str, int]:
    """One digest body and the last seq it covers.

    Lines are added in order while the body (with room kept for the "N more" line) stays within
    `limit`; the rest waits for the next digest. A single line too long on its own is cut.
    """
    if not entries:
        return "", 0
    parts = [header]
    used = len(header)
    covered = 0
    for index, entry in enumerate(entries):
        remaining = len(entries) - index - 1
        more = render(more_template, count=remaining) if remaining else ""
        room = limit - used - 1 - (len(more) + 1 if more else 0)
        line = entry.line
        if len(line) > room and covered == 0:
            line = line[: max(room - 1, 0)] + "…"
        if len(line) > room:
            more = render(more_template, count=len(entries) - index)
            parts.append(more)
            return "\n".join(parts), covered
        parts.append(line)
        used += len(line) + 1
        covered = entry.seq
    return "\n".join(parts), covered


# --- the shell ------------------------------------------------------------------------------


def release(post: GroupPost, status: str, now: datetime) -> int:
    """Give the post the group's next seq (the UPDATE locks the group row until commit)."""
    Group.objects.filter(pk=post.group_id).update(last_seq=F("last_seq") + 1)
    seq = Group.objects.values_list("last_seq", flat=True).get(pk=post.group_id)
    post.seq = seq
    post.status = status
    if status == GroupPost.Status.RELAYED:
        post.relayed_at = now
    return seq


def relay_live(post: GroupPost, pseudonym: str | None, now: datetime) -> int:
    """Release a post and send it to every caught-up member with an open window.

    Call inside the transaction that saves the post. Returns how many messages it enqueued.
    """
    seq = release(post, GroupPost.Status.RELAYED, now)
    post.save(update_fields=["seq", "status", "relayed_at"])
    caught_up = Membership.objects.filter(group_id=post.group_id, seen_seq=seq - 1)
    recipients = caught_up.filter(receiving() & window_open(now))
    if post.author_id is not None:
        recipients = recipients.exclude(pk=post.author_id)
    pack = pack_for(post.group)
    purpose = Message.Purpose.RELAY if post.author_id else Message.Purpose.FACILITATOR
    rows = []
    for participant_id, lang in recipients.values_list("participant_id", "participant__language"):
        body = line_for(pack, language(pack, lang), pseudonym, post.text)
        rows.append(Outgoing(participant_id, text_payload(body), purpose, text=body))
    enqueue_many(rows)
    moved = Q(pk__in=recipients.values("pk"))
    if post.author_id is not None:
        moved |= Q(pk=post.author_id)
    caught_up.filter(moved).update(seen_seq=seq)
    return len(rows)


BEHIND_FIELDS = ("pk", "group_id", "seen_seq", "participant_id", "participant__language")


def _is_behind() -> Q:
    digest = Q(group__relay_mode=Group.RelayMode.DIGEST)
    return (digest & Q(seen_seq__lt=F("group__digested_seq"))) | (
        ~digest & Q(seen_seq__lt=F("group__last_seq"))
    )


def deliver_backlog(
    memberships: QuerySet[Membership], now: datetime, *, assume_window_open: bool = False
) -> int:
    """Send each member (receiving, window open, behind) one digest of his backlog.

    `assume_window_open`: the caller knows the window is open (he is writing right now).
    """
    ready = receiving() if assume_window_open else receiving() & window_open(now)
    behind = list(memberships.filter(ready & _is_behind()).values_list(*BEHIND_FIELDS))
    return _deliver_to(behind, now)


def _deliver_to(behind: list[tuple[int, int, int, int, str]], now: datetime) -> int:
    """One digest each for `behind` (rows of BEHIND_FIELDS); returns the messages queued."""
    if not behind:
        return 0
    by_group: dict[int, list[tuple[int, int, int, str]]] = {}
    for pk, group_id, seen, participant_id, lang in behind:
        by_group.setdefault(group_id, []).append((pk, seen, participant_id, lang))
    rows: list[Outgoing] = []
    cursors: list[Membership] = []
    for group_id, members in by_group.items():
        group_cursors = _digests_for_group(group_id, members, rows)
        _mark_relayed(group_id, max(m.seen_seq for m in group_cursors), now)
        cursors.extend(group_cursors)
    enqueue_many(rows)
    Membership.objects.bulk_update(cursors, ["seen_seq"], batch_size=1000)
    return len(rows)


def _digests_for_group(
    group_id: int,
    members: list[tuple[int, int, int, str]],
    rows: list[Outgoing],
) -> list[Membership]:
    """Append one digest per member to `rows`; return the members' new cursors."""
    cursors: list[Membership] = []
    group = Group.objects.get(pk=group_id)
    pack = pack_for(group)
    up_to = group.deliverable_seq
    lowest = min(seen for _, seen, _, _ in members)
    posts: list[tuple[int, int | None, str | None, str]] = [
        (seq or 0, author_id, pseudonym, text)
        for seq, author_id, pseudonym, text in GroupPost.objects.filter(
            group_id=group_id, seq__gt=lowest, seq__lte=up_to, status__in=RELAYABLE
        )
        .order_by("seq")
        .values_list("seq", "author_id", "author__pseudonym", "text")
    ]
    for pk, seen, participant_id, lang in members:
        lang = language(pack, lang)
        entries = [
            DigestEntry(seq, line_for(pack, lang, pseudonym, text))
            for seq, author_id, pseudonym, text in posts
            if seq > seen and author_id != pk
        ]
        header = render(pack.text("digest_header", lang), count=len(entries))
        body, covered = compose_digest(entries, header, pack.text("digest_more", lang))
        if body:
            rows.append(
                Outgoing(participant_id, text_payload(body), Message.Purpose.RELAY, text=body)
            )
        new_seen = covered if entries and covered < entries[-1].seq else up_to
        cursors.append(Membership(pk=pk, seen_seq=max(new_seen, seen)))
    return cursors


def _mark_relayed(group_id: int, up_to: int, now: datetime) -> None:
    """Queued posts that reached at least one member now count as relayed."""
    GroupPost.objects.filter(
        group_id=group_id, status=GroupPost.Status.QUEUED, seq__lte=up_to
    ).update(status=GroupPost.Status.RELAYED, relayed_at=now)


# Both looks run every 10 minutes and usually find nothing: compiled once (core.prepared).
_DUE_DIGESTS = Prepared(
    lambda now: Group.objects.filter(
        Q(relay_mode=Group.RelayMode.DIGEST)
        & (Q(next_digest_at__isnull=True) | Q(next_digest_at__lte=now))
    ).values_list("pk", "digest_every_hours")
)
_BEHIND = Prepared(
    lambda digests, seen_since: Membership.objects.filter(
        (Q(group_id__in=digests) | ~Q(group__relay_mode=Group.RelayMode.DIGEST))
        & receiving()
        & Q(participant__last_inbound_at__gt=seen_since)
        & _is_behind()
    ).values_list(*BEHIND_FIELDS)
)


def run_digests(now: datetime | None = None) -> int:
    """The periodic job's body: digests for due digest groups and backlogs of live groups."""
    now = now or clock.now()
    due = _DUE_DIGESTS(now=now)
    due_ids = [pk for pk, _ in due]
    if due_ids:
        Group.objects.filter(pk__in=due_ids).update(digested_seq=F("last_seq"))
    sent = _deliver_to(_BEHIND(digests=due_ids, seen_since=now - SERVICE_WINDOW), now)
    for pk, hours in due:
        Group.objects.filter(pk=pk).update(next_digest_at=now + timedelta(hours=max(hours, 1)))
    return sent
