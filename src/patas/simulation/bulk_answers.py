"""Many couples answering a survey form at once, the way the simulation's people do, for
`truth.py`: the same answer model, the survey runner's own reading of what they say, and the
survey engine's submitted values.

What the runner stores is what the answer model says, read the way each channel enters it:
men tap the button or list row whose id ends in their answer (`Behaviour._survey`); an
enumerator picks the partner's answer on the call screen, which submits a choice as its reply
id (`surveys.phone.answer_event`, used by `TrialFlow._call_partners` too), so a choice named
"1" is the choice "1", never the first of the list. `Entry` runs that reading; an answer the
runner refuses (out of range, a failed check) is asked again with a fresh draw, as in the
simulation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache

import numpy as np
import pandas as pd

from patas.simulation.behaviour import _buttons as reply_ids_of
from patas.simulation.population import OUTCOMES, SyntheticMan, draw_population
from patas.simulation.runner import Options
from patas.simulation.surveys import NOISE_SD, answers_given, construct_of, effect_on, question_of
from patas.surveys import chat, engine, phone, xpath
from patas.surveys.answers import parse_answer
from patas.surveys.form import Form
from patas.surveys.form import Question as FormQuestion
from patas.surveys.phrases import words_for
from patas.surveys.render import render_question

SUBMITTED_AT = datetime(2026, 5, 1, 12, 0)  # `now` for checks and calculates
# How often a refused answer is asked again before we leave it empty. The simulated enumerator
# asks up to 200 times a call and calls again on later days, so only couples with extreme
# latent scores (a "0" on a 0-4 scale nearly every time) end up here.
ASKS = 1000
TRIES = 50  # asks drawn at once for the refused


@dataclass(frozen=True)
class Couples:
    """The couples who can enter the trial: latent scores by construct, and the men's ages."""

    latent: dict[str, np.ndarray]
    ages: np.ndarray

    def __len__(self) -> int:
        return len(self.ages)


@lru_cache(maxsize=4)  # drawing men one by one is most of the time; the arrays are not changed
def draw_couples(n: int, seed: int) -> Couples:
    """The eligible men who consent, among n drawn as `patas simulate` draws them."""
    options = Options()
    men = draw_population(n, seed, options.start, options.recruit_days, options.days)
    entering = [m for m in men if m.eligible and m.consents]
    return Couples(
        latent={c: np.array([_latent(m, c) for m in entering]) for c in OUTCOMES},
        ages=np.array([m.age for m in entering]),
    )


def _latent(man: SyntheticMan, construct: str) -> float:
    return man.latent.get(construct, 0.0)


@dataclass
class Entry:
    """How the runner stores what someone says to one question: by chat (a man, tapping a
    matching button or list row, else typing) or typed by an enumerator (a partner). None
    when the runner refuses it."""

    form: Form
    q: FormQuestion
    by_chat: bool
    lang: str = "es"
    read: dict[str, str | None] = field(default_factory=dict)

    def stored(self, said: np.ndarray) -> np.ndarray:
        for value in pd.unique(said):
            if value not in self.read:
                self.read[value] = self._read(value)
        return np.array([self.read[value] for value in said], dtype=object)

    def _read(self, said: str) -> str | None:
        words = words_for(self.lang)
        lang = self.form.lang(self.lang)
        if self.by_chat:
            prompt = render_question(self.form, self.q, lang, {}, words)[0]
            ids = [rid for rid, _ in reply_ids_of(prompt)]
            tap = next((r for r in ids if r == said or r.rsplit(":", 1)[-1] == said), "")
            text = "" if tap else said
        else:  # as the call screen submits the enumerator's pick
            text, tap = phone.answer_event(self.q, {"value": [said]})
        event = chat.event_for(text, tap, words)
        if event.kind != "answer":
            return None
        parsed = parse_answer(self.form, self.q, lang, event.text, event.reply_id, words)
        if parsed.value is None:
            return None
        problem = engine.check(self.form, self.q, parsed.value, {}, SUBMITTED_AT)
        return None if problem is not None else parsed.value


