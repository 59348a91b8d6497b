"""Each dashboard aggregate on the small world of world.py, and its chart and CSV."""

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest

from patas.groups.models import GroupPost
from patas.recruitment import charts, dashboard
from patas.recruitment.export import write_dashboard
from recruitment.world import build

pytestmark = pytest.mark.django_db
RESEARCHER = dashboard.Viewer(show_arm=True, show_partners=True)
SUPERVISOR = dashboard.Viewer()


def rows_of(key, viewer=RESEARCHER):
    t = dashboard.table(key, viewer)
    return [dict(zip(t.columns, r, strict=True)) for r in t.rows]


def test_enrolment_over_time_by_source(vclock):
    build()
    rows = rows_of("enrolment")
    assert {(r["source"], r["enrolled"]) for r in rows} == {
        ("FB-A", 3),
        ("INF-1", 1),
        ("unknown", 1),
    }
    assert len({r["date"] for r in rows}) == 1


def test_retention_is_a_survival_curve(vclock):
    build()
    by_day = {r["day"]: r for r in rows_of("retention")}
    assert len(by_day) == 30
    assert (by_day[3]["reached"], by_day[4]["reached"], by_day[13]["reached"]) == (5, 4, 3)
    assert by_day[4]["share_reached"] == 0.8 and by_day[13]["share_reached"] == 0.6
    # m8 is still going at day 3: censored, not lost; m2 left after day 12: 1 of 4 at risk
    assert by_day[4]["survival"] == 1.0 and by_day[12]["survival"] == 1.0
    assert by_day[13]["survival"] == 0.75 and by_day[30]["survival"] == 0.75


def test_checkins_by_day_and_module(vclock):
    build()
    day = {r["day"]: r for r in rows_of("checkins_day")}
    assert (day[1]["started"], day[1]["opened"], day[1]["checked_in"]) == (3, 3, 2)
    assert day[1]["checkin_rate"] == 0.6667 and day[1]["module"] == "welcome"
    assert day[2]["checkin_rate"] == 0.0 and day[2]["module"] == "communication"
    module = {r["module"]: r for r in rows_of("checkins_module")}
    assert module["welcome"]["checked_in"] == 2 and module["communication"]["started"] == 1


def test_group_activity_and_response_times(vclock):
    build()
    activity = rows_of("groups")
    assert [(r["men_posts"], r["facilitator_posts"], r["held"]) for r in activity] == [
        (3, 1, 1),
        (1, 0, 1),
    ]  # the private reply is not group activity
    response = rows_of("response")
    assert len(response) == 1  # Monday and Tuesday: one week
    (week,) = response
    assert week["inbox_posts"] == 3 and week["unanswered"] == 1
    assert (week["within_1h"], week["within_4h"], week["within_24h"]) == (0.3333, 0.3333, 0.6667)


def test_safety_alerts_by_week_and_severity(vclock):
    build()
    rows = rows_of("alerts")
    assert [(r["severity"], r["alerts"]) for r in rows] == [("high", 2), ("low", 1)]
    assert rows[0]["week"] != rows[1]["week"]


def test_survey_response_by_arm_for_researchers_only(vclock):
    build()
    rows = rows_of("surveys")
    men = {r["arm"]: r for r in rows if r["audience"] == "men"}
    assert men["treatment"]["completed"] == 1 and men["control"]["response_rate"] == 1.0
    assert men["unassigned"]["started"] == 1 and men["unassigned"]["response_rate"] == 0.0
    assert {r["arm"] for r in rows if r["audience"] == "partners"} == {"treatment", "control"}
    plain = rows_of("surveys", SUPERVISOR)
    assert "arm" not in plain[0] and {r["audience"] for r in plain} == {"men"}
    assert plain[0]["started"] == 3 and plain[0]["completed"] == 2


def test_men_beside_partners_reported_changes(vclock):
    build()
    rows = {r["item"]: r for r in rows_of("changes")}
    assert (rows["chg_communication"]["men_n"], rows["chg_communication"]["men_share"]) == (2, 0.5)
    assert rows["chg_chores"]["men_share"] == 1.0
    assert (rows["chg_budget"]["men_n"], rows["chg_budget"]["men_share"]) == (1, 0.0)
    assert rows["chg_communication"]["partners_share"] == 0.5
    assert (rows["chg_chores"]["partners_n"], rows["chg_chores"]["partners_share"]) == (1, 0.0)
    assert rows["chg_budget"]["partners_share"] == 1.0
    assert "partners_share" not in rows_of("changes", SUPERVISOR)[0]


def test_every_table_has_a_chart_and_a_csv(vclock):
    build()
    for table in dashboard.all_tables(RESEARCHER):
        svg = charts.render(table)
        assert svg.lstrip().startswith(b"<?xml") and b"<svg" in svg
        parsed = list(csv.reader(io.StringIO(table.csv())))
        assert parsed[0] == table.columns and len(parsed) == len(table.rows) + 1


def test_charts_render_on_an_empty_database():
    for table in dashboard.all_tables(RESEARCHER):
        assert b"<svg" in charts.render(table)


def test_write_dashboard_writes_static_files(vclock, tmp_path):
    build()
    written = write_dashboard(tmp_path / "out")
    names = {p.name for p in written}
    assert {"index.html", "funnel.svg", "funnel.csv", "changes.csv"} <= names
    html = (tmp_path / "out" / "index.html").read_text()
    assert 'src="retention.svg"' in html and 'href="funnel.csv"' in html
    assert "http" not in html.replace("http-equiv", "")  # nothing fetched from elsewhere


def test_unknown_table_is_a_clear_error():
    with pytest.raises(KeyError, match="no dashboard table 'nope'"):
        dashboard.table("nope", RESEARCHER)


def test_days_are_lima_days_and_weeks_start_on_monday(vclock):
    build()
    group = GroupPost.objects.first().group
    facilitator = group.facilitator
    sunday_night = datetime(2026, 3, 9, 4, 59, 59, tzinfo=UTC)  # Sunday 23:59:59 in Lima
    for at in (sunday_night, sunday_night + timedelta(seconds=1)):
        GroupPost.objects.create(group=group, facilitator=facilitator, text="x", created_at=at)
        man = GroupPost.objects.filter(author__isnull=False).first().author
        GroupPost.objects.create(
            group=group, author=man, text="y", status="held", created_at=at, answered_at=at
        )
    days = {r["date"]: r["facilitator_posts"] for r in rows_of("groups")}
    assert days[date(2026, 3, 8)] == 1 and days[date(2026, 3, 9)] == 1
    weeks = {r["week"]: r["inbox_posts"] for r in rows_of("response")}
    assert weeks[date(2026, 3, 2)] == 3 + 1 and weeks[date(2026, 3, 9)] == 1
