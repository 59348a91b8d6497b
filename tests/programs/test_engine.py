"""The pure engine: decide(state, event, now, pack), no database."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from patas.messaging.personalise import FIRST_NAME
from patas.programs import engine, schedule
from patas.programs.engine import State, decide

from .conftest import use_pack, write_pack

LIMA = "America/Lima"
# 2026-03-02 19:00 in Lima is 2026-03-03 00:00 UTC.
DAY_START = datetime(2026, 3, 3, 0, 0, tzinfo=UTC)


@pytest.fixture
def pack(tmp_path, settings):
    write_pack(tmp_path)
    use_pack(settings, tmp_path)
    from patas.programs.pack import get_pack

    return get_pack()


def state(**changes) -> State:
    base = State(
        enrolment_id=1,
        participant_id=7,
        status="enrolled",
        language="es",
        time_zone=LIMA,
        send_hour=19,
        current_day=0,
        phase="waiting",
        enrolled_at=DAY_START - timedelta(hours=9),
        next_wake_at=DAY_START,
        wake="day_start",
    )
    return replace(base, **changes)


def test_window_closed_day_opens_with_the_template(pack):
    d = decide(
        state(current_day=3, day_started_at=DAY_START - timedelta(days=1)),
        engine.Wake(),
        DAY_START,
        pack,
    )
    assert d.changes["current_day"] == 4 and d.changes["phase"] == "opener" and d.new_day == 4
    [send] = d.send
    template = send.payload["template"]
    assert template["name"] == "t_opener" and template["language"] == {"code": "es_PE"}
    assert template["components"][0]["parameters"] == [
        {"type": "text", "text": FIRST_NAME},  # his name goes in when it is sent
        {"type": "text", "text": "4"},
    ]
    assert template["components"][1]["parameters"][0]["payload"] == "open_day:4"
    assert send.text == "t_opener {{first_name}} 4"


def test_window_open_day_sends_content_in_order_spaced(pack):
    s = state(last_inbound_at=DAY_START - timedelta(hours=1))
    d = decide(s, engine.Wake(), DAY_START, pack)
    assert d.changes["phase"] == "content"
    assert [x.due_at - DAY_START for x in d.send] == [timedelta(minutes=i) for i in range(4)]
    assert d.send[1].payload == {"type": "audio", "audio": {"link": "test-program/media/d1.ogg"}}
    assert d.send[3].payload["interactive"]["action"]["buttons"][1]["reply"]["id"] == (
        "checkin:1:not_yet"
    )


def test_a_window_closing_before_the_last_item_means_a_template(pack):
    s = state(last_inbound_at=DAY_START - timedelta(hours=23, minutes=55))
    d = decide(s, engine.Wake(), DAY_START, pack)
    assert d.changes["phase"] == "opener" and d.send[0].payload["type"] == "template"


def test_the_tap_sends_the_content_from_where_it_stopped(pack):
    s = state(current_day=2, phase="opener", content_from=2, day_started_at=DAY_START)
    d = decide(s, engine.OpenDay(), DAY_START + timedelta(minutes=5), pack)
    assert [x.text for x in d.send] == ["[es] day 2 challenge", "[es] day 2 did you?"]
    assert d.changes["phase"] == "content" and d.day_changes["opened_at"]


def test_nothing_is_due_in_quiet_hours(pack):
    late = datetime(2026, 3, 3, 2, 29, tzinfo=UTC)  # 21:29 in Lima: quiet starts at 21:30
    s = state(current_day=1, phase="opener", day_started_at=DAY_START)
    d = decide(s, engine.OpenDay(), late, pack)
    due = [x.due_at.astimezone(schedule.zone(LIMA)).strftime("%d %H:%M") for x in d.send]
    assert due == ["02 21:29", "03 07:30", "03 07:31", "03 07:32"]
    assert all(not schedule.in_quiet(x.due_at, LIMA, pack.program.quiet_hours) for x in d.send)


def test_reminder_nudges_once_then_respects_the_cap(pack):
    started = DAY_START
    s = state(
        current_day=1,
        phase="content",
        day_started_at=started,
        wake="reminder",
        last_inbound_at=started,
        last_reply_at=started,
    )
    nudge_at = started + timedelta(hours=2)
    d = decide(s, engine.Wake(), nudge_at, pack)
    assert [x.text for x in d.send] == ["[es] checkin_nudge"]
    assert d.changes["reminders_today"] == 1 and d.changes["wake"] == "day_start"
    capped = replace(s, reminders_today=1, reminders_on=d.changes["reminders_on"])
    assert decide(capped, engine.Wake(), nudge_at, pack).send == []


def test_no_nudge_after_he_answered(pack):
    s = state(
        current_day=1,
        phase="content",
        day_started_at=DAY_START,
        wake="reminder",
        day_checked_in=True,
        last_inbound_at=DAY_START,
    )
    assert decide(s, engine.Wake(), DAY_START + timedelta(hours=2), pack).send == []


def test_miss_you_after_silent_days_once_per_silence(pack):
    silent_since = DAY_START - timedelta(days=4)
    s = state(
        current_day=4,
        phase="opener",
        day_started_at=DAY_START,
        wake="reminder",
        last_inbound_at=silent_since,
        enrolled_at=silent_since,
    )
    d = decide(s, engine.Wake(), DAY_START + timedelta(hours=2), pack)
    assert d.changes["miss_you_at"] and d.send[0].payload["template"]["name"] == "t_rem"
    again = replace(s, miss_you_at=d.changes["miss_you_at"])
    d2 = decide(again, engine.Wake(), DAY_START + timedelta(days=1, hours=2), pack)
    assert "miss_you_at" not in d2.changes  # the nudge (as a template) instead


def test_after_the_last_day_the_program_completes(pack):
    s = state(
        current_day=30,
        phase="content",
        day_started_at=DAY_START - timedelta(days=1),
        last_inbound_at=DAY_START - timedelta(hours=2),
    )
    d = decide(s, engine.Wake(), DAY_START, pack)
    assert d.changes["status"] == "completed" and d.participant_status == "completed"
    assert [x.text for x in d.send] == ["[es] program_completed"]


def test_an_opted_out_man_gets_nothing(pack):
    d = decide(state(opted_out=True), engine.Wake(), DAY_START, pack)
    assert d.send == [] and d.changes["status"] == "opted_out"


def test_needs_template_reopens_the_day_with_the_opener(pack):
    s = state(current_day=3, phase="content", day_started_at=DAY_START)
    d = decide(s, engine.NeedsTemplate(sent=1), DAY_START + timedelta(minutes=3), pack)
    assert d.changes == {
        "phase": "opener",
        "opener_sent_at": DAY_START + timedelta(minutes=3),
        "content_from": 1,
    }
    assert d.send[0].payload["template"]["components"][1]["parameters"][0]["payload"] == (
        "open_day:3"
    )


def test_hour_change_moves_the_next_day(pack):
    s = state(current_day=2, day_started_at=DAY_START, next_wake_at=DAY_START + timedelta(days=1))
    d = decide(s, engine.HourChange("morning", 8), DAY_START + timedelta(hours=1), pack)
    local = d.changes["next_wake_at"].astimezone(schedule.zone(LIMA))
    assert (local.day, local.hour) == (3, 8)  # the next local date at 08:00
    assert [x.text for x in d.send] == ["[es] hour_changed 08:00"]


def test_first_day_is_the_next_preferred_hour():
    from patas.programs.schema import QuietHours

    q = QuietHours()
    morning = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # 07:00 Lima
    first = schedule.first_day_start(morning, 19, LIMA, q)
    assert first == datetime(2026, 3, 3, 0, 0, tzinfo=UTC)
    evening = datetime(2026, 3, 3, 1, 0, tzinfo=UTC)  # 20:00 Lima: tomorrow at 19:00
    assert schedule.first_day_start(evening, 19, LIMA, q) == datetime(2026, 3, 4, 0, 0, tzinfo=UTC)
    # An hour inside quiet hours is pushed to their end.
    assert (
        schedule.first_day_start(morning, 23, LIMA, q)
        .astimezone(schedule.zone(LIMA))
        .strftime("%d %H:%M")
        == "03 07:30"
    )
