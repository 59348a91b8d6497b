"""The trial inside the program, end to end on the virtual clock through the inbound router."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from patas.core import access
from patas.core.models import AuditEntry
from patas.messaging.models import Message
from patas.participants.models import Participant
from patas.programs import jobs as program_jobs
from patas.programs.models import Enrolment
from patas.surveys import actions as surveys
from patas.surveys.models import PartnerSurveySession, SurveySession
from patas.trials import flow, flow_endline, flow_queries
from patas.trials.models import Assignment, Trial, TrialMember
from programs.world import deliver, inject, new_man

from .flow_pack import write_trial_pack

pytestmark = pytest.mark.django_db

LIMA_10AM = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
INTAKE = [("hola", ""), ("30", ""), ("si", ""), ("Callao", ""), ("", "evening"), ("", "accept")]


@pytest.fixture
def trial_pack(vclock, tmp_path, settings):
    vclock.set(LIMA_10AM)
    write_trial_pack(tmp_path, settings)
    return vclock


def consent(man: Participant) -> None:
    for text, reply in INTAKE:
        inject(man, text, reply)
    man.refresh_from_db()


def answer_baseline(man: Participant, conflict: str = "2") -> None:
    inject(man, "34")
    inject(man, conflict, f"survey:conflict_freq:{conflict}")
    inject(man, "Pepe")
    man.refresh_from_db()


def out_texts(man: Participant) -> list[str]:
    return list(
        Message.objects.filter(participant=man, direction="out")
        .order_by("id")
        .values_list("text", flat=True)
    )


def test_consent_starts_the_baseline_instead_of_enrolling(trial_pack):
    man = new_man()
    consent(man)
    assert man.status == Participant.Status.BASELINE
    assert not Enrolment.objects.filter(participant=man).exists()
    session = SurveySession.objects.get(participant=man)
    assert (session.form.form_id, session.status) == ("men_baseline", "open")
    assert out_texts(man)[-1].startswith("¿Edad?")
    member = TrialMember.objects.get(participant=man)
    assert member.randomise_by == LIMA_10AM + timedelta(hours=48)
    assert Trial.objects.get().name == "test-trial"
    assert AuditEntry.objects.filter(action="trial.baseline_started").count() == 1


def test_baseline_assigns_then_treatment_enrols_and_control_gets_nothing(trial_pack):
    men = [new_man() for _ in range(4)]
    for man in men:
        consent(man)
        answer_baseline(man)
    rows = {a.participant_id: a for a in Assignment.objects.all()}
    assert len(rows) == 4
    assert {a.stratum for a in rows.values()} == {"conflict_freq=2"}
    assert sorted(a.arm for a in rows.values()) == ["control"] * 2 + ["treatment"] * 2
    for man in men:
        man.refresh_from_db()
        arm = rows[man.pk].arm
        member = TrialMember.objects.get(participant=man)
        assert (member.phase, member.arm, member.baseline_missing) == ("assigned", arm, False)
        if arm == "treatment":
            assert man.status == Participant.Status.ENROLLED
            assert Enrolment.objects.filter(participant=man).exists()
        else:
            assert man.status == Participant.Status.SURVEYS_ONLY
            assert not Enrolment.objects.filter(participant=man).exists()
        assert not any("control" in t.lower() for t in out_texts(man))
    # days pass: the program reaches the treated men only
    for hours in range(0, 24 * 4, 3):
        now = LIMA_10AM + timedelta(hours=hours)
        trial_pack.set(now)
        program_jobs.run_program_engine(now)
        deliver(now)
    for man in men:
        program = Message.objects.filter(participant=man, purpose="program").count()
        assert (program > 0) == (rows[man.pk].arm == "treatment")
        if rows[man.pk].arm == "control":
            purposes = set(
                Message.objects.filter(participant=man, direction="out").values_list(
                    "purpose", flat=True
                )
            )
            assert purposes <= {"intake", "survey"}


def test_a_man_waiting_or_in_control_who_writes_hears_one_answer_a_day(trial_pack):
    man = new_man()
    consent(man)
    answer_baseline(man)
    man.refresh_from_db()
    if man.status != Participant.Status.SURVEYS_ONLY:  # the first of a block may be treated
        man = new_man()
        consent(man)
        answer_baseline(man)
        man.refresh_from_db()
    assert man.status == Participant.Status.SURVEYS_ONLY
    before = len(out_texts(man))
    inject(man, "hola, ¿cuándo empieza?")
    inject(man, "¿hay alguien?")
    assert out_texts(man)[before:] == ["[es] between_surveys"]
    trial_pack.set(LIMA_10AM + timedelta(days=1))
    inject(man, "hola otra vez")
    assert out_texts(man)[before:] == ["[es] between_surveys"] * 2


def test_endline_is_due_for_both_arms_at_the_right_time(trial_pack):
    men = [new_man() for _ in range(2)]
    for man in men:
        consent(man)
        answer_baseline(man, "1")
    assigned = Assignment.objects.order_by("at").first().at
    due = assigned + timedelta(days=3 + 7)  # program days + endline_after_days
    assert set(TrialMember.objects.values_list("endline_due_at", flat=True)) == {due}
    assert flow_endline.invite_due_endlines(due - timedelta(minutes=1)) == 0
    trial_pack.set(due)
    assert flow_endline.invite_due_endlines(due) == 2
    assert flow_endline.invite_due_endlines(due) == 0  # once
    invites = Message.objects.filter(purpose="survey", type="template")
    assert invites.count() == 2  # both windows closed by then: the approved template
    assert {m.payload["template"]["name"] for m in invites} == {"t_survey"}
    # one reminder a day later, and only one
    later = due + timedelta(hours=25)
    assert flow_endline.remind_endlines(later) == 2
    assert flow_endline.remind_endlines(later + timedelta(days=2)) == 0
    # his tap starts the endline; he answers it
    trial_pack.set(later)
    for man in men:
        assert inject(man, "Empezar", "trial_survey:men_endline") == "trial_survey"
        assert inject(man, "4", "survey:satisfaction:4") == "open_survey"
        ended = SurveySession.objects.get(participant=man, form__form_id="men_endline")
        assert ended.status == "completed" and ended.answers["satisfaction"] == "4"
    rates = {r["arm"]: r for r in flow_queries.response_rates(Trial.objects.get())}
    assert rates["control"]["m_el_completed"] == 1 and rates["treatment"]["m_el_rate"] == 1.0
    assert rates["control"]["m_bl_completed"] == 1 and rates["control"]["p_bl_started"] == 0


def test_a_baseline_not_finished_in_time_still_randomises(trial_pack):
    man = new_man()
    consent(man)
    inject(man, "41")  # answers the age, then stops
    assert flow.randomise_overdue(LIMA_10AM + timedelta(hours=47)) == 0
    assert flow.randomise_overdue(LIMA_10AM + timedelta(hours=48)) == 1
    member = TrialMember.objects.get(participant=man)
    assert member.baseline_missing and member.phase == "assigned"
    assert Assignment.objects.get().stratum == "conflict_freq=missing"
    assert SurveySession.objects.get(participant=man).status == "abandoned"
    assert flow.randomise_overdue(LIMA_10AM + timedelta(days=9)) == 0


def test_without_a_trial_section_consent_enrols_as_before(vclock, tmp_path, settings):
    vclock.set(LIMA_10AM)
    write_trial_pack(tmp_path, settings, enabled=False)
    man = new_man()
    consent(man)
    assert man.status == Participant.Status.ENROLLED
    assert not TrialMember.objects.exists() and not SurveySession.objects.exists()


def test_a_changed_design_under_the_same_name_is_refused(trial_pack, tmp_path, settings):
    consent(new_man())
    write_trial_pack(tmp_path, settings, seed=12)
    man = new_man()
    with pytest.raises(flow.FlowError, match="new trial name"):
        consent(man)
    assert TrialMember.objects.count() == 1


def test_partner_sessions_are_dealt_round_robin_to_enumerators(trial_pack):
    access.ensure_roles()
    users = get_user_model().objects
    staff = [users.create_user(f"enc{i}") for i in range(2)]
    for user in staff:
        user.groups.add(Group.objects.get(name=access.ENUMERATOR))
    men = [new_man() for _ in range(3)]
    for n, man in enumerate(men):
        consent(man)
        surveys.add_partner(man, f"+51 911 000 00{n}")
    assert flow_endline.create_partner_sessions(LIMA_10AM) == 3
    sessions = PartnerSurveySession.objects.all()
    assert {s.form.form_id for s in sessions} == {"partner_baseline"}
    counts = sorted(sessions.filter(enumerator=u).count() for u in staff)
    assert counts == [1, 2]
    assert flow_endline.create_partner_sessions(LIMA_10AM) == 0  # once per wave


def test_inside_his_window_the_invitation_is_a_free_button(trial_pack):
    man = new_man()
    consent(man)
    answer_baseline(man)
    member = TrialMember.objects.get(participant=man)
    trial_pack.set(member.endline_due_at)
    inject(man, "hola")  # he wrote: his window is open
    assert flow_endline.invite_due_endlines(member.endline_due_at) == 1
    invite = Message.objects.filter(participant=man, purpose="survey").latest("id")
    assert invite.type == "interactive"
    button = invite.payload["interactive"]["action"]["buttons"][0]["reply"]
    assert button["id"] == "trial_survey:men_endline"


def test_her_endline_session_comes_with_his_and_men_without_partners_do_not_block(trial_pack):
    access.ensure_roles()
    user = get_user_model().objects.create_user("enc")
    user.groups.add(Group.objects.get(name=access.ENUMERATOR))
    alone, coupled = new_man(), new_man()
    for man in (alone, coupled):
        consent(man)
        answer_baseline(man)
    surveys.add_partner(coupled, "+51 911 222 333")
    assert flow_endline.create_partner_sessions(LIMA_10AM) == 1
    due = TrialMember.objects.get(participant=coupled).endline_due_at
    assert flow_endline.create_partner_sessions(due) == 1
    forms = sorted(PartnerSurveySession.objects.values_list("form__form_id", flat=True))
    assert forms == ["partner_baseline", "partner_endline"]
    assert set(PartnerSurveySession.objects.values_list("enumerator", flat=True)) == {user.pk}
    assert not Message.objects.filter(participant=coupled, text__contains="911").exists()


def test_the_demo_pack_runs_its_trial(vclock):
    vclock.set(LIMA_10AM)  # the installed demo pack: consent starts its men's baseline
    man = new_man()
    consent(man)
    assert man.status == Participant.Status.BASELINE
    session = SurveySession.objects.get(participant=man)
    assert session.form.form_id == "men_baseline"
    assert Trial.objects.get().name == "hep-demo"
