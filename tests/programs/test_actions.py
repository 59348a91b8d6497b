"""State changes (audited), partner consent, removal, the 131047 path, queries."""

from __future__ import annotations

from datetime import timedelta

import pytest

from patas.core.models import AuditEntry
from patas.messaging import router
from patas.messaging.models import Message
from patas.participants.models import Consent, Participant
from patas.programs import actions, hooks, jobs, queries
from patas.programs.models import DayProgress, Enrolment

from .conftest import use_pack, write_pack
from .test_runs import LIMA_10AM, MINE, enrol_by_chat, out_rows
from .world import World, deliver, inject, new_man

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def only_these_steps(monkeypatch):
    monkeypatch.setattr(router, "_steps", {k: v for k, v in router._steps.items() if k in MINE})
    monkeypatch.setattr(hooks, "on_enrolled", [])
    monkeypatch.setattr(hooks, "on_consented", [])


@pytest.fixture
def world(vclock, test_pack):
    vclock.set(LIMA_10AM)
    return World(vclock)


def test_partner_consent_waits_then_an_enumerator_enrols_him(vclock, tmp_path, settings):
    vclock.set(LIMA_10AM)
    write_pack(tmp_path, intake={"consent_version": "C-1", "partner_consent": True})
    use_pack(settings, tmp_path)
    man = new_man()
    for text, reply in [
        ("hola", ""),
        ("30", ""),
        ("si", ""),
        ("Callao", ""),
        ("", "midday"),
        ("", "accept"),
        ("+51 987 654 321", ""),
    ]:
        inject(man, text, reply)
    man.refresh_from_db()
    assert man.status == "waiting_partner"
    assert out_rows(man)[-1].text == "[es] waiting_partner"
    assert not Enrolment.objects.filter(participant=man).exists()

    enrolment = actions.record_partner_consent(man, agreed=True, actor="user:enumerator1")
    assert enrolment is not None and enrolment.send_hour == 13
    man.refresh_from_db()
    assert man.status == "enrolled"
    partner = Consent.objects.get(participant=man, subject="partner")
    assert (partner.answer, partner.channel, partner.recorded_by) == (
        "accept",
        "phone",
        "user:enumerator1",
    )
    assert AuditEntry.objects.filter(action="programs.enrolled", actor="user:enumerator1").exists()


def test_her_refusal_sends_him_nothing(vclock, tmp_path, settings):
    vclock.set(LIMA_10AM)
    write_pack(tmp_path, intake={"consent_version": "C-1", "partner_consent": True})
    use_pack(settings, tmp_path)
    man = new_man()
    for text, reply in [
        ("hola", ""),
        ("30", ""),
        ("si", ""),
        ("Callao", ""),
        ("", "midday"),
        ("", "accept"),
        ("987654321", ""),
    ]:
        inject(man, text, reply)
    before = len(out_rows(man))
    assert actions.record_partner_consent(man, agreed=False, actor="user:e") is None
    man.refresh_from_db()
    assert man.status == "ineligible" and len(out_rows(man)) == before


def test_partner_consent_for_a_man_not_waiting_is_refused(world):
    man = new_man()
    enrol_by_chat(world, man)
    with pytest.raises(actions.ProgramError, match="not waiting"):
        actions.record_partner_consent(man, agreed=True, actor="user:e")


def test_staff_removal_cancels_pending_content_and_is_audited(world):
    man = new_man()
    enrolment = enrol_by_chat(world, man)
    world.run_until(enrolment.next_wake_at)  # day 1 content queued (spaced)
    queued_before = len(out_rows(man, status="queued", purpose="program"))
    assert queued_before > 0
    actions.remove(enrolment, "insulted other members", "user:supervisor")
    assert not out_rows(man, status="queued", purpose="program")
    assert [r.text for r in out_rows(man, status="queued")] == ["[es] removed_closing"]
    assert enrolment.status == "removed" and enrolment.end_reason == "insulted other members"
    entry = AuditEntry.objects.get(action="programs.removed")
    assert entry.actor == "user:supervisor" and entry.object_id == str(enrolment.pk)
    assert Participant.objects.get(pk=man.pk).status == "removed"
    with pytest.raises(actions.ProgramError, match="only active"):
        actions.remove(enrolment, "again", "user:supervisor")


def test_removal_needs_a_reason(world):
    enrolment = enrol_by_chat(world, new_man())
    with pytest.raises(actions.ProgramError, match="reason"):
        actions.remove(enrolment, "  ", "user:s")
    enrolment.refresh_from_db()
    assert enrolment.status == "enrolled"


