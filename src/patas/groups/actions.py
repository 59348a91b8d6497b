"""Every state change of the groups app: one function each, each writing the audit log."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.utils.module_loading import import_string

from patas.core import audit, clock
from patas.messaging.models import Message
from patas.messaging.outbox import Outgoing, cancel_pending, enqueue, text_payload
from patas.participants.models import Participant
from patas.programs.texts import render

from . import pseudonyms, relay
from .models import Code, CodeAssignment, Group, GroupPost, MemberNote, Membership
from .placement import GroupLoad, Seat, current_rule

MAX_POST_CHARS = 3800  # leaves room for the pseudonym line within WhatsApp's 4,096


class GroupActionError(ValueError):
    """An action that cannot be done as asked; nothing was changed."""


def _clean_text(text: str, what: str = "text") -> str:
    text = (text or "").strip()
    if not text:
        raise GroupActionError(f"the {what} is empty")
    if len(text) > MAX_POST_CHARS:
        raise GroupActionError(f"the {what} has {len(text)} characters; at most {MAX_POST_CHARS}")
    return text


def _send(participant_id: int, body: str, purpose: str) -> Message:
    return enqueue(Outgoing(participant_id, text_payload(body), purpose, text=body))


def _text_for(membership: Membership, key: str, **values: Any) -> str:
    pack = relay.pack_for(membership.group)
    lang = relay.language(pack, membership.participant.language)
    return render(pack.text(key, lang), **values)


# --- placement ------------------------------------------------------------------------------


def stratum_of(participant: Participant) -> str:
    """His stratum for stratified placement: `settings.GROUP_STRATUM_FUNCTION`, else his trial
    assignment's stratum (empty when he has none)."""
    path = getattr(settings, "GROUP_STRATUM_FUNCTION", "")
    if path:
        return str(import_string(path)(participant))
    from patas.trials.models import Assignment

    found = (
        Assignment.objects.filter(participant=participant)
        .order_by("-at")
        .values_list("stratum", flat=True)
        .first()
    )
    return found or ""


def _loads(program: str) -> list[GroupLoad]:
    # Lock the program's groups (PostgreSQL) so two enrolments never overfill one group;
    # the counts come from a second query (FOR UPDATE cannot take a GROUP BY).
    list(Group.objects.select_for_update().filter(program=program).values_list("pk", flat=True))
    groups = list(
        Group.objects.filter(program=program)
        .annotate(size=Count("memberships", filter=Q(memberships__left_at__isnull=True)))
        .order_by("created_at", "id")
    )
    strata: dict[int, dict[str, int]] = {}
    for group_id, stratum, count in (
        Membership.objects.filter(group__program=program, left_at__isnull=True)
        .values_list("group_id", "stratum")
        .annotate(n=Count("id"))
    ):
        strata.setdefault(group_id, {})[stratum] = count
    return [GroupLoad(g.pk, g.size, g.size_cap, strata.get(g.pk, {})) for g in groups]  # type: ignore[attr-defined]


def place(participant: Participant, *, program: str | None = None) -> Membership:
    """Put a newly enrolled man in a group by the placement rule (idempotent)."""
    program = program or settings.DEFAULT_PROGRAM
    with transaction.atomic():
        existing = Membership.objects.filter(participant=participant, left_at__isnull=True).first()
        if existing is not None:
            return existing
        rule_name, rule = current_rule()
        stratum = "" if rule_name in ("enrolment", "random") else stratum_of(participant)
        group_id = rule(_loads(program), Seat(participant.uid.hex, stratum))
        group = Group.objects.get(pk=group_id) if group_id else _open_group(program)
        taken = Membership.objects.filter(group=group).values_list("pseudonym", flat=True)
        name = pseudonyms.choose(group.uid.hex, participant.uid.hex, list(taken))
        membership = Membership.objects.create(
            group=group,
            participant=participant,
            pseudonym=name,
            stratum=stratum,
            joined_at=clock.now(),
            seen_seq=group.last_seq,
        )
        welcome = _text_for(membership, "group_welcome", pseudonym=name, size=group.size_cap)
        _send(participant.pk, welcome, Message.Purpose.SYSTEM)
        audit.record(
            audit.SYSTEM,
            "group.place",
            membership,
            group=group.uid.hex,
            rule=rule_name,
            stratum=stratum,
            pseudonym=name,
        )
    return membership


