"""How synthetic men and partners answer surveys, and the simulated staff around the trial.

Answers come from each couple's latent scores (in SD units, higher = a better relationship)
plus, at endline and only for treated men, the true effect `--effect`. Each question name maps
to a construct and a direction by its prefix; anything unknown gets a plausible neutral answer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from patas.core.prepared import Prepared
from patas.participants.models import Consent
from patas.simulation.behaviour import ManState, Question
from patas.simulation.population import SyntheticMan
from patas.surveys import actions as survey_actions
from patas.surveys import chat, phone, phone_actions
from patas.surveys.form import Form
from patas.surveys.form import Question as FormQuestion
from patas.surveys.models import Partner, PartnerSurveySession, SurveySession
from patas.trials.models import Assignment

if TYPE_CHECKING:
    from patas.simulation.runner import Simulation

# prefix -> (construct in SyntheticMan.latent, direction: +1 when a higher choice is better)
CONSTRUCTS: list[tuple[str, str, int]] = [
    ("com_", "communication", 1),
    ("comm_", "communication", 1),
    ("arg_", "communication", 1),
    ("jv_", "communication", 1),  # agree4 runs from strongly agree (1) to strongly disagree (4)
    ("chg_", "communication", 1),
    ("satisfaction", "communication", 1),
    ("conflict_freq", "communication", -1),
    ("mood", "communication", -1),
    ("dec_", "decisions", 1),
    ("cons_", "consent", 1),
    ("consent_", "consent", -1),  # respect4 runs from always (4) to never (1)
    ("va_", "violence", -1),
    ("ctl_", "violence", -1),
    ("psy_", "violence", -1),
    ("phy_", "violence", -1),
    ("sex_", "violence", -1),
    ("cyb_", "violence", -1),
]
RARE = {"violence"}  # most couples report none
# Who decides, from the worst to the best relationship: the plan codes "she decides, alone or
# with him" as shared, so answers move towards her and both as goodness rises.
WHO_ORDER = ("him", "other", "her", "both")


def construct_of(name: str) -> tuple[str, int]:
    for prefix, construct, direction in CONSTRUCTS:
        if name.startswith(prefix):
            return construct, direction
    return "communication", 1


NOISE_SD = 0.6  # an answer's noise around the couple's latent score, per question


def effect_on(treated: bool, role: str, effect: float) -> float:
    """The true effect in an answer: only treated men's (and their partners') endline moves."""
    return effect if treated and role.endswith("endline") else 0.0


def goodness(
    man: SyntheticMan,
    state: ManState,
    construct: str,
    role: str,
    effect: float,
    rng: np.random.Generator,
) -> float:
    shift = effect_on(bool(state.treated), role, effect)
    return man.latent.get(construct, 0.0) + shift + rng.normal(0, NOISE_SD)


def choice_indices(k: int, g: np.ndarray, direction: int, rare: bool) -> np.ndarray:
    """Which of k ordered choices each goodness score picks: the higher g, the better the
    answer (array in, array out, so `truth.py` can answer for many couples at once)."""
    if rare:  # 'never' unless things are bad
        level = np.where(g > -1.2, 0, np.minimum(k - 1, ((-1.2 - g) * 2).astype(int) + 1))
        return level if direction < 0 else k - 1 - level
    position = np.clip((g + 2.0) / 4.0, 0.0, 0.999)
    index = (position * k).astype(int)
    return index if direction > 0 else k - 1 - index


def choose(choices: tuple[str, ...], g: float, direction: int, rare: bool) -> str:
    """An ordered choice from a goodness score: the higher g, the better the answer."""
    return choices[int(choice_indices(len(choices), np.asarray(g), direction, rare))]


def answers_given(question: Question, g: np.ndarray, ages: np.ndarray) -> np.ndarray:
    """What people with goodness scores `g` (and ages) answer to `question`, as typed (an
    object array of strings). The one answer model: `answer_for` calls it for one man."""
    construct, direction = construct_of(question.name)
    n = len(g)
    if question.type == "select_one" and question.choices:
        ordered = _worst_to_best(question.choices) if construct == "decisions" else None
        choices = ordered or question.choices
        picked = choice_indices(len(choices), g, 1 if ordered else direction, construct in RARE)
        return np.asarray(choices, dtype=object)[picked]
    if question.type == "select_multiple" and question.choices:
        return np.full(n, "1", dtype=object)
    if question.type in {"integer", "decimal"}:
        if "age" in question.name or "edad" in question.name:
            return np.asarray([str(int(a)) for a in ages], dtype=object)
        counts = np.clip(np.round(2 - g * 2), 0, 10).astype(int)
        return np.asarray([str(c) for c in counts], dtype=object)
    if question.type == "date":
        return np.full(n, "2026-01-15", dtype=object)
    return np.full(n, "bien", dtype=object)


def _worst_to_best(choices: tuple[str, ...]) -> tuple[str, ...] | None:
    if set(choices) != set(WHO_ORDER):
        return None
    return WHO_ORDER


def answer_for(effect: float) -> Callable[..., str]:
    def answer(
        man: SyntheticMan, state: ManState, question: Question, role: str, rng: np.random.Generator
    ) -> str:
        construct, _ = construct_of(question.name)
        g = goodness(man, state, construct, role, effect, rng)
        return str(answers_given(question, np.array([g]), np.array([man.age]))[0])

    return answer


def question_of(q: FormQuestion) -> Question:
    """A form's question as the synthetic people see it."""
    return Question(q.name, q.type, tuple(c.name for c in q.choices))


@lru_cache(maxsize=32)
def _form(form_pk: int) -> Form:
    from patas.surveys.models import SurveyForm

    return survey_actions.form_of(SurveyForm.objects.get(pk=form_pk))


