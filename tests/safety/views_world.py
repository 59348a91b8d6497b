"""A small world for the console page tests: people in every role, two groups, a man with an
alert, a post, and a partner with distinctive answers that must never show up on his side."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from groups.factories import inbound, make_group, make_member, make_user, write_pack
from patas.groups import step
from patas.groups.models import Group, GroupPost, Membership
from patas.messaging import router
from patas.messaging.models import Message
from patas.participants.models import Participant
from patas.safety import actions
from patas.safety.models import Alert
from patas.safety.triage import triage

ROLES = ["admin", "supervisor", "facilitator", "enumerator", "researcher"]
ALARMING = "anoche le pegue a mi esposa <script>alert('x')</script>"
# Hers: none of these may appear on a page the man's side or a facilitator can open.
PARTNER_PHONE = "51944433322"
PARTNER_SECRET = "RESPUESTA-DE-ELLA-ZQX7731"
REPO = Path(__file__).resolve().parents[2]


@dataclass
class World:
    users: dict[str, Any]
    mine: Group
    theirs: Group
    member: Membership
    stranger: Membership
    post: GroupPost
    alarming: Message
    alert: Alert
    partner: Any = None
    partner_session: Any = None
    men_session: Any = None

    @property
    def man(self) -> Participant:
        return self.member.participant


def make_people() -> dict[str, Any]:
    users = {role: make_user(role, role) for role in ROLES}
    users["other_facilitator"] = make_user("other_facilitator", "facilitator")
    return users


def say(member: Membership, text: str, *, held: bool = False) -> Message:
    """He writes to the program; the groups step turns it into a post (held ones stay held)."""
    message = inbound(member.participant, text, held=held)
    step.handle(router.inbound_for(message))
    return message


def raise_triage_alert(message: Message) -> Alert:
    hits = triage(message.text)
    assert hits, f"the lexicon should flag {message.text!r}"
    return actions.raise_alert(message, hits)


def _install(form_id: str, audience: str) -> None:
    from patas.surveys import actions as survey_actions

    folder = REPO / "content" / "hablemos-entre-patas" / "surveys"
    survey_actions.install_form(folder / f"{form_id}.md", audience=audience)


def _partner_with_answers(world: World) -> None:
    """Her record and a phone survey assigned to the enumerator, holding her answers; and a
    phone survey of the man assigned to the same enumerator."""
    from patas.surveys import actions as survey_actions
    from patas.surveys import phone_actions

    _install("partner_baseline", "partners")
    _install("men_baseline", "men")
    enumerator = world.users["enumerator"]
    partner = survey_actions.add_partner(world.man, PARTNER_PHONE)
    session = phone_actions.assign_partner_call(partner, "partner_baseline", enumerator=enumerator)
    state = dict(session.state)
    answers = {key: PARTNER_SECRET for key in state.get("answers", {})}
    answers["secret_note"] = PARTNER_SECRET
    state["answers"] = answers
    session.state = state
    session.save(update_fields=["state"])
    world.partner, world.partner_session = partner, session
    world.men_session = phone_actions.assign_phone_survey(
        world.man, "men_baseline", enumerator=enumerator
    )


def build_world(tmp_path: Path, settings: Any, *, with_partner: bool = True) -> World:
    settings.CONTENT_DIR = tmp_path
    from groups.factories import PROGRAM

    settings.DEFAULT_PROGRAM = PROGRAM
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast tests
    write_pack(tmp_path)
    users = make_people()
    mine = make_group(name="Grupo Lima", facilitator=users["facilitator"])
    theirs = make_group(name="Grupo Cusco", facilitator=users["other_facilitator"])
    member, stranger = make_member(mine), make_member(theirs)
    say(member, "hola patas, buen dia")
    post = GroupPost.objects.get(author=member)
    alarming = say(member, ALARMING, held=True)
    alert = raise_triage_alert(alarming)
    world = World(users, mine, theirs, member, stranger, post, alarming, alert)
    if with_partner:
        surveys = tmp_path / PROGRAM / "surveys"  # the runner's words and the call script
        shutil.copytree(REPO / "content" / "hablemos-entre-patas" / "surveys", surveys)
        _partner_with_answers(world)
    return world
