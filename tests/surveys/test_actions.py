"""Sessions in the database: start, answers through the real router, abandon, resume, timeout."""

from __future__ import annotations

from datetime import timedelta

import pytest

from patas.core.jobs import discover
from patas.core.models import AuditEntry
from patas.messaging import router
from patas.messaging.models import Message
from patas.participants.models import Participant
from patas.surveys import actions
from patas.surveys.models import Status, SurveyForm, SurveySession

from .conftest import make_participant

pytestmark = pytest.mark.django_db


def inbound(man: Participant, text: str = "", reply_id: str = "") -> Message:
    if reply_id:
        return Message.objects.create(
            direction=Message.Direction.IN,
            participant=man,
            type="interactive",
            text=text,
            payload={"type": "button_reply", "button_reply": {"id": reply_id, "title": text}},
            status=Message.Status.RECEIVED,
        )
    return Message.objects.create(
        direction=Message.Direction.IN,
        participant=man,
        type="text",
        text=text,
        payload={"body": text},
        status=Message.Status.RECEIVED,
    )


def survey_out(man: Participant) -> list[Message]:
    return list(
        Message.objects.filter(
            participant=man, direction=Message.Direction.OUT, purpose=Message.Purpose.SURVEY
        ).order_by("id")
    )


def test_install_is_idempotent_and_audited(small_record: SurveyForm, tmp_path) -> None:
    again = actions.install_form(tmp_path / "small.md")
    assert again.pk == small_record.pk
    assert AuditEntry.objects.filter(action="survey.form_installed").count() == 1


def test_demo_form_is_installed_from_the_pack_on_first_use(man: Participant, vclock) -> None:
    session = actions.start_chat_survey(man, "men_endline")
    assert session.form.form_id == "men_endline" and session.status == Status.OPEN
    assert session.form.audience == SurveyForm.Audience.MEN
    assert survey_out(man)[0].text.startswith("Gracias por responder")


def test_chat_survey_through_the_router(small_record, man: Participant, vclock) -> None:
    session = actions.start_chat_survey(man, "small")
    first = survey_out(man)
    assert [m.text for m in first] == ["Hola amigo", "¿Qué edad tiene?"]
    assert all(m.status == Message.Status.QUEUED for m in first)

    assert router.route(inbound(man, "quince")) == "open_survey"
    session.refresh_from_db()
    assert session.current_question == "age"  # 15 breaks the constraint: asked again
    assert [m.text for m in survey_out(man)[2:]] == [
        "Debe tener entre 18 y 60 años.",
        "¿Qué edad tiene?",
    ]
    vclock.advance(timedelta(minutes=2))
    router.route(inbound(man, "30"))
    router.route(inbound(man, "Sí", reply_id="survey:partner:yes"))
    session.refresh_from_db()
    assert session.answers["partner"] == "yes" and session.current_question == "years"
    assert session.last_activity_at == vclock.now()
    routed = Message.objects.filter(direction=Message.Direction.IN).values_list("route", flat=True)
    assert set(routed) == {"open_survey"}
    answered = AuditEntry.objects.filter(action="survey.answered", object_id=str(session.pk))
    assert sorted(e.details["question"] for e in answered) == ["age", "partner"]
    assert all("30" not in str(e.details) for e in answered)  # no answers in the audit log


def test_router_continues_when_he_has_no_open_survey(man: Participant) -> None:
    from patas.surveys.router_step import open_survey

    msg = inbound(man, "hola")
    assert open_survey(router.inbound_for(msg)) is router.Result.CONTINUE
    assert survey_out(man) == []


def test_abandon_keeps_answers_and_start_resumes_where_he_left(small_record, man, vclock) -> None:
    session = actions.start_chat_survey(man, "small")
    actions.answer(session, "30")
    actions.answer(session, "no")
    actions.abandon(session, reason="stopped answering")
    session.refresh_from_db()
    assert session.status == Status.ABANDONED and session.ended_at == vclock.now()
    assert session.answers["age"] == "30"
    assert actions.open_chat_session(man) is None
    before = len(survey_out(man))
    resumed = actions.start_chat_survey(man, "small")
    assert resumed.pk == session.pk and resumed.status == Status.OPEN and resumed.ended_at is None
    texts = [m.text for m in survey_out(man)[before:]]
    assert texts[0] == "Sigamos con la encuesta donde la dejamos."
    assert texts[1] == "¿Cómo se siente hoy?"
    assert SurveySession.objects.filter(participant=man).count() == 1