def _question(form_pk: int, state: dict[str, Any]) -> Question | None:
    current = state.get("current")
    form = _form(form_pk)
    if not current or not form.has(current):
        return None
    return question_of(form.question(current))


def _as_entered(form_pk: int, state: dict[str, Any], said: str) -> tuple[str, str]:
    """(text, reply id) as the call screen submits what the enumerator picked: a choice goes
    as its reply id, so a choice named "1" is never read as the first in the list."""
    form = _form(form_pk)
    return phone.answer_event(form.question(state["current"]), {"value": [said]})


def current_questions(participant_ids: Iterable[int]) -> dict[int, tuple[Question, str]]:
    """The question each man's open chat survey is waiting on, with the form's role."""
    out: dict[int, tuple[Question, str]] = {}
    sessions = SurveySession.objects.filter(
        participant_id__in=list(participant_ids), status="open"
    ).values_list("participant_id", "form_id", "form__form_id", "state")
    for pid, form_pk, form_id, state in sessions:
        question = _question(form_pk, state or {})
        if question is not None:
            out[pid] = (question, "endline" if "endline" in form_id else "baseline")
    return out


# The simulated staff look every tick and usually find nothing new: compiled once.
_NEW_CONSENTS = Prepared(
    lambda after: Consent.objects.filter(
        id__gt=after, answer="accept", subject="participant"
    ).values_list("id", "participant_id")
)
_ANY_OPEN_CALL = Prepared(
    lambda: PartnerSurveySession.objects.filter(status="open").values_list("pk")[:1]
)
_NEW_ASSIGNMENTS = Prepared(
    lambda after: (
        Assignment.objects.filter(id__gt=after)
        .exclude(participant_id=None)
        .values_list("id", "participant_id", "arm")
    )
)


class TrialFlow:
    """Simulated staff: record partners' numbers, and call partners to survey them."""

    def __init__(self, sim: Simulation) -> None:
        self.sim = sim
        self.rng = np.random.default_rng(sim.options.seed + 11)
        self.consents_seen = 0  # watermarks: each pass reads only what is new
        self.assignments_seen = 0
        self.enumerator = _enumerator()

    def step(self, now: Any) -> None:
        self._record_partners()
        self._call_partners()
        self._learn_arms()

    def _record_partners(self) -> None:
        for consent_id, pid in _NEW_CONSENTS(after=self.consents_seen):
            self.consents_seen = max(self.consents_seen, consent_id)
            man = self.sim.man_of_participant(pid)
            if man is None or Partner.objects.filter(participant_id=pid).exists():
                continue
            survey_actions.add_partner(
                _participant(pid), "52" + man.phone[2:], actor="simulator:enumerator"
            )

    def _call_partners(self) -> None:
        if not _ANY_OPEN_CALL():  # most ticks: nobody to call
            return
        sessions = (
            PartnerSurveySession.objects.filter(status="open")
            .select_related("partner", "form")
            .defer("partner__phone", "form__source")  # her number is encrypted; unused here
        )
        for session in sessions:
            man = self.sim.man_of_participant(session.partner.participant_id)
            if man is None:
                continue
            # One call, one commit: the console commits each screen (one request each); the
            # simulated enumerator's screens run the same actions, each in its savepoint, and
            # are committed when she hangs up. A commit costs more than the entry on SQLite.
            with transaction.atomic():
                self._call(session, man, picked_up=bool(self.rng.random() <= 0.8))

    def _call(self, session: PartnerSurveySession, man: SyntheticMan, picked_up: bool) -> None:
        """The call screen, as an enumerator goes through it (`surveys.phone_actions`): the
        safety script (is it her, is she alone), her consent on the first call, the form."""
        attempt = phone_actions.start_call(session, self.enumerator)
        if not picked_up:
            phone_actions.call_action(attempt, "no_answer", self.enumerator)
            return
        for step in ("reached", "alone_yes"):
            attempt = phone_actions.call_action(attempt, step, self.enumerator)
        if attempt.stage == phone.CONSENT:
            agrees = bool(self.rng.random() < 0.95)
            choice = "consent_yes" if agrees else "consent_no"
            attempt = phone_actions.call_action(attempt, choice, self.enumerator)
            if not agrees:
                return  # the call ends as refused and her survey is abandoned
        state = self.sim.states[man.phone]
        role = "endline" if "endline" in session.form.form_id else "baseline"
        answers = session.state or {}
        for _ in range(200):
            question = _question(session.form_id, answers)
            if question is None:
                break
            said = (
                ""
                if question.type == "note"
                else self.sim.behaviour.answer(man, state, question, role, self.rng)
            )
            text, reply = _as_entered(session.form_id, answers, said)
            outcome = phone_actions.answer_on_call(attempt, text, reply, self.enumerator)
            answers = outcome.state  # what was saved: no re-read
            if outcome.done and outcome.state.get("status") == chat.COMPLETED:
                return  # answer_on_call ended the call as completed
            if outcome.done:
                break
        phone_actions.call_action(attempt, "stop", self.enumerator)  # a partial call

    def _learn_arms(self) -> None:
        for assignment_id, pid, arm in _NEW_ASSIGNMENTS(after=self.assignments_seen):
            self.assignments_seen = max(self.assignments_seen, assignment_id)
            man = self.sim.man_of_participant(pid)
            if man is not None and self.sim.states[man.phone].treated is None:
                self.sim.states[man.phone].treated = arm != "control"


def _participant(pid: int) -> Any:
    from patas.participants.models import Participant

    return Participant.objects.get(pk=pid)


def _enumerator() -> Any:
    user, _ = get_user_model().objects.get_or_create(username="enumerador.demo")
    group, _ = Group.objects.get_or_create(name="enumerator")
    user.groups.add(group)
    return user
