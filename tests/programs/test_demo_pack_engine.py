"""The engine against the real demo pack: every day builds in every language, keys exist."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings

from patas.programs import day_content
from patas.programs.pack import PackError, load_pack

ENGINE_KEYS = [
    "welcome",
    "ask_age",
    "ask_partner",
    "ask_region",
    "ask_preferred_time",
    "consent",
    "ask_partner_number",
    "waiting_partner",
    "ineligible_closing",
    "declined_closing",
    "enrolled",
    "not_understood",
    "checkin_thanks",
    "checkin_nudge",
    "miss_you",
    "hour_changed",
    "pause_confirmation",
    "resume_confirmation",
    "program_completed",
    "fallback_help",
    "removed_closing",
]


@pytest.fixture(scope="module")
def demo():
    root = Path(settings.CONTENT_DIR) / "hablemos-entre-patas"
    try:
        return load_pack(root)
    except PackError as exc:  # the content engineer's pack is being written
        pytest.skip(f"demo pack does not load yet: {exc.problems[:1]}")


def test_every_day_builds_in_every_language(demo):
    for number in range(1, demo.program.days + 1):
        for lang in demo.program.languages:
            items = day_content.day_items(demo, number, lang)
            assert items, f"day {number} has no messages"
            checkin = demo.day(number).checkin
            if checkin is not None:
                buttons = items[-1][0]["interactive"]["action"]["buttons"]
                assert all(b["reply"]["id"].startswith(f"checkin:{number}:") for b in buttons)


def test_the_keys_the_engine_sends_exist(demo):
    missing = [key for key in ENGINE_KEYS if key not in demo.messages]
    assert not missing


def test_the_templates_the_engine_sends_exist(demo):
    assert {"day_opener", "reminder"} <= set(demo.program.templates)