def test_completion_sets_status_and_end(small_record, man, vclock) -> None:
    session = actions.start_chat_survey(man, "small")
    for text in ("19", "no", "1", "saltar", "saltar"):
        actions.answer(session, text)
    session.refresh_from_db()
    assert session.status == Status.COMPLETED and session.ended_at == vclock.now()
    assert "comment" not in session.answers  # not relevant at 19
    assert session.answers["topics"] == "" and session.answers["twice"] == "38"
    assert AuditEntry.objects.filter(action="survey.completed").count() == 1
    with pytest.raises(actions.SurveyError, match="not open"):
        actions.answer(session, "hola")


def test_one_open_chat_survey_at_a_time(small_record, man, vclock) -> None:
    actions.start_chat_survey(man, "small")
    assert actions.start_chat_survey(man, "small").status == Status.OPEN
    with pytest.raises(actions.SurveyError, match="already has the open survey"):
        actions.start_chat_survey(man, "men_baseline")


def test_unknown_form_is_a_clear_error(man) -> None:
    with pytest.raises(actions.SurveyError, match="no survey form 'nope'"):
        actions.start_chat_survey(man, "nope")
    assert not SurveySession.objects.exists()


def test_timeout_job_closes_idle_sessions_only(small_record, vclock) -> None:
    idle, busy = make_participant(1), make_participant(2)
    s_idle = actions.start_chat_survey(idle, "small")
    vclock.advance(timedelta(hours=70))
    s_busy = actions.start_chat_survey(busy, "small")
    vclock.advance(timedelta(hours=3))
    job = discover()["patas.surveys.jobs.time_out_idle_surveys"]
    assert job.func(vclock.now()) == 1
    s_idle.refresh_from_db()
    s_busy.refresh_from_db()
    assert s_idle.status == Status.TIMED_OUT and s_busy.status == Status.OPEN
    assert AuditEntry.objects.filter(action="survey.timed_out", object_id=str(s_idle.pk)).exists()
    assert router.route(inbound(idle, "30")) != "open_survey"  # closed: not taken as an answer


def test_answer_many_applies_a_batch_set_based(small_record, vclock) -> None:
    men = [make_participant(i) for i in range(1, 6)]
    for m in men:
        actions.start_chat_survey(m, "small")
    replies = [actions.Reply(m.pk, text="30") for m in men[:4]] + [actions.Reply(men[4].pk, "x")]
    assert actions.answer_many(replies) == 4
    states = {s.participant_id: s for s in SurveySession.objects.all()}
    assert all(states[m.pk].current_question == "partner" for m in men[:4])
    assert states[men[4].pk].current_question == "age"
    assert Message.objects.filter(direction=Message.Direction.OUT, purpose="survey").count() == (
        5 * 2 + 4 + 2
    )


def test_no_survey_for_a_man_who_opted_out(small_record, man, vclock) -> None:
    man.opted_out_at = vclock.now()
    man.save()
    with pytest.raises(actions.SurveyError, match="opted out"):
        actions.start_chat_survey(man, "small")
    assert not SurveySession.objects.exists()
    assert not survey_out(man)


def test_abandon_open_surveys_on_opt_out(small_record, man, vclock) -> None:
    session = actions.start_chat_survey(man, "small")
    assert actions.abandon_open_surveys(man, reason="opt-out") == 1
    session.refresh_from_db()
    assert session.status == Status.ABANDONED
    assert actions.abandon_open_surveys(man, reason="opt-out") == 0


def test_salir_abandons_his_open_survey_through_the_router(small_record, man, vclock) -> None:
    session = actions.start_chat_survey(man, "small")
    router.route(inbound(man, "SALIR"))
    session.refresh_from_db()
    man.refresh_from_db()
    assert man.opted_out_at is not None
    assert session.status == Status.ABANDONED
    entry = AuditEntry.objects.get(action="survey.abandoned")
    assert entry.actor == f"participant:{man.ref}" and entry.details["reason"] == "opt-out"
    # Back in with VOLVER, his next words are not taken as an answer to the old question.
    router.route(inbound(man, "VOLVER"))
    router.route(inbound(man, "2"))
    assert not SurveySession.objects.filter(participant=man, status=Status.OPEN).exists()


def test_another_flows_button_passes_through_an_open_survey(small_record, man, vclock) -> None:
    from patas.surveys.router_step import open_survey

    session = actions.start_chat_survey(man, "small")
    tap = inbound(man, "Hecho", reply_id="checkin:day3:done")
    assert open_survey(router.inbound_for(tap)) is router.Result.CONTINUE
    session.refresh_from_db()
    assert session.current_question == "age" and session.state["errors"] == 0


def test_install_surveys_command_installs_the_demo_pack() -> None:
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("install_surveys", stdout=out)
    assert set(SurveyForm.objects.values_list("form_id", "audience")) == {
        ("men_baseline", "men"),
        ("men_endline", "men"),
        ("partner_baseline", "partners"),
        ("partner_endline", "partners"),
    }
    assert "partner_endline" in out.getvalue()
