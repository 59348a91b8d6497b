import pytest
from django.contrib.auth import get_user_model

from groups.factories import inbound, make_group, make_member, outbox
from patas.core.models import AuditEntry
from patas.groups import actions, coding, step
from patas.groups.models import Code, Group, GroupPost
from patas.messaging import router
from patas.messaging.models import Message

pytestmark = pytest.mark.django_db


@pytest.fixture
def facilitator():
    return get_user_model().objects.create_user("facil", password="x" * 12)


def say(member, text):
    step.handle(router.inbound_for(inbound(member.participant, text)))
    return GroupPost.objects.filter(author=member).latest("id")


def audited(action):
    return AuditEntry.objects.filter(action=action).count()


def test_facilitator_post_reaches_every_member(pack, vclock, facilitator):
    group = make_group(facilitator=facilitator)
    members = [make_member(group) for _ in range(3)]
    actions.post_as_facilitator(facilitator, group, "Hoy hablamos de respirar")
    for member in members:
        assert outbox(member.participant).get().text == "Facilitador: Hoy hablamos de respirar"
    assert audited("group.facilitator_post") == 1


def test_an_empty_post_is_refused_and_changes_nothing(pack, vclock, facilitator):
    group = make_group()
    make_member(group)
    with pytest.raises(actions.GroupActionError, match="empty"):
        actions.post_as_facilitator(facilitator, group, "   ")
    assert not GroupPost.objects.exists() and not outbox().exists()


def test_private_reply_goes_to_him_only_and_answers_the_post(pack, vclock, facilitator):
    group = make_group()
    author, other = make_member(group), make_member(group)
    post = say(author, "¿alguien me ayuda?")
    actions.reply_privately(facilitator, author, "Te escribo aparte", in_reply_to=post)
    assert outbox(author.participant, Message.Purpose.FACILITATOR).get().text == (
        "Facilitador: Te escribo aparte"
    )
    assert not outbox(other.participant, Message.Purpose.FACILITATOR).exists()
    post.refresh_from_db()
    assert post.answered_at == vclock.now()
    assert audited("group.private_reply") == 1


def test_hide_before_relay_means_never_relayed(pack, vclock, facilitator):
    group = make_group(relay_mode=Group.RelayMode.DIGEST)
    author, reader = make_member(group), make_member(group)
    post = say(author, "algo feo")
    actions.hide(facilitator, post)
    from patas.groups import relay

    relay.run_digests(vclock.now())
    assert not outbox(reader.participant).exists()
    assert GroupPost.objects.get().status == "hidden"
    entry = AuditEntry.objects.get(action="group.hide")
    assert entry.details["already_relayed"] is False


def test_hide_after_relay_is_marked_in_the_console(pack, vclock, facilitator):
    group = make_group()
    author, _ = make_member(group), make_member(group)
    post = say(author, "ya salió")
    actions.hide(facilitator, post)
    assert AuditEntry.objects.get(action="group.hide").details["already_relayed"] is True


def test_approve_relays_a_moderated_post_and_only_once(pack, vclock, facilitator):
    group = make_group(relay_mode=Group.RelayMode.MODERATED)
    author, other = make_member(group), make_member(group)
    post = say(author, "propuesta")
    actions.approve(facilitator, post)
    assert outbox(other.participant).get().text == f"{author.pseudonym}: propuesta"
    with pytest.raises(actions.GroupActionError, match="pending approval"):
        actions.approve(facilitator, post)
    assert outbox(other.participant).count() == 1


def test_pin_and_unpin(pack, vclock, facilitator):
    group = make_group()
    post = say(make_member(group), "importante")
    actions.pin(facilitator, post)
    assert GroupPost.objects.get().pinned
    actions.pin(facilitator, post, pinned=False)
    assert not GroupPost.objects.get().pinned
    assert audited("group.pin") == audited("group.unpin") == 1


