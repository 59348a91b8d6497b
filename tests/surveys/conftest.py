from __future__ import annotations

from pathlib import Path

import pytest

from patas.core.crypto import lookup_hash
from patas.participants.models import Participant
from patas.surveys import actions
from patas.surveys.models import SurveyForm

from .helpers import SMALL_FORM


def make_participant(n: int = 1, language: str = "es") -> Participant:
    phone = f"51987{n:06d}"
    return Participant.objects.create(
        phone=phone,
        phone_hash=lookup_hash(phone),
        wa_user_id=f"PE.{n}",
        language=language,
        status=Participant.Status.ENROLLED,
    )


@pytest.fixture
def small_record(tmp_path: Path, db: None) -> SurveyForm:
    path = tmp_path / "small.md"
    path.write_text(SMALL_FORM, encoding="utf-8")
    return actions.install_form(path)


@pytest.fixture
def man(db: None) -> Participant:
    return make_participant(1)