def _open_group(program: str) -> Group:
    number = Group.objects.filter(program=program).count() + 1
    group = Group.objects.create(name=f"{program} #{number}", program=program)
    audit.record(audit.SYSTEM, "group.open", group, reason="no group had room")
    return group


def create_group(
    user: Any,
    *,
    name: str,
    program: str = "",
    facilitator: Any = None,
    size_cap: int = 50,
    relay_mode: str = Group.RelayMode.LIVE,
    digest_every_hours: int = 6,
) -> Group:
    name = _clean_text(name, "group name")
    if relay_mode not in Group.RelayMode.values:
        raise GroupActionError(f"relay mode {relay_mode!r} is not one of {Group.RelayMode.values}")
    if size_cap < 1 or digest_every_hours < 1:
        raise GroupActionError("size cap and digest hours must be at least 1")
    group = Group.objects.create(
        name=name,
        program=program or settings.DEFAULT_PROGRAM,
        facilitator=facilitator,
        size_cap=size_cap,
        relay_mode=relay_mode,
        digest_every_hours=digest_every_hours,
    )
    audit.record(
        audit.actor_for(user),
        "group.create",
        group,
        relay_mode=relay_mode,
        facilitator=getattr(facilitator, "username", None),
    )
    return group


def update_group(user: Any, group: Group, **changes: Any) -> Group:
    """Change a group's settings (name, facilitator, size_cap, relay_mode, digest hours)."""
    allowed = {"name", "facilitator", "size_cap", "relay_mode", "digest_every_hours"}
    unknown = set(changes) - allowed
    if unknown:
        raise GroupActionError(f"cannot change {', '.join(sorted(unknown))} of a group")
    if "relay_mode" in changes and changes["relay_mode"] not in Group.RelayMode.values:
        raise GroupActionError(f"relay mode {changes['relay_mode']!r} is not valid")
    for field, value in changes.items():
        setattr(group, field, value)
    group.save(update_fields=list(changes))
    shown = {k: getattr(v, "username", v) for k, v in changes.items()}
    audit.record(audit.actor_for(user), "group.update", group, **shown)
    return group


# --- posts ----------------------------------------------------------------------------------


def post_from_member(membership: Membership, message: Message) -> GroupPost:
    """A man's group message: held, waiting for approval, queued for the digest, or relayed."""
    now = clock.now()
    group = membership.group
    post = GroupPost(
        group=group, author=membership, message=message, text=message.text, created_at=now
    )
    if message.held:
        post.status = GroupPost.Status.HELD
        post.save()
    elif group.relay_mode == Group.RelayMode.MODERATED:
        post.status = GroupPost.Status.PENDING_APPROVAL
        post.save()
    elif group.relay_mode == Group.RelayMode.DIGEST:
        relay.release(post, GroupPost.Status.QUEUED, now)
        post.save()
    else:
        post.status = GroupPost.Status.RELAYED
        post.save()
        relay.relay_live(post, membership.pseudonym, now)
    audit.record(
        f"participant:{membership.pseudonym}",
        "group.post",
        post,
        group=group.uid.hex,
        status=post.status,
    )
    return post


def post_as_facilitator(user: Any, group: Group, text: str) -> GroupPost:
    """The facilitator writes to the whole group (digest groups: in the next digest)."""
    text = _clean_text(text)
    now = clock.now()
    with transaction.atomic():
        post = GroupPost(group=group, facilitator=user, text=text, created_at=now)
        if group.relay_mode == Group.RelayMode.DIGEST:
            relay.release(post, GroupPost.Status.QUEUED, now)
            post.save()
            sent = 0
        else:
            post.status = GroupPost.Status.RELAYED
            post.save()
            sent = relay.relay_live(post, None, now)
        audit.record(
            audit.actor_for(user),
            "group.facilitator_post",
            post,
            group=group.uid.hex,
            enqueued=sent,
        )
    return post


