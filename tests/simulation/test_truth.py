"""The true effects a simulated trial should recover (`simulation/truth.py`), and the answer
model they share with the simulation. Pure: no database."""

import numpy as np
import pytest

from patas.simulation import bulk_answers, truth
from patas.simulation.behaviour import ManState, Question
from patas.simulation.population import SyntheticMan
from patas.simulation.surveys import answer_for, answers_given, choose
from patas.surveys import engine

PRIMARY = ["any_violence", "control_index", "consent_index", "communication_index"]
SMALL = 4000  # drawn men: enough to see the effects, a second or two each


def test_without_an_effect_the_truth_is_zero():
    # Both arms share each couple's noise, so with no effect they answer alike (only answers
    # the runner refused and asked again are drawn afresh in each arm).
    table = truth.truth_table(0.0, n=SMALL, seed=3)
    assert list(table[table.family == "primary"].outcome) == PRIMARY
    assert (np.abs(table.truth) <= 4 * table.mc_se + 1e-12).all()
    assert np.abs(table.truth).max() < 0.02
    assert (table.couples > 0.6 * SMALL).all()  # eligible men who consent


def test_the_truth_grows_with_the_effect():
    found = [truth.true_effects(e, n=SMALL, seed=3) for e in (0.1, 0.3, 0.6)]
    communication = [f["communication_index"] for f in found]
    violence = [f["any_violence"] for f in found]
    assert 0 < communication[0] < communication[1] < communication[2]
    assert 0 > violence[0] > violence[1] > violence[2]
    # In control-group SD units after coarsening into 5 choices: near, but not, the latent 0.3.
    assert 0.2 < communication[1] < 0.35 and abs(communication[1] - 0.3) > 0.005


def test_the_truth_is_deterministic_for_a_seed_and_precise():
    first = truth.truth_table(0.3, n=SMALL, seed=7)
    again = truth.truth_table(0.3, n=SMALL, seed=7)
    other = truth.truth_table(0.3, n=SMALL, seed=8)
    assert first.equals(again)
    assert not np.allclose(first.truth, other.truth)
    # Another population gives the same truth within its Monte-Carlo error.
    gap = np.abs(first.truth - other.truth) / np.hypot(first.mc_se, other.mc_se)
    assert gap.max() < 5
    assert first.mc_se.max() < 0.03


@pytest.mark.parametrize("prefix", ["m_el", "p_el"])
def test_submitted_answers_are_what_the_survey_engine_submits(prefix):
    form, by_chat = {p: (f, c) for p, f, c in truth.endline_forms(None)}[prefix]
    couples = bulk_answers.draw_couples(400, 11)
    raw = bulk_answers.answer_both_arms(form, couples, 0.3, by_chat, np.random.default_rng(1))
    fast = bulk_answers.finalize(form, raw)
    for row in range(0, len(raw), 7):
        answers = {k: v for k, v in raw.iloc[row].items() if v != ""}
        slow = engine.finalize(form, answers, bulk_answers.SUBMITTED_AT)
        assert {k: v for k, v in fast.iloc[row].items() if v != ""} == slow
    if prefix == "p_el":
        assert set(fast.any_physical) == {"0", "1"}  # the calculates were computed


def test_answers_are_stored_as_the_runner_reads_them():
    forms = {p: f for p, f, _ in truth.endline_forms(None)}
    partner, man = forms["p_el"], forms["m_el"]

    def typed(form, name, said):
        entry = bulk_answers.Entry(form, form.question(name), by_chat=False)
        return list(entry.stored(np.array(said, dtype=object)))

    # An enumerator picks her answer on the call screen: the choice itself, never a position.
    assert typed(partner, "consent_respects", ["1", "4"]) == ["1", "4"]  # the list runs 4..1
    assert typed(partner, "com_listens", ["0", "1", "4"]) == ["0", "1", "4"]
    assert typed(partner, "dec_food", ["her", "both"]) == ["her", "both"]
    assert typed(partner, "com_listens", ["7"]) == [None]  # not a choice: refused
    # A man taps the button or list row of the choice he means.
    tapped = bulk_answers.Entry(man, man.question("satisfaction"), by_chat=True)
    assert list(tapped.stored(np.array(["1", "5"], dtype=object))) == ["1", "5"]
    # Refused answers are asked again, so hardly any stays empty.
    couples = bulk_answers.draw_couples(2000, 11)
    raw = bulk_answers.answer_both_arms(partner, couples, 0.3, False, np.random.default_rng(2))
    assert set(raw.com_listens) == {"0", "1", "2", "3", "4"}  # nothing refused, nothing empty


def test_the_answer_model_in_bulk_is_the_one_men_use():
    scale = Question("com_listens", "select_one", ("0", "1", "2", "3", "4"))
    acts = Question("phy_push", "select_one", ("1", "2", "3", "4", "5"))
    assert [choose(scale.choices, g, 1, False) for g in (-3, -1.1, 0.0, 1.9, 3)] == list("01244")
    assert [choose(acts.choices, g, -1, True) for g in (0.0, -1.2, -1.8, -4)] == list("1235")
    g = np.random.default_rng(2).normal(0, 1.5, 300)
    for question in (scale, acts, Question("drink_days", "integer")):
        many = answers_given(question, g, np.full(300, 30))
        man = SyntheticMan(0, "", "", None, "", 30, True, "", "", True, 1.0, None, None, None)  # type: ignore[arg-type]
        one = answer_for(0.0)
        for k in range(0, 300, 13):
            man.latent = {"communication": g[k], "violence": g[k]}
            rng = _zero_noise()
            assert one(man, ManState(treated=False), question, "endline", rng) == many[k]


def _zero_noise():
    class Zero:
        def normal(self, *args):
            return 0.0

    return Zero()