def answer_both_arms(
    form: Form, couples: Couples, effect: float, by_chat: bool, rng: np.random.Generator
) -> pd.DataFrame:
    """Stored endline answers: rows 0..n-1 in the control arm, n..2n-1 treated. A couple's
    first answer uses the same noise in both arms (only answers asked again differ).
    Calculates start empty (see `finalize`)."""
    columns: dict[str, np.ndarray] = {}
    for q in form.questions:
        if q.type == "calculate":
            columns[q.name] = np.full(2 * len(couples), "", dtype=object)
        if not q.answered:
            continue
        construct, _ = construct_of(q.name)
        latent = couples.latent.get(construct, np.zeros(len(couples)))
        noise = rng.normal(0, NOISE_SD, len(couples))
        entry = Entry(form, q, by_chat)
        arms = [
            _stored(entry, latent, effect_on(treated, "endline", effect), noise, couples, rng)
            for treated in (False, True)
        ]
        columns[q.name] = np.concatenate(arms)
    return pd.DataFrame(columns)


def _stored(
    entry: Entry,
    latent: np.ndarray,
    shift: float,
    noise: np.ndarray,
    couples: Couples,
    rng: np.random.Generator,
) -> np.ndarray:
    """One arm's stored answers to one question; refused answers are asked again."""
    question = question_of(entry.q)
    ages = couples.ages
    stored = entry.stored(answers_given(question, latent + shift + noise, ages))
    for _ in range(0, ASKS - 1, TRIES):  # TRIES asks at a time; the first accepted counts
        refused = np.flatnonzero(pd.isna(stored))
        if not refused.size:
            break
        g = latent[refused, None] + shift + rng.normal(0, NOISE_SD, (refused.size, TRIES))
        said = answers_given(question, g.ravel(), np.repeat(ages[refused], TRIES))
        tries = entry.stored(said).reshape(refused.size, TRIES)
        accepted = ~pd.isna(tries)
        done = accepted.any(axis=1)
        first = accepted.argmax(axis=1)
        stored[refused[done]] = tries[done, first[done]]
    stored[pd.isna(stored)] = ""  # never accepted: left unanswered
    return stored


def finalize(form: Form, raw: pd.DataFrame, now: datetime = SUBMITTED_AT) -> pd.DataFrame:
    """`engine.finalize` for many submissions at once: in form order, each relevance condition
    and calculation is evaluated by the survey engine once per distinct combination of the
    answers it refers to; answers of questions that are not relevant are cleared."""
    raw = raw.copy()
    for q in form.questions:
        calculation = q.calculation if q.type == "calculate" else None
        if q.name not in raw.columns or (not q.relevant and calculation is None):
            continue
        nodes = [*q.relevant, *([calculation] if calculation is not None else [])]
        names = sorted(set().union(*(xpath.refs(node) for node in nodes)) & set(raw.columns))
        keys = list(zip(*(raw[name].to_numpy() for name in names), strict=True)) or [()] * len(raw)
        found = {
            key: _submitted(form, q, dict(zip(names, key, strict=True)), now) for key in set(keys)
        }
        kept = raw[q.name].to_numpy()
        raw[q.name] = [
            kept[row] if found[key] is KEEP else found[key] for row, key in enumerate(keys)
        ]
    return raw


KEEP = "<keep the answer>"


def _submitted(form: Form, q: FormQuestion, answers: dict[str, str], now: datetime) -> str:
    """A question's submitted value given the answers its conditions refer to: "" when it is
    not relevant, a calculate's value, else KEEP (the answer given)."""
    ctx = engine.context(form, {k: v for k, v in answers.items() if v != ""}, now)
    if not engine.is_relevant(q, ctx):
        return ""
    if q.type == "calculate" and q.calculation is not None:
        return xpath.to_string(xpath.evaluate(q.calculation, ctx))
    return KEEP
