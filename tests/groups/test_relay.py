from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from groups.factories import inbound, make_group, make_member, outbox
from patas.groups import relay, step
from patas.groups.models import Group, GroupPost
from patas.messaging import router
from patas.messaging.models import Message
from patas.messaging.router import Result
from patas.participants.models import Participant

pytestmark = pytest.mark.django_db


def say(member, text, **kwargs):
    return step.handle(router.inbound_for(inbound(member.participant, text, **kwargs)))


def test_the_group_step_is_registered_at_50():
    assert ("group", 50) in [(s.name, s.order) for s in router.steps()]


def test_live_relays_to_every_other_member_as_pseudonym_line(pack, vclock):
    group = make_group()
    author, *others = [make_member(group) for _ in range(4)]
    assert say(author, "Hoy respiré tres veces") is Result.DONE
    post = GroupPost.objects.get()
    assert post.status == GroupPost.Status.RELAYED and post.seq == 1
    for member in others:
        row = outbox(member.participant, Message.Purpose.RELAY).get()
        assert row.text == f"{author.pseudonym}: Hoy respiré tres veces"
        assert row.status == Message.Status.QUEUED
    assert not outbox(author.participant).exists()
    assert set(group.memberships.values_list("seen_seq", flat=True)) == {1}


def test_live_relay_uses_each_members_language(pack, vclock):
    group = make_group()
    author = make_member(group)
    make_member(group, language="en")
    say(author, "hola")
    assert outbox(purpose=Message.Purpose.RELAY).get().text == f"{author.pseudonym}: hola"


def test_live_relay_to_49_members_is_one_transaction_with_one_bulk_insert(pack, vclock):
    group = make_group()
    members = [make_member(group) for _ in range(50)]
    message = inbound(members[0].participant, "buenas noches patas")
    with CaptureQueriesContext(connection) as queries:
        router.route(message)
    inserts = [q["sql"] for q in queries if 'INSERT INTO "messaging_message"' in q["sql"]]
    # one bulk insert: one unnest INSERT on PostgreSQL, one executemany on SQLite
    assert len(inserts) == 1
    assert outbox(purpose=Message.Purpose.RELAY).count() == 49


def test_a_relay_that_fails_half_way_leaves_nothing_behind(pack, vclock, monkeypatch):
    group = make_group()
    author, other = make_member(group), make_member(group)
    message = inbound(author.participant, "hola")

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("patas.groups.actions.audit.record", broken)
    with pytest.raises(RuntimeError):
        router.route(message)
    assert not GroupPost.objects.exists()
    assert not outbox(other.participant).exists()
    assert Group.objects.get().last_seq == 0


def test_opted_out_paused_and_removed_members_get_nothing(pack, vclock):
    group = make_group()
    author = make_member(group)
    opted = make_member(group, opted_out_at=vclock.now())
    paused = make_member(group, status=Participant.Status.PAUSED)
    removed = make_member(group)
    removed.left_at = vclock.now()
    removed.save()
    active = make_member(group)
    say(author, "hola")
    assert outbox(purpose=Message.Purpose.RELAY).get().participant_id == active.participant_id
    for member in (opted, paused, removed):
        relay.deliver_backlog(
            group.memberships.filter(pk=member.pk), vclock.now(), assume_window_open=True
        )
        assert not outbox(member.participant).exists()


def test_a_closed_window_waits_and_gets_one_digest_when_he_writes(pack, vclock):
    group = make_group()
    author = make_member(group)
    sleeper = make_member(group, window=False)
    say(author, "uno")
    say(author, "dos")
    assert not outbox(sleeper.participant).exists()
    relay.run_digests(vclock.now())  # the job: his window is still closed
    assert not outbox(sleeper.participant).exists()
    # He taps the day's opener: a button reply goes on to the program engine...
    assert say(sleeper, "", type="button", payload={"payload": "open_day"}) is Result.CONTINUE
    digest = outbox(sleeper.participant).get()
    assert digest.text.splitlines() == [
        "Resumen (2):",
        f"{author.pseudonym}: uno",
        f"{author.pseudonym}: dos",
    ]
    # ...and from now on he is caught up and gets live lines.
    say(author, "tres")
    assert outbox(sleeper.participant).count() == 2
    assert outbox(sleeper.participant).latest("id").text == f"{author.pseudonym}: tres"