def test_content_refused_by_the_sender_reopens_with_the_opener(world):
    man = new_man()
    enrolment = enrol_by_chat(world, man)
    world.clock.set(enrolment.next_wake_at)
    jobs.run_program_engine(world.clock.now())
    assert len(out_rows(man, status="queued", purpose="program")) == 4
    deliver(world.clock.now())  # the first item goes out
    # His window closes early (say the provider says so with 131047): the rest is refused.
    Participant.objects.filter(pk=man.pk).update(
        last_inbound_at=world.clock.now() - timedelta(days=2)
    )
    world.clock.advance(timedelta(minutes=5))
    deliver(world.clock.now())
    assert len(out_rows(man, status="needs_template")) == 3
    jobs.run_program_engine(world.clock.now())
    enrolment.refresh_from_db()
    assert enrolment.phase == "opener" and enrolment.content_from == 1
    assert not out_rows(man, status="needs_template")
    opener = out_rows(man, type="template")[-1]
    assert opener.status == "queued" and opener.requires_window is False
    # His tap sends the three items that were refused, not the first again.
    deliver(world.clock.now())
    inject(man, "Abrir", "open_day:1")
    texts = [r.text for r in out_rows(man, status="queued", purpose="program")]
    assert texts == ["[audio]", "[es] day 1 challenge", "[es] day 1 did you?"]


def test_any_message_while_the_day_waits_opens_it(world):
    man = new_man()
    enrolment = enrol_by_chat(world, man)
    Participant.objects.filter(pk=man.pk).update(
        last_inbound_at=world.clock.now() - timedelta(days=2)
    )
    world.clock.set(enrolment.next_wake_at)
    jobs.run_program_engine(world.clock.now())
    enrolment.refresh_from_db()
    assert enrolment.phase == "opener"
    # A message another step handled (here: stored without routing) still opens the day.
    world.clock.advance(timedelta(minutes=3))
    Participant.objects.filter(pk=man.pk).update(last_inbound_at=world.clock.now())
    jobs.run_program_engine(world.clock.now())
    enrolment.refresh_from_db()
    assert enrolment.phase == "content"
    assert DayProgress.objects.get(enrolment=enrolment, day=1).opened_at == world.clock.now()


def test_history_joins_messages_and_days(world):
    man = new_man()
    enrolment = enrol_by_chat(world, man)
    world.run_until(enrolment.next_wake_at + timedelta(minutes=10))
    inject(man, "[es] done", "checkin:1:done")
    lines = queries.history(man)
    assert lines[0].direction == "in" and lines[0].text == "hola"
    sent = [line for line in lines if line.direction == "out" and line.purpose == "program"]
    assert sent and all(line.sent_at for line in sent)
    [day] = queries.days(man)
    assert day["day"] == 1 and day["checkin_answer"] == "done" and day["opened_at"]
    assert queries.is_enrolled(man) and queries.current_day(man) == 1
    assert AuditEntry.objects.filter(action="programs.checkin_recorded").count() == 1


def test_a_late_checkin_for_an_earlier_day_is_recorded_without_thanks(world):
    man = new_man()
    enrolment = enrol_by_chat(world, man)
    world.run_days(2.5)
    enrolment.refresh_from_db()
    assert enrolment.current_day >= 2
    count = len(out_rows(man))
    inject(man, "done", "checkin:1:done")
    assert DayProgress.objects.get(enrolment=enrolment, day=1).checkin_answer == "done"
    assert len(out_rows(man)) == count
    inject(man, "done", "checkin:9:done")  # a day he has not reached: ignored
    assert not DayProgress.objects.filter(enrolment=enrolment, day=9).exists()


def test_enrolling_twice_or_after_opt_out_is_refused(world):
    man = new_man()
    enrol_by_chat(world, man)
    with pytest.raises(actions.ProgramError, match="already enrolled"):
        actions.enrol(man)
    other = new_man()
    Participant.objects.filter(pk=other.pk).update(opted_out_at=world.clock.now())
    other.refresh_from_db()
    with pytest.raises(actions.ProgramError, match="opted out"):
        actions.enrol(other)
    assert not Enrolment.objects.filter(participant=other).exists()


def test_enrolment_hooks_are_called(world, monkeypatch):
    seen = []
    monkeypatch.setattr(hooks, "on_enrolled", [seen.append])
    enrolment = enrol_by_chat(world, new_man())
    assert seen == [enrolment]


def test_opt_outs_are_mirrored_in_bulk(world):
    men = [new_man() for _ in range(3)]
    for man in men:
        enrol_by_chat(world, man)
    Participant.objects.filter(pk__in=[m.pk for m in men[:2]]).update(
        opted_out_at=world.clock.now()
    )
    assert jobs.mirror_opt_outs(world.clock.now()) == 2
    statuses = sorted(Enrolment.objects.values_list("status", flat=True))
    assert statuses == ["enrolled", "opted_out", "opted_out"]
    assert Message.objects.filter(direction="out", purpose="program").count() == 0


def test_a_consent_hook_can_take_him_over_instead_of_enrolling(world, monkeypatch):
    taken = []
    monkeypatch.setattr(
        hooks, "on_consented", [lambda man, preferred: taken.append(preferred) or True]
    )
    man = new_man()
    for text, reply in [
        ("hola", ""),
        ("30", ""),
        ("si", ""),
        ("Ica", ""),
        ("", "morning"),
        ("", "accept"),
    ]:
        inject(man, text, reply)
    assert taken == ["morning"]
    assert not Enrolment.objects.filter(participant=man).exists()
    assert Consent.objects.get(participant=man).answer == "accept"