def reply_privately(
    user: Any, membership: Membership, text: str, in_reply_to: GroupPost | None = None
) -> GroupPost:
    """The facilitator answers one man only; the post he answers leaves the inbox."""
    text = _clean_text(text, "reply")
    if not membership.active:
        raise GroupActionError("this man has left the group")
    now = clock.now()
    with transaction.atomic():
        post = GroupPost.objects.create(
            group=membership.group,
            facilitator=user,
            text=text,
            created_at=now,
            status=GroupPost.Status.PRIVATE,
            private_to=membership,
            in_reply_to=in_reply_to,
        )
        body = _text_for(membership, "facilitator_line", text=text)
        _send(membership.participant_id, body, Message.Purpose.FACILITATOR)
        if in_reply_to is not None:
            GroupPost.objects.filter(pk=in_reply_to.pk).update(answered_at=now)
        audit.record(audit.actor_for(user), "group.private_reply", post, member=membership.uid.hex)
    return post


def mark_answered(user: Any, post: GroupPost) -> None:
    """Take a post out of the inbox without a private reply (answered in the group, say)."""
    GroupPost.objects.filter(pk=post.pk).update(answered_at=clock.now())
    audit.record(audit.actor_for(user), "group.mark_answered", post)


def pin(user: Any, post: GroupPost, pinned: bool = True) -> GroupPost:
    GroupPost.objects.filter(pk=post.pk).update(pinned=pinned)
    post.pinned = pinned
    audit.record(audit.actor_for(user), "group.pin" if pinned else "group.unpin", post)
    return post


def hide(user: Any, post: GroupPost) -> GroupPost:
    """Not relayed yet: it never will be. Already relayed: marked hidden in the console."""
    if post.status == GroupPost.Status.PRIVATE:
        raise GroupActionError("a private reply is not in the group thread")
    was = post.status
    post.status = GroupPost.Status.HIDDEN
    post.hidden_at = clock.now()
    post.save(update_fields=["status", "hidden_at"])
    audit.record(
        audit.actor_for(user),
        "group.hide",
        post,
        was=was,
        already_relayed=post.relayed_at is not None,
    )
    return post


def approve(user: Any, post: GroupPost) -> GroupPost:
    """Release a post waiting for approval (moderated groups)."""
    if post.status != GroupPost.Status.PENDING_APPROVAL:
        raise GroupActionError(
            f"only a post pending approval can be approved (this is {post.status})"
        )
    with transaction.atomic():
        pseudonym = post.author.pseudonym if post.author else None
        sent = relay.relay_live(post, pseudonym, clock.now())
        audit.record(audit.actor_for(user), "group.approve", post, enqueued=sent)
    return post


def remove_member(user: Any, membership: Membership, reason: str) -> Membership:
    """Take a man out of his group: logged with the reason; he gets a respectful closing."""
    reason = (reason or "").strip()
    if not reason:
        raise GroupActionError("a removal needs a reason")
    if not membership.active:
        raise GroupActionError("this man has already left the group")
    with transaction.atomic():
        membership.left_at = clock.now()
        membership.removed_reason = reason[:300]
        membership.removed_by = user if getattr(user, "pk", None) else None
        membership.save(update_fields=["left_at", "removed_reason", "removed_by"])
        cancelled = cancel_pending(
            membership.participant_id,
            "removed from group",
            [Message.Purpose.RELAY, Message.Purpose.FACILITATOR],
        )
        _send(
            membership.participant_id,
            _text_for(membership, "removed_closing"),
            Message.Purpose.SYSTEM,
        )
        audit.record(
            audit.actor_for(user),
            "group.remove_member",
            membership,
            reason=reason,
            cancelled=cancelled,
        )
    return membership


def add_note(user: Any, membership: Membership, text: str) -> MemberNote:
    note = MemberNote.objects.create(
        membership=membership, author=user, text=_clean_text(text, "note"), created_at=clock.now()
    )
    audit.record(audit.actor_for(user), "group.note", membership, note=note.pk)
    return note


def code_message(user: Any, post: GroupPost, code: Code) -> CodeAssignment:
    """One coder's code for a post (coding it again replaces his earlier code)."""
    if not code.active:
        raise GroupActionError(f"code {code.key!r} is not active in the codebook")
    assignment, _ = CodeAssignment.objects.update_or_create(
        post=post, coder=user, defaults={"code": code, "created_at": clock.now()}
    )
    audit.record(audit.actor_for(user), "group.code", post, code=code.key)
    return assignment


def place_enrolled(enrolment: Any) -> None:
    """The `programs.hooks.on_enrolled` hook (fn(enrolment)): place him in a group."""
    place(enrolment.participant, program=enrolment.program_id)