def test_remove_member_logs_the_reason_sends_a_closing_and_stops_relay(pack, vclock, facilitator):
    group = make_group()
    author, removed = make_member(group), make_member(group)
    say(author, "uno")
    removed_relay = outbox(removed.participant).get()
    removed_relay.status = Message.Status.QUEUED
    actions.remove_member(facilitator, removed, "insultos repetidos")
    removed.refresh_from_db()
    assert removed.left_at == vclock.now() and removed.removed_reason == "insultos repetidos"
    removed_relay.refresh_from_db()
    assert removed_relay.status == Message.Status.CANCELLED
    assert outbox(removed.participant, Message.Purpose.SYSTEM).get().text == (
        "Gracias por participar."
    )
    say(author, "dos")
    assert outbox(removed.participant).count() == 2
    entry = AuditEntry.objects.get(action="group.remove_member")
    assert entry.details["reason"] == "insultos repetidos" and entry.actor == "user:facil"


def test_remove_without_reason_is_refused(pack, vclock, facilitator):
    member = make_member(make_group())
    with pytest.raises(actions.GroupActionError, match="reason"):
        actions.remove_member(facilitator, member, " ")
    member.refresh_from_db()
    assert member.left_at is None and not outbox().exists()


def test_notes_and_codes_are_audited(pack, vclock, facilitator):
    member = make_member(make_group())
    post = say(member, "comparto algo")
    actions.add_note(facilitator, member, "Llamar el lunes")
    coding.load_codebook()
    code = Code.objects.get(key="sharing_problem")
    actions.code_message(facilitator, post, code)
    actions.code_message(facilitator, post, Code.objects.get(key="other"))
    assert post.codes.get().code.key == "other"
    assert audited("group.note") == 1 and audited("group.code") == 2


# --- kappa ---------------------------------------------------------------------------------------


def test_kappa_matches_a_hand_computation():
    # 10 posts; coder A / coder B.  Agreement on 7 -> p_o = 0.7.
    # A: advice x5, problem x3, other x2; B: advice x4, problem x4, other x2.
    # p_e = (5*4 + 3*4 + 2*2) / 100 = 0.36;  kappa = (0.7 - 0.36) / 0.64 = 0.53125
    pairs = (
        [("advice", "advice")] * 3
        + [("advice", "problem")] * 2
        + [("problem", "problem")] * 2
        + [("problem", "advice")]
        + [("other", "other")] * 2
    )
    assert coding.cohens_kappa(pairs) == pytest.approx(0.53125)


def test_kappa_needs_a_shared_sample():
    with pytest.raises(ValueError, match="shared sample"):
        coding.cohens_kappa([])


def test_agreement_uses_only_posts_both_coded_and_export_is_deidentified(pack, vclock):
    users = get_user_model().objects
    a, b = users.create_user("coder_a"), users.create_user("coder_b")
    coding.load_codebook()
    codes = {c.key: c for c in Code.objects.all()}
    member = make_member(make_group())
    posts = [say(member, f"mensaje {n}") for n in range(4)]
    for post, (ka, kb) in zip(
        posts[:3],
        [("other", "other"), ("giving_advice", "giving_advice"), ("other", "giving_advice")],
        strict=True,
    ):
        actions.code_message(a, post, codes[ka])
        actions.code_message(b, post, codes[kb])
    actions.code_message(a, posts[3], codes["other"])  # only one coder: not in the sample
    result = coding.agreement(a, b)
    assert result.shared == 3
    assert result.observed == pytest.approx(2 / 3)
    # p_e = (2/3 * 1/3) + (1/3 * 2/3) = 4/9; kappa = (2/3 - 4/9) / (5/9) = 0.4
    assert result.kappa == pytest.approx(0.4)
    rows = list(coding.export_rows())
    assert {r["coder"] for r in rows} == {"coder-1", "coder-2"}
    assert all(r["author"] == member.pseudonym for r in rows)
    assert not any(member.participant.phone in str(r) for r in rows)


def test_placement_is_registered_as_the_enrolment_hook():
    from patas.programs import hooks

    assert actions.place_enrolled in hooks.on_enrolled


def test_the_digest_job_is_registered():
    from patas.core.jobs import discover

    assert "patas.groups.jobs.send_group_digests" in discover()
