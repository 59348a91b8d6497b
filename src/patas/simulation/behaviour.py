"""How a synthetic man answers what he receives (pure: no database, no clock).

`react` reads one outbound send body (as the fake Cloud API received it) and returns the
messages he sends back, each with a delay. What he is being asked (an intake step, a survey
question) comes in a `Context` that the runner reads from the database: the simulator may
know everything, the program under test may not.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from patas.simulation.population import Rates, SyntheticMan, reply_chance

NUMBER_WORDS_ES = {
    18: "dieciocho",
    20: "veinte",
    25: "veinticinco",
    30: "treinta",
    35: "treinta y cinco",
    40: "cuarenta",
    45: "cuarenta y cinco",
    50: "cincuenta",
}


@dataclass
class ManState:
    """What the simulator remembers of one man between messages."""

    day: int = 0
    opened: set[int] = field(default_factory=set)
    paused_on: int | None = None
    resumed: bool = False
    opted_out: bool = False
    disclosed: bool = False
    treated: bool | None = None  # known once the trial assigns him


@dataclass(frozen=True)
class Question:
    name: str
    type: str  # select_one, select_multiple, integer, decimal, text, date, note
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Context:
    intake_step: str = ""
    question: Question | None = None
    survey_role: str = ""  # baseline / endline
    skip: bool = False  # an earlier part of a prompt he answers as a whole


@dataclass(frozen=True)
class Reply:
    delay: float  # seconds after he received the message
    message: dict[str, Any]  # a Cloud API inbound message object without id/from/timestamp


def text(body: str) -> dict[str, Any]:
    return {"type": "text", "text": {"body": body}}


def button_reply(reply_id: str, title: str = "") -> dict[str, Any]:
    return {
        "type": "interactive",
        "interactive": {
            "type": "button_reply",
            "button_reply": {"id": reply_id, "title": title or reply_id},
        },
    }


def list_reply(reply_id: str, title: str = "") -> dict[str, Any]:
    return {
        "type": "interactive",
        "interactive": {
            "type": "list_reply",
            "list_reply": {"id": reply_id, "title": title or reply_id},
        },
    }


def template_tap(payload: str, title: str, context_wamid: str) -> dict[str, Any]:
    return {
        "type": "button",
        "button": {"payload": payload, "text": title},
        "context": {"id": context_wamid},
    }


def _buttons(body: dict[str, Any]) -> list[tuple[str, str]]:
    interactive = body.get("interactive", {})
    if interactive.get("type") == "button":
        return [
            (b["reply"]["id"], b["reply"]["title"])
            for b in interactive.get("action", {}).get("buttons", [])
        ]
    if interactive.get("type") == "list":
        return [
            (row["id"], row["title"])
            for section in interactive.get("action", {}).get("sections", [])
            for row in section.get("rows", [])
        ]
    return []


def _template_payload(body: dict[str, Any]) -> str:
    for component in body.get("template", {}).get("components", []):
        if component.get("type") == "button":
            for parameter in component.get("parameters", []):
                if parameter.get("type") == "payload":
                    return str(parameter.get("payload", ""))
    return ""


def _delay(rng: np.random.Generator, typical: float) -> float:
    return float(rng.exponential(typical)) + 5.0


class Behaviour:
    def __init__(
        self, rates: Rates, days: int, talk: list[str], disclosures: list[str], answer: Any
    ) -> None:
        self.rates = rates
        self.days = days
        self.talk = talk
        self.disclosures = disclosures
        # answer(man, state, question, role, rng) -> str: a survey answer as he would type it
        self.answer = answer

    def react(
        self,
        man: SyntheticMan,
        state: ManState,
        received: dict[str, Any],
        context: Context,
        rng: np.random.Generator,
    ) -> list[Reply]:
        body = received["body"]
        if state.opted_out or context.skip:
            return []
        if context.question is not None:
            return self._survey(man, state, body, context, rng)
        if context.intake_step:
            return self._intake(man, body, context.intake_step, rng)
        if body.get("type") == "template":
            return self._template(man, state, body, received["wamid"], rng)
        buttons = _buttons(body)
        if buttons and buttons[0][0].startswith("checkin:"):
            return self._checkin(man, state, buttons, rng)
        return []

    # Intake ----------------------------------------------------------------------------
    def _intake(
        self, man: SyntheticMan, body: dict[str, Any], step: str, rng: np.random.Generator
    ) -> list[Reply]:
        ids = {reply_id for reply_id, _ in _buttons(body)}
        delay = _delay(rng, 60)
        if step == "age" and body.get("type") == "text":
            words = NUMBER_WORDS_ES.get(man.age)
            said = words if words and rng.random() < self.rates.in_words else f"tengo {man.age}"
            return [Reply(delay, text(said))]
        if step == "partner" and {"yes", "no"} <= ids:
            return [Reply(delay, button_reply("yes" if man.lives_with_partner else "no"))]
        if step == "region" and body.get("type") == "text":
            return [Reply(delay, text(man.region))]
        if step == "time" and man.slot in ids:
            return [Reply(delay, button_reply(man.slot))]
        if step == "consent" and {"accept", "decline"} <= ids:
            return [Reply(delay, button_reply("accept" if man.consents else "decline"))]
        return []

    # The program -----------------------------------------------------------------------
    def _template(
        self,
        man: SyntheticMan,
        state: ManState,
        body: dict[str, Any],
        wamid: str,
        rng: np.random.Generator,
    ) -> list[Reply]:
        payload = _template_payload(body)
        if payload.startswith("open_day:"):
            day = int(payload.split(":")[1])
            state.day = day
            if state.paused_on is not None and not state.resumed:
                return []
            if rng.random() < reply_chance(man, day, self.days, self.rates):
                state.opened.add(day)
                return [Reply(_delay(rng, 1800), template_tap(payload, "Vamos", wamid))]
            return []
        # reminders and survey invitations: a fair chance he taps
        if payload and rng.random() < 0.5 * man.engagement:
            return [Reply(_delay(rng, 3600), template_tap(payload, "OK", wamid))]
        return []

    def _checkin(
        self,
        man: SyntheticMan,
        state: ManState,
        buttons: list[tuple[str, str]],
        rng: np.random.Generator,
    ) -> list[Reply]:
        day = int(buttons[0][0].split(":")[1])
        state.day = day
        replies: list[Reply] = []
        if man.opt_out_day is not None and day >= man.opt_out_day:
            state.opted_out = True
            return [Reply(_delay(rng, 600), text("SALIR"))]
        if man.pause_day == day and state.paused_on is None:
            state.paused_on = day
            return [
                Reply(_delay(rng, 600), text("PAUSA")),
                Reply(_delay(rng, 600) + 2 * 86400, text("SEGUIR")),
            ]
        if rng.random() < self.rates.checkin_given_open * man.engagement:
            choice = rng.choice(len(buttons), p=_checkin_weights(len(buttons)))
            replies.append(Reply(_delay(rng, 900), button_reply(*buttons[int(choice)])))
        if man.disclosure_day is not None and day >= man.disclosure_day and not state.disclosed:
            state.disclosed = True
            replies.append(Reply(_delay(rng, 1200), text(str(rng.choice(self.disclosures)))))
        elif rng.random() < self.rates.group_post * man.engagement:
            replies.append(Reply(_delay(rng, 2400), text(str(rng.choice(self.talk)))))
        return replies

    # Surveys ---------------------------------------------------------------------------
    def _survey(
        self,
        man: SyntheticMan,
        state: ManState,
        body: dict[str, Any],
        context: Context,
        rng: np.random.Generator,
    ) -> list[Reply]:
        question = context.question
        assert question is not None
        if question.type == "note":
            return []
        said = self.answer(man, state, question, context.survey_role, rng)
        delay = _delay(rng, 45)
        for reply_id, title in _buttons(body):
            # reply ids carry the choice name last ("q:choice"): match on it
            if reply_id == said or reply_id.rsplit(":", 1)[-1] == said:
                kind = body.get("interactive", {}).get("type")
                make = list_reply if kind == "list" else button_reply
                return [Reply(delay, make(reply_id, title))]
        return [Reply(delay, text(said))]


def _checkin_weights(n: int) -> list[float]:
    weights = [0.6, 0.3, 0.1][:n]
    total = sum(weights)
    return [w / total for w in weights]
