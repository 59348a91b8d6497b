"""Funnel and cost arithmetic on the hand-computed world in world.py."""

from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import translation

from patas.recruitment import costs, funnel
from patas.recruitment.cost_counts import cost_report, facilitator_hours, measured_counts
from recruitment.world import PROGRAM, build

pytestmark = pytest.mark.django_db

CARD = costs.RateCard(
    whatsapp={"PE": {"utility": 0.02, "marketing": 0.07, "service": 0.0}},
    facilitator_per_hour=6,
    survey_per_interview={"phone": 4, "chat": 0.5},
    incentive_per_completer=3,
)


def stages(row):
    return [getattr(row, s) for s in funnel.STAGES]


def test_funnel_per_source_by_hand(vclock, django_assert_max_num_queries):
    build()
    with django_assert_max_num_queries(6):
        rows = funnel.funnel()
    by_code = {r.code: r for r in rows}
    assert [r.code for r in rows] == ["FB-A", "INF-1", "unknown"]
    assert stages(by_code["FB-A"]) == [50, 5, 4, 3, 3, 3, 1]
    assert stages(by_code["INF-1"]) == [0, 2, 2, 1, 1, 1, 1]
    assert stages(by_code["unknown"]) == [0, 2, 1, 1, 1, 0, 0]
    assert by_code["FB-A"].cost_per_enrolled == Decimal("33.33")
    assert by_code["FB-A"].cost_per_completer == Decimal("100.00")
    assert by_code["INF-1"].cost_per_completer == Decimal("40.00")
    assert by_code["unknown"].cost_per_enrolled is None
    total = funnel.totals(rows, funnel.unlinked_spend())
    assert stages(total) == [50, 9, 7, 5, 5, 4, 2]
    assert total.spend == Decimal("150.00") and total.cost_per_completer == Decimal("75.00")


def test_completion_rule_in_sql_matches_programs_queries(vclock):
    from patas.programs import queries
    from patas.programs.models import Enrolment

    build()
    in_sql = set(Enrolment.objects.filter(funnel.completed_q()).values_list("pk", flat=True))
    one_by_one = {e.pk for e in Enrolment.objects.all() if queries.completed(e)}
    assert in_sql == one_by_one and len(in_sql) == 2


def test_counts_and_breakdown_from_the_database(vclock):
    build()
    counts = measured_counts()
    assert counts.messages == {"utility": 10, "marketing": 2}
    # ana: 10:05 and 10:40 are one hour, 11:10 another; ben one; system and recruitment none
    assert facilitator_hours() == 3.0
    assert counts.interviews == {"chat": 1, "phone": 3}
    assert (counts.ad_spend, counts.other_spend) == (110.0, 40.0)
    assert (counts.enrolled, counts.completed, counts.man_days) == (5, 2, 105)
    result = costs.breakdown(CARD, counts)
    # 110 + 40 + (0.20 + 0.14) + 3*6 + (0.5 + 3*4) + 2*3 = 186.84
    assert result.items["whatsapp"] == 0.34 and result.items["surveys"] == 12.5
    assert result.total == 186.84
    assert result.per_enrolled == 37.368 and result.per_completer == 93.42


def test_projection_from_measured_per_man_figures(vclock):
    build()
    report = cost_report(1000, CARD)
    per_man = report.per_man
    assert per_man is not None
    # 15 outbound program messages to m1 / 5 enrolled; 4 men's posts / 105 man-days
    assert per_man.program_messages == 3.0
    assert per_man.group_posts_per_day == pytest.approx(4 / 105)
    assert report.live is not None and report.digest is not None
    live_msgs = 1000 * (3 + 4 / 105 * 49 * 30)
    assert report.live.items["whatsapp"] == pytest.approx(round(live_msgs) * 0.02, abs=0.01)
    assert report.digest.items["whatsapp"] == pytest.approx(1000 * (3 + 60) * 0.02)
    assert report.live.items["ads"] == pytest.approx(1000 * 110 / 5)


def test_costs_command_prints_the_report(vclock, capsys):
    build()
    with translation.override("en"):
        call_command("costs", "--project", "100000")
    out = capsys.readouterr().out
    assert "100,000" in out and "live relay" in out and "digest relay" in out
    assert "facilitator hours: 3" in out


def test_costs_command_rejects_a_missing_rate_card(tmp_path):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="no such rate card"):
        call_command("costs", "--rate-card", str(tmp_path / "nope.yaml"))


@pytest.fixture
def checkin_rule(tmp_path, settings):
    """The demo pack, but completing also needs one answered check-in."""
    import shutil

    from patas.programs import pack as pack_module

    folder = tmp_path / PROGRAM
    shutil.copytree(settings.CONTENT_DIR / PROGRAM, folder)
    program = folder / "program.yaml"
    program.write_text(program.read_text().replace("min_checkins: 0", "min_checkins: 1"))
    settings.CONTENT_DIR = tmp_path
    pack_module._cached.cache_clear()
    yield
    pack_module._cached.cache_clear()


def test_a_rule_with_checkins_in_sql_and_man_by_man(vclock, checkin_rule):
    from patas.programs import queries
    from patas.programs.models import Enrolment

    build()  # m1 answered a check-in and completed; m6 reached day 30 without one
    in_sql = set(Enrolment.objects.filter(funnel.completed_q()).values_list("pk", flat=True))
    one_by_one = {e.pk for e in Enrolment.objects.all() if queries.completed(e)}
    assert in_sql == one_by_one and len(in_sql) == 1
    by_code = {r.code: r for r in funnel.funnel()}
    assert by_code["FB-A"].completed == 1 and by_code["INF-1"].completed == 0
    assert measured_counts().completed == 1
