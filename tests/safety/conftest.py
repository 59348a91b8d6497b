"""Safety fixtures: a tiny content pack with helplines, and people in each role."""

from __future__ import annotations

from pathlib import Path

import pytest

PROGRAM = """
id: mini
name: {es: Mini, en: Mini}
version: "1"
languages: [es, en]
default_language: es
days: 1
templates: {}
intake: {consent_version: "v1"}
completion: {min_day_reached: 1}
modules: []
helplines:
  PE:
    - {name: Linea 100, contact: "100", hours: {es: las 24 horas, en: 24 hours}}
  default:
    - {name: Emergencias, contact: "911"}
"""
MESSAGES = """
relay_line:
  type: text
  text: {es: "{pseudonym}: {text}", en: "{pseudonym}: {text}"}
safety_helpline:
  type: text
  text:
    es: "Gracias por contarnos. Puedes llamar:\\n{helplines}"
    en: "Thank you for telling us. You can call:\\n{helplines}"
"""


@pytest.fixture
def mini_pack(tmp_path: Path, settings):  # type: ignore[no-untyped-def]
    root = tmp_path / "content" / "mini"
    root.mkdir(parents=True)
    (root / "program.yaml").write_text(PROGRAM, encoding="utf-8")
    (root / "messages.yaml").write_text(MESSAGES, encoding="utf-8")
    settings.CONTENT_DIR = tmp_path / "content"
    settings.DEFAULT_PROGRAM = "mini"
    return root


@pytest.fixture
def make_participant(db):  # type: ignore[no-untyped-def]
    from patas.core.crypto import lookup_hash
    from patas.participants.models import Participant

    def make(phone: str = "51987654321", name: str = "Juan Quispe", **extra):  # type: ignore[no-untyped-def]
        return Participant.objects.create(
            phone=phone,
            phone_hash=lookup_hash(phone),
            profile_name=name,
            wa_user_id=f"PE.{phone}",
            **extra,
        )

    return make


@pytest.fixture
def inbound(db):  # type: ignore[no-untyped-def]
    from patas.core import clock
    from patas.messaging.models import Message

    def make(participant, text: str):  # type: ignore[no-untyped-def]
        return Message.objects.create(
            direction="in",
            participant=participant,
            type="text",
            payload={"body": text},
            text=text,
            status="received",
            created_at=clock.now(),
        )

    return make
