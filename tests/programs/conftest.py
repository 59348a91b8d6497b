"""A small test pack (written here, not the demo pack) and a world that runs men on a clock."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from patas.programs import day_content, pack

KEYS = [
    "welcome",
    "ask_age",
    "ask_region",
    "ask_partner_number",
    "waiting_partner",
    "between_surveys",
    "ineligible_closing",
    "declined_closing",
    "not_understood",
    "checkin_thanks",
    "checkin_nudge",
    "miss_you",
    "pause_confirmation",
    "resume_confirmation",
    "program_completed",
    "fallback_help",
    "removed_closing",
    "opt_out_confirmation",
    "opt_in_confirmation",
]


def _loc(text: str) -> dict[str, str]:
    return {"es": f"[es] {text}", "en": f"[en] {text}"}


def _buttons(*ids: str) -> list[dict[str, Any]]:
    return [{"id": i, "title": _loc(i)} for i in ids]


def messages() -> dict[str, Any]:
    out: dict[str, Any] = {key: {"type": "text", "text": _loc(key)} for key in KEYS}
    out["ask_partner"] = {
        "type": "buttons",
        "text": _loc("ask_partner"),
        "buttons": _buttons("yes", "no"),
    }
    out["ask_preferred_time"] = {
        "type": "buttons",
        "text": _loc("ask_preferred_time"),
        "buttons": _buttons("morning", "midday", "evening"),
    }
    out["consent"] = {
        "type": "buttons",
        "text": _loc("consent {version}"),
        "buttons": _buttons("accept", "decline"),
    }
    out["enrolled"] = {"type": "text", "text": _loc("enrolled {start}")}
    out["hour_changed"] = {"type": "text", "text": _loc("hour_changed {time}")}
    for key, text in {
        "safety_helpline": "safety_helpline {helplines}",
        "group_welcome": "group_welcome {pseudonym} {size}",
        "relay_line": "{pseudonym}: {text}",
        "facilitator_line": "facilitator: {text}",
        "digest_header": "digest_header {count}",
        "digest_more": "digest_more {count}",
        "partner_invitation": "partner_invitation",
    }.items():
        out[key] = {"type": "text", "text": _loc(text)}
    return out


def template(name: str, params: int) -> dict[str, Any]:
    body = " ".join(f"{{{{{i + 1}}}}}" for i in range(params))
    return {
        "name": name,
        "language_codes": {"es": "es_PE", "en": "en_US"},
        "body": {"es": f"{name} {body}", "en": f"{name} {body}"},
        "button": {"es": "Abrir", "en": "Open"},
    }


def program(days: int, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": "test-program",
        "name": _loc("Test"),
        "version": "t1",
        "languages": ["es", "en"],
        "default_language": "es",
        "days": days,
        "time_zone": "America/Lima",
        "send_hours": {"morning": 8, "midday": 13, "evening": 19},
        "default_send_time": "evening",
        "quiet_hours": {"start": "21:30", "end": "07:30"},
        "message_spacing_seconds": 60,
        "templates": {"day_opener": template("t_opener", 2), "reminder": template("t_rem", 1)},
        "intake": {"consent_version": "C-1"},
        "completion": {"min_day_reached": days},
        "reminders": {
            "checkin_nudge_after_hours": 2,
            "miss_you_after_silent_days": 3,
            "max_per_day": 1,
        },
        "modules": [{"id": "all", "title": _loc("all"), "first_day": 1, "last_day": days}],
    }
    data.update(overrides)
    return data


def day(n: int) -> dict[str, Any]:
    return {
        "day": n,
        "module": "all",
        "title": _loc(f"day {n}"),
        "messages": [
            {"id": f"d{n}-hello", "type": "text", "text": _loc(f"day {n} hello")},
            {
                "id": f"d{n}-audio",
                "type": "audio",
                "file": f"media/d{n}.ogg",
                "transcript": _loc("expert"),
            },
        ],
        "challenge": {"id": f"d{n}-challenge", "text": _loc(f"day {n} challenge")},
        "checkin": {
            "id": f"d{n}-checkin",
            "text": _loc(f"day {n} did you?"),
            "buttons": _buttons("done", "not_yet"),
        },
    }


def write_pack(root: Path, days: int = 30, **overrides: Any) -> Path:
    folder = root / "test-program"
    (folder / "days").mkdir(parents=True, exist_ok=True)
    (folder / "program.yaml").write_text(yaml.safe_dump(program(days, **overrides)))
    (folder / "messages.yaml").write_text(yaml.safe_dump(messages(), allow_unicode=True))
    for n in range(1, days + 1):
        (folder / "days" / f"day-{n:02d}.yaml").write_text(yaml.safe_dump(day(n)))
    return folder


def use_pack(settings: Any, root: Path) -> None:
    settings.CONTENT_DIR = root
    settings.DEFAULT_PROGRAM = "test-program"
    pack._cached.cache_clear()
    day_content.clear()


@pytest.fixture
def test_pack(tmp_path: Path, settings: Any) -> pack.Pack:
    write_pack(tmp_path)
    use_pack(settings, tmp_path)
    yield pack.get_pack()
    pack._cached.cache_clear()
    day_content.clear()
