from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from patas.core.models import AuditEntry
from patas.participants.models import Participant
from patas.recruitment import bayes, costs
from patas.recruitment.actions import attribute, create_source, import_spend
from patas.recruitment.codes import find_clue, prefill
from patas.recruitment.links import qr_png, qr_svg, wa_link
from patas.recruitment.models import Attribution, SpendEntry
from patas.recruitment.spend import SpendFileError, parse_spend

FIXTURES = Path(__file__).parent.parent / "fixtures" / "recruitment"


def test_code_is_found_in_the_prefilled_text():
    text = prefill("FB-A1", "Hola, quiero unirme")
    assert find_clue(text, None).code == "FB-A1"
    assert find_clue("hola #ig-b2 que tal", None).code == "IG-B2"
    assert find_clue("hola, quiero información", None).code == ""


def test_referral_wins_over_a_code():
    clue = find_clue("ref FB-A1", {"source_id": "1202", "ctwa_clid": "ARx", "headline": "Habla"})
    assert (clue.ad_id, clue.ctwa_clid, clue.code) == ("1202", "ARx", "")


@pytest.mark.django_db
def test_attribution_from_code_referral_and_unknown():
    source = create_source("FB-A1", "Video pareja", ad_id="120210000000001")
    men = [Participant.objects.create(wa_user_id=f"u{i}") for i in range(4)]
    assert attribute(men[0], find_clue("ref fb-a1", None)).source == source
    by_ref = attribute(
        men[1], find_clue("hola", {"source_id": "120210000000001", "ctwa_clid": "c"})
    )
    assert (by_ref.source, by_ref.via, by_ref.ctwa_clid) == (source, "referral", "c")
    unknown = attribute(men[2], find_clue("ref NOPE", None))
    assert unknown.source is None and unknown.via == Attribution.Via.NONE
    new_ad = attribute(men[3], find_clue("", {"source_id": "999", "headline": "Nuevo"}))
    assert new_ad.source is not None and new_ad.source.ad_id == "999"
    assert AuditEntry.objects.filter(action="recruitment.attributed").count() == 4


def test_wa_link_and_qr_codes():
    link = wa_link("+51 999 888 777", "Hola (ref FB-A1)")
    assert link == "https://wa.me/51999888777?text=Hola%20%28ref%20FB-A1%29"
    assert qr_png(link).startswith(b"\x89PNG")
    assert b"<svg" in qr_svg(link)


def test_spend_export_in_english_and_spanish():
    en = parse_spend((FIXTURES / "ads-manager-en.csv").read_bytes())
    assert [r.amount for r in en] == [Decimal("152.40"), Decimal("98.10"), Decimal("40.00")]
    assert (en[0].link_clicks, en[0].currency, en[0].ad_id) == (1204, "USD", "120210000000001")
    es = parse_spend((FIXTURES / "ads-manager-es.csv").read_bytes())
    assert (es[0].amount, es[0].currency, es[0].ad_name) == (
        Decimal("512.75"),
        "PEN",
        "Video pareja",
    )


@pytest.mark.django_db
def test_a_wrong_file_says_what_it_expected_and_imports_nothing():
    with pytest.raises(SpendFileError, match="missing columns.*ad_name"):
        import_spend((FIXTURES / "not-ads-manager.csv").read_bytes(), "x.csv")
    broken = (FIXTURES / "ads-manager-en.csv").read_text().replace("98.10", "lots")
    with pytest.raises(SpendFileError, match="line 3: amount spent 'lots'"):
        import_spend(broken.encode(), "broken.csv")
    assert SpendEntry.objects.count() == 0


@pytest.mark.django_db
def test_import_links_rows_to_sources():
    source = create_source("FB-A1", "Video pareja", ad_id="120210000000001")
    assert import_spend((FIXTURES / "ads-manager-en.csv").read_bytes(), "en.csv") == 3
    assert SpendEntry.objects.get(ad_id="120210000000001").source == source


def test_cost_arithmetic_by_hand():
    card = costs.RateCard(
        whatsapp={"PE": {"utility": 0.02, "marketing": 0.07}},
        facilitator_per_hour=5,
        survey_per_interview={"phone": 4},
        incentive_per_completer=2,
    )
    counts = costs.Counts(
        messages={"utility": 1000, "marketing": 100},
        facilitator_hours=10,
        interviews={"phone": 20},
        ad_spend=300,
        other_spend=50,
        enrolled=100,
        completed=60,
        man_days=2400,
    )
    result = costs.breakdown(card, counts)
    # 300 + 50 + (20 + 7) + 50 + 80 + 120 = 627
    assert result.total == 627
    assert result.per_enrolled == 6.27 and result.per_completer == 10.45
    assert result.items["whatsapp"] == 27


def test_projection_live_relay_costs_more_than_digest():
    card = costs.RateCard(whatsapp={"PE": {"utility": 0.02}})
    per_man = costs.PerMan(
        program_messages=150,
        group_posts_per_day=0.2,
        ad_spend=1.5,
        facilitator_hours=0.1,
        interviews=2,
        completion_rate=0.67,
    )
    live = costs.project(card, per_man, 100_000, 30, relay="live")
    digest = costs.project(card, per_man, 100_000, 30, relay="digest", digest_hours=12)
    # live: 150 + 0.2*49*30 = 444 messages a man; digest: 150 + 60 = 210
    assert live.items["whatsapp"] == pytest.approx(100_000 * 444 * 0.02)
    assert digest.items["whatsapp"] == pytest.approx(100_000 * 210 * 0.02)


def test_bayes_two_variants_match_the_closed_form():
    a = bayes.Variant("A", spend=200.0, enrolled=40, completed=25)
    b = bayes.Variant("B", spend=180.0, enrolled=30, completed=22)
    result = bayes.compare([a, b], draws=200_000, seed=3)
    exact = bayes.prob_rate_greater(1 + 40, 1 + 200.0, 1 + 30, 1 + 180.0)
    assert result[0].p_best_cost == pytest.approx(exact, abs=0.005)
    assert result[0].p_best_cost + result[1].p_best_cost == pytest.approx(1.0)


def test_bayes_completion_against_a_large_simulation():
    rng = np.random.default_rng(9)
    a = rng.beta(1 + 25, 1 + 15, 400_000)
    b = rng.beta(1 + 22, 1 + 8, 400_000)
    expected = float((a > b).mean())
    result = bayes.compare(
        [bayes.Variant("A", 200, 40, 25), bayes.Variant("B", 180, 30, 22)], draws=200_000, seed=4
    )
    assert result[0].p_best_completion == pytest.approx(expected, abs=0.005)