def test_the_job_delivers_a_backlog_once_his_window_is_open_again(pack, vclock):
    group = make_group()
    author = make_member(group)
    sleeper = make_member(group, window=False)
    say(author, "uno")
    Participant.objects.filter(pk=sleeper.participant_id).update(last_inbound_at=vclock.now())
    assert relay.run_digests(vclock.now()) == 1
    assert "uno" in outbox(sleeper.participant).get().text
    assert relay.run_digests(vclock.now()) == 0


def test_digest_mode_sends_one_message_per_member_every_n_hours(pack, vclock):
    group = make_group(relay_mode=Group.RelayMode.DIGEST, digest_every_hours=6)
    a, b, c = (make_member(group) for _ in range(3))
    assert say(a, "de a") is Result.DONE
    say(b, "de b")
    say(a, "otra de a")
    assert not outbox(purpose=Message.Purpose.RELAY).exists()
    assert set(GroupPost.objects.values_list("status", flat=True)) == {"queued"}
    assert relay.run_digests(vclock.now()) == 3
    assert outbox(c.participant).get().text.count("\n") == 3  # header + 3 lines
    assert outbox(a.participant).get().text.splitlines()[1:] == [f"{b.pseudonym}: de b"]
    assert set(GroupPost.objects.values_list("status", flat=True)) == {"relayed"}
    say(b, "nuevo")
    vclock.advance(timedelta(hours=5))
    assert relay.run_digests(vclock.now()) == 0  # not due yet
    vclock.advance(timedelta(hours=1))
    assert relay.run_digests(vclock.now()) == 2


def test_a_digest_is_cut_at_4096_characters_and_the_rest_waits(pack, vclock):
    group = make_group(relay_mode=Group.RelayMode.DIGEST)
    author, reader = make_member(group), make_member(group)
    for n in range(5):
        say(author, f"{n}" + "x" * 1500)
    relay.run_digests(vclock.now())
    first = outbox(reader.participant).get()
    assert len(first.text) <= 4096
    assert first.text.endswith("y 3 más luego")
    vclock.advance(timedelta(hours=6))
    relay.run_digests(vclock.now())
    vclock.advance(timedelta(hours=6))
    relay.run_digests(vclock.now())
    bodies = [m.text for m in outbox(reader.participant).order_by("id")]
    got = [
        line.split(": ", 1)[1][0]
        for body in bodies
        for line in body.splitlines()[1:]
        if ": " in line
    ]
    assert got == ["0", "1", "2", "3", "4"]


def test_moderated_waits_for_approval(pack, vclock):
    group = make_group(relay_mode=Group.RelayMode.MODERATED)
    author, other = make_member(group), make_member(group)
    assert say(author, "¿se puede?") is Result.DONE
    post = GroupPost.objects.get()
    assert post.status == GroupPost.Status.PENDING_APPROVAL and post.seq is None
    assert not outbox(other.participant).exists()


def test_check_ins_commands_media_and_non_members_continue(pack, vclock):
    group = make_group()
    member = make_member(group)
    other = make_member(group)
    assert (
        say(member, "Sí", type="interactive", payload={"button_reply": {"id": "yes"}})
        is Result.CONTINUE
    )
    assert say(member, "pausa") is Result.CONTINUE
    assert say(member, "", type="image") is Result.CONTINUE
    stranger = make_member(make_group())
    stranger.left_at = vclock.now()
    stranger.save()
    assert say(stranger, "hola") is Result.CONTINUE
    assert not GroupPost.objects.exists()
    assert not outbox(other.participant).exists()


def test_a_held_message_is_kept_from_the_group(pack, vclock):
    group = make_group()
    author, other = make_member(group), make_member(group)
    assert say(author, "algo grave", held=True) is Result.DONE
    assert GroupPost.objects.get().status == GroupPost.Status.HELD
    assert not outbox(other.participant).exists()
